"""Autosaved incident forms: save, restore and discard one user's open form (core layer).

The form is saved at least every 10 seconds and at lock, encrypted in the store like everything else.
Only the first save of a form is audited (`draft.autosave`): an event every 10 seconds would bury the
audit trail, and the later saves add no new fact (same user, same form). Restoring it (`draft.restore`)
and throwing it away unsubmitted (`draft.discard`) are audited once each.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime

from sqlalchemy import select

from core.clock import from_db, now_db, to_db
from core.db import audit
from core.db.models import FormDraft, Incident
from core.db.store import Store, unit_of_work
from core.dto import Actor, FormState, IncidentDraft, PersonDraft
from core.errors import ValidationError
from core.security.permissions import require

MAX_PAYLOAD = 200_000  # characters of JSON: far more than a form holds


@dataclass(frozen=True)
class SavedForm:
    """An autosaved form: the incident it edits (if one exists yet), the form's state, and when it was saved."""

    incident_id: str | None
    form: FormState
    updated_at: datetime


def draft_to_payload(draft: IncidentDraft) -> dict:
    """An IncidentDraft as JSON-ready data (times as UTC text)."""
    data = asdict(draft)
    data["occurred_at"] = to_db(draft.occurred_at) if isinstance(draft.occurred_at, datetime) else None
    return data


def draft_from_payload(data: dict, ward_id: int) -> IncidentDraft:
    """The reverse of draft_to_payload; unknown keys are ignored so older payloads still load."""
    person_keys = {f.name for f in fields(PersonDraft)}
    people = tuple(PersonDraft(**{k: v for k, v in p.items() if k in person_keys})
                   for p in data.get("people", ()) if isinstance(p, dict) and "role" in p and "person_type" in p)
    draft_keys = {f.name for f in fields(IncidentDraft)} - {"people", "ward_id", "occurred_at"}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in draft_keys}
    occurred = data.get("occurred_at")
    return IncidentDraft(ward_id=data.get("ward_id") or ward_id, people=people,
                         occurred_at=from_db(occurred) if isinstance(occurred, str) else None, **values)


def form_to_payload(form: FormState) -> dict:
    """A FormState as the JSON the store keeps: {"draft": ..., "ui": {"step": ..., "time": ...}}, the shape the
    form has saved since it was written, so every store reads the same way."""
    return {"draft": draft_to_payload(form.draft), "ui": {"step": form.step, "time": form.time_text}}


def form_from_payload(data: dict, ward_id: int | None) -> FormState:
    """The reverse of form_to_payload, for every payload a store may hold: the form's own shape, or a bare draft
    (no "draft" key); missing or odd "ui" values fall back to the first step and an empty time box."""
    draft = data.get("draft") if isinstance(data.get("draft"), dict) else data
    ui = data.get("ui") if isinstance(data.get("ui"), dict) else {}
    step, time_text = ui.get("step"), ui.get("time")
    return FormState(draft_from_payload(draft, ward_id),
                     step if isinstance(step, int) and not isinstance(step, bool) and step >= 0 else 0,
                     time_text if isinstance(time_text, str) else "")


def save_form(store: Store, actor: Actor, form: FormState, incident_id: str | None = None) -> SavedForm:
    """Create or replace this user's autosaved form."""
    require(actor, "incident.create")
    text = json.dumps(form_to_payload(form), sort_keys=True)
    if len(text) > MAX_PAYLOAD:
        raise ValidationError({"draft": "This report is too long to save. Shorten the text boxes."})
    with unit_of_work(store) as session:
        row = session.scalar(select(FormDraft).where(FormDraft.user_id == actor.user_id))
        now = now_db()
        first = row is None
        if first:
            row = FormDraft(user_id=actor.user_id, created_at=now)
            session.add(row)
        row.incident_id, row.payload, row.updated_at = incident_id, text, now
        if first:
            audit.record(session, actor, "draft.autosave", entity_type="form_draft", entity_id=actor.user_id,
                         detail={"incident": incident_id})
        session.commit()
        return SavedForm(incident_id, form, from_db(now))


def load_form(store: Store, actor: Actor) -> SavedForm | None:
    """This user's autosaved form, or None. A form whose incident was submitted meanwhile is dropped."""
    require(actor, "incident.create")
    with unit_of_work(store) as session:
        row = session.scalar(select(FormDraft).where(FormDraft.user_id == actor.user_id))
        if row is None:
            return None
        if row.incident_id:
            inc = session.get(Incident, row.incident_id)
            if inc is None or inc.status != "draft":
                session.delete(row)
                session.commit()
                return None
        try:
            payload = json.loads(row.payload)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            session.delete(row)
            session.commit()
            return None
        audit.record(session, actor, "draft.restore", entity_type="form_draft", entity_id=actor.user_id,
                     detail={"incident": row.incident_id})
        session.commit()
        return SavedForm(row.incident_id, form_from_payload(payload, actor.ward_ids[0] if actor.ward_ids else None),
                         from_db(row.updated_at))


def discard_form(store: Store, actor: Actor, *, submitted: bool = False) -> bool:
    """Delete this user's autosaved form (after submit, or when they throw the report away)."""
    require(actor, "incident.create")
    with unit_of_work(store) as session:
        row = session.scalar(select(FormDraft).where(FormDraft.user_id == actor.user_id))
        if row is None:
            return False
        session.delete(row)
        if not submitted:  # the submit itself is audited; a discard on its own is worth recording
            audit.record(session, actor, "draft.discard", entity_type="form_draft", entity_id=actor.user_id,
                         detail={"incident": row.incident_id})
        session.commit()
        return True
