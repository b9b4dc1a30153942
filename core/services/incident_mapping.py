"""Incidents between the store's rows and the DTOs: read a draft back, write one, describe actions (core layer).

The services call these inside their own transaction; nothing here checks permissions, audits or commits.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select

from core.clock import from_db, now_db, to_db, utcnow
from core.db.models import Incident, IncidentType, PersonInvolved, SafeguardingAction, Ward
from core.db.queries.incidents import people_refs, refresh_police_referred
from core.dto import ActionInfo, IncidentDetail, IncidentDraft, PersonDraft
from core.errors import ConfigError
from core.rules import IncidentFacts, PersonFacts, RequiredAction, Rule, active_rules
from core.taxonomy import derive_pair, derive_pd09, is_restricted, needs_harm_confirmation

HARM_ORDER = {"none": 0, "low": 1, "moderate": 2, "severe": 3, "fatal": 4}

# A person's answers, by name, as they are on PersonDraft and on the PersonInvolved row alike.
PERSON_FIELDS = ("role", "person_type", "local_ref", "sex", "age_years", "age_band", "detained", "capacity_concern",
                 "care_support_needs", "police_wishes", "harm_physical", "harm_psychological", "linked_user_id",
                 "under_18", "could_become_pregnant")


def worst(levels) -> str | None:
    """The most severe of some harm levels (blanks ignored), or None when none is graded."""
    graded = [lvl for lvl in levels if lvl]
    return max(graded, key=HARM_ORDER.__getitem__) if graded else None


def facts_for(draft: IncidentDraft, reported_at: datetime, service_type: str | None = None) -> IncidentFacts:
    """The rules engine's view of a draft. `service_type` is the ward's (Ward.service_type): on a CAMHS ward
    the engine presumes a patient of unknown age is under 18. None means not known, which presumes nothing."""
    affected = [p for p in draft.people if p.role == "affected"]
    people = tuple(
        PersonFacts(role=p.role, type=p.person_type, age_years=p.age_years, age_band=p.age_band, sex=p.sex,
                    detained=p.detained, capacity_concern=p.capacity_concern,
                    care_support_needs=p.care_support_needs, police_wishes=p.police_wishes,
                    linked_user=p.linked_user_id is not None, under_18=p.under_18,
                    could_become_pregnant=p.could_become_pregnant)
        for p in draft.people
    )
    return IncidentFacts(
        types=frozenset(draft.types), occurred_at=draft.occurred_at, reported_at=reported_at,
        location=draft.location or "unknown", people=people, flags=frozenset(draft.flags),
        harm_physical=worst(p.harm_physical for p in affected) or "none",
        harm_psychological=worst(p.harm_psychological for p in affected) or "none",
        service_type=service_type,
    )


def draft_of(session, inc: Incident) -> IncidentDraft:
    """The report as its form holds it, read back from the incident's rows."""
    people = session.scalars(select(PersonInvolved).where(PersonInvolved.incident_id == inc.id)
                             .order_by(PersonInvolved.position)).all()
    types = session.scalars(select(IncidentType.code).where(IncidentType.incident_id == inc.id)
                            .order_by(IncidentType.code)).all()
    return IncidentDraft(
        ward_id=inc.ward_id, types=tuple(types), occurred_at=from_db(inc.occurred_at),
        occurred_precision=inc.occurred_precision, shift=inc.shift, location=inc.location,
        people=tuple(PersonDraft(**{name: getattr(p, name) for name in PERSON_FIELDS}) for p in people),
        flags=tuple(json.loads(inc.flags)), description=inc.description, immediate_actions=inc.immediate_actions,
    )


def write_draft(session, inc: Incident, draft: IncidentDraft) -> None:
    """Write a draft onto the incident's row and replace its types and people; recompute the derived values."""
    inc.ward_id = draft.ward_id
    inc.occurred_at = to_db(draft.occurred_at) if draft.occurred_at else None
    inc.occurred_precision, inc.shift, inc.location = draft.occurred_precision, draft.shift, draft.location
    inc.flags = json.dumps(sorted(set(draft.flags)))
    inc.description, inc.immediate_actions = draft.description, draft.immediate_actions
    session.query(IncidentType).filter(IncidentType.incident_id == inc.id).delete()
    session.query(PersonInvolved).filter(PersonInvolved.incident_id == inc.id).delete()
    for code in sorted(set(draft.types)):
        session.add(IncidentType(incident_id=inc.id, code=code))
    for position, p in enumerate(draft.people):
        answers = {name: getattr(p, name) for name in PERSON_FIELDS}
        session.add(PersonInvolved(incident_id=inc.id, position=position, **{**answers, "local_ref": p.local_ref.strip()}))
    inc.people_refs = people_refs((p.local_ref.strip(), p.role, p.person_type) for p in draft.people)
    _derive(inc, draft)
    refresh_police_referred(session, inc)
    inc.updated_at = now_db()


