"""Check and send (ui layer): the report form's last page, what is still needed and the report as it will go."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QScrollArea, QVBoxLayout

from core.clock import local
from core.taxonomy import load_taxonomy
from ui.pages.incident_form.steps import Step, heading
from ui.pages.incident_form.wording import esc
from ui.widgets.a11y import LiveLabel


class SummaryStep(Step):
    title = "Check and send"
    submit_requested = Signal()
    go_to = Signal(str)  # a validation key: the form opens the step that owns it

    def __init__(self):
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Check and send"))
        self.missing_heading = LiveLabel("What is still needed")
        self.missing_heading.setWordWrap(True)
        layout.addWidget(self.missing_heading)
        self.missing = QListWidget()
        self.missing.setAccessibleName("Still needed before you can send. Press Enter on one to go there.")
        self.missing.setMaximumHeight(150)
        self.missing.itemActivated.connect(lambda item: self.go_to.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(self.missing)
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.text.setAccessibleDescription("Summary of the report")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.text)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(scroll, 1)
        self.submit = QPushButton("&Send report  (Ctrl+Enter)")
        self.submit.setAccessibleName("Send report")
        self.submit.clicked.connect(self.submit_requested.emit)
        layout.addWidget(self.submit)
        self.message = LiveLabel("Sending the report", urgent=True)
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

    def focus_first(self) -> None:
        (self.missing if self.missing.count() else self.submit).setFocus()
        if self.missing.count():
            self.missing.setCurrentRow(0)

    def show_summary(self, draft, errors: dict[str, str], ward_name: str) -> None:
        tax = load_taxonomy()
        self.missing.clear()
        for key, message in errors.items():
            item = QListWidgetItem(message)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.missing.addItem(item)
        self.missing.setVisible(bool(errors))
        self.missing_heading.setText(
            f"<b>Still needed before you can send ({len(errors)}):</b> press Enter on one to go there."
            if errors else "<b>Everything needed is there.</b> Press <b>Ctrl+Enter</b> or <b>Send report</b>. "
            "Anything else can be added later by you or your ward manager.")
        self.text.setText(summary_html(draft, ward_name, tax))


def _summary_row(label: str, value: str) -> str:
    return f"<tr><td><b>{esc(label)}</b>&nbsp;&nbsp;</td><td>{esc(value) or '<i>not given</i>'}</td></tr>"


def _when_text(draft, tax) -> str:
    when = ""
    if draft.occurred_at:
        moment = local(draft.occurred_at)
        when = f"{moment:%a} {moment.day} {moment:%b %Y at %H:%M}"
        if draft.occurred_precision == "approximate":
            when += " (approximate)"
    if draft.shift:
        when += f", {tax.label('shifts', draft.shift)}"
    return when


def _person_text(n: int, p, tax) -> str:
    text = f"{n}. {tax.label('person_roles', p.role)}: {tax.label('person_types', p.person_type)}"
    if p.local_ref:
        text += f" ({p.local_ref})"
    if p.role == "affected":
        physical = tax.label("harm_physical", p.harm_physical) if p.harm_physical else "not graded"
        mental = tax.label("harm_psychological", p.harm_psychological) if p.harm_psychological else "not graded"
        text += f"; {physical.lower()}; {mental.lower()}"
    if p.linked_user_id:
        text += "; their Lantern account is linked, so this report is hidden from it"
    return text


def summary_html(draft, ward_name: str, tax) -> str:
    """The report as the nurse will send it, for the Check and send step (escaped: free text is never markup)."""
    people = [_person_text(n, p, tax) for n, p in enumerate(draft.people, start=1)]
    rows = [_summary_row("Ward", ward_name), _summary_row("Type", ", ".join(tax.type_label(t) for t in draft.types)),
            _summary_row("When", _when_text(draft, tax)),
            _summary_row("Where", tax.label("locations", draft.location) if draft.location else ""),
            _summary_row("Also true", ", ".join(tax.label("context_flags", f) for f in draft.flags))]
    body = (f"<table>{''.join(rows)}</table><p><b>People</b><br>"
            + ("<br>".join(esc(p) for p in people) or "<i>nobody added yet</i>")
            + f"</p><p><b>Description</b><br>{esc(draft.description) or '<i>not given</i>'}</p>"
            + f"<p><b>Already done</b><br>{esc(draft.immediate_actions) or '<i>not given</i>'}</p>")
    return body.replace("\n", "<br>")
