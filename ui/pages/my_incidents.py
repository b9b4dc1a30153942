"""My incidents (ui layer): the reporter's own reports with status, open actions and the manager's feedback."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from core.clock import local
from core.errors import ServerUnreachable
from core.services import incidents
from core.taxonomy import load_taxonomy
from ui.context import AppContext
from ui.models.base import SORT_ROLE, RowsModel
from ui.pages.incident_form.wording import STATUS_LABELS, due_text, esc, owner_text
from ui.widgets.a11y import LiveLabel

COL_REFERENCE, COL_WHEN, COL_TYPES, COL_STATUS, COL_ACTIONS, COL_FEEDBACK = range(6)
HEADERS = ("Reference", "When it happened", "Type", "Status", "Open actions", "Feedback from your manager")


class MyIncidentsModel(RowsModel):
    """Rows are core.dto.IncidentSummary values, replaced whole by `set_rows`."""

    HEADERS = HEADERS

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tax = load_taxonomy()

    def text(self, s, column: int) -> str:
        if column == COL_REFERENCE:
            return s.reference
        if column == COL_WHEN:
            return f"{local(s.occurred_at):%a %d %b %Y %H:%M}" if s.occurred_at else "Not given"
        if column == COL_TYPES:
            return ", ".join(self.tax.type_label(t) for t in s.types) or "Not given"
        if column == COL_STATUS:
            return STATUS_LABELS.get(s.status, s.status)
        if column == COL_ACTIONS:
            if s.status == "draft":
                return "—"
            text = str(s.open_actions) if s.open_actions else "None open"
            return f"{text} ({s.overdue_actions} overdue)" if s.overdue_actions else text
        return s.feedback_note or "No feedback yet"

    def sort_value(self, s, column: int):
        return {COL_REFERENCE: s.reference, COL_WHEN: s.occurred_at.isoformat() if s.occurred_at else "",
                COL_ACTIONS: s.open_actions, COL_STATUS: s.status}.get(column, self.text(s, column))


class MyIncidentsPage(QWidget):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.setAccessibleName("My incidents")
        layout = QVBoxLayout(self)
        intro = QLabel("<h2>My incidents</h2>The reports you have made, what is still to be done, and what your "
                       "ward manager has said back. Select one to see its open actions.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model = MyIncidentsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("My incident reports")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(True)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in (COL_REFERENCE, COL_WHEN, COL_STATUS, COL_ACTIONS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_TYPES, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(COL_TYPES, 260)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.detail_timer.start())
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        self.detail = LiveLabel("Selected report", "Select a report to see its open actions and feedback.")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        splitter.addWidget(self.detail)
        splitter.setSizes([400, 250])
        layout.addWidget(splitter, 1)
        self.refresh_button = QPushButton("Refresh (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        layout.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignLeft)
        shortcut = QShortcut(QKeySequence(Qt.Key.Key_F5), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.refresh)
        self.detail_timer = QTimer(self)
        self.detail_timer.setSingleShot(True)
        self.detail_timer.setInterval(300)  # arrowing down the list does not open every report
        self.detail_timer.timeout.connect(self.load_detail)
        ctx.changed.connect(lambda _changes: self.refresh())
        self.loaded = False
        self.refresh()

    def _alive(self, fn):
        return lambda value: fn(value) if isValid(self) else None

    def refresh(self) -> None:
        self.ctx.call(incidents.list_my_incidents, self._alive(self._loaded), parent=self, read=True)

    def _loaded(self, rows) -> None:
        current = self.selected()
        self.model.set_rows(rows)
        self.loaded = True
        if not rows:
            self.detail.setText("You have not reported any incidents yet. Press Ctrl+N to start a report.")
        if self.table.horizontalHeader().sortIndicatorSection() < 0 or not current:
            self.table.sortByColumn(COL_WHEN, Qt.SortOrder.DescendingOrder)
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0))
            if current and self.model.row_at(source.row()).incident_id == current.incident_id:
                self.table.selectRow(row)

    def selected(self):
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(self.proxy.mapToSource(index).row())

    def load_detail(self) -> None:
        summary = self.selected()
        if summary is None:
            return
        self.ctx.call(lambda store, actor: incidents.get_incident(store, actor, summary.incident_id),
                      self._alive(self._show_detail), parent=self, read=True,
                      on_error=self._alive(self._detail_failed))

    def _detail_failed(self, err) -> None:
        """Said where the person is looking (the selected report's pane, read out), not only in the status line:
        arrowing down the list while the server is out of reach gives no box per report."""
        if isinstance(err, ServerUnreachable):
            self.detail.setText(f"Not loaded. {err.message}")
        self.ctx.read_failed(self, err)

    def _show_detail(self, detail) -> None:
        open_actions = [a for a in detail.actions if a.status == "open"]
        done = [a for a in detail.actions if a.status != "open"]
        lines = [f"<h3>{esc(detail.reference)}: {esc(STATUS_LABELS.get(detail.status, detail.status))}</h3>",
                 "<p><b>Feedback from your manager:</b> "
                 + (esc(detail.feedback_note) if detail.feedback_note else "<i>none yet</i>") + "</p>"]
        if open_actions:
            lines.append(f"<p><b>Still to do ({len(open_actions)}):</b></p><ul>")
            lines += [f"<li>{esc(a.title)}: {esc(due_text(a.due_at))}, "
                      f"{esc(owner_text(a.owner_role, a.owner_label))}</li>" for a in open_actions]
            lines.append("</ul>")
        elif detail.status != "draft":
            lines.append("<p>No actions are open.</p>")
        if done:
            lines.append(f"<p><b>Done ({len(done)}):</b> " + "; ".join(esc(a.title) for a in done) + "</p>")
        self.detail.setText("".join(lines))