def write_reviewed(session, inc: Incident, draft: IncidentDraft) -> None:
    """A review edit writes the draft but never the harm grading (Confirm harm changes it; the edit dialog says
    so): the grading stays as it was, and the harm check comes back only if the edit newly makes one due (an
    assault type or penetration added while the grading is no or low harm)."""
    grades = (inc.harm_physical, inc.harm_psychological)
    pd09, needed = inc.pd09, inc.harm_confirmation_needed
    due_before = needs_harm_confirmation((inc.type_codes or "").split(), [grades], json.loads(inc.flags or "[]"))
    write_draft(session, inc, draft)
    inc.harm_physical, inc.harm_psychological, inc.pd09 = *grades, pd09
    inc.harm_confirmation_needed = needed or (needs_harm_confirmation(draft.types, [grades], draft.flags)
                                              and not due_before)


def _derive(inc: Incident, draft: IncidentDraft) -> None:
    """The incident's derived values: pair, worst harms, PD09, restriction, harm check, type codes."""
    affected = [p for p in draft.people if p.role == "affected"]
    inc.pair = derive_pair({"role": p.role, "type": p.person_type} for p in draft.people) if draft.people else None
    inc.harm_physical = worst(p.harm_physical for p in affected)
    inc.harm_psychological = worst(p.harm_psychological for p in affected)
    inc.pd09 = derive_pd09(inc.harm_physical, inc.harm_psychological) if (
        inc.harm_physical and inc.harm_psychological) else None
    inc.restricted = is_restricted(draft.types, draft.people)
    inc.harm_confirmation_needed = needs_harm_confirmation(
        draft.types, [(p.harm_physical, p.harm_psychological) for p in affected], draft.flags)
    inc.type_codes = " ".join(sorted(set(draft.types)))


def snapshot_of(session, inc: Incident) -> dict:
    """The record as it is now, as JSON-ready data for a kept version."""
    draft = draft_of(session, inc)
    data = asdict(draft)
    data["occurred_at"] = to_db(draft.occurred_at) if draft.occurred_at else None
    data.update(status=inc.status, feedback_note=inc.feedback_note, harm_physical=inc.harm_physical,
                harm_psychological=inc.harm_psychological, restricted=inc.restricted)
    return data


def action_row(incident_id: str, action: RequiredAction, created: str) -> SafeguardingAction:
    """The row for an action the rules require."""
    return SafeguardingAction(
        incident_id=incident_id, rule_id=action.rule_id, title=action.title, guidance=action.guidance,
        why=action.why, source=action.source, owner_role=action.owner_role, owner_label=action.owner_label or "",
        mandatory=action.mandatory, deadline_kind=action.deadline_kind, due_at=to_db(action.due), status="open",
        created_at=created)


def action_info(a: SafeguardingAction, reference: str, now: datetime | None = None,
                rules: dict[str, Rule] | None = None) -> ActionInfo:
    due = from_db(a.due_at)
    rule = (rules_in_force() if rules is None else rules).get(a.rule_id or "")
    return ActionInfo(a.id, a.incident_id, reference, a.rule_id, a.title, a.guidance, a.why, a.source, a.owner_role,
                      a.owner_label, a.assigned_user_id, a.mandatory, a.deadline_kind, due, a.status, a.note,
                      a.reference, from_db(a.completed_at), _group(a, due, now or utcnow()),
                      rule.basis if rule else "", bool(rule and rule.checks))


def rules_in_force() -> dict[str, Rule]:
    """The rules in force now by id: what an action's deadline basis and whether it is a "not known" check are
    read from (neither is stored per action; a trust's override can change a deadline, which makes its basis
    local). A broken override file leaves both not known rather than stopping the record from being read;
    submitting a report still refuses with the file's error (core.rules.active_rules)."""
    try:
        return {rule.id: rule for rule in active_rules().rules}
    except ConfigError:
        return {}


def _group(a: SafeguardingAction, due: datetime, now: datetime) -> str:
    if a.status != "open":
        return "done"
    hours = (due - now).total_seconds() / 3600
    return "now" if a.deadline_kind == "immediate" or hours <= 1 else "today" if hours <= 24 else "later"


def detail_of(session, inc: Incident, now: datetime | None = None) -> IncidentDetail:
    """Everything the record screen shows about one incident (the caller has checked the actor may read it)."""
    ward = session.get(Ward, inc.ward_id)
    actions = session.scalars(select(SafeguardingAction).where(SafeguardingAction.incident_id == inc.id)
                              .order_by(SafeguardingAction.due_at, SafeguardingAction.id)).all()
    rules = rules_in_force() if actions else {}
    return IncidentDetail(
        inc.id, inc.reference, inc.ward_id, ward.name if ward else "", inc.status, inc.reporter_id,
        draft_of(session, inc), from_db(inc.reported_at), from_db(inc.submitted_at), from_db(inc.closed_at),
        inc.pair, inc.harm_physical, inc.harm_psychological, inc.pd09, inc.restricted,
        inc.harm_confirmation_needed, inc.feedback_note, inc.version,
        tuple(action_info(a, inc.reference, now, rules) for a in actions))
