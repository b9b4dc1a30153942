"""Autosaved forms (core): save, restore, discard, audited once per form, dropped after submit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import now_db
from core.db.models import AuditEvent, FormDraft
from core.db.store import unit_of_work
from core.dto import FormState, IncidentDraft, PersonDraft
from core.services import accounts, drafts, incidents


def audit_actions(store) -> list[str]:
    with unit_of_work(store, write=False) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def full_draft(ward_id: int) -> IncidentDraft:
    return IncidentDraft(
        ward_id=ward_id, types=("SS-HAR-V",), occurred_at=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1),
        location="lounge", description="Synthetic: sexual comments at the medication hatch.",
        people=(PersonDraft("affected", "staff", "CD", harm_physical="none", harm_psychological="low"),
                PersonDraft("alleged_perpetrator", "patient", "AB")))


def test_payload_round_trip():
    draft = full_draft(3)
    assert drafts.draft_from_payload(drafts.draft_to_payload(draft), 3) == draft
    assert drafts.draft_from_payload({"types": ["SS-SA"], "nonsense": 1}, 7) == IncidentDraft(7, types=("SS-SA",))


def test_save_load_discard_audited_once(make_store, password):
    whole, actors, _recovery, wards = make_store()  # reads the trail, which a nurse's own login may not
    store, nurse = accounts.sign_in(whole.folder, "nurse", password)
    assert drafts.load_form(store, nurse) is None
    draft = full_draft(wards["Oak Ward"])  # made once: a second one may fall in the next second (CI, [postgresql])
    for step in range(3):
        drafts.save_form(store, nurse, FormState(draft, step, "21:4"))
    saved = drafts.load_form(store, nurse)
    assert saved.form == FormState(draft, 2, "21:4") and saved.incident_id is None
    log = audit_actions(whole)
    assert log.count("draft.autosave") == 1 and log.count("draft.restore") == 1
    assert drafts.discard_form(store, nurse)
    assert drafts.load_form(store, nurse) is None
    assert audit_actions(whole)[-1] == "draft.discard"
    store.close()


def test_each_user_has_their_own_draft(make_store, password):
    store, _actors, _recovery, wards = make_store()
    store.close()
    folder = store.folder
    store, nurse = accounts.sign_in(folder, "nurse", password)
    drafts.save_form(store, nurse, FormState(full_draft(wards["Oak Ward"])))
    store.close()
    store, nurse2 = accounts.sign_in(folder, "nurse2", password)
    assert drafts.load_form(store, nurse2) is None
    store.close()


def test_form_of_a_submitted_incident_is_dropped(make_store, password):
    store, _actors, _recovery, wards = make_store()
    store.close()
    store, nurse = accounts.sign_in(store.folder, "nurse", password)
    detail = incidents.create_draft(store, nurse, full_draft(wards["Oak Ward"]))
    drafts.save_form(store, nurse, FormState(full_draft(wards["Oak Ward"])), detail.incident_id)
    incidents.submit(store, nurse, detail.incident_id)
    assert drafts.load_form(store, nurse) is None
    store.close()


def test_the_form_state_round_trips_through_the_stored_shape():
    state = FormState(full_draft(3), step=4, time_text="21:4")
    payload = drafts.form_to_payload(state)
    assert set(payload) == {"draft", "ui"} and payload["ui"] == {"step": 4, "time": "21:4"}
    assert drafts.form_from_payload(payload, 3) == state


def _store_raw(store, nurse, text: str) -> None:
    """Write an autosave row as an earlier Lantern left it in a store: the JSON text only."""
    with unit_of_work(store) as session:
        now = now_db()
        session.add(FormDraft(user_id=nurse.user_id, incident_id=None, payload=text, created_at=now, updated_at=now))
        session.commit()


OAK_DRAFT = ('{"description": "Synthetic: sexual comments at the medication hatch.", "flags": [], '
             '"immediate_actions": "", "location": "lounge", "occurred_at": null, "occurred_precision": "exact", '
             '"people": [{"role": "affected", "person_type": "staff", "local_ref": "CD"}], "shift": null, '
             '"types": ["SS-HAR-V"], "ward_id": %d}')


@pytest.mark.parametrize("saved, step, time_text", [
    ('{"draft": %s, "ui": {"step": 3, "time": "21:40"}}', 3, "21:40"),  # as the form has saved it since it began
    ('{"draft": %s}', 0, ""),                                           # no "ui" part
    ('{"draft": %s, "ui": {"step": "three", "time": 5}}', 0, ""),       # odd values: the first step, no time
    ('%s', 0, ""),                                                      # a bare draft
])
def test_forms_saved_by_earlier_versions_still_load(make_store, saved, step, time_text):
    store, actors, _recovery, wards = make_store()
    oak = wards["Oak Ward"]
    _store_raw(store, actors["nurse"], saved % (OAK_DRAFT % oak))
    form = drafts.load_form(store, actors["nurse"]).form
    assert (form.step, form.time_text) == (step, time_text)
    assert form.draft == IncidentDraft(oak, types=("SS-HAR-V",), location="lounge",
                                       description="Synthetic: sexual comments at the medication hatch.",
                                       people=(PersonDraft("affected", "staff", "CD"),))
    store.close()
