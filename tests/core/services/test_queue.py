"""Action queue services on a real encrypted store: order, filters, sorts, visibility, reassign, add by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import utcnow
from core.errors import NotFound, PermissionDenied, ValidationError
from core.services import closure, incidents, queue
from core.services.queue import QueueQuery
from tests.core.manager_helpers import report


@pytest.fixture
def ward_store(make_store):
    store, actors, _recovery, wards = make_store()
    oak, elm = wards["Oak Ward"], wards["Elm Ward"]
    report(store, actors["nurse"], oak, types=("SS-SA",), flags=("physical_contact",))
    report(store, actors["nurse"], oak, types=("SS-HAR-V",))
    elm_nurse = actors["lead"]  # the lead reports on Elm so both wards have actions
    report(store, elm_nurse, elm, types=("SS-EXP-S",))
    return store, actors, wards


def all_rows(store, actor, query=QueueQuery()):
    """Every page, read at one moment: an action due "now" turns overdue between two pages read a moment apart
    (the server is slower; it happened in CI), which would make the grouping look out of order."""
    rows, offset, now = [], 0, utcnow()
    while True:
        page = queue.list_queue(store, actor, query, offset=offset, limit=7, now=now)
        rows += page.rows
        if not page.has_more:
            return rows
        offset += len(page.rows)


def test_queue_lists_open_actions_in_due_order_and_pages_without_gaps(ward_store):
    store, actors, wards = ward_store
    rows = all_rows(store, actors["manager"])
    assert rows, "the rules create actions"
    assert [r.due_at for r in rows] == sorted(r.due_at for r in rows)
    assert len({r.action_id for r in rows}) == len(rows)
    assert {r.ward_id for r in rows} == {wards["Oak Ward"]}
    counts = queue.queue_counts(store, actors["manager"])
    assert counts.open == len(rows)


def test_groups_overdue_first_then_today_then_later(ward_store):
    store, actors, _wards = ward_store
    later = utcnow() + timedelta(days=40)
    rows = all_rows(store, actors["manager"])
    groups = [r.group for r in queue.list_queue(store, actors["manager"], now=later).rows]
    assert set(groups) == {"overdue"}
    order = {"overdue": 0, "today": 1, "later": 2}
    assert [order[r.group] for r in rows] == sorted(order[r.group] for r in rows)
    assert queue.overdue_count(store, actors["manager"], now=later) == len(rows)
    assert queue.overdue_count(store, actors["administrator"], now=later) == 0


def test_lead_sees_every_ward_and_filters_by_ward_type_owner_and_due(ward_store):
    store, actors, wards = ward_store
    lead = actors["lead"]
    rows = all_rows(store, lead)
    assert {r.ward_id for r in rows} == set(wards.values())
    elm = all_rows(store, lead, QueueQuery(ward_id=wards["Elm Ward"]))
    assert elm and all(r.ward_name == "Elm Ward" for r in elm)
    sa = all_rows(store, lead, QueueQuery(type_code="SS-SA"))
    assert sa and all("SS-SA" in r.types for r in sa)
    managers = all_rows(store, lead, QueueQuery(owner="ward_manager"))
    assert managers and all(r.owner_role == "ward_manager" for r in managers)
    overdue = all_rows(store, lead, QueueQuery(due="overdue"))
    assert all(r.group == "overdue" for r in overdue)
    later = all_rows(store, lead, QueueQuery(due="later"))
    assert all(r.group == "later" for r in later)
    with pytest.raises(ValidationError):
        queue.list_queue(store, lead, QueueQuery(sort="nonsense"))


@pytest.mark.parametrize("sort,key", [("ward", lambda r: r.ward_name), ("type", lambda r: r.types[0]),
                                      ("owner", lambda r: r.owner_role), ("incident", lambda r: r.incident_reference)])
def test_sorts_happen_in_sql(ward_store, sort, key):
    store, actors, _wards = ward_store
    up = all_rows(store, actors["lead"], QueueQuery(sort=sort))
    down = all_rows(store, actors["lead"], QueueQuery(sort=sort, descending=True))
    assert [key(r) for r in up] == sorted(key(r) for r in up)
    assert [key(r) for r in down] == sorted((key(r) for r in down), reverse=True)


def test_other_wards_manager_and_administrator_see_nothing_of_oak(ward_store):
    store, actors, wards = ward_store
    assert all(r.ward_id == wards["Elm Ward"] for r in all_rows(store, actors["manager_elm"]))
    with pytest.raises(PermissionDenied):
        queue.list_queue(store, actors["administrator"])


def test_complete_with_reference_removes_it_from_the_queue(ward_store):
    store, actors, _wards = ward_store
    manager = actors["manager"]
    police = next(r for r in all_rows(store, manager) if r.rule_id == "police-wishes-ask")
    assert "Crime reference" in closure.reference_hint(police.rule_id)
    done = incidents.complete_action(store, manager, police.action_id, "Discussed; reported.", "CR/2026/0001")
    assert done.status == "done" and done.reference == "CR/2026/0001"
    assert police.action_id not in {r.action_id for r in all_rows(store, manager)}


def test_reassign_to_a_person_or_a_role(ward_store):
    store, actors, _wards = ward_store
    manager = actors["manager"]
    row = all_rows(store, manager)[0]
    people = {a.username for a in queue.assignable_users(store, manager, row.action_id)}
    assert {"nurse", "nurse2", "manager", "lead"} <= people
    assert "manager_elm" not in people and "admin" not in people
    info = queue.reassign_action(store, manager, row.action_id, user_id=actors["nurse2"].user_id)
    assert info.assigned_user_id == actors["nurse2"].user_id
    mine = all_rows(store, manager, QueueQuery(owner=f"user:{actors['nurse2'].user_id}"))
    assert [r.action_id for r in mine] == [row.action_id] and mine[0].owner == "nurse2"
    info = queue.reassign_action(store, manager, row.action_id, role="safeguarding_lead")
    assert info.assigned_user_id is None and info.owner_role == "safeguarding_lead"
    with pytest.raises(ValidationError):
        queue.reassign_action(store, manager, row.action_id, user_id=actors["manager_elm"].user_id)
    with pytest.raises(ValidationError):
        queue.reassign_action(store, manager, row.action_id)
    with pytest.raises(PermissionDenied):
        queue.reassign_action(store, actors["nurse"], row.action_id, role="nurse")


def test_add_an_action_by_hand_and_it_blocks_closing(ward_store):
    store, actors, wards = ward_store
    manager = actors["manager"]
    inc_id = all_rows(store, manager)[0].incident_id
    due = utcnow() + timedelta(days=2)
    added = queue.add_action(store, manager, inc_id, title="Check CCTV retention", owner_role="ward_manager",
                             due_at=due, guidance="Ask estates to keep the footage.")
    assert added.rule_id is None and added.mandatory
    assert added.action_id in {r.action_id for r in all_rows(store, manager)}
    with pytest.raises(ValidationError):
        queue.add_action(store, manager, inc_id, title=" ", owner_role="ward_manager", due_at=due)
    with pytest.raises(PermissionDenied):
        queue.add_action(store, actors["nurse"], inc_id, title="x", owner_role="nurse", due_at=due)
    with pytest.raises(NotFound):
        queue.add_action(store, actors["manager_elm"], inc_id, title="x", owner_role="nurse", due_at=due)


def test_every_change_is_audited(ward_store):
    from sqlalchemy import select

    from core.db.models import AuditEvent
    from core.db.store import unit_of_work

    store, actors, _wards = ward_store
    manager = actors["manager"]
    row = all_rows(store, manager)[0]
    queue.reassign_action(store, manager, row.action_id, role="nurse")
    queue.add_action(store, manager, row.incident_id, title="Follow up", owner_role="nurse",
                     due_at=utcnow() + timedelta(days=1))
    with unit_of_work(store, write=False) as session:
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == manager.user_id)))
    assert {"action.reassign", "action.add"} <= actions
