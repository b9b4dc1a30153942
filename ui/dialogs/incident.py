"""The review page's incident dialogs (ui layer): edit a submitted report, confirm the harm grading, and the
safeguarding lead's log of who opened restricted records. They collect input; the flows at the end (edit, confirm
harm, feedback, reopen) run the one core service for each on the database lane when OK is pressed."""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from core.services import accounts, incidents
from core.taxonomy import load_taxonomy
from ui.context import AppContext
from ui.dialogs.actions import FormDialog, TextDialog, run_form
from ui.models.manager import ViewLogModel
from ui.pages.incident_form.people import PeopleStep
from ui.widgets.tables import table_view


class EditDialog(FormDialog):
    """Change the main facts and the people of a submitted report. A reason is required; the earlier version is
    kept. The people use the report form's own editors (ui.pages.incident_form.people), account link included; harm
    grades are changed with Confirm harm, so each person keeps the grades they had."""

    def __init__(self, detail, parent=None):
        super().__init__("Edit incident", f"Change incident <b>{html.escape(detail.reference)}</b>. The version "
                                          "before your change is kept, with your reason.", parent)
        tax = load_taxonomy()
        self.draft = detail.draft
        self.types = QListWidget()
        self.types.setAccessibleName("Incident types")
        for t in tax.incident_types:
            item = QListWidgetItem(t.label)
            item.setData(Qt.ItemDataRole.UserRole, t.code)
            item.setCheckState(Qt.CheckState.Checked if t.code in self.draft.types else Qt.CheckState.Unchecked)
            self.types.addItem(item)
        self.types.setFixedHeight(140)
        self.location = self._choice(tax.locations, self.draft.location, "Where")
        self.shift = self._choice(tax.shifts, self.draft.shift, "Shift")
        self.description = QPlainTextEdit(self.draft.description)
        self.description.setTabChangesFocus(True)
        self.description.setAccessibleName("What happened")
        self.immediate = QPlainTextEdit(self.draft.immediate_actions)
        self.immediate.setTabChangesFocus(True)
        self.immediate.setAccessibleName("What was done straight away")
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for the change")
        self.form.addRow("&Type:", self.types)
        self.form.addRow("W&here:", self.location)
        self.form.addRow("&Shift:", self.shift)
        self.form.addRow("What &happened:", self.description)
        self.form.addRow("Done straight &away:", self.immediate)
        self.people_box = QGroupBox("People involved")
        self.people_box.setAccessibleName("People involved")
        column = QVBoxLayout(self.people_box)
        harm_note = QLabel("Harm grades stay as they are here: change them with Confirm harm.")
        harm_note.setWordWrap(True)
        column.addWidget(harm_note)
        self.people = PeopleStep(show_heading=False)
        self.people.load(self.draft.people)
        column.addWidget(self.people)
        # Two columns, so the dialog fits a ward PC's screen: the facts on the left, the people on the right.
        layout = self.layout()
        layout.removeItem(self.form)
        columns = QHBoxLayout()
        columns.addLayout(self.form, 1)
        columns.addWidget(self.people_box, 1)
        layout.insertLayout(1, columns, 1)
        reason = QFormLayout()
        reason.addRow("&Reason for the change:", self.reason)
        layout.insertLayout(2, reason)
        self.require(self.reason)
        self.setMinimumWidth(1000)
        self.resize(1100, 700)
        QWidget.setTabOrder(self.immediate, self.people.editors[0].role if self.people.editors else self.people.add)
        QWidget.setTabOrder(self.people.add, self.reason)

    def rebase(self, detail) -> None:
        """Someone else saved a newer version while this was open: what this dialog does not show (when, the
        ward, the circumstances) comes from theirs, so saving keeps it; what the person typed stays as typed."""
        self.draft = detail.draft

    def set_staff_choices(self, choices) -> None:
        """The accounts that may be linked to a staff member named here (core accounts.linkable_staff)."""
        if isValid(self):
            self.people.set_staff_choices(choices)

    def _choice(self, options, current, name) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.addItem("Not recorded", None)
        for o in options:
            combo.addItem(o.label, o.code)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def values(self):
        types = tuple(self.types.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.types.count())
                      if self.types.item(i).checkState() == Qt.CheckState.Checked)
        people = tuple(person for person in (e.person(e.loaded_harm) for e in self.people.editors) if person)
        draft = replace(self.draft, types=types, location=self.location.currentData(),
                        shift=self.shift.currentData(), description=self.description.toPlainText(),
                        immediate_actions=self.immediate.toPlainText(), people=people)
        return draft, self.reason.text()


