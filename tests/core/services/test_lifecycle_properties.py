"""Property tests for the incident lifecycle on one real encrypted store (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import utcnow
from core.dto import IncidentDraft, PersonDraft
from core.errors import ValidationError
from core.services import incidents
from core.taxonomy import load_taxonomy

TAX = load_taxonomy()
PERSON_TYPES = list(TAX.codes("person_types"))
HARM_P, HARM_Y = list(TAX.codes("harm_physical")), list(TAX.codes("harm_psychological"))


@st.composite
def drafts(draw, ward_id: int):
    affected = [PersonDraft("affected", draw(st.sampled_from(PERSON_TYPES)), f"PT-{i}",
                            harm_physical=draw(st.sampled_from(HARM_P)), harm_psychological=draw(st.sampled_from(HARM_Y)),
                            age_years=draw(st.none() | st.integers(0, 100)), detained=draw(st.none() | st.booleans()),
                            capacity_concern=draw(st.none() | st.booleans()),
                            police_wishes=draw(st.none() | st.sampled_from(list(TAX.codes("police_wishes")))))
                for i in range(draw(st.integers(1, 2)))]
    perpetrators = [PersonDraft("alleged_perpetrator", draw(st.sampled_from(PERSON_TYPES)), f"AP-{i}")
                    for i in range(draw(st.integers(1, 2)))]
    return IncidentDraft(
        ward_id=ward_id, types=tuple(draw(st.sets(st.sampled_from(list(TAX.type_codes)), min_size=1, max_size=3))),
        occurred_at=utcnow() - timedelta(minutes=draw(st.integers(1, 60 * 24 * 20))),
        location=draw(st.sampled_from(list(TAX.codes("locations")))), people=tuple(affected + perpetrators),
        flags=tuple(draw(st.sets(st.sampled_from(list(TAX.codes("context_flags")))))),
        description="Synthetic property-test incident.")


@pytest.fixture(scope="module")
def shared_store(module_store):
    """One store for the module's examples, on the module's engine: (store, Oak Ward's nurse, its manager, its id)."""
    store, actors, _recovery, wards = module_store
    return store, actors["nurse"], actors["manager"], wards["Oak Ward"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_submitted_incidents_keep_the_lifecycle_promises(shared_store, data):
    store, nurse, manager, ward = shared_store
    draft = data.draw(drafts(ward))
    created = incidents.create_draft(store, nurse, draft)
    submitted = incidents.submit(store, nurse, created.incident_id)

    assert submitted.actions, "every submitted incident gets at least one action"
    assert all(a.due_at >= draft.occurred_at - timedelta(seconds=1) for a in submitted.actions)
    staff_kinds = {"staff", "bank_or_agency", "contractor", "volunteer"}
    staff_alleged = "SS-STAFF" in draft.types or any(p.role == "alleged_perpetrator" and p.person_type in staff_kinds
                                                     for p in draft.people)
    assert submitted.restricted == staff_alleged

    open_mandatory = [a for a in submitted.actions if a.mandatory and a.status == "open"]
    assert open_mandatory
    with pytest.raises(ValidationError):
        incidents.close_incident(store, manager, created.incident_id)
