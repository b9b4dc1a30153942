"""The safeguarding-action dialogs and their one shared flow (ui layer), used by the action queue and the
review page alike.

Each dialog only collects input (a note, a reference, a reason, a person); `run_form` runs the core service on
the database lane when OK is pressed and keeps the dialog open with core's message if the service refuses.
`complete_action`, `mark_not_applicable`, `reassign_action`, `reopen_action` and `add_action` are the whole flow for one action, so the two pages
cannot drift apart.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from core.clock import LONDON
from core.errors import ChangedElsewhere, ValidationError
from core.security.permissions import ROLE_LABELS
from core.services import closure, incidents, queue
from core.services.queue import OWNER_ROLES
from ui import errors
from ui.context import AppContext
from ui.widgets.a11y import LiveLabel


def problem_label() -> QLabel:
    label = LiveLabel("Problem", urgent=True)
    label.setObjectName("error")
    label.setWordWrap(True)
    return label


class FormDialog(QDialog):
    """A small dialog: a form, a problem line, OK and Cancel.

    It opens with the focus in its first input, never on a button. No button is auto-default, and OK becomes
    the default (pressed by Enter in a one-line box) only once every required field is filled: Enter or Space
    while typing never closes a safeguarding action (issue 11). OK with a field empty still asks core, which
    answers with a message naming the field.
    """

    def __init__(self, title: str, intro: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.problem = problem_label()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        for button in self.buttons.buttons():
            button.setAutoDefault(False)
            button.setDefault(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._required: list[tuple[QWidget, object]] = []

    def require(self, widget, ready=None) -> None:
        """`widget` (a line or text box) must be filled before Enter may press OK. `ready(text)` says when its
        text is enough (default: not blank)."""
        self._required.append((widget, ready or (lambda text: bool(text.strip()))))
        widget.textChanged.connect(self._sync_default)
        self._sync_default()

    def ready(self) -> bool:
        return all(ready(_text_of(widget)) for widget, ready in self._required)

    def _sync_default(self, *_args) -> None:
        self.ok.setDefault(self.ready())

    def first_input(self) -> QWidget | None:
        """The first enabled input of the form, in the order the rows were added."""
        for row in range(self.form.rowCount()):
            for role in (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole,
                         QFormLayout.ItemRole.SpanningRole):
                item = self.form.itemAt(row, role)
                widget = item.widget() if item is not None else None
                if (widget is not None and widget.isEnabled() and not isinstance(widget, QLabel)
                        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus):
                    return widget
        return None

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._sync_default()
        first = self.first_input()
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)


def _text_of(widget) -> str:
    return widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()


class CompleteDialog(FormDialog):
    """Collects a note and, where it applies, a reference (crime, local authority, SARC).

    `action` is a queue row or an incident's ActionInfo: its title, incident reference, rule and whether it is
    mandatory decide what is asked for, using core's own closure rules."""

    def __init__(self, action, parent=None):
        self.needs_reference = closure.reference_required(action.rule_id)
        hint = closure.reference_hint(action.rule_id, self.needs_reference)
        need = "Say what was done, in at least a sentence. " if action.mandatory else "Say what was done. "
        super().__init__("Complete action", f"Incident <b>{html.escape(action.incident_reference)}</b><br>"
                                            f"<b>{html.escape(action.title)}</b><br>{need}The note is kept with "
                                            "the incident.", parent)
        self.setWindowTitle(f"Complete action: {action.incident_reference}")
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setAccessibleName("What was done")
        self.note.setFixedHeight(90)
        self.reference = QLineEdit()
        self.reference.setMaxLength(60)
        self.reference.setAccessibleName(hint)
        if not self.needs_reference:
            self.reference.setPlaceholderText("Leave empty if there is none")
        self.form.addRow("&What was done:", self.note)
        self.form.addRow(f"&{hint}:", self.reference)
        self.require(self.note, closure.is_sentence if action.mandatory else None)
        if self.needs_reference:
            self.require(self.reference)

    def values(self) -> tuple[str, str]:
        return self.note.toPlainText(), self.reference.text()


