"""The action queue (ui layer): every open safeguarding action on the manager's wards, overdue first.

Filters and sorting are done by core in SQL; rows arrive a page at a time. Dialogs here only collect
input; the page calls the core service.
"""

from __future__ import annotations

import html

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
from core.services import closure, incidents, queue
from core.services.queue import OWNER_ROLES, QueueQuery
from core.taxonomy import load_taxonomy
from ui import style
from ui.context import AppContext
from ui.models.base import ROW_ROLE
from ui.models.manager import QueueModel
from ui.widgets.a11y import LiveLabel, reflow_layout

DUE_CHOICES = (("Any time", None), ("Overdue", "overdue"), ("Due today", "today"), ("Due in the next 7 days", "week"),
               ("Due after today", "later"))


def _problem_label() -> QLabel:
    label = LiveLabel("Problem", urgent=True)
    label.setObjectName("error")
    label.setWordWrap(True)
    return label


class _Form(QDialog):
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
        self.problem = _problem_label()
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


class CompleteDialog(_Form):
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


class NotApplicableDialog(_Form):
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
        self.require(self.title)
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
        layout = reflow_layout(self)
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

        self.counts = LiveLabel("Action counts", "Loading…")
        layout.addWidget(self.counts)

        self._keep: tuple[int, int] | None = None
        self.model = QueueModel(parent=self)
        self.table = QTableView()
        self.table.setAccessibleName("Open actions")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; the arrow keys move inside it
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
        self.reassign_button = self._button("Rea&ssign…", self.reassign_selected, buttons)
        self.add_button = self._button("Add ac&tion…", self.add_to_selected, buttons)
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
        current = self.selected()
        # Come back to the same place after an action: the same action if it is still listed, else the row that
        # took its place (the next one), never the top of a long list.
        self._keep = (current.action_id, self.table.currentIndex().row()) if current is not None else None

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
        self.counts.setText(f"<b>{counts.open:,}</b> open actions: <b style='color:{style.ERROR}'>{counts.overdue:,} "
                            f"overdue</b>, {counts.due_today:,} due later today.")

    def _on_loaded(self) -> None:
        if not isValid(self) or not self.model.rowCount() or self.table.selectionModel().hasSelection():
            return
        keep, self._keep = self._keep, None
        row = 0
        if keep is not None:
            ids = [r.action_id for r in self.model.rows]
            row = ids.index(keep[0]) if keep[0] in ids else min(keep[1], len(ids) - 1)
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))

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
        dialog = CompleteDialog(row, self)

        def call():
            note, reference = dialog.values()
            return lambda s, a: incidents.complete_action(s, a, row.action_id, note, reference)

        run_form(self.ctx, dialog, call, self._done, self)

    def not_applicable_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        dialog = NotApplicableDialog(row, self)

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
            from ui.pages.review import show_incident

            show_incident(self, row.incident_id)

