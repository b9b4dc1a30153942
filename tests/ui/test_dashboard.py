"""The dashboard on a real encrypted store: figures, the tables beside the charts, and the incidents behind a bar
(by keyboard on the table, and by clicking the bar itself)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPointF, Qt

from core.clock import LONDON, utcnow
from core.demo.seed import add_synthetic_incidents
from core.services import reports
from tests.ui.manager_helpers import WAIT, Contexts, modal
from ui.pages.dashboard import DashboardPage, DrillDownDialog, _qdate

N = 80


@pytest.fixture
def env(make_store):
    store, actors, _recovery, wards = make_store()
    add_synthetic_incidents(store, actors["administrator"], N, seed=11)
    contexts = Contexts(store, actors)
    yield store, actors, wards, contexts
    contexts.finish()


def open_page(qtbot, ctx) -> DashboardPage:
    page = DashboardPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 900)
    page.show()
    qtbot.waitUntil(lambda: page.board is not None, timeout=WAIT)
    today = utcnow().astimezone(LONDON).date()
    page.date_from.setDate(_qdate(today - timedelta(days=400)))
    board = page.board
    qtbot.mouseClick(page.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.board is not board, timeout=WAIT)
    return page


def test_figures_match_the_service_and_every_chart_has_its_table(qtbot, env):
    store, actors, _wards, contexts = env
    page = open_page(qtbot, contexts("lead"))
    assert page.board.total == N
    assert f"{N:,}</b> incidents" in page.headline.text()
    same = reports.dashboard(store, actors["lead"], date_from=page.board.date_from, date_to=page.board.date_to)
    assert same == page.board
    for dimension, section in page.sections.items():
        assert section.table.accessibleName().endswith("table")
        series = section.chart.series()[0]
        bars = [series.barSets()[0].at(i) for i in range(series.barSets()[0].count())]
        counts = [section.model.rows[i].count for i in range(section.model.rowCount())]
        assert sorted(bars) == sorted(counts), dimension


def test_enter_on_a_table_row_lists_the_incidents_behind_it(qtbot, env):
    _store, _actors, _wards, contexts = env
    page = open_page(qtbot, contexts("lead"))
    section = page.sections["type"]
    bucket = max(section.buckets, key=lambda b: b.count)
    section.table.setFocus()
    section.table.selectRow(list(section.buckets).index(bucket))
    qtbot.keyClick(section.table, Qt.Key.Key_Return)
    dialog = modal(qtbot, DrillDownDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == bucket.count and not dialog.model.fetching, timeout=WAIT)
    assert all(bucket.code in r.types for r in dialog.model.rows)
    dialog.reject()


def test_clicking_a_bar_lists_the_incidents_behind_it(qtbot, env):
    _store, _actors, _wards, contexts = env
    page = open_page(qtbot, contexts("lead"))
    section = page.sections["month"]
    section.view.ensurePolished()
    index = max(range(len(section.buckets)), key=lambda i: section.buckets[i].count)
    bucket = section.buckets[index]
    series = section.chart.series()[0]
    scene_point = section.chart.mapToPosition(QPointF(index, bucket.count / 2), series)
    section.view.show()
    pos = section.view.mapFromScene(scene_point)
    qtbot.mouseClick(section.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    dialog = modal(qtbot, DrillDownDialog)
    assert bucket.label in dialog.windowTitle()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == bucket.count and not dialog.model.fetching, timeout=WAIT)
    dialog.reject()


def test_a_manager_sees_their_own_ward_only(qtbot, env):
    store, actors, wards, contexts = env
    page = open_page(qtbot, contexts("manager"))
    assert [page.ward.itemText(i) for i in range(page.ward.count())] == ["All your wards", "Oak Ward"]
    oak = reports.dashboard(store, actors["lead"], ward_id=wards["Oak Ward"], date_from=page.board.date_from,
                            date_to=page.board.date_to)
    assert page.board.total == oak.total < N