class NotApplicableDialog(FormDialog):
    def __init__(self, action, parent=None):
        super().__init__("Mark not applicable", f"Incident <b>{html.escape(action.incident_reference)}</b><br>"
                                                f"<b>{html.escape(action.title)}</b><br>Say why this action does not "
                                                "apply to this incident, in at least a sentence. The reason is kept "
                                                "and can be audited.", parent)
        self.reason = QPlainTextEdit()
        self.reason.setTabChangesFocus(True)
        self.reason.setAccessibleName("Reason")
        self.reason.setFixedHeight(90)
        self.form.addRow("&Reason:", self.reason)
        self.require(self.reason, closure.is_sentence)

    def value(self) -> str:
        return self.reason.toPlainText()


class ReassignDialog(FormDialog):
    """Choose a person (who can see the incident) or a role."""

    def __init__(self, title: str, people, parent=None):
        super().__init__("Reassign action", f"<b>{title}</b><br>Give it to one person, or back to everyone in a "
                                            "role. Only people who work on the ward and may see this incident "
                                            "are listed.", parent)
        self.to_person = QRadioButton("A &person")
        self.to_role = QRadioButton("A &role")
        group = QButtonGroup(self)
        group.addButton(self.to_person)
        group.addButton(self.to_role)
        self.person = QComboBox()
        self.person.setAccessibleName("Person")
        for p in people:
            self.person.addItem(f"{p.display_name or p.username} ({ROLE_LABELS.get(p.role, p.role)})", p.user_id)
        self.role = QComboBox()
        self.role.setAccessibleName("Role")
        for code in OWNER_ROLES:
            self.role.addItem(ROLE_LABELS[code], code)
        self.form.addRow(self.to_person, self.person)
        self.form.addRow(self.to_role, self.role)
        self.to_person.setChecked(bool(people))
        self.to_role.setChecked(not people)
        self.person.setEnabled(bool(people))
        self.to_person.toggled.connect(lambda on: (self.person.setEnabled(on), self.role.setEnabled(not on)))
        self.role.setEnabled(not people)

    def values(self) -> tuple[str | None, str | None]:
        if self.to_person.isChecked() and self.person.count():
            return self.person.currentData(), None
        return None, self.role.currentData()


class AddActionDialog(FormDialog):
    def __init__(self, reference: str, parent=None):
        super().__init__("Add an action", f"Add a safeguarding action to incident <b>{reference}</b>.", parent)
        self.title = QLineEdit()
        self.title.setMaxLength(200)
        self.title.setAccessibleName("Action")
        self.guidance = QPlainTextEdit()
        self.guidance.setTabChangesFocus(True)
        self.guidance.setFixedHeight(70)
        self.guidance.setAccessibleName("Guidance")
        self.owner = QComboBox()
        self.owner.setAccessibleName("Owner")
        for code in OWNER_ROLES:
            self.owner.addItem(ROLE_LABELS[code], code)
        self.owner.setCurrentIndex(1)
        self.due = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("ddd d MMM yyyy HH:mm")
        self.due.setAccessibleName("Due")
        self.mandatory = QCheckBox("&Must be done before the incident can be closed")
        self.mandatory.setChecked(True)
        self.form.addRow("&Action:", self.title)
        self.form.addRow("&Guidance (optional):", self.guidance)
        self.require(self.title)
        self.form.addRow("&Owner:", self.owner)
        self.form.addRow("&Due:", self.due)
        self.form.addRow("", self.mandatory)

    def values(self) -> dict:
        due = self.due.dateTime().toPython()
        due = due.replace(tzinfo=LONDON) if due.tzinfo is None else due
        return {"title": self.title.text(), "guidance": self.guidance.toPlainText(),
                "owner_role": self.owner.currentData(), "due_at": due, "mandatory": self.mandatory.isChecked()}



