"""Every manager-view table model: checked by qtmodeltester, and used with no view at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt

from core.dto import ActionInfo, VersionInfo
from core.services.queue import QueueRow
from core.services.reports import Bucket, RepeatPerson
from core.services.review import HistoryRow, IncidentRow, ViewLogRow
from ui.models.base import ROW_ROLE, SORT_ROLE
from ui.models.manager import (
    ActionListModel,
    BucketModel,
    HistoryModel,
    IncidentListModel,
    QueueModel,
    RepeatPeopleModel,
    VersionModel,
    ViewLogModel,
)

NOW = datetime(2026, 3, 14, 21, 40, tzinfo=UTC)


def queue_row(i: int, group: str = "overdue") -> QueueRow:
    return QueueRow(i, f"inc-{i}", f"LAN-2026-{i:05d}", 1, "Oak Ward", ("SS-SA",), f"Action {i}", "nurse",
                    "Nurse in charge", None, "", True, NOW + timedelta(hours=i), group, "police-discuss", i % 2 == 0)


def incident_row(i: int) -> IncidentRow:
    return IncidentRow(f"inc-{i}", f"LAN-2026-{i:05d}", "Oak Ward", "submitted", ("SS-HAR-V",),
                       NOW - timedelta(days=i), "patient_on_patient", "none", "low", False, i == 1, 2, i % 2)


@dataclass
class Page:
    rows: tuple
    has_more: bool


def paged_source(make_row, total: int):
    """A synchronous fetch: answers at once with rows sorted as asked (as core would in SQL)."""
    calls = []

    def fetch(sort, descending, offset, limit, done):
        calls.append((sort, descending, offset, limit))
        ids = sorted(range(total), reverse=descending)
        rows = tuple(make_row(i) for i in ids[offset:offset + limit])
        done(Page(rows, offset + limit < total))

    return fetch, calls


def action_info(i: int) -> ActionInfo:
    return ActionInfo(i, "inc", "LAN-1", "police-discuss", f"Action {i}", "", "", "", "nurse", "Nurse in charge",
                      None, True, "hours", NOW, "open" if i else "done", "", "CR1" if i == 0 else "", None, "later")


SIMPLE = [
    (lambda: BucketModel("Type"), [Bucket("SS-SA", "Sexual assault", 3), Bucket("SS-HAR-V", "Verbal", 1)]),
    (RepeatPeopleModel, [RepeatPerson("P-1", "alleged_perpetrator", "patient", 3)]),
    (ActionListModel, [action_info(0), action_info(1)]),
    (VersionModel, [VersionInfo(1, NOW, "u1", "typo", {"status": "submitted"})]),
    (HistoryModel, [HistoryRow(NOW, "manager", "incident.close", "Closed", "status: closed")]),
    (ViewLogModel, [ViewLogRow(NOW, "lead", "incident.view", "inc", "LAN-1", "Oak Ward", "ward-pc")]),
]


@pytest.mark.parametrize("factory,rows", SIMPLE)
def test_simple_models_pass_modeltester_and_work_without_a_view(qtmodeltester, factory, rows):
    model = factory()
    assert model.rowCount() == 0
    model.set_rows(rows)
    qtmodeltester.check(model)
    assert model.rowCount() == len(rows) and model.columnCount() == len(model.HEADERS)
    assert model.data(model.index(0, 0), ROW_ROLE) is rows[0]
    for column in range(model.columnCount()):
        assert isinstance(model.data(model.index(0, column)), str)
        assert model.data(model.index(0, column), SORT_ROLE) is not None
    assert model.rowCount(model.index(0, 0)) == 0


def test_bucket_model_shares_of_the_total():
    model = BucketModel("Type")
    model.set_rows([Bucket("a", "A", 3), Bucket("b", "B", 1)])
    assert model.data(model.index(0, BucketModel.COL_SHARE)) == "75%"
    model.set_rows([Bucket("a", "A", 3)], total=6)
    assert model.data(model.index(0, BucketModel.COL_SHARE)) == "50%"
    assert model.data(model.index(0, BucketModel.COL_COUNT)) == "3"


@pytest.mark.parametrize("model_cls,make_row", [(QueueModel, queue_row), (IncidentListModel, incident_row)])
def test_paged_models_pass_modeltester(qtmodeltester, model_cls, make_row):
    fetch, _calls = paged_source(make_row, 45)
    model = model_cls(fetch, page_size=20)
    qtmodeltester.check(model)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    qtmodeltester.check(model)
    assert model.rowCount() == 45


def test_queue_model_fetches_lazily_page_by_page_with_no_view():
    fetch, calls = paged_source(queue_row, 45)
    model = QueueModel(fetch, page_size=20)
    assert model.rowCount() == 0 and model.canFetchMore()
    model.fetchMore()
    assert model.rowCount() == 20 and calls == [("due", False, 0, 20)]
    model.fetchMore()
    model.fetchMore()
    assert model.rowCount() == 45 and not model.canFetchMore()
    assert [c[2] for c in calls] == [0, 20, 40]
    assert model.data(model.index(0, QueueModel.COL_GROUP)).startswith("OVERDUE by")
    assert model.data(model.index(0, QueueModel.COL_INCIDENT)) == "LAN-2026-00000 (restricted)"
    assert model.data(model.index(0, QueueModel.COL_OWNER)) == "Nurse in charge" or model.data(
        model.index(0, QueueModel.COL_OWNER)) == "Nurse"
    assert model.data(model.index(0, QueueModel.COL_DUE), Qt.ItemDataRole.BackgroundRole) is not None


def test_sorting_asks_core_for_a_new_first_page():
    fetch, calls = paged_source(queue_row, 45)
    model = QueueModel(fetch, page_size=20)
    model.fetchMore()
    model.sort(QueueModel.COL_WARD, Qt.SortOrder.DescendingOrder)
    assert model.rowCount() == 0 and (model.sort_key, model.descending) == ("ward", True)
    model.fetchMore()
    assert calls[-1] == ("ward", True, 0, 20)
    model.sort(99)  # not a sortable column: nothing changes
    assert model.rowCount() == 20


def test_a_late_page_for_an_old_filter_is_ignored():
    pending = []
    model = IncidentListModel(lambda *args: pending.append(args), page_size=10)
    model.fetchMore()
    assert not model.canFetchMore()  # one request at a time
    model.set_fetch(lambda *args: pending.append(args))
    stale_done = pending[0][4]
    stale_done(Page(tuple(incident_row(i) for i in range(10)), True))
    assert model.rowCount() == 0
    model.fetchMore()
    pending[-1][4](Page((incident_row(1),), False))
    assert model.rowCount() == 1 and not model.canFetchMore()
    assert model.data(model.index(0, IncidentListModel.COL_ATTENTION)) == "Harm check"
    assert model.data(model.index(0, IncidentListModel.COL_ACTIONS)) == "2 (1 overdue)"


def test_a_failed_fetch_stops_asking_until_reload():
    model = QueueModel(lambda *args: None, page_size=10)
    model.fetchMore()
    model.fetch_failed()
    assert not model.canFetchMore()
    model.reload()
    assert model.canFetchMore()


def test_how_urgent_reads_as_english_for_one_hour_and_one_day():
    from datetime import timedelta

    from ui.models.manager import relative

    assert relative(NOW - timedelta(minutes=70), "overdue", NOW) == "OVERDUE by 1 hour"
    assert relative(NOW - timedelta(hours=5), "overdue", NOW) == "OVERDUE by 5 hours"
    assert relative(NOW - timedelta(days=3), "overdue", NOW) == "OVERDUE by 3 days"
    assert relative(NOW + timedelta(days=1), "later", NOW) == "In 1 day"
    assert relative(NOW + timedelta(days=4), "later", NOW) == "In 4 days"
