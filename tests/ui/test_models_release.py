"""REL-07: no Qt model or view keeps a database connection (and so a read snapshot) checked out.

Every table screen is built on a real encrypted store with synthetic incidents, then refreshed, paged (fetch
more) and sorted; once the database lane is idle, `engine.pool.checkedout()` must be 0 and a TRUNCATE
checkpoint must succeed and empty the -wal file. Models hold plain rows, never a cursor.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt

from core.db.engine import DB_FILE_NAME
from core.services import queue, review
from core.services.queue import QueueQuery
from core.services.review import IncidentQuery
from tests.core.manager_helpers import report
from tests.ui.manager_helpers import WAIT, Contexts, modal, seed
from ui.dialogs.incident import ViewLogDialog
from ui.models.manager import IncidentListModel, QueueModel
from ui.pages.action_queue import ActionQueuePage
from ui.pages.dashboard import DashboardPage, DrillDownDialog
from ui.pages.my_incidents import COL_REFERENCE, COL_WHEN, MyIncidentsPage
from ui.pages.review import ReviewPage

SMALL_PAGE = 2  # so a handful of incidents takes several fetches
EXTRA = 5  # incidents reported on top of the three from `seed`


@pytest.fixture
def env(make_store):
    store, actors, _recovery, wards = make_store()
    seeded = seed(store, actors, wards)
    for i in range(EXTRA):
        report(store, actors["nurse"], wards["Oak Ward"], local_ref=f"P-{10 + i}", hours_ago=3 + i)
    contexts = Contexts(store, actors)
    yield store, actors, seeded, contexts
    contexts.finish()


def settle(qtbot, contexts, *timers) -> None:
    """Wait until no lane job is running or waiting to deliver its result, and no given timer is pending.

    Checked between events on the GUI thread, so a result handler that starts another job is seen; the final
    `runner.wait()` runs without processing events, so nothing new can start before the caller's assertion."""
    qtbot.waitUntil(lambda: all(not r._live for r in contexts.runners)
                    and not any(t.isActive() for t in timers), timeout=WAIT)
    for runner in contexts.runners:
        assert runner.wait(WAIT)


def assert_released(store) -> None:
    assert store.engine.pool.checkedout() == 0
    assert store.checkpoint() is True  # no snapshot is held anywhere, so TRUNCATE succeeds ...
    wal = store.folder / f"{DB_FILE_NAME}-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # ... and empties the log


def fetch_all(qtbot, model) -> None:
    """Fetch more as a view does when scrolled to the bottom, until the last page has come."""
    def done():
        if model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        return not model.has_more and not model.fetching

    qtbot.waitUntil(done, timeout=WAIT)


