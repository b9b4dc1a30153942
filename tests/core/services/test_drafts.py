"""Autosaved forms (core): save, restore, discard, audited once per form, dropped after submit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.dto import IncidentDraft, PersonDraft
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
    store, actors, _recovery, wards = make_store()
    store.close()
    store, nurse = accounts.sign_in(store.folder, "nurse", password)
    assert drafts.load_form(store, nurse) is None
    for n in range(3):
        drafts.save_form(store, nurse, {"draft": drafts.draft_to_payload(full_draft(wards["Oak Ward"])), "n": n})
    saved = drafts.load_form(store, nurse)
    assert saved.payload["n"] == 2 and saved.incident_id is None
    assert drafts.draft_from_payload(saved.payload["draft"], 0).location == "lounge"
    log = audit_actions(store)
    assert log.count("draft.autosave") == 1 and log.count("draft.restore") == 1
    assert drafts.discard_form(store, nurse)
    assert drafts.load_form(store, nurse) is None
    assert audit_actions(store)[-1] == "draft.discard"
    store.close()


def test_each_user_has_their_own_draft(make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    store, nurse = accounts.sign_in(store.folder, "nurse", password)
    drafts.save_form(store, nurse, {"who": "nurse"})
    store.close()
    store, nurse2 = accounts.sign_in(store.folder, "nurse2", password)
    assert drafts.load_form(store, nurse2) is None
    store.close()


def test_form_of_a_submitted_incident_is_dropped(make_store, password):
    store, _actors, _recovery, wards = make_store()
    store.close()
    store, nurse = accounts.sign_in(store.folder, "nurse", password)
    detail = incidents.create_draft(store, nurse, full_draft(wards["Oak Ward"]))
    drafts.save_form(store, nurse, {"x": 1}, detail.incident_id)
    incidents.submit(store, nurse, detail.incident_id)
    assert drafts.load_form(store, nurse) is None
    store.close()
