"""The action queue (ui layer): every open safeguarding action on the manager's wards, overdue first.

Filters and sorting are done by core in SQL; rows arrive a page at a time. The dialogs (ui.dialogs.actions) only
collect input; the shared flow there calls the core service.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QWidget,
)
from shiboken6 import isValid

from core.dto import Changes
from core.security.permissions import ROLE_LABELS
from core.services import queue
from core.services.queue import OWNER_ROLES, QueueQuery
from core.taxonomy import load_taxonomy
from ui import style
from ui.context import AppContext
from ui.dialogs import actions
from ui.models.base import ROW_ROLE
from ui.models.manager import QueueModel
from ui.widgets.a11y import LiveLabel, reflow_layout

DUE_CHOICES = (("Any time", None), ("Overdue", "overdue"), ("Due today", "today"), ("Due in the next 7 days", "week"),
               ("Due after today", "later"))


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
        ctx.remote_changed.connect(self._on_changed)  # another PC's report or action (issue 16 item 4)
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
            self.ctx.read_failed(self, err)  # the server out of reach: said once in the status line

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
        if row is not None:
            actions.complete_action(self.ctx, row, self, self._done)

    def not_applicable_selected(self) -> None:
        row = self.selected()
        if row is not None:
            actions.mark_not_applicable(self.ctx, row, self, self._done)

    def reassign_selected(self) -> None:
        row = self.selected()
        if row is not None:
            actions.reassign_action(self.ctx, row, self, self._done)

    def add_to_selected(self) -> None:
        row = self.selected()
        if row is not None:
            actions.add_action(self.ctx, row.incident_reference, row.incident_id, self, self._done)

    def open_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_incident_requested.emit(row.incident_id)
            from ui.pages.review import show_incident

            show_incident(self, row.incident_id)

