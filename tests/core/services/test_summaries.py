"""The incident row's summary columns (type codes, police referral; migration 0006) always match its child rows.

The dashboard counts from these columns, so a stale one would miscount silently. Every path that writes types,
people or actions is exercised here: the services (as a property test), the demo generator, the migration's
backfill, and the store check that would catch any drift.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from core.db import migrate
from core.db.engine import writer
from core.db.models import Incident, IncidentType, PersonInvolved
from core.db.queries.incidents import TOO_MANY_PEOPLE
from core.db.store import unit_of_work
from core.demo.seed import add_synthetic_incidents
from core.errors import ValidationError
from core.services import closure, incidents, maintenance, reports
from tests.core.manager_helpers import draft, report
from tests.core.services.test_lifecycle_properties import drafts, shared_store  # noqa: F401  (the module's store fixture)


def stale(store) -> int:
    with unit_of_work(store, write=False) as session:
        return incidents.stale_summaries(session)


def summary(store, incident_id: str) -> tuple[str, bool]:
    with unit_of_work(store, write=False) as session:
        inc = session.get(Incident, incident_id)
        return inc.type_codes, inc.police_referred


def truth(store, actor) -> tuple[Counter, int]:
    """By-type counts and police referrals of every reported incident, read from the child rows alone."""
    with unit_of_work(store, write=False) as session:
        types = Counter(dict(session.execute(
            select(IncidentType.code, func.count()).join(Incident, Incident.id == IncidentType.incident_id)
            .where(Incident.status != "draft").group_by(IncidentType.code)).all()))
        referred = session.scalar(select(func.count()).select_from(Incident).where(
            Incident.status != "draft", incidents.police_referred_clause()))
    return types, referred


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_service_path_keeps_the_summaries(shared_store, data):  # noqa: F811
    store, nurse, manager, ward = shared_store
    first, second = data.draw(drafts(ward)), data.draw(drafts(ward))
    created = incidents.create_draft(store, nurse, first)
    assert summary(store, created.incident_id)[0] == " ".join(sorted(set(first.types)))
    incidents.update_incident(store, nurse, created.incident_id, second)
    submitted = incidents.submit(store, nurse, created.incident_id)
    for action in submitted.actions:
        choice = data.draw(st.sampled_from(["leave", "done", "done with reference", "not applicable"]))
        if choice == "done":  # a rule that asks for a reference (e.g. police-report-now) gets one
            reference = "CR-0002" if closure.reference_required(action.rule_id) else ""
            incidents.complete_action(store, manager, action.action_id, "Synthetic note.", reference)
        elif choice == "done with reference":
            incidents.complete_action(store, manager, action.action_id, "Synthetic note.", "CR-0001")
        elif choice == "not applicable":
            incidents.mark_action_not_applicable(store, manager, action.action_id, "Synthetic reason.")
    if data.draw(st.booleans()):
        incidents.update_incident(store, manager, created.incident_id, data.draw(drafts(ward)), reason="Corrected.")
    assert stale(store) == 0


def test_police_referral_follows_wishes_and_police_actions(make_store):
    store, actors, _recovery, wards = make_store()
    oak, nurse, manager = wards["Oak Ward"], actors["nurse"], actors["manager"]
    wanted = report(store, nurse, oak, types=("SS-SA",), police_wishes="yes", flags=("physical_contact",))
    assert summary(store, wanted.incident_id) == ("SS-SA", True)
    undecided = report(store, nurse, oak, types=("SS-SA", "SS-EXP-S"), police_wishes="undecided",
                       flags=("physical_contact",))
    assert summary(store, undecided.incident_id) == ("SS-EXP-S SS-SA", False)
    police = next(a for a in undecided.actions if a.rule_id == "police-decision-record")
    incidents.complete_action(store, manager, police.action_id, "Discussed; no report made.")
    assert summary(store, undecided.incident_id)[1] is False
    staff = report(store, nurse, oak, perpetrator="staff")
    assert summary(store, staff.incident_id)[1] is False
    informed = next(a for a in staff.actions if a.rule_id == incidents.POLICE_ALWAYS_RULE)
    incidents.complete_action(store, manager, informed.action_id, "Police told by phone.")
    assert summary(store, staff.incident_id)[1] is True
    # An edit that drops the wish to tell the police takes the referral away again.
    incidents.update_incident(store, manager, wanted.incident_id, draft(oak, types=("SS-SA",), police_wishes="no",
                                                                        flags=("physical_contact",)),
                              reason="The person changed their mind.")
    assert summary(store, wanted.incident_id) == ("SS-SA", False)
    assert stale(store) == 0


def test_demo_generator_writes_true_summaries_and_the_dashboard_matches_the_child_rows(make_store):
    store, actors, _recovery, _wards = make_store()
    add_synthetic_incidents(store, actors["administrator"], 300, seed=11)
    assert stale(store) == 0
    lead = actors["lead"]
    board = reports.dashboard(store, lead, date_from=incidents.utcnow().date() - timedelta(days=400))
    types, referred = truth(store, lead)
    assert {b.code: b.count for b in board.by_type} == {code: n for code, n in types.items() if n}
    assert board.police_referred == referred > 0


def test_migration_0006_backfills_the_summaries_of_existing_records(make_store):
    store, actors, _recovery, wards = make_store()
    oak, nurse, manager = wards["Oak Ward"], actors["nurse"], actors["manager"]
    report(store, nurse, oak, types=("SS-SA", "SS-HAR-V"), police_wishes="yes", flags=("physical_contact",))
    staff = report(store, nurse, oak, perpetrator="staff")
    informed = next(a for a in staff.actions if a.rule_id == incidents.POLICE_ALWAYS_RULE)
    incidents.complete_action(store, manager, informed.action_id, "Police told by phone.")
    crime = report(store, nurse, oak, types=("SS-SA",), police_wishes="undecided", flags=("physical_contact",))
    police = next(a for a in crime.actions if a.rule_id == "police-decision-record")
    incidents.complete_action(store, manager, police.action_id, "Reported to the police.", "CR-0002")
    report(store, nurse, oak, types=("SS-EXP-S",))
    moment = incidents.utcnow()  # one moment for both figures: actions due now tip overdue as the clock runs
    before = reports.dashboard(store, manager, now=moment)
    assert before.police_referred == 3

    cfg = migrate._config()
    with writer(store.engine).begin() as conn:  # back to 0005: the columns are gone
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert migrate.current_revision(store.engine) == "0005"
    migrate.upgrade(store.engine)  # and forward again: the backfill fills them in from the child rows

    assert stale(store) == 0
    assert reports.dashboard(store, manager, now=moment) == before


@pytest.mark.sqlcipher_only("lantern check reads the embedded store's file; a server is checked by lantern server check (tests/pg/test_pg_check.py)")
def test_the_store_check_reports_a_stale_summary(make_store):
    store, actors, _recovery, wards = make_store()
    made = report(store, actors["nurse"], wards["Oak Ward"], police_wishes="yes")
    with unit_of_work(store) as session:
        session.execute(update(Incident).where(Incident.id == made.incident_id).values(police_referred=False))
        session.commit()
    results = {r.name: r for r in maintenance.check_store(store, actors["administrator"])}
    assert not results["dashboard_summaries"].ok
    assert results["dashboard_summaries"].detail == "1 incident(s) would be miscounted on the dashboard"
    assert all(r.ok for name, r in results.items() if name != "dashboard_summaries")


def test_harm_confirmation_pending_counts_incidents_not_breakdown_rows(make_store):
    store, actors, _recovery, wards = make_store()
    for _ in range(3):  # three identical incidents fall in one breakdown row
        report(store, actors["nurse"], wards["Oak Ward"], types=("SS-SA",), harm=("none", "none"),
               flags=("physical_contact",))
    board = reports.dashboard(store, actors["manager"])
    assert board.total == 3
    assert board.harm_confirmation_pending == 3


def _repeats_from_people(store) -> list[tuple]:
    """Repeat people of every reported incident, counted from the people rows alone, most incidents first."""
    with unit_of_work(store, write=False) as session:
        found: dict[tuple, set] = {}
        for ref, role, kind, incident_id in session.execute(
                select(PersonInvolved.local_ref, PersonInvolved.role, PersonInvolved.person_type, Incident.id)
                .join(Incident, Incident.id == PersonInvolved.incident_id)
                .where(Incident.status != "draft", PersonInvolved.local_ref != "")):
            found.setdefault((ref, role, kind), set()).add(incident_id)
    return sorted(((*key, len(ids)) for key, ids in found.items() if len(ids) > 1),
                  key=lambda r: (-r[3], r[0], r[1], r[2]))


def test_repeat_people_come_from_the_summary_as_from_the_people_rows(make_store):
    """Migration 0024: the dashboard counts repeat people from each incident's `people_refs`; the list is what the
    people rows say, with an incident of too many people to summarise (read from its people) and the same person
    twice in one incident (counted once) among them."""
    store, actors, _recovery, wards = make_store()
    oak, nurse = wards["Oak Ward"], actors["nurse"]
    report(store, nurse, oak, local_ref="P-001")
    report(store, nurse, oak, local_ref="P-001")
    report(store, nurse, oak, local_ref="Q-7")
    crowd = draft(oak, local_ref="P-001")
    many = tuple(replace(crowd.people[1], local_ref=f"W-{n:02d}-{'x' * 30}", role="witness", linked_user_id=None)
                 for n in range(30))
    twice = replace(crowd.people[0])  # A-100 affected twice in one incident: one incident for A-100
    crowd = replace(crowd, people=(*crowd.people, twice, *many))
    created = incidents.create_draft(store, nurse, crowd)
    incidents.submit(store, nurse, created.incident_id)
    with unit_of_work(store, write=False) as session:
        assert session.get(Incident, created.incident_id).people_refs == TOO_MANY_PEOPLE
    assert stale(store) == 0
    board = reports.dashboard(store, actors["manager"])
    got = [(p.local_ref, p.role, p.person_type, p.incidents) for p in board.repeat_people]
    assert got == _repeats_from_people(store)
    assert got[:2] == [("A-100", "affected", "patient", 4), ("P-001", "alleged_perpetrator", "patient", 3)]


def test_a_reference_with_a_control_character_is_refused(make_store):
    store, actors, _recovery, wards = make_store()
    with pytest.raises(ValidationError, match="control character"):
        incidents.create_draft(store, actors["nurse"], draft(wards["Oak Ward"], local_ref="P\t001"))


def test_a_people_summary_that_disagrees_with_the_people_rows_is_found(make_store):
    store, actors, _recovery, wards = make_store()
    oak, nurse = wards["Oak Ward"], actors["nurse"]
    made = report(store, nurse, oak, local_ref="P-001")
    report(store, nurse, oak, local_ref="P-002")
    assert stale(store) == 0
    with unit_of_work(store) as session:  # as a writer that forgot the summary would leave it
        session.execute(update(Incident).where(Incident.id == made.incident_id).values(people_refs=""))
        session.commit()
    assert stale(store) == 1
