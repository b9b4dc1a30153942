"""The incident lifecycle through core services on a real store: draft, submit (rules create actions),
review, harm confirmation, close (blocked by open mandatory actions), reopen, versions, restriction."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import PermissionDenied, ValidationError
from core.services import accounts, incidents
from tests.core.helpers_common import draft


@pytest.fixture
def people(fresh, password):
    nurse_store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(nurse_store)
    return fresh, nurse_store, nurse, fresh.actors["manager"]


def test_draft_submit_review_close_reopen(people):
    fresh, store, nurse, manager = people
    detail = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"]))
    assert detail.status == "draft" and detail.reference.startswith("LAN-") and not detail.actions
    second = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"]))
    assert second.reference > detail.reference
    submitted = incidents.submit(store, nurse, detail.incident_id)
    assert submitted.status == "submitted" and submitted.actions
    assert all(a.status == "open" and a.due_at >= submitted.reported_at.replace(microsecond=0)
               for a in submitted.actions if a.due_at)
    with pytest.raises(ValidationError):
        incidents.submit(store, nurse, detail.incident_id)
    reviewed = incidents.start_review(store, manager, detail.incident_id)
    assert reviewed.status == "in_review"
    mandatory = [a for a in reviewed.actions if a.mandatory]
    if mandatory:
        with pytest.raises(ValidationError, match="mandatory"):
            incidents.close_incident(store, manager, detail.incident_id)
    for action in reviewed.actions:
        incidents.complete_action(store, nurse, action.action_id, note="Done (synthetic).")
    closed = incidents.close_incident(store, manager, detail.incident_id)
    assert closed.status == "closed" and closed.closed_at
    with pytest.raises(ValidationError):
        incidents.complete_action(store, nurse, reviewed.actions[0].action_id)
    with pytest.raises(ValidationError):
        incidents.reopen_incident(store, manager, detail.incident_id, "  ")
    reopened = incidents.reopen_incident(store, manager, detail.incident_id, "New information (synthetic).")
    assert reopened.status == "in_review" and reopened.version == closed.version + 1
    versions = incidents.list_versions(store, manager, detail.incident_id)
    assert [v.reason for v in versions][-1] == "New information (synthetic)."


def test_submit_requires_the_minimum_fields(people):
    fresh, store, nurse, _ = people
    empty = replace(draft(fresh.wards["Oak Ward"]), types=(), people=(), description="", location=None,
                    occurred_at=None)
    detail = incidents.create_draft(store, nurse, empty)  # a draft may be empty
    with pytest.raises(ValidationError) as err:
        incidents.submit(store, nurse, detail.incident_id)
    for name in ("types", "occurred_at", "location", "people", "description"):
        assert name in err.value.field_errors


def test_invalid_values_refused_even_for_drafts(people):
    fresh, store, nurse, _ = people
    with pytest.raises(ValidationError):
        incidents.create_draft(store, nurse, replace(draft(fresh.wards["Oak Ward"]), types=("NOT-A-TYPE",)))
    with pytest.raises(ValidationError):
        incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"], local_ref="x" * 41))


def test_edit_after_submission_needs_review_role_and_reason_and_keeps_version(people):
    fresh, store, nurse, manager = people
    detail = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"], description="First text."))
    incidents.update_incident(store, nurse, detail.incident_id, draft(fresh.wards["Oak Ward"], description="Edited."))
    incidents.submit(store, nurse, detail.incident_id)
    with pytest.raises(PermissionDenied):
        incidents.update_incident(store, nurse, detail.incident_id, draft(fresh.wards["Oak Ward"]), reason="x")
    with pytest.raises(ValidationError):
        incidents.update_incident(store, manager, detail.incident_id, draft(fresh.wards["Oak Ward"]))
    updated = incidents.update_incident(store, manager, detail.incident_id,
                                        draft(fresh.wards["Oak Ward"], description="Corrected."), reason="Typo.")
    assert updated.draft.description == "Corrected."
    versions = incidents.list_versions(store, manager, detail.incident_id)
    assert versions[-1].snapshot["description"] == "Edited." and versions[-1].reason == "Typo."


def test_low_harm_assault_needs_confirmation_before_closing(people):
    fresh, store, nurse, manager = people
    d = draft(fresh.wards["Oak Ward"], types=("SS-SA",), flags=("physical_contact",), harm=("none", "low"))
    detail = incidents.submit(store, nurse, incidents.create_draft(store, nurse, d).incident_id)
    assert detail.harm_confirmation_needed
    for action in detail.actions:
        incidents.mark_action_not_applicable(store, manager, action.action_id, "Synthetic: does not apply.")
    with pytest.raises(ValidationError, match="harm"):
        incidents.close_incident(store, manager, detail.incident_id)
    confirmed = incidents.confirm_harm(store, manager, detail.incident_id, "none", "moderate")
    assert not confirmed.harm_confirmation_needed and confirmed.harm_psychological == "moderate"
    assert incidents.close_incident(store, manager, detail.incident_id).status == "closed"


def test_staff_perpetrator_makes_incident_restricted_and_reporter_can_submit(people):
    fresh, store, nurse, _ = people
    d = draft(fresh.wards["Oak Ward"], perpetrator_type="staff", linked_user_id=fresh.actors["nurse2"].user_id)
    detail = incidents.create_draft(store, nurse, d)
    assert detail.restricted
    assert incidents.submit(store, nurse, detail.incident_id).status == "submitted"
    mine = incidents.list_my_incidents(store, nurse)
    assert [m.incident_id for m in mine] == [detail.incident_id] and mine[0].restricted
    patient = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"]))
    assert not patient.restricted


def test_not_applicable_needs_a_reason(people):
    fresh, store, nurse, manager = people
    detail = incidents.submit(store, nurse, incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"]))
                              .incident_id)
    with pytest.raises(ValidationError):
        incidents.mark_action_not_applicable(store, manager, detail.actions[0].action_id, "  ")
    done = incidents.complete_action(store, nurse, detail.actions[0].action_id, note="Synthetic: what was done.")
    assert done.status == "done"
    with pytest.raises(ValidationError, match="already finished"):
        incidents.complete_action(store, nurse, detail.actions[0].action_id)
