"""Restricted records: a staff allegation is seen by the lead and the ward's managers only, never by the named
staff account or other nurses; every view is audited; the lead sees who opened each restricted record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db.models import AuditEvent, Incident
from core.db.store import unit_of_work
from core.errors import NotFound, PermissionDenied
from core.services import incidents, queue, reports, review
from core.services.queue import QueueQuery, visible_incidents
from core.services.review import IncidentQuery
from tests.core.manager_helpers import report


@pytest.fixture
def restricted(make_store):
    store, actors, _recovery, wards = make_store()
    oak = wards["Oak Ward"]
    # nurse2 is the member of staff alleged to have done it; nurse reports it.
    detail = report(store, actors["nurse"], oak, perpetrator="staff", linked_user_id=actors["nurse2"].user_id,
                    types=("SS-STAFF",) if _has_type("SS-STAFF") else ("SS-SA",), local_ref="S-77")
    plain = report(store, actors["nurse"], oak)
    assert detail.restricted and not plain.restricted
    return store, actors, wards, detail.incident_id, plain.incident_id


def _has_type(code: str) -> bool:
    from core.taxonomy import load_taxonomy

    return load_taxonomy().has("incident_types", code)


def _views(store, incident_id):
    with unit_of_work(store, write=False) as session:
        return session.execute(select(AuditEvent.username, AuditEvent.action).where(
            AuditEvent.entity_id == incident_id, AuditEvent.action == "incident.view")).all()


@pytest.mark.parametrize("who", ["nurse2", "manager_elm", "administrator"])
def test_named_staff_other_wards_and_admin_cannot_open_it(restricted, who):
    store, actors, _wards, restricted_id, _plain = restricted
    with pytest.raises((NotFound, PermissionDenied)):
        incidents.get_incident(store, actors[who], restricted_id)


def test_named_staff_never_sees_it_in_any_list_or_count(restricted):
    store, actors, wards, restricted_id, plain_id = restricted
    named = actors["nurse2"]
    assert restricted_id not in {r.incident_id for r in queue.list_queue(store, named, limit=500).rows}
    assert plain_id in {r.incident_id for r in queue.list_queue(store, named, limit=500).rows}
    assert restricted_id not in {i.incident_id for i in incidents.list_my_incidents(store, named)}


def test_other_nurses_do_not_see_it_in_the_queue(restricted):
    store, actors, _wards, restricted_id, _plain = restricted
    other = actors["nurse"].__class__(**{**actors["nurse"].__dict__, "user_id": "someone-else"})
    rows = queue.list_queue(store, other, limit=500).rows
    assert restricted_id not in {r.incident_id for r in rows}


def test_ward_manager_and_lead_see_it_and_each_view_is_audited(restricted):
    store, actors, wards, restricted_id, _plain = restricted
    for who in ("manager", "lead"):
        assert incidents.get_incident(store, actors[who], restricted_id).restricted
        rows = review.list_incidents(store, actors[who], IncidentQuery(restricted_only=True)).rows
        assert [r.incident_id for r in rows] == [restricted_id]
        assert restricted_id in {r.incident_id for r in queue.list_queue(store, actors[who], limit=500).rows}
    assert sorted(_views(store, restricted_id)) == [("lead", "incident.view"), ("manager", "incident.view")]


def test_lead_sees_who_opened_each_restricted_record_and_when(restricted):
    store, actors, _wards, restricted_id, plain_id = restricted
    incidents.get_incident(store, actors["manager"], restricted_id)
    incidents.get_incident(store, actors["manager"], plain_id)
    incidents.get_incident(store, actors["lead"], restricted_id)
    log = review.restricted_view_log(store, actors["lead"])
    assert [(r.username, r.incident_id) for r in log] == [("lead", restricted_id), ("manager", restricted_id)]
    assert all(r.at is not None and r.incident_reference for r in log)
    assert review.restricted_view_log(store, actors["lead"], incident_id=plain_id) == []
    for who in ("manager", "nurse", "administrator"):
        with pytest.raises(PermissionDenied):
            review.restricted_view_log(store, actors[who])


def test_dashboard_counts_leave_it_out_for_those_who_cannot_see_it(restricted):
    store, actors, wards, _restricted_id, _plain = restricted
    assert reports.dashboard(store, actors["manager"]).total == 2
    assert reports.dashboard(store, actors["lead"], ward_id=wards["Oak Ward"]).total == 2
    with pytest.raises(PermissionDenied):
        reports.dashboard(store, actors["nurse"])


def test_sql_visibility_matches_can_view_for_every_account(restricted):
    store, actors, _wards, _r, _p = restricted
    with unit_of_work(store, write=False) as session:
        rows = session.scalars(select(Incident)).all()
        for actor in actors.values():
            via_sql = set(session.scalars(select(Incident.id).where(
                visible_incidents(session, actor, ward_only=False))))
            via_python = {inc.id for inc in rows if incidents.can_view(actor, inc, incidents.named_users(
                session, inc.id))}
            assert via_sql == via_python, actor.username


def test_queue_filters_do_not_leak_restricted_actions(restricted):
    store, actors, wards, restricted_id, _plain = restricted
    for query in (QueueQuery(), QueueQuery(ward_id=wards["Oak Ward"]), QueueQuery(due="overdue"),
                  QueueQuery(sort="type")):
        ids = {r.incident_id for r in queue.list_queue(store, actors["nurse2"], query, limit=500).rows}
        assert restricted_id not in ids
