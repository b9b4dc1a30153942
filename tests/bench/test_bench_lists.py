"""Manager-view benchmarks on a 100,000-incident store (pytest-benchmark; figures only, no timing asserts).

    LANTERN_BENCH_CACHE=/tmp/lantern-bench .venv/bin/pytest tests/bench/test_bench_lists.py --benchmark-only

Targets (issue 5): a list's first page, a filter change and a sort change under 150 ms; the dashboard for a
year of one ward under 500 ms. Each call is what the screen makes: one page of 200 rows, or the whole dashboard.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import LONDON, utcnow
from core.services import accounts, queue, reports, review
from core.services.queue import QueueQuery
from core.services.review import IncidentQuery

BENCH_PASSWORD = "bench-only passphrase 42"  # synthetic; the same as tests/bench/conftest.py


@pytest.fixture(scope="module")
def big(bench_big_store):
    folder, count = bench_big_store
    store, manager = accounts.sign_in(folder, "manager", BENCH_PASSWORD)
    lead = accounts.sign_in(folder, "lead", BENCH_PASSWORD)[1]
    yield store, manager, lead, manager.ward_ids[0], count
    store.close()


def run(benchmark, fn):
    return benchmark.pedantic(fn, rounds=10, iterations=1, warmup_rounds=1)


def test_bench_queue_first_page(benchmark, big):
    store, manager, _lead, _ward, count = big
    benchmark.extra_info["incidents"] = count
    page = run(benchmark, lambda: queue.list_queue(store, manager))
    assert len(page.rows) == 200


def test_bench_queue_filter_change(benchmark, big):
    store, manager, _lead, ward, _count = big
    run(benchmark, lambda: queue.list_queue(store, manager, QueueQuery(ward_id=ward, type_code="SS-SA")))


def test_bench_queue_sort_change_owner(benchmark, big):
    store, manager, _lead, _ward, _count = big
    run(benchmark, lambda: queue.list_queue(store, manager, QueueQuery(sort="owner")))


def test_bench_queue_sort_change_type(benchmark, big):
    store, manager, _lead, _ward, _count = big
    run(benchmark, lambda: queue.list_queue(store, manager, QueueQuery(sort="type")))


def test_bench_overdue_count(benchmark, big):
    store, manager, _lead, _ward, _count = big
    run(benchmark, lambda: queue.overdue_count(store, manager))


def test_bench_queue_counts(benchmark, big):
    store, manager, _lead, _ward, _count = big
    run(benchmark, lambda: queue.queue_counts(store, manager))


def test_bench_incident_list_first_page(benchmark, big):
    store, manager, _lead, _ward, _count = big
    page = run(benchmark, lambda: review.list_incidents(store, manager, IncidentQuery()))
    assert len(page.rows) == 200


def test_bench_incident_list_filter_change(benchmark, big):
    store, manager, _lead, ward, _count = big
    run(benchmark, lambda: review.list_incidents(store, manager, IncidentQuery(
        ward_id=ward, status="open", type_code="SS-SA")))


def test_bench_incident_list_sort_change(benchmark, big):
    store, manager, _lead, _ward, _count = big
    run(benchmark, lambda: review.list_incidents(store, manager, IncidentQuery(sort="reference", descending=False)))


def _year():
    today = utcnow().astimezone(LONDON).date()
    return today - timedelta(days=364), today


def test_bench_dashboard_one_ward_year(benchmark, big):
    store, manager, _lead, ward, _count = big
    start, end = _year()
    board = run(benchmark, lambda: reports.dashboard(store, manager, ward_id=ward, date_from=start, date_to=end))
    benchmark.extra_info["incidents_in_view"] = board.total


def test_bench_dashboard_all_wards_year(benchmark, big):
    store, _manager, lead, _ward, _count = big
    start, end = _year()
    board = run(benchmark, lambda: reports.dashboard(store, lead, date_from=start, date_to=end))
    benchmark.extra_info["incidents_in_view"] = board.total
