"""The dashboard (ui layer): a ward's sexual-safety picture over a period, as charts with their tables beside them.

Figures come from `core.services.reports.dashboard`, the same service as `main.py report summary`. Each chart
has a table with the same numbers for screen readers; clicking a bar, or pressing Enter on a table row, lists
the incidents behind it.
"""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QHorizontalBarSeries, QValueAxis
from PySide6.QtCore import QDate, QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from core.services import reports, review
from core.services.review import IncidentQuery
from ui import style
from ui.context import AppContext
from ui.models.base import ROW_ROLE
from ui.models.manager import BucketModel, IncidentListModel, RepeatPeopleModel
from ui.widgets.a11y import LiveLabel

# (dimension, title, Dashboard field, horizontal bars?)
SECTIONS = (
    ("month", "Incidents by month", "by_month", False),
    ("type", "By type (an incident with two types counts under each)", "by_type", True),
    ("pair", "Who did what to whom", "by_pair", True),
    ("shift", "By shift", "by_shift", True),
    ("location", "By where it happened", "by_location", True),
    ("harm_physical", "Physical harm", "harm_physical", True),
    ("harm_psychological", "Psychological harm", "harm_psychological", True),
)
BAR = QColor(style.CHART_BAR)


def _qdate(day) -> QDate:
    return QDate(day.year, day.month, day.day)


def _short(label: str, dimension: str) -> str:
    """Axis labels must fit; the table beside the chart has the full wording."""
    if dimension == "month":
        return f"{label[:3]} {label[-2:]}"
    return label if len(label) <= 30 else label[:28] + "…"


