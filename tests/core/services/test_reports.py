"""Dashboard figures and `report summary`: totals agree with the demo generator, breakdowns add up."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cli import main as cli
from core.clock import LONDON, utcnow
from core.db.models import Incident, IncidentType
from core.db.store import unit_of_work
from core.demo.seed import add_synthetic_incidents
from core.errors import ValidationError
from core.services import incidents, reports, review
from tests.core.manager_helpers import report

N = 120


@pytest.fixture
def demo(make_store):
    store, actors, _recovery, wards = make_store()
    add_synthetic_incidents(store, actors["administrator"], N, seed=7)
    today = utcnow().astimezone(LONDON).date()
    return store, actors, wards, today - timedelta(days=400), today


def test_totals_agree_with_the_generator_and_breakdowns_add_up(demo):
    store, actors, wards, start, end = demo
    board = reports.dashboard(store, actors["lead"], date_from=start, date_to=end)
    assert board.total == N
    with unit_of_work(store, write=False) as session:
        type_rows = session.scalar(select(func.count()).select_from(IncidentType))
    assert sum(b.count for b in board.by_type) == type_rows >= N
    for part in (board.by_pair, board.by_month, board.by_shift, board.by_location, board.harm_physical,
                 board.harm_psychological):
        assert sum(b.count for b in part) == N
    per_ward = [reports.dashboard(store, actors["lead"], ward_id=w, date_from=start, date_to=end).total
                for w in wards.values()]
    assert sum(per_ward) == N
    assert 0 <= board.police_referred <= N and 0.0 <= board.police_rate <= 1.0
    assert board.overdue_actions <= board.open_actions


def test_manager_sees_only_their_ward_and_not_others(demo):
    store, actors, wards, start, end = demo
    mine = reports.dashboard(store, actors["manager"], date_from=start, date_to=end)
    oak = reports.dashboard(store, actors["lead"], ward_id=wards["Oak Ward"], date_from=start, date_to=end)
    assert mine.total == oak.total
    with pytest.raises(ValidationError):
        reports.dashboard(store, actors["manager"], ward_id=wards["Elm Ward"])
    with pytest.raises(ValidationError):
        reports.dashboard(store, actors["manager"], date_from=end, date_to=start)


def test_each_bar_drills_down_to_exactly_its_incidents(demo):
    store, actors, _wards, start, end = demo
    lead = actors["lead"]
    board = reports.dashboard(store, lead, date_from=start, date_to=end)
    for dimension, buckets in (("type", board.by_type), ("pair", board.by_pair), ("month", board.by_month),
                               ("shift", board.by_shift), ("location", board.by_location),
                               ("harm_physical", board.harm_physical)):
        for bucket in buckets:
            page = review.list_incidents(store, lead, reports.drill_down(board, dimension, bucket.code), limit=N)
            assert len(page.rows) == bucket.count, (dimension, bucket.code)


def test_police_referral_counts_wishes_and_completed_police_actions(make_store):
    store, actors, _recovery, wards = make_store()
    oak, nurse, manager = wards["Oak Ward"], actors["nurse"], actors["manager"]
    report(store, nurse, oak, types=("SS-SA",), police_wishes="yes", flags=("physical_contact",))
    second = report(store, nurse, oak, types=("SS-SA",), police_wishes="undecided", flags=("physical_contact",))
    report(store, nurse, oak, types=("SS-HAR-V",))
    assert reports.dashboard(store, manager).police_referred == 1
    police = next(a for a in second.actions if a.rule_id == "police-decision-record")
    incidents.complete_action(store, manager, police.action_id, "Reported to the police", "")
    assert reports.dashboard(store, manager).police_referred == 1  # discussed, no crime reference
    third = report(store, nurse, oak, types=("SS-SA",), police_wishes="undecided", flags=("physical_contact",))
    police = next(a for a in third.actions if a.rule_id == "police-decision-record")
    incidents.complete_action(store, manager, police.action_id, "Reported to the police", "CR-123")
    board = reports.dashboard(store, manager)
    assert board.police_referred == 2 and board.total == 4
    assert board.police_rate == pytest.approx(0.5)


def test_repeat_individuals_are_found_by_pseudonymous_reference(make_store):
    store, actors, _recovery, wards = make_store()
    for _ in range(3):
        report(store, actors["nurse"], wards["Oak Ward"], local_ref="P-REPEAT")
    report(store, actors["nurse"], wards["Oak Ward"], local_ref="P-ONCE")
    board = reports.dashboard(store, actors["manager"])
    assert [(p.local_ref, p.role, p.incidents) for p in board.repeat_people
            if p.role == "alleged_perpetrator"] == [("P-REPEAT", "alleged_perpetrator", 3)]
    data = board.to_json()
    assert "P-REPEAT" not in json.dumps(data)  # a board report carries counts, not references
    assert data["repeat_individuals"]["people"] >= 1


def run_cli(args, password):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(args, stdin=io.StringIO(password + "\n"), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_report_summary_prints_the_same_figures_as_json(demo, password):
    store, actors, wards, start, end = demo
    folder = str(store.folder)
    code, out, err = run_cli(["report", "summary", "--store", folder, "--user", "lead", "--password-stdin",
                              "--from", start.isoformat(), "--to", end.isoformat(), "--format", "json"], password)
    assert code == 0, err
    data = json.loads(out)
    assert data["total"] == N
    assert sum(b["count"] for b in data["by_month"]) == N
    with unit_of_work(store, write=False) as session:
        assert sum(b["count"] for b in data["by_type"]) == session.scalar(
            select(func.count()).select_from(IncidentType))
        assert N == session.scalar(select(func.count()).select_from(Incident))
    for key in ("by_pair", "overdue_actions", "open_actions", "police_referral_rate"):
        assert key in data
    code, out, _err = run_cli(["report", "summary", "--store", folder, "--user", "lead", "--password-stdin",
                               "--ward", "Oak Ward", "--from", start.isoformat(), "--format", "json"], password)
    assert code == 0 and json.loads(out)["ward_name"] == "Oak Ward"


@pytest.mark.parametrize("args,needle", [
    (["--user", "nurse"], "not allow"),
    (["--user", "lead", "--ward", "No Such Ward"], "ward"),
    (["--user", "lead", "--from", "31/12/2025"], "YYYY-MM-DD"),
])
def test_report_summary_failures_are_one_plain_line(demo, args, needle, password):
    store, *_ = demo
    code, out, err = run_cli(["report", "summary", "--store", str(store.folder), "--password-stdin",
                              "--format", "json", *args], password)
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_report_summary_wrong_password(demo):
    store, *_ = demo
    code, out, err = run_cli(["report", "summary", "--store", str(store.folder), "--user", "lead",
                              "--password-stdin", "--format", "json"], password="wrong")
    assert code != 0 and out == "" and err.count("\n") == 1
