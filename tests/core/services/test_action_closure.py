"""Safeguarding actions cannot be closed blank (issue 12 part H), enforced by core on a real encrypted store:
a note of what was done, a reference where the rule asks for one, not applicable only by a manager or the lead
with a reason, and reopening with a reason. Each refusal names the field and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import utcnow
from core.db.models import AuditEvent, SafeguardingAction
from core.db.store import unit_of_work
from core.errors import NotFound, PermissionDenied, ValidationError
from core.services import closure, incidents, queue
from tests.core.manager_helpers import report

TRUST_RULE = '''version = 1

[[rules]]
id = "police-report-now-trust"
title = "Report to the police now"
guidance = "Synthetic trust rule for the test: telling the police gives a crime reference."
why = "Synthetic."
deadline = { kind = "immediate" }
owner_role = "nurse"
owner_label = "Nurse in charge"
mandatory = true
requires_reference = true
source = "Synthetic test rule."
[rules.when]
always = true
'''


@pytest.fixture
def env(make_store):
    store, actors, _recovery, wards = make_store()
    detail = report(store, actors["nurse"], wards["Oak Ward"], types=("SS-SA",), flags=("physical_contact",))
    return store, actors, wards, detail


def stored(store, action_id):
    with unit_of_work(store, write=False) as session:
        a = session.get(SafeguardingAction, action_id)
        return a.status, a.note, a.reference, a.completed_by


def audit_count(store, event):
    with unit_of_work(store, write=False) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == event))


def mandatory_action(detail, rule_id="safety-separate"):
    return next(a for a in detail.actions if a.rule_id == rule_id and a.mandatory)


@pytest.mark.parametrize("note", ["", "   ", "Done.", "Done it.", "Separated", "  x  y  "])
def test_a_mandatory_action_is_never_completed_without_a_sentence_of_what_was_done(env, note):
    store, actors, _wards, detail = env
    action = mandatory_action(detail)
    with pytest.raises(ValidationError) as err:
        incidents.complete_action(store, actors["manager"], action.action_id, note)
    assert set(err.value.field_errors) == {"note"}
    assert err.value.field_errors["note"].startswith("What was done:")
    assert stored(store, action.action_id) == ("open", "", "", None)
    assert audit_count(store, "action.complete") == 0


def test_a_sentence_completes_it_and_an_optional_action_needs_no_note(env):
    store, actors, _wards, detail = env
    action = mandatory_action(detail)
    done = incidents.complete_action(store, actors["nurse"], action.action_id, "  Patients separated.  ")
    assert done.status == "done" and stored(store, action.action_id)[1] == "Patients separated."
    optional = queue.add_action(store, actors["manager"], detail.incident_id, title="Offer a chaplain visit",
                                owner_role="nurse", due_at=utcnow() + timedelta(days=1), mandatory=False)
    assert incidents.complete_action(store, actors["nurse"], optional.action_id).status == "done"
    assert closure.is_sentence("Police told.") and not closure.is_sentence("Police-told")


def test_a_reference_is_needed_where_the_rule_says_so(env, tmp_path, monkeypatch):
    store, actors, wards, _detail = env
    override = tmp_path / "rules-local.toml"
    override.write_text(TRUST_RULE, encoding="utf-8")
    monkeypatch.setenv("LANTERN_RULES_OVERRIDE", str(override))
    detail = report(store, actors["nurse"], wards["Oak Ward"])
    action = next(a for a in detail.actions if a.rule_id == "police-report-now-trust")
    assert closure.reference_required(action.rule_id)
    assert not closure.reference_required("safety-separate") and not closure.reference_required(None)
    with pytest.raises(ValidationError) as err:
        incidents.complete_action(store, actors["nurse"], action.action_id, "Police told by phone.", "  ")
    assert set(err.value.field_errors) == {"reference"}
    assert "Crime reference" in err.value.field_errors["reference"]
    with pytest.raises(ValidationError) as err:
        incidents.complete_action(store, actors["nurse"], action.action_id, "", "")
    assert set(err.value.field_errors) == {"note", "reference"}
    assert stored(store, action.action_id)[0] == "open"
    done = incidents.complete_action(store, actors["nurse"], action.action_id, "Police told by phone.", "CR/26/7")
    assert (done.status, done.reference) == ("done", "CR/26/7")


def test_not_applicable_needs_a_manager_or_the_lead_and_a_reason(env):
    store, actors, _wards, detail = env
    action = mandatory_action(detail)
    with pytest.raises(PermissionDenied):
        incidents.mark_action_not_applicable(store, actors["nurse"], action.action_id, "Not needed here at all.")
    with pytest.raises(NotFound):  # another ward's manager cannot see it at all
        incidents.mark_action_not_applicable(store, actors["manager_elm"], action.action_id, "Not needed here.")
    for reason in ("", "N/A", "duplicate"):
        with pytest.raises(ValidationError) as err:
            incidents.mark_action_not_applicable(store, actors["manager"], action.action_id, reason)
        assert set(err.value.field_errors) == {"reason"} and err.value.field_errors["reason"].startswith("Reason:")
    assert stored(store, action.action_id)[0] == "open" and audit_count(store, "action.not_applicable") == 0
    info = incidents.mark_action_not_applicable(store, actors["lead"], action.action_id,
                                                "Already separated by the day team.")
    assert info.status == "not_applicable" and audit_count(store, "action.not_applicable") == 1


def test_a_finished_action_is_reopened_by_a_manager_with_a_reason_and_the_old_note_is_kept(env):
    store, actors, _wards, detail = env
    action = mandatory_action(detail)
    incidents.complete_action(store, actors["nurse"], action.action_id, "Patients separated on the ward.")
    with pytest.raises(PermissionDenied):
        queue.reopen_action(store, actors["nurse"], action.action_id, "The nurse wants to redo it.")
    with pytest.raises(NotFound):
        queue.reopen_action(store, actors["manager_elm"], action.action_id, "Another ward's manager tries.")
    with pytest.raises(ValidationError) as err:
        queue.reopen_action(store, actors["manager"], action.action_id, "oops")
    assert set(err.value.field_errors) == {"reason"}
    assert stored(store, action.action_id)[0] == "done"

    info = queue.reopen_action(store, actors["manager"], action.action_id, "The patients met again at lunch.")
    assert (info.status, info.note, info.reference, info.completed_at) == ("open", "", "", None)
    assert action.action_id in {r.action_id for r in queue.list_queue(store, actors["manager"], limit=500).rows}
    versions = incidents.list_versions(store, actors["manager"], detail.incident_id)
    kept = versions[-1]
    assert kept.reason == "Action reopened: The patients met again at lunch."
    assert kept.snapshot["reopened_action"]["note"] == "Patients separated on the ward."
    assert kept.snapshot["reopened_action"]["status"] == "done"
    with unit_of_work(store, write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "action.reopen")).one()
    assert event.entity_id == str(action.action_id) and event.user_id == actors["manager"].user_id
    assert "lunch" not in (event.detail or "")  # codes and ids only in the audit trail
    with pytest.raises(ValidationError):  # it is open now
        queue.reopen_action(store, actors["manager"], action.action_id, "Reopen it a second time.")
    # Not applicable can be reopened too, by the lead
    incidents.mark_action_not_applicable(store, actors["manager"], action.action_id, "Handled by the police now.")
    assert queue.reopen_action(store, actors["lead"], action.action_id, "The police asked us to do it.").status \
        == "open"


def test_actions_of_a_closed_incident_are_not_reopened(env):
    store, actors, _wards, detail = env
    lead = actors["lead"]
    for action in detail.actions:
        incidents.mark_action_not_applicable(store, lead, action.action_id, "Synthetic test: not applicable.")
    incidents.confirm_harm(store, lead, detail.incident_id, "low", "moderate")
    incidents.close_incident(store, lead, detail.incident_id)
    with pytest.raises(ValidationError) as err:
        queue.reopen_action(store, lead, detail.actions[0].action_id, "New information from the police.")
    assert "Reopen the incident first" in str(err.value)
