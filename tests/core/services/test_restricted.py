"""Restricted records: a staff allegation is seen by the lead and the ward's managers only, never by the named
staff account or other nurses; every view is audited; the lead sees who opened each restricted record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from core.clock import utcnow
from core.db.models import AuditEvent, Incident
from core.db.store import unit_of_work
from core.dto import Actor
from core.errors import NotFound, PermissionDenied
from core.services import incidents, queue, reports, review
from core.services.queue import QueueQuery
from core.services.review import IncidentQuery
from core.services.visibility import visible_incidents
from tests.core.manager_helpers import draft as mh_draft
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


def test_queue_filters_do_not_leak_restricted_actions(restricted):
    store, actors, wards, restricted_id, _plain = restricted
    for query in (QueueQuery(), QueueQuery(ward_id=wards["Oak Ward"]), QueueQuery(due="overdue"),
                  QueueQuery(sort="type")):
        ids = {r.incident_id for r in queue.list_queue(store, actors["nurse2"], query, limit=500).rows}
        assert restricted_id not in ids


# ----- one restriction rule (issue 12 part C) -------------------------------------------------------------

def test_a_staff_allegation_type_restricts_even_with_a_patient_perpetrator(make_store):
    """Issue 12 defect 4: SS-STAFF with the perpetrator recorded as a patient was not restricted, and any nurse
    on the ward could open it while the prompt said "Lantern restricts this"."""
    store, actors, _recovery, wards = make_store()
    detail = report(store, actors["nurse"], wards["Oak Ward"], types=("SS-STAFF",), perpetrator="patient")
    assert detail.restricted
    rid = detail.incident_id
    nurse2 = actors["nurse2"]  # a nurse on the same ward, not the reporter
    with pytest.raises(NotFound):
        incidents.get_incident(store, nurse2, rid)
    assert rid not in {r.incident_id for r in queue.list_queue(store, nurse2, limit=500).rows}
    assert rid not in {i.incident_id for i in incidents.list_my_incidents(store, nurse2)}
    later = utcnow() + timedelta(days=60)
    assert queue.overdue_count(store, nurse2, now=later) == 0
    for who in ("manager", "lead", "nurse"):  # the ward's manager, the lead, and the reporter
        assert incidents.get_incident(store, actors[who], rid).restricted


@pytest.mark.parametrize("kind", ["staff", "bank_or_agency", "contractor", "volunteer"])
def test_every_kind_of_staff_perpetrator_restricts(make_store, kind):
    store, actors, _recovery, wards = make_store()
    detail = report(store, actors["nurse"], wards["Oak Ward"], perpetrator=kind)
    assert detail.restricted
    with pytest.raises(NotFound):
        incidents.get_incident(store, actors["nurse2"], detail.incident_id)
    assert not report(store, actors["nurse"], wards["Oak Ward"], perpetrator="visitor").restricted


def test_the_taxonomy_says_which_person_types_are_staff():
    from core.taxonomy import STAFF_PERSON_TYPES, load_taxonomy

    codes = set(load_taxonomy().codes("person_types"))
    assert STAFF_PERSON_TYPES <= codes  # the form offers every kind of staff
    # Any new person type must be placed on one side or the other of the restriction rule.
    assert codes - STAFF_PERSON_TYPES == {"patient", "visitor", "other", "unknown"}


def test_migration_0008_restricts_records_written_under_the_old_rule(make_store):
    import importlib.util

    from core.db import migrations

    store, actors, _recovery, wards = make_store()
    old = [report(store, actors["nurse"], wards["Oak Ward"], types=("SS-STAFF",), perpetrator="patient"),
           report(store, actors["nurse"], wards["Oak Ward"], perpetrator="bank_or_agency")]
    plain = report(store, actors["nurse"], wards["Oak Ward"])
    with unit_of_work(store) as session:  # as the old rule left them
        session.execute(update(Incident).values(restricted=False))
        session.commit()
    assert incidents.get_incident(store, actors["nurse2"], old[0].incident_id)  # readable: the defect
    path = Path(migrations.__file__).parent / "versions" / "0008_one_restriction_rule.py"
    spec = importlib.util.spec_from_file_location("m0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with unit_of_work(store) as session:
        session.execute(text(module.RESTRICT))
        session.commit()
        flags = dict(session.execute(select(Incident.id, Incident.restricted)).all())
    assert flags == {old[0].incident_id: True, old[1].incident_id: True, plain.incident_id: False}
    with pytest.raises(NotFound):
        incidents.get_incident(store, actors["nurse2"], old[0].incident_id)


# ----- single reads and lists agree, for any actor (hypothesis) ----------------------------------------------

def _oracle(actor, inc, named) -> bool:
    """The rule in plain words (docs/security-model.md), written independently of the SQL predicate."""
    if actor.role not in ("nurse", "ward_manager", "safeguarding_lead") or actor.user_id in named:
        return False
    mine = inc.reporter_id == actor.user_id
    if inc.status == "draft":
        return mine
    on_ward = actor.role == "safeguarding_lead" or inc.ward_id in actor.ward_ids
    if inc.restricted:
        return mine or (on_ward and actor.role in ("ward_manager", "safeguarding_lead"))
    return mine or on_ward


@pytest.fixture(scope="module")
def mixed_store(module_store):
    """Incidents of every shape the rule cares about: wards, restricted or not, drafts, named staff (on each
    engine)."""
    store, actors, _recovery, wards = module_store
    for ward in ("Oak Ward", "Elm Ward"):
        reporter = actors["nurse"] if ward == "Oak Ward" else actors["lead"]
        report(store, reporter, wards[ward])
        report(store, reporter, wards[ward], types=("SS-STAFF",))
        report(store, reporter, wards[ward], perpetrator="volunteer", linked_user_id=None)
        report(store, reporter, wards[ward], perpetrator="staff", linked_user_id=actors["nurse2"].user_id)
        incidents.create_draft(store, reporter, mh_draft(wards[ward]))
    return store, actors, wards


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from(["nurse", "ward_manager", "safeguarding_lead", "administrator"]),
       who=st.sampled_from(["nurse", "nurse2", "manager", "lead", "manager_elm", "admin", "stranger"]),
       ward_pick=st.sets(st.sampled_from(["Oak Ward", "Elm Ward"])))
def test_single_reads_and_lists_agree_for_any_actor(mixed_store, engine, role, who, ward_pick):
    """The predicate agrees with the rule in plain words for any actor, even one no account is (a made-up role or
    wards). On a server the test reads as the database owner, so this is the app's predicate as PostgreSQL runs
    it; row-level security under each real account is the every-read-path test's (test_visibility_paths.py)."""
    store, actors, wards = mixed_store
    user_id = actors[who].user_id if who in actors else "stranger-id"
    actor = Actor(user_id, who, role, tuple(sorted(wards[w] for w in ward_pick)), "test-pc")
    with unit_of_work(store, write=False) as session:
        rows = session.scalars(select(Incident)).all()
        listed = set(session.scalars(select(Incident.id).where(visible_incidents(session, actor, ward_only=False))))
        single = {inc.id for inc in rows if _loads(session, actor, inc.id)}
        expected = {inc.id for inc in rows if _oracle(actor, inc, incidents.named_users(session, inc.id))}
    assert listed == single == expected
    # The review list is a service call: on a server it runs on the account's own login, whose group role the
    # database checks (a made-up role is refused there, and a stranger has no login).
    as_account = engine == "sqlcipher" or (who in actors and actors[who].role == role)
    if role in ("ward_manager", "safeguarding_lead") and as_account:
        reviewed = {r.incident_id for r in review.list_incidents(store, actor, IncidentQuery(status=None),
                                                                 limit=500).rows}
        assert reviewed <= single


def _loads(session, actor, incident_id) -> bool:
    try:
        incidents.load_visible(session, actor, incident_id)
    except NotFound:
        return False
    return True
