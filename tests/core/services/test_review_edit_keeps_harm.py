"""A review edit never changes the harm grading (the edit dialog says so: Confirm harm does that). Before, an edit
of the wording after a manager had confirmed the grading put the reporter's grading back, silently, and raised
the harm check again. Real encrypted store, synthetic data only."""

from __future__ import annotations

from dataclasses import replace

from core.services import incidents
from tests.core.manager_helpers import report


def test_an_edit_keeps_the_confirmed_grading_and_the_check_stays_cleared(fresh):
    manager, oak = fresh.actors["manager"], fresh.wards["Oak Ward"]
    sent = report(fresh.store, fresh.actors["nurse"], oak, types=("SS-SA",), flags=("physical_contact",))
    assert sent.harm_confirmation_needed and (sent.harm_physical, sent.harm_psychological) == ("none", "low")
    confirmed = incidents.confirm_harm(fresh.store, manager, sent.incident_id, "low", "severe", "Spoke with her.")
    edited = incidents.update_incident(fresh.store, manager, sent.incident_id,
                                       replace(confirmed.draft, description="Synthetic: clearer wording."),
                                       reason="Clearer wording", seen_version=confirmed.version)
    assert (edited.harm_physical, edited.harm_psychological, edited.pd09) == ("low", "severe", confirmed.pd09)
    assert not edited.harm_confirmation_needed
    assert edited.draft.description == "Synthetic: clearer wording."


def test_an_edit_that_makes_the_harm_check_due_raises_it(fresh):
    manager, oak = fresh.actors["manager"], fresh.wards["Oak Ward"]
    sent = report(fresh.store, fresh.actors["nurse"], oak, types=("SS-HAR-V",))
    assert not sent.harm_confirmation_needed
    edited = incidents.update_incident(fresh.store, manager, sent.incident_id,
                                       replace(sent.draft, types=("SS-HAR-V", "SS-SA"), flags=("physical_contact",)),
                                       reason="It was an assault too")
    assert edited.harm_confirmation_needed  # an assault graded no or low harm: a manager must confirm it
    assert (edited.harm_physical, edited.harm_psychological) == (sent.harm_physical, sent.harm_psychological)
