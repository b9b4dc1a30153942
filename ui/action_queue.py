"""The action queue (ui layer): every open safeguarding action on the manager's wards, overdue first.

Filters and sorting are done by core in SQL; rows arrive a page at a time. Dialogs here only collect
input; the page calls the core service.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from core.clock import LONDON
from core.dto import Changes
from core.security.permissions import ROLE_LABELS
from core.services import incidents, queue
from core.services.queue import OWNER_ROLES, QueueQuery
from core.taxonomy import load_taxonomy
from ui.context import AppContext
from ui.models.base import ROW_ROLE
from ui.models.manager import QueueModel

DUE_CHOICES = (("Any time", None), ("Overdue", "overdue"), ("Due today", "today"), ("Due in the next 7 days", "week"),
               ("Due after today", "later"))


def _problem_label() -> QLabel:
    label = QLabel("")
    label.setObjectName("error")
    label.setWordWrap(True)
    label.setAccessibleName("Problem")
    return label


class _Form(QDialog):
    """A small dialog: a form, a problem line, OK and Cancel."""

    def __init__(self, title: str, intro: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        text = QLabel(intro)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.problem = _problem_label()
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)


class CompleteDialog(_Form):
    """Collects a note and, where it applies, a reference (crime, local authority, SARC)."""

    def __init__(self, title: str, reference_hint: str, parent=None):
        super().__init__("Complete action", f"<b>{title}</b><br>Say what was done. The note is kept with the "
                                             "incident.", parent)
        self.note = QPlainTextEdit()
        self.note.setTabChangesFocus(True)
        self.note.setAccessibleName("What was done")
        self.note.setFixedHeight(90)
        self.reference = QLineEdit()
        self.reference.setMaxLength(60)
        self.reference.setAccessibleName(reference_hint)
        self.reference.setPlaceholderText("Leave empty if there is none")
        self.form.addRow("&What was done:", self.note)
        self.form.addRow(f"&{reference_hint}:", self.reference)

    def values(self) -> tuple[str, str]:
        return self.note.toPlainText(), self.reference.text()


class NotApplicableDialog(_Form):
    def __init__(self, title: str, parent=None):
        super().__init__("Mark not applicable", f"<b>{title}</b><br>Say why this action does not apply to this "
                                                "incident. The reason is kept and can be audited.", parent)
        self.reason = QPlainTextEdit()
        self.reason.setTabChangesFocus(True)
        self.reason.setAccessibleName("Reason")
        self.reason.setFixedHeight(90)
        self.form.addRow("&Reason:", self.reason)

    def value(self) -> str:
        return self.reason.toPlainText()


class ReassignDialog(_Form):
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


class AddActionDialog(_Form):
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
        self.form.addRow("&Owner:", self.owner)
        self.form.addRow("&Due:", self.due)
        self.form.addRow("", self.mandatory)

    def values(self) -> dict:
        due = self.due.dateTime().toPython()
        due = due.replace(tzinfo=LONDON) if due.tzinfo is None else due
        return {"title": self.title.text(), "guidance": self.guidance.toPlainText(),
                "owner_role": self.owner.currentData(), "due_at": due, "mandatory": self.mandatory.isChecked()}


def run_form(ctx: AppContext, dialog: _Form, call, on_done, parent) -> None:
    """Show `dialog`; on OK run `call(store, actor)` on the lane; keep the dialog open with the message if refused."""
    from core.errors import ValidationError
    from ui.errors import message_for

    def failed(err):
        if isinstance(err, ValidationError) and isValid(dialog):
            dialog.show_problem(message_for(err))
            dialog.open()
        else:
            from ui.errors import show_error

            show_error(parent, err)

    def accepted():
        ctx.call(call(), on_done, on_error=failed, parent=parent)

    dialog.accepted.connect(accepted)
    dialog.open()


class ActionQueuePage(QWidget):
    """Open actions across the user's wards. Enter completes the selected action."""

    open_incident_requested = Signal(str)

    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.tax = load_taxonomy()
        layout = QVBoxLayout(self)
        heading = QLabel("<h2>Safeguarding actions</h2>Every open action on your wards. Overdue ones come first "
                         "and are shaded red; actions due today are shaded yellow.")
        heading.setWordWrap(True)
        layout.addWidget(heading)

        filters = QHBoxLayout()
        self.ward = self._combo("&Ward", filters, [("All your wards", None)])
        self.type = self._combo("T&ype", filters, [("Any type", None)] +
                                [(t.label, t.code) for t in self.tax.incident_types])
        self.owner = self._combo("&Owner", filters, [("Anyone", None)] +
                                 [(ROLE_LABELS[r], r) for r in OWNER_ROLES] + [("Assigned to me", "me")])
        self.due = self._combo("D&ue", filters, list(DUE_CHOICES))
        filters.addStretch(1)
        layout.addLayout(filters)

        self.counts = QLabel("Loading…")
        self.counts.setAccessibleName("Action counts")
        layout.addWidget(self.counts)

        self.model = QueueModel(parent=self)
        self.table = QTableView()
        self.table.setAccessibleName("Open actions")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(QueueModel.COL_DUE, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        for column in (QueueModel.COL_DUE, QueueModel.COL_GROUP, QueueModel.COL_INCIDENT, QueueModel.COL_WARD,
                       QueueModel.COL_OWNER):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(QueueModel.COL_ACTION, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(QueueModel.COL_TYPE, 220)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.activated.connect(lambda _i: self.complete_selected())
        layout.addWidget(self.table, 1)
        self.model.loaded.connect(self._on_loaded)

        buttons = QHBoxLayout()
        self.complete_button = self._button("&Complete…", self.complete_selected, buttons)
        self.na_button = self._button("&Not applicable…", self.not_applicable_selected, buttons)
        self.reassign_button = self._button("&Reassign…", self.reassign_selected, buttons)
        self.add_button = self._button("&Add action…", self.add_to_selected, buttons)
        self.open_button = self._button("Open &incident", self.open_selected, buttons)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence("F5"), self, activated=self.refresh)

        for combo in (self.ward, self.type, self.owner, self.due):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        ctx.changed.connect(self._on_changed)
        self.ctx.load_ward_choices(self.ward)
        self.refresh()

    # ----- building ------------------------------------------------------------
    def _combo(self, label: str, row: QHBoxLayout, items) -> QComboBox:
        combo = QComboBox()
        for text, data in items:
            combo.addItem(text, data)
        caption = QLabel(label + ":")
        caption.setBuddy(combo)
        combo.setAccessibleName(label.replace("&", ""))
        row.addWidget(caption)
        row.addWidget(combo)
        return combo

    def _button(self, text: str, slot, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # ----- data ----------------------------------------------------------------
    def query(self) -> QueueQuery:
        owner = self.owner.currentData()
        if owner == "me":
            owner = f"user:{self.ctx.actor.user_id}"
        return QueueQuery(ward_id=self.ward.currentData(), type_code=self.type.currentData(), owner=owner,
                          due=self.due.currentData(), sort=self.model.sort_key, descending=self.model.descending)

    def refresh(self) -> None:
        ctx = self.ctx

        def fetch(sort, descending, offset, limit, done):
            q = QueueQuery(**{**self.query().__dict__, "sort": sort, "descending": descending})
            ctx.call(lambda s, a: queue.list_queue(s, a, q, offset=offset, limit=limit), done,
                     on_error=self._on_fetch_failed, parent=self)

        self.model.set_fetch(fetch)
        self.model.fetchMore()
        query = self.query()
        ctx.call(lambda s, a: queue.queue_counts(s, a, query), self._on_counts, on_error=lambda _e: None, parent=self)

    def _on_fetch_failed(self, err) -> None:
        if isValid(self):
            self.model.fetch_failed()
            from ui.errors import show_error

            show_error(self, err)

    def _on_counts(self, counts) -> None:
        if not isValid(self):
            return
        if not counts.open:
            self.counts.setText("No open actions match. Well done, or widen the filters.")
            return
        self.counts.setText(f"<b>{counts.open:,}</b> open actions: <b style='color:#a00000'>{counts.overdue:,} "
                            f"overdue</b>, {counts.due_today:,} due later today.")

    def _on_loaded(self) -> None:
        if isValid(self) and not self.table.selectionModel().hasSelection() and self.model.rowCount():
            self.table.selectRow(0)

    def _on_changed(self, changes) -> None:
        if isValid(self) and (changes is None or getattr(changes, "actions", False) or getattr(changes, "incidents",
                                                                                                  False)):
            self.refresh()

    def selected(self):
        index = self.table.currentIndex()
        return self.model.data(self.model.index(index.row(), 0), ROW_ROLE) if index.isValid() else None

    def _done(self, _result=None) -> None:
        self.ctx.changed.emit(Changes(actions=True, incidents=True))

    # ----- actions -------------------------------------------------------------
    def complete_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        dialog = CompleteDialog(row.title, queue.reference_hint(row.rule_id), self)

        def call():
            note, reference = dialog.values()
            return lambda s, a: incidents.complete_action(s, a, row.action_id, note, reference)

        run_form(self.ctx, dialog, call, self._done, self)

    def not_applicable_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        dialog = NotApplicableDialog(row.title, self)

        def call():
            reason = dialog.value()
            return lambda s, a: incidents.mark_action_not_applicable(s, a, row.action_id, reason)

        run_form(self.ctx, dialog, call, self._done, self)

    def reassign_selected(self) -> None:
        row = self.selected()
        if row is None:
            return

        def show(people):
            if not isValid(self):
                return
            dialog = ReassignDialog(row.title, people, self)

            def call():
                user_id, role = dialog.values()
                return lambda s, a: queue.reassign_action(s, a, row.action_id, user_id=user_id, role=role)

            run_form(self.ctx, dialog, call, self._done, self)

        self.ctx.call(lambda s, a: queue.assignable_users(s, a, row.action_id), show, parent=self)

    def add_to_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        dialog = AddActionDialog(row.incident_reference, self)

        def call():
            values = dialog.values()
            return lambda s, a: queue.add_action(s, a, row.incident_id, **values)

        run_form(self.ctx, dialog, call, self._done, self)

    def open_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_incident_requested.emit(row.incident_id)
            from ui.review import show_incident

            show_incident(self, row.incident_id)