class TextDialog(FormDialog):
    def __init__(self, title: str, intro: str, label: str, text: str = "", parent=None, *, required=None):
        """`required`: None (may be left empty), or `ready(text)` saying when the text is enough for Enter."""
        super().__init__(title, intro, parent)
        self.text = QPlainTextEdit(text)
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName(label.replace("&", "").rstrip(":"))
        self.text.setFixedHeight(110)
        self.form.addRow(label, self.text)
        if required is not None:
            self.require(self.text, required)

    def value(self) -> str:
        return self.text.toPlainText()



def run_form(ctx: AppContext, dialog: FormDialog, call, on_done, parent, *, changed_elsewhere=None) -> None:
    """Show `dialog`; on OK run `call(store, actor)` on the lane; keep the dialog open with the message if refused.
    `changed_elsewhere(err)`, for a save that names the version it read: someone else saved a newer one meanwhile;
    the dialog stays open with what was typed, and the hook returns what to add to core's message (it reloads)."""
    def failed(err):
        if not isValid(dialog):
            errors.show_error(parent, err)
        elif isinstance(err, ValidationError):
            dialog.open()  # on show first, so the problem line is announced from a window the reader is in
            dialog.show_problem(errors.message_for(err))
        elif isinstance(err, ChangedElsewhere) and changed_elsewhere is not None:
            dialog.open()
            dialog.show_problem(f"{errors.message_for(err)} {changed_elsewhere(err)}")
        else:
            errors.show_error(parent, err)

    def accepted():
        ctx.call(call(), on_done, on_error=failed, parent=parent)

    dialog.accepted.connect(accepted)
    dialog.open()


def complete_action(ctx: AppContext, action, parent: QWidget, on_done) -> None:
    """Ask for the note (and reference, where one is needed) and complete `action` (a queue row or ActionInfo)."""
    dialog = CompleteDialog(action, parent)

    def call():
        note, reference = dialog.values()
        return lambda s, a: incidents.complete_action(s, a, action.action_id, note, reference)

    run_form(ctx, dialog, call, on_done, parent)


def mark_not_applicable(ctx: AppContext, action, parent: QWidget, on_done) -> None:
    """Ask why `action` does not apply, and mark it not applicable."""
    dialog = NotApplicableDialog(action, parent)

    def call():
        reason = dialog.value()
        return lambda s, a: incidents.mark_action_not_applicable(s, a, action.action_id, reason)

    run_form(ctx, dialog, call, on_done, parent)


def add_action(ctx: AppContext, reference: str, incident_id: str, parent: QWidget, on_done) -> None:
    """Ask for a new action's title, owner and deadline, and add it to the incident."""
    dialog = AddActionDialog(reference, parent)

    def call():
        values = dialog.values()
        return lambda s, a: queue.add_action(s, a, incident_id, **values)

    run_form(ctx, dialog, call, on_done, parent)


def reassign_action(ctx: AppContext, action, parent: QWidget, on_done) -> None:
    """Load who may take `action` (people on the ward who may see the incident), then ask and reassign it."""

    def show(people):
        if not isValid(parent):
            return
        dialog = ReassignDialog(action.title, people, parent)

        def call():
            user_id, role = dialog.values()
            return lambda s, a: queue.reassign_action(s, a, action.action_id, user_id=user_id, role=role)

        run_form(ctx, dialog, call, on_done, parent)

    ctx.call(lambda s, a: queue.assignable_users(s, a, action.action_id), show, parent=parent)  # the person asked


def reopen_action(ctx: AppContext, action, parent: QWidget, on_done) -> None:
    """A ward manager or the lead reopens a completed or not-applicable action, with a reason (core keeps the old
    note in the incident's versions)."""
    dialog = TextDialog("Reopen action", f"Incident <b>{html.escape(action.incident_reference)}</b><br><b>"
                        f"{html.escape(action.title)}</b><br>Say why this action is being reopened, in at least a "
                        "sentence. What it said when it was finished is kept with the incident's versions.",
                        "&Reason:", "", parent, required=closure.is_sentence)

    def call():
        reason = dialog.value()
        return lambda s, a: queue.reopen_action(s, a, action.action_id, reason)

    run_form(ctx, dialog, call, on_done, parent)