class HarmDialog(FormDialog):
    """Confirm or change the harm grading."""

    def __init__(self, detail, parent=None):
        super().__init__("Confirm harm grading",
                         "Grade the worst harm to anyone affected. Hover over a level for its meaning. If the "
                         "grading was right, keep it and press OK: that confirms it.", parent)
        tax = load_taxonomy()
        self.physical = self._levels(tax.harm_physical, detail.harm_physical, "Physical harm")
        self.psychological = self._levels(tax.harm_psychological, detail.harm_psychological, "Psychological harm")
        self.note = QLineEdit()
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("For example: spoke with the patient on 3 March; distress continuing")
        self.form.addRow("&Physical harm:", self.physical)
        self.form.addRow("Ps&ychological harm:", self.psychological)
        self.form.addRow("&Note (optional):", self.note)

    def _levels(self, levels, current, name) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        for i, level in enumerate(levels):
            combo.addItem(level.label, level.code)
            combo.setItemData(i, level.guidance, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def values(self) -> tuple[str, str, str]:
        return self.physical.currentData(), self.psychological.currentData(), self.note.text()


class ViewLogDialog(QDialog):
    """For the safeguarding lead: who opened restricted records, and when."""

    def __init__(self, rows, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Who opened restricted records")
        self.resize(820, 420)
        layout = QVBoxLayout(self)
        intro = QLabel("Every opening of a restricted record (a member of staff named as alleged perpetrator), "
                       "newest first, from the audit trail.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model = ViewLogModel(self)
        self.model.set_rows(rows)
        self.table = table_view(self.model, "Restricted record openings")
        layout.addWidget(self.table)
        if not rows:
            layout.addWidget(QLabel("Nobody has opened a restricted record yet."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


RELOADED = ("The incident behind this window now shows their change, and what you typed is still here: check it "
            "against theirs, then press OK to save yours, or Cancel.")


def run_review_form(ctx: AppContext, dialog: FormDialog, detail, save, on_done, parent, on_reloaded) -> None:
    """run_form for a review save that names the version the person has on screen: `save(seen_version)` returns
    the lane call. If someone else saved a newer version meanwhile (core ChangedElsewhere), the dialog stays open
    with what was typed and the message (read out: its problem line is a LiveLabel), the incident is read again
    and shown (`on_reloaded(detail)`), and the next OK names that newer version: nothing is saved over a change
    the person has not been shown."""
    seen = [detail.version]
    incident_id = detail.incident_id

    def reloaded(newer) -> None:
        seen[0] = newer.version
        if isValid(dialog) and hasattr(dialog, "rebase"):
            dialog.rebase(newer)
        on_reloaded(newer)

    def changed_elsewhere(_err) -> str:
        ctx.call(lambda s, a: incidents.get_incident(s, a, incident_id), reloaded, parent=parent)
        return RELOADED

    run_form(ctx, dialog, lambda: save(seen[0]), on_done, parent, changed_elsewhere=changed_elsewhere)


def edit_incident(ctx: AppContext, detail, parent: QWidget, on_done, on_reloaded) -> None:
    """Edit a submitted report with a reason; the staff accounts it may link load meanwhile."""
    dialog = EditDialog(detail, parent)
    incident_id, ward_id = detail.incident_id, detail.ward_id
    ctx.call(lambda s, a: accounts.linkable_staff(s, a, ward_id), dialog.set_staff_choices,
             on_error=lambda _e: dialog.set_staff_choices([]), parent=parent)

    def save(seen_version):
        draft, reason = dialog.values()
        return lambda s, a: incidents.update_incident(s, a, incident_id, draft, reason=reason,
                                                      seen_version=seen_version)

    run_review_form(ctx, dialog, detail, save, on_done, parent, on_reloaded)


def confirm_harm(ctx: AppContext, detail, parent: QWidget, on_done, on_reloaded) -> None:
    """Confirm or change the harm grading."""
    dialog = HarmDialog(detail, parent)
    incident_id = detail.incident_id

    def save(seen_version):
        physical, psychological, note = dialog.values()
        return lambda s, a: incidents.confirm_harm(s, a, incident_id, physical, psychological, note,
                                                   seen_version=seen_version)

    run_review_form(ctx, dialog, detail, save, on_done, parent, on_reloaded)


def give_feedback(ctx: AppContext, detail, parent: QWidget, on_done, on_reloaded) -> None:
    """Write the note the reporter sees under My incidents."""
    dialog = TextDialog("Feedback to the reporter", "The person who reported this sees your note under "
                        "<b>My incidents</b>. Thank them, say what happened next, and what support is there. "
                        "Do not name anyone.", "&Feedback:", detail.feedback_note, parent)
    incident_id = detail.incident_id

    def save(seen_version):
        note = dialog.value()
        return lambda s, a: incidents.set_feedback(s, a, incident_id, note, seen_version=seen_version)

    run_review_form(ctx, dialog, detail, save, on_done, parent, on_reloaded)


def reopen_incident(ctx: AppContext, detail, parent: QWidget, on_done) -> None:
    """Reopen a closed incident, with a reason."""
    dialog = TextDialog("Reopen incident", "Say why the incident is being reopened. The reason is kept.",
                        "&Reason:", "", parent, required=lambda text: bool(text.strip()))
    incident_id = detail.incident_id

    def call():
        reason = dialog.value()
        return lambda s, a: incidents.reopen_incident(s, a, incident_id, reason)

    run_form(ctx, dialog, call, on_done, parent)