class DrillDownDialog(QDialog):
    """The incidents behind one bar, fetched page by page. Enter or Open in Review opens one."""

    def __init__(self, ctx: AppContext, title: str, query: IncidentQuery, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.resize(900, 480)
        layout = QVBoxLayout(self)
        label = QLabel(f"<b>{html.escape(title)}</b>")
        label.setAccessibleDescription("Showing")
        layout.addWidget(label)
        self.model = IncidentListModel(parent=self)
        self.table = QTableView()
        self.table.setAccessibleName("Incidents behind this figure")
        self.table.setTabKeyNavigation(False)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(IncidentListModel.COL_WHEN, Qt.SortOrder.DescendingOrder)
        self.table.horizontalHeader().setSectionResizeMode(IncidentListModel.COL_TYPES,
                                                           QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.activated.connect(lambda _i: self.open_selected())
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = buttons.addButton("&Open in Review", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.clicked.connect(self.open_selected)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        def fetch(sort, descending, offset, limit, done):
            q = replace(query, sort=sort, descending=descending)
            ctx.call(lambda s, a: review.list_incidents(s, a, q, offset=offset, limit=limit), done, parent=self,
                     read=True)

        self.model.set_fetch(fetch)
        self.model.fetchMore()

    def open_selected(self) -> None:
        index = self.table.currentIndex()
        row = self.model.data(self.model.index(index.row(), 0), ROW_ROLE) if index.isValid() else None
        if row is None:
            return
        from ui.pages.review import show_incident

        show_incident(self.parentWidget(), row.incident_id)
        self.accept()


class ChartSection(QGroupBox):
    """One breakdown: a bar chart and, beside it, the same figures as a table."""

    def __init__(self, page: DashboardPage, dimension: str, title: str, horizontal: bool):
        super().__init__(title)
        self.page, self.dimension, self.horizontal = page, dimension, horizontal
        self.buckets: tuple = ()
        layout = QHBoxLayout(self)
        self.chart = QChart()
        self.chart.legend().hide()
        self.chart.setMargins(QMargins(0, 0, 0, 0))
        self.chart.setBackgroundRoundness(0)
        self.view = QChartView(self.chart)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumSize(420, 240)
        self.view.setAccessibleName(f"{title} (chart; the table beside it has the same figures)")
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.view, 3)
        self.model = BucketModel(title.split(" (")[0], self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(f"{title}: table")
        self.table.setTabKeyNavigation(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(BucketModel.COL_LABEL, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumWidth(380)
        self.table.activated.connect(lambda index: self.drill(index.row()))
        self.table.setToolTip("Press Enter or double-click a row to list its incidents.")
        layout.addWidget(self.table, 2)

    def set_buckets(self, buckets, total: int) -> None:
        self.buckets = tuple(buckets)
        self.model.set_rows(self.buckets, total if self.dimension not in ("type",) else None)
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        bars = QBarSet("Incidents")
        bars.setColor(BAR)
        shown = list(reversed(self.buckets)) if self.horizontal else list(self.buckets)
        for b in shown:
            bars.append(b.count)
        series = QHorizontalBarSeries() if self.horizontal else QBarSeries()
        series.append(bars)
        series.setLabelsVisible(True)
        series.setLabelsPosition(QBarSeries.LabelsPosition.LabelsOutsideEnd)
        self.chart.addSeries(series)
        categories = QBarCategoryAxis()
        categories.append([_short(b.label, self.dimension) for b in shown])
        values = QValueAxis()
        values.setRange(0, max([b.count for b in shown] + [1]) * 1.15)
        values.setLabelFormat("%d")
        values.setTickCount(5)
        cat_side, val_side = ((Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignBottom) if self.horizontal
                              else (Qt.AlignmentFlag.AlignBottom, Qt.AlignmentFlag.AlignLeft))
        self.chart.addAxis(categories, cat_side)
        self.chart.addAxis(values, val_side)
        series.attachAxis(categories)
        series.attachAxis(values)
        height = max(220, 26 * len(shown) + 60) if self.horizontal else 260
        self.view.setMinimumHeight(min(height, 520))
        count = len(shown)
        bars.clicked.connect(lambda i: self.drill(count - 1 - i if self.horizontal else i))

    def drill(self, row: int) -> None:
        if 0 <= row < len(self.buckets):
            self.page.drill_down(self.dimension, self.buckets[row])


class DashboardPage(QWidget):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.board = None
        outer = QVBoxLayout(self)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("<h2>Dashboard</h2>"))
        self.ward = QComboBox()
        self.ward.addItem("All your wards", None)
        self.ward.setAccessibleName("Ward")
        start, end = reports.default_period()
        self.date_from = QDateEdit(_qdate(start))
        self.date_to = QDateEdit(_qdate(end))
        for edit, name in ((self.date_from, "From"), (self.date_to, "To")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("d MMM yyyy")
            edit.setAccessibleName(name)
        for label, widget in (("&Ward:", self.ward), ("&From:", self.date_from), ("&To:", self.date_to)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            controls.addWidget(caption)
            controls.addWidget(widget)
        self.show_button = QPushButton("&Show")
        self.show_button.clicked.connect(self.refresh)
        controls.addWidget(self.show_button)
        controls.addStretch(1)
        outer.addLayout(controls)

        self.headline = LiveLabel("Key figures", "Loading…")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.headline)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        grid = QGridLayout(body)
        self.sections: dict[str, ChartSection] = {}
        for i, (dimension, title, _field, horizontal) in enumerate(SECTIONS):
            section = ChartSection(self, dimension, title, horizontal)
            self.sections[dimension] = section
            grid.addWidget(section, i, 0)
        repeat_box = QGroupBox("Repeat individuals (the same reference in more than one incident)")
        rl = QVBoxLayout(repeat_box)
        self.repeat_model = RepeatPeopleModel(self)
        self.repeat_table = QTableView()
        self.repeat_table.setModel(self.repeat_model)
        self.repeat_table.setAccessibleName("Repeat individuals")
        self.repeat_table.setTabKeyNavigation(False)
        self.repeat_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.repeat_table.verticalHeader().setVisible(False)
        self.repeat_table.horizontalHeader().setStretchLastSection(True)
        self.repeat_table.activated.connect(self._repeat_activated)
        self.repeat_table.setMinimumHeight(180)
        rl.addWidget(self.repeat_table)
        grid.addWidget(repeat_box, len(SECTIONS), 0)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        ctx.changed.connect(lambda _c: self.refresh() if isValid(self) else None)
        ctx.remote_changed.connect(lambda _c: self.refresh() if isValid(self) else None)  # another PC's change
        ctx.load_ward_choices(self.ward)
        self.refresh()

    def refresh(self) -> None:
        ward_id = self.ward.currentData()
        start, end = self.date_from.date().toPython(), self.date_to.date().toPython()
        self.headline.setText("Loading…")
        self.ctx.call(lambda s, a: reports.dashboard(s, a, ward_id=ward_id, date_from=start, date_to=end),
                      self._show, on_error=self._not_loaded, parent=self, read=True)

    def _not_loaded(self, err) -> None:
        """Never "Loading…" for ever: the figures were not read (why: the status line, or a message box)."""
        if isValid(self):
            self.headline.set_quietly("Figures not loaded. Lantern reads them again when it can.")
            self.ctx.read_failed(self, err)

    def _show(self, board) -> None:
        if not isValid(self):
            return
        self.board = board
        b = board
        period = f"{b.date_from:%d %b %Y} to {b.date_to:%d %b %Y}"
        overdue = (f"<b style='color:{style.ERROR}'>{b.overdue_actions:,} overdue</b>" if b.overdue_actions
                   else "none overdue")
        harm = (f" &nbsp;·&nbsp; <b>{b.harm_confirmation_pending:,}</b> need a harm check"
                if b.harm_confirmation_pending else "")
        self.headline.setText(
            f"<b>{html.escape(b.ward_name)}</b>, {period}: <b style='font-size:14pt'>{b.total:,}</b> incidents"
            f" &nbsp;·&nbsp; referred to the police: <b>{b.police_referred:,}</b> ({b.police_rate:.0%})"
            f" &nbsp;·&nbsp; open actions: <b>{b.open_actions:,}</b>, {overdue}{harm}"
            f" &nbsp;·&nbsp; repeat individuals: <b>{len(b.repeat_people):,}</b>"
            f"<br><span style='color:{style.MUTED}'>Click a bar, or press Enter on a table row, to list the incidents "
            "behind it.</span>")
        for dimension, _title, field, _h in SECTIONS:
            self.sections[dimension].set_buckets(getattr(b, field), b.total)
        self.repeat_model.set_rows(b.repeat_people)

    def drill_down(self, dimension: str, bucket) -> None:
        if self.board is None:
            return
        query = reports.drill_down(self.board, dimension, bucket.code)
        title = f"{bucket.label}: {bucket.count:,} incidents ({self.board.ward_name})"
        self.drill = DrillDownDialog(self.ctx, title, query, self)
        self.drill.open()

    def _repeat_activated(self, index) -> None:
        person = self.repeat_model.data(self.repeat_model.index(index.row(), 0), ROW_ROLE)
        if person is None or self.board is None:
            return
        query = IncidentQuery(ward_id=self.board.ward_id, date_from=self.board.date_from,
                              date_to=self.board.date_to, local_ref=person.local_ref)
        self.drill = DrillDownDialog(self.ctx, f"Incidents naming {person.local_ref}", query, self)
        self.drill.open()