def click_header(qtbot, table, column: int) -> None:
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(column) + 5
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def show(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    return widget


# ----- paged models with no view: a synchronous fetch straight into core -----------------------------------


def test_paged_models_fetched_and_sorted_with_no_view_hold_no_connection(env):
    store, actors, _seeded, _contexts = env
    manager = actors["manager"]

    def queue_fetch(sort, descending, offset, limit, done):
        done(queue.list_queue(store, manager, QueueQuery(sort=sort, descending=descending), offset=offset,
                              limit=limit))

    def incident_fetch(sort, descending, offset, limit, done):
        done(review.list_incidents(store, manager, IncidentQuery(sort=sort, descending=descending), offset=offset,
                                   limit=limit))

    for model in (QueueModel(queue_fetch, page_size=SMALL_PAGE), IncidentListModel(incident_fetch,
                                                                                    page_size=SMALL_PAGE)):
        for column in sorted(model.SORT_KEYS):
            for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                model.sort(column, order)
                pages = 0
                while model.canFetchMore():
                    model.fetchMore()
                    pages += 1
                    assert store.engine.pool.checkedout() == 0  # between pages too, not just at the end
                assert pages > 1 and model.rowCount() > SMALL_PAGE
    assert_released(store)


# ----- the screens, through the database lane ---------------------------------------------------------------


def test_action_queue_refresh_fetch_more_and_sort_release_every_connection(qtbot, env):
    store, _actors, _seeded, contexts = env
    page = show(qtbot, ActionQueuePage(contexts("manager")))
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    page.model.page_size = SMALL_PAGE
    page.refresh()  # F5: a new first page ...
    fetch_all(qtbot, page.model)  # ... then the rest, page by page
    settle(qtbot, contexts)
    assert page.model.rowCount() > SMALL_PAGE
    assert_released(store)

    click_header(qtbot, page.table, QueueModel.COL_WARD)  # sorted in SQL: a new first page
    qtbot.waitUntil(lambda: page.model.sort_key == "ward" and page.model.rowCount() > 0, timeout=WAIT)
    fetch_all(qtbot, page.model)
    page.table.scrollToBottom()
    settle(qtbot, contexts)
    assert_released(store)


def test_review_list_record_and_tabs_release_every_connection(qtbot, env):
    store, _actors, (assault, _verbal, _restricted), contexts = env
    page = show(qtbot, ReviewPage(contexts("manager")))
    qtbot.waitUntil(lambda: page.list_model.rowCount() > 0, timeout=WAIT)
    page.list_model.page_size = SMALL_PAGE
    page.refresh()
    fetch_all(qtbot, page.list_model)
    settle(qtbot, contexts)
    assert page.list_model.rowCount() > SMALL_PAGE
    assert_released(store)

    click_header(qtbot, page.list, IncidentListModel.COL_REFERENCE)
    qtbot.waitUntil(lambda: page.list_model.sort_key == "reference" and page.list_model.rowCount() > 0,
                    timeout=WAIT)
    fetch_all(qtbot, page.list_model)
    page.open_incident(assault.incident_id)  # the record, its actions and its history
    qtbot.waitUntil(lambda: page.detail is not None and page.history_model.rowCount() > 0, timeout=WAIT)
    page.tabs.setCurrentIndex(2)  # earlier versions, read on the lane
    settle(qtbot, contexts)
    assert page.actions_model.rowCount() > 0
    assert_released(store)


def test_the_leads_view_log_releases_every_connection(qtbot, env):
    store, _actors, (_assault, _verbal, restricted), contexts = env
    page = show(qtbot, ReviewPage(contexts("lead")))
    qtbot.waitUntil(lambda: page.list_model.rowCount() > 0, timeout=WAIT)
    page.open_incident(restricted.incident_id)  # a restricted record: its opening is logged
    qtbot.waitUntil(lambda: page.detail is not None, timeout=WAIT)
    page.show_view_log()
    dialog = modal(qtbot, ViewLogDialog)
    assert dialog.model.rowCount() > 0
    settle(qtbot, contexts)
    assert_released(store)
    dialog.reject()


def test_my_incidents_refresh_sort_and_detail_release_every_connection(qtbot, env):
    store, _actors, _seeded, contexts = env
    page = show(qtbot, MyIncidentsPage(contexts("nurse")))
    qtbot.waitUntil(lambda: page.loaded and page.model.rowCount() > 0, timeout=WAIT)
    page.table.selectRow(0)  # the detail below is read after a short pause
    page.table.sortByColumn(COL_REFERENCE, Qt.SortOrder.AscendingOrder)
    page.table.sortByColumn(COL_WHEN, Qt.SortOrder.DescendingOrder)
    page.refresh_button.click()  # Refresh (F5)
    settle(qtbot, contexts, page.detail_timer)
    assert page.model.rowCount() == 3 + EXTRA
    assert_released(store)


def test_dashboard_tables_and_drill_down_release_every_connection(qtbot, env):
    store, _actors, _seeded, contexts = env
    page = show(qtbot, DashboardPage(contexts("manager")))
    qtbot.waitUntil(lambda: page.board is not None, timeout=WAIT)
    settle(qtbot, contexts)
    assert page.board.total > 0
    assert_released(store)

    section, row = next((s, i) for s in page.sections.values() for i, b in enumerate(s.buckets) if b.count)
    section.drill(row)
    dialog = modal(qtbot, DrillDownDialog)
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=WAIT)
    dialog.model.page_size = 1
    dialog.model.reload()
    fetch_all(qtbot, dialog.model)
    click_header(qtbot, dialog.table, IncidentListModel.COL_REFERENCE)
    qtbot.waitUntil(lambda: dialog.model.sort_key == "reference" and dialog.model.rowCount() > 0, timeout=WAIT)
    fetch_all(qtbot, dialog.model)
    settle(qtbot, contexts)
    assert_released(store)
    dialog.reject()
