"""Incident lifecycle services: draft, submit (rules run here), review, close, reopen, actions (core layer).

One function per user action, one transaction each, each audited. Audit details
hold codes and ids only, never the text of a report.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import and_, delete, func, literal_column, or_, select

from core.clock import from_db, now_db, to_db, utcnow
from core.db import audit
from core.db.models import (
    FormDraft,
    Incident,
    IncidentType,
    IncidentVersion,
    PersonInvolved,
    ReferenceCounter,
    SafeguardingAction,
    Ward,
)
from core.db.store import Store, unit_of_work
from core.dto import ActionInfo, Actor, IncidentDetail, IncidentDraft, IncidentSummary, PersonDraft, VersionInfo
from core.errors import ConfigError, NotFound, PermissionDenied, ValidationError
from core.privacy import KINDS as PID_KINDS
from core.privacy import find_pid
from core.rules import IncidentFacts, PersonFacts, RequiredAction, Rule, active_rules, evaluate
from core.security.permissions import allowed, require, require_ward
from core.security.refusals import attach, audited
from core.services import closure
from core.services.visibility import may_view, visible_incidents
from core.taxonomy import derive_pair, derive_pd09, is_restricted, load_taxonomy, needs_harm_confirmation

MAX_TEXT = 20_000
HARM_CONFIRM_RULE = "harm-grading-confirm"  # the rule whose action confirm_harm completes
HARM_ORDER = {"none": 0, "low": 1, "moderate": 2, "severe": 3, "fatal": 4}
POLICE_RULE_PREFIX = "police-"
POLICE_ALWAYS_RULE = "police-inform-staff-alleged"


# ----- validation (pure; the form shows these messages next to the fields) ----

def validate_draft(draft: IncidentDraft, *, for_submit: bool, now: datetime | None = None) -> dict[str, str]:
    """Plain-English problems with a draft, keyed by field. Saving a draft only checks shape;
    submitting needs the fast-path minimum (at most 8 inputs)."""
    tax = load_taxonomy()
    errors: dict[str, str] = {}
    unknown = [t for t in draft.types if not tax.has("incident_types", t)]
    if unknown:
        errors["types"] = "One of the chosen incident types is not in the list."
    if draft.location and not tax.has("locations", draft.location):
        errors["location"] = "Choose where it happened from the list."
    if draft.shift and not tax.has("shifts", draft.shift):
        errors["shift"] = "Choose a shift from the list."
    if draft.occurred_precision not in ("exact", "approximate"):
        errors["occurred_at"] = "Say whether the time is exact or approximate."
    if draft.occurred_at is not None:
        if not isinstance(draft.occurred_at, datetime) or draft.occurred_at.tzinfo is None:
            errors["occurred_at"] = "The date and time are not valid."
        elif draft.occurred_at > (now or utcnow()):
            errors["occurred_at"] = "The incident time is in the future. Check the date and time."
    bad_flags = [f for f in draft.flags if not tax.has("context_flags", f)]
    if bad_flags:
        errors["flags"] = "One of the ticked details is not recognised."
    if len(draft.description) > MAX_TEXT or len(draft.immediate_actions) > MAX_TEXT:
        errors["description"] = f"Keep each text box under {MAX_TEXT:,} characters."
    for i, person in enumerate(draft.people, start=1):
        problem = _person_problem(person, tax)
        if problem:
            errors[f"people.{i}"] = f"Person {i}: {problem}"
    errors.update(unsaveable_text(draft))
    if not for_submit:
        return errors
    if not draft.types:
        errors.setdefault("types", "Choose at least one type of incident.")
    if draft.occurred_at is None:
        errors.setdefault("occurred_at", "Give the date and time it happened (approximate is fine).")
    elif draft.occurred_precision == "approximate" and not draft.shift:
        errors.setdefault("shift", "For an approximate time, choose the shift it happened in.")
    if not draft.location:
        errors.setdefault("location", "Choose where it happened (\"Unknown\" is fine).")
    affected = [p for p in draft.people if p.role == "affected"]
    if not affected:
        errors.setdefault("people", "Add the person affected (their type is enough for now).")
    if not any(p.role == "alleged_perpetrator" for p in draft.people):
        errors.setdefault("people.perpetrator", "Add the person alleged to have done it (\"Unknown\" is fine).")
    if affected and any(p.harm_physical is None or p.harm_psychological is None for p in affected):
        errors.setdefault("harm", "Grade the physical and psychological harm for each person affected.")
    if not draft.description.strip():
        errors.setdefault("description", "Describe briefly what happened.")
    return errors


UNSAVEABLE = ("contains a character that cannot be saved (often left by copying and pasting). Delete the last "
              "few characters you pasted and type them again.")


def unsaveable_text(draft: IncidentDraft) -> dict[str, str]:
    """Text boxes holding a lone surrogate (text no encoding can store), keyed by field."""
    found: dict[str, str] = {}
    for name, label in (("description", "The description"), ("immediate_actions", "Immediate actions")):
        if _unencodable(getattr(draft, name)):
            found[name] = f"{label} {UNSAVEABLE}"
    for i, person in enumerate(draft.people, start=1):
        if any(_unencodable(v) for v in vars(person).values() if isinstance(v, str)):
            found[f"people.{i}"] = f"Person {i}: a detail {UNSAVEABLE}"
    return found


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _person_problem(p: PersonDraft, tax) -> str:
    if not tax.has("person_roles", p.role):
        return "choose their role."
    if not tax.has("person_types", p.person_type):
        return "choose whether they are a patient, staff, visitor, other or unknown."
    if p.sex and not tax.has("sexes", p.sex):
        return "choose their sex from the list."
    if p.age_years is not None and not (0 <= p.age_years <= 120):
        return "age must be between 0 and 120."
    if p.age_years is not None and p.under_18 is not None and (p.age_years < 18) != p.under_18:
        return f"the age ({p.age_years}) and the answer to 'Under 18?' disagree. Correct one of them."
    if p.age_band and not tax.has("age_bands", p.age_band):
        return "choose an age band from the list."
    if p.police_wishes and not tax.has("police_wishes", p.police_wishes):
        return "choose their wishes about the police from the list."
    if p.harm_physical and not tax.has("harm_physical", p.harm_physical):
        return "choose a physical harm level from the list."
    if p.harm_psychological and not tax.has("harm_psychological", p.harm_psychological):
        return "choose a psychological harm level from the list."
    if len(p.local_ref) > 40:
        return "keep the reference under 40 characters (initials or a hospital number, never a name)."
    found = find_pid(p.local_ref)
    if found:  # the same detector that screens free text and every export (issue 14)
        return (f"the reference looks like {PID_KINDS[found[0].kind]}. Use initials or a hospital number, "
                "never a name, NHS number, date of birth or contact details.")
    return ""


# ----- mapping -----------------------------------------------------------------

def _worst(levels) -> str | None:
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
        harm_physical=_worst(p.harm_physical for p in affected) or "none",
        harm_psychological=_worst(p.harm_psychological for p in affected) or "none",
        service_type=service_type,
    )


def ward_service_type(session, ward_id: int) -> str | None:
    """The ward's service type from its row (e.g. "camhs"), or None when there is no such ward."""
    return session.scalar(select(Ward.service_type).where(Ward.id == ward_id))


def _draft_of(session, inc: Incident) -> IncidentDraft:
    people = session.scalars(select(PersonInvolved).where(PersonInvolved.incident_id == inc.id)
                             .order_by(PersonInvolved.position)).all()
    types = session.scalars(select(IncidentType.code).where(IncidentType.incident_id == inc.id)
                            .order_by(IncidentType.code)).all()
    return IncidentDraft(
        ward_id=inc.ward_id, types=tuple(types), occurred_at=from_db(inc.occurred_at),
        occurred_precision=inc.occurred_precision, shift=inc.shift, location=inc.location,
        people=tuple(PersonDraft(
            role=p.role, person_type=p.person_type, local_ref=p.local_ref, sex=p.sex, age_years=p.age_years,
            age_band=p.age_band, detained=p.detained, capacity_concern=p.capacity_concern,
            care_support_needs=p.care_support_needs, police_wishes=p.police_wishes,
            harm_physical=p.harm_physical, harm_psychological=p.harm_psychological,
            linked_user_id=p.linked_user_id, under_18=p.under_18,
            could_become_pregnant=p.could_become_pregnant) for p in people),
        flags=tuple(json.loads(inc.flags)), description=inc.description, immediate_actions=inc.immediate_actions,
    )


def _write_draft(session, inc: Incident, draft: IncidentDraft) -> None:
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
        session.add(PersonInvolved(
            incident_id=inc.id, position=position, role=p.role, person_type=p.person_type,
            local_ref=p.local_ref.strip(), sex=p.sex, age_years=p.age_years, age_band=p.age_band,
            detained=p.detained, capacity_concern=p.capacity_concern, care_support_needs=p.care_support_needs,
            police_wishes=p.police_wishes, harm_physical=p.harm_physical, harm_psychological=p.harm_psychological,
            linked_user_id=p.linked_user_id, under_18=p.under_18, could_become_pregnant=p.could_become_pregnant))
    affected = [p for p in draft.people if p.role == "affected"]
    inc.pair = derive_pair({"role": p.role, "type": p.person_type} for p in draft.people) if draft.people else None
    inc.harm_physical = _worst(p.harm_physical for p in affected)
    inc.harm_psychological = _worst(p.harm_psychological for p in affected)
    inc.pd09 = derive_pd09(inc.harm_physical, inc.harm_psychological) if (
        inc.harm_physical and inc.harm_psychological) else None
    inc.restricted = is_restricted(draft.types, draft.people)
    inc.harm_confirmation_needed = needs_harm_confirmation(
        draft.types, [(p.harm_physical, p.harm_psychological) for p in affected], draft.flags)
    inc.type_codes = " ".join(sorted(set(draft.types)))
    refresh_police_referred(session, inc)
    inc.updated_at = now_db()


# ----- police referral (kept on the incident row for the dashboard, migration 0006) ---------------------

def police_informed_clause():
    """A police action that shows the police were told: the staff-allegation police action done, or any police
    action completed with a crime reference. (A WHERE clause on SafeguardingAction.)"""
    return and_(SafeguardingAction.status == "done",
                or_(SafeguardingAction.rule_id == POLICE_ALWAYS_RULE,
                    and_(SafeguardingAction.rule_id.like(POLICE_RULE_PREFIX + "%"), SafeguardingAction.reference != "")))


def police_referred_clause():
    """An incident counts as referred to the police when any person involved wanted the police told, or the
    staff-allegation police action is done, or any police action was completed with a crime reference.
    (A WHERE clause on Incident, read from the child rows; `Incident.police_referred` keeps its answer.)"""
    wanted = (select(PersonInvolved.id)
              .where(PersonInvolved.incident_id == Incident.id, PersonInvolved.police_wishes == "yes").exists())
    informed = (select(SafeguardingAction.id)
                .where(SafeguardingAction.incident_id == Incident.id, police_informed_clause()).exists())
    return or_(wanted, informed)


def stale_summaries(session) -> int:
    """How many incidents' summary columns disagree with their child rows (store check; should be none)."""
    type_codes = literal_column("coalesce((SELECT group_concat(t.code, ' ' ORDER BY t.code) FROM incident_types t "
                                "WHERE t.incident_id = incidents.id), '')")
    return session.scalar(select(func.count()).select_from(Incident).where(or_(
        Incident.type_codes != type_codes, Incident.police_referred != police_referred_clause())))


def refresh_police_referred(session, inc: Incident) -> None:
    """Recompute `inc.police_referred` from its people and actions. Every service that writes either calls it."""
    session.flush()
    inc.police_referred = bool(session.scalar(select(police_referred_clause()).where(Incident.id == inc.id)))


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


# ----- visibility ---------------------------------------------------------------

# Who may read what is decided in SQL by one predicate (core.services.visibility), for single reads, lists,
# the queue, the dashboard and every export alike. named_users and _why_refused only explain a refusal.

def named_users(session, incident_id: str) -> set[str]:
    return set(session.scalars(select(PersonInvolved.linked_user_id).where(
        PersonInvolved.incident_id == incident_id, PersonInvolved.linked_user_id.is_not(None))))


def load_visible(session, actor: Actor, incident_id: str) -> Incident:
    inc = session.get(Incident, incident_id)
    if inc is None or not may_view(session, actor, incident_id):
        named = named_users(session, incident_id)
        # Same answer for "missing" and "not yours", so a restricted record's existence is not revealed; the
        # refusal itself is audited (core.security.refusals), with why, for the audit trail's readers only.
        raise attach(NotFound("That incident does not exist or is not one you can see."), actor, "incident.view",
                     _why_refused(actor, inc, named), entity_type="incident", entity_id=incident_id)
    return inc


def _why_refused(actor: Actor, inc: Incident | None, named: set[str]) -> str:
    """A code for the audit trail; the role is judged first, so an administrator's refusals say nothing about
    whether a record exists."""
    if not allowed(actor, "incident.view"):
        return "role"
    if inc is None:
        return "missing"
    if actor.user_id in named:
        return "named_staff"
    if inc.status == "draft":
        return "draft"
    return "restricted" if inc.restricted else "ward"


def detail_of(session, inc: Incident, now: datetime | None = None) -> IncidentDetail:
    ward = session.get(Ward, inc.ward_id)
    actions = session.scalars(select(SafeguardingAction).where(SafeguardingAction.incident_id == inc.id)
                              .order_by(SafeguardingAction.due_at, SafeguardingAction.id)).all()
    rules = rules_in_force() if actions else {}
    return IncidentDetail(
        inc.id, inc.reference, inc.ward_id, ward.name if ward else "", inc.status, inc.reporter_id,
        _draft_of(session, inc), from_db(inc.reported_at), from_db(inc.submitted_at), from_db(inc.closed_at),
        inc.pair, inc.harm_physical, inc.harm_psychological, inc.pd09, inc.restricted,
        inc.harm_confirmation_needed, inc.feedback_note, inc.version,
        tuple(action_info(a, inc.reference, now, rules) for a in actions))


def _snapshot(session, inc: Incident) -> dict:
    draft = _draft_of(session, inc)
    data = asdict(draft)
    data["occurred_at"] = to_db(draft.occurred_at) if draft.occurred_at else None
    data.update(status=inc.status, feedback_note=inc.feedback_note, harm_physical=inc.harm_physical,
                harm_psychological=inc.harm_psychological, restricted=inc.restricted)
    return data


def _keep_version(session, actor: Actor, inc: Incident, reason: str, extra: dict | None = None) -> None:
    """Keep the record as it is now, with the reason for the change (`extra` adds to the snapshot)."""
    snapshot = {**_snapshot(session, inc), **(extra or {})}
    session.add(IncidentVersion(incident_id=inc.id, version=inc.version, snapshot=json.dumps(snapshot),
                                reason=reason, created_by=actor.user_id, created_at=now_db()))
    inc.version += 1


def _next_reference(session, year: int) -> str:
    """Take the year's next number from its counter row, inside the caller's write transaction.

    References are never parsed back from text (demo references like `LAN-2026-D000300` share the store). The
    write transaction holds the store's write lock (BEGIN IMMEDIATE), so two reports cannot take one number; a
    number already used by some other path (a restored or hand-made record) is skipped, never reused.
    """
    counter = session.get(ReferenceCounter, year)
    if counter is None:
        counter = ReferenceCounter(year=year, last_number=0)
        session.add(counter)
    while True:
        counter.last_number += 1
        reference = f"LAN-{year}-{counter.last_number:05d}"
        if session.scalar(select(Incident.id).where(Incident.reference == reference)) is None:
            session.flush()
            return reference


# ----- services -------------------------------------------------------------------

def create_draft(store: Store, actor: Actor, draft: IncidentDraft) -> IncidentDetail:
    """Start a report. It gets its reference now, so it can be quoted at once."""
    with unit_of_work(store) as session:
        inc = _create_in(session, actor, draft)
        session.commit()
        return detail_of(session, inc)


def _create_in(session, actor: Actor, draft: IncidentDraft) -> Incident:
    require(actor, "incident.create")
    require_ward(actor, draft.ward_id)
    errors = validate_draft(draft, for_submit=False)
    if errors:
        raise ValidationError(errors)
    now = now_db()
    inc = Incident(id=str(uuid.uuid4()), reference=_next_reference(session, utcnow().year), ward_id=draft.ward_id,
                   reporter_id=actor.user_id, status="draft", created_at=now, updated_at=now, flags="[]",
                   taxonomy_version=load_taxonomy().version)
    session.add(inc)
    session.flush()
    _write_draft(session, inc, draft)
    audit.record(session, actor, "incident.create", entity_type="incident", entity_id=inc.id,
                 detail={"reference": inc.reference, "status": "draft"})
    return inc


def update_incident(store: Store, actor: Actor, incident_id: str, draft: IncidentDraft, *,
                    reason: str = "") -> IncidentDetail:
    """Save changes. A draft is the reporter's to change freely; after submission an edit needs the
    review permission and a reason, and the earlier version is kept."""
    with unit_of_work(store) as session:
        inc = _update_in(session, actor, incident_id, draft, reason)
        session.commit()
        return detail_of(session, inc)


def _update_in(session, actor: Actor, incident_id: str, draft: IncidentDraft, reason: str = "") -> Incident:
    inc = load_visible(session, actor, incident_id)
    if inc.status == "draft":
        require(actor, "incident.create")
        if inc.reporter_id != actor.user_id:
            raise PermissionDenied("Only the person who started this draft can change it.")
    else:
        require(actor, "incident.review")
        if inc.status == "closed":
            raise ValidationError({"status": "This incident is closed. Reopen it (with a reason) to change it."})
        if not reason.strip():
            raise ValidationError({"reason": "Say why you are changing a submitted report."})
    require_ward(actor, draft.ward_id)
    errors = validate_draft(draft, for_submit=inc.status != "draft")
    if errors:
        raise ValidationError(errors)
    if inc.status != "draft":
        _keep_version(session, actor, inc, reason.strip())
    _write_draft(session, inc, draft)
    audit.record(session, actor, "incident.update", entity_type="incident", entity_id=inc.id,
                 detail={"status": inc.status, "version": inc.version})
    return inc


def actions_for(draft: IncidentDraft, reported_at: datetime, service_type: str | None = None) -> list[RequiredAction]:
    """The safeguarding actions the rules require for this draft (no store needed: the caller passes the ward's
    service type, WardInfo.service_type, so a CAMHS ward's presumption applies)."""
    return evaluate(facts_for(draft, reported_at, service_type), active_rules())


def submit(store: Store, actor: Actor, incident_id: str, *, now: datetime | None = None) -> IncidentDetail:
    """Validate, run the safeguarding rules, create the actions, mark submitted: one transaction."""
    with unit_of_work(store) as session:
        inc, reported = _submit_in(session, actor, incident_id, now)
        session.commit()
        return detail_of(session, inc, reported)


def submit_report(store: Store, actor: Actor, draft: IncidentDraft, incident_id: str | None = None, *,
                  now: datetime | None = None) -> IncidentDetail:
    """The nurse's Send, as one transaction: write the report (new, or the draft already started), run the
    safeguarding rules, create the actions, mark it submitted and clear the sender's autosaved form.

    Any failure rolls all of it back: nothing is half-sent, and the autosave still holds every word.
    """
    with unit_of_work(store) as session:
        if incident_id is None:
            incident_id = _create_in(session, actor, draft).id
        else:
            _update_in(session, actor, incident_id, draft)
        session.flush()
        inc, reported = _submit_in(session, actor, incident_id, now)
        session.execute(delete(FormDraft).where(FormDraft.user_id == actor.user_id))
        session.commit()
        return detail_of(session, inc, reported)


def _submit_in(session, actor: Actor, incident_id: str, now: datetime | None) -> tuple[Incident, datetime]:
    inc = load_visible(session, actor, incident_id)
    require(actor, "incident.create")
    if inc.status != "draft":
        raise ValidationError({"status": "This report has already been submitted."})
    if inc.reporter_id != actor.user_id:
        raise PermissionDenied("Only the person who started this draft can submit it.")
    draft = _draft_of(session, inc)
    reported = now or utcnow()
    errors = validate_draft(draft, for_submit=True, now=reported)
    if errors:
        raise ValidationError(errors)
    rules = active_rules()
    required = evaluate(facts_for(draft, reported, ward_service_type(session, inc.ward_id)), rules)
    created = now_db()
    for action in required:
        session.add(_action_row(inc.id, action, created))
    inc.status, inc.reported_at, inc.submitted_at = "submitted", to_db(reported), to_db(reported)
    inc.rules_version = getattr(rules, "version", None)
    audit.record(session, actor, "incident.submit", entity_type="incident", entity_id=inc.id,
                 detail={"reference": inc.reference, "actions": len(required), "restricted": inc.restricted})
    return inc, reported


def _action_row(incident_id: str, action: RequiredAction, created: str) -> SafeguardingAction:
    return SafeguardingAction(
        incident_id=incident_id, rule_id=action.rule_id, title=action.title, guidance=action.guidance,
        why=action.why, source=action.source, owner_role=action.owner_role, owner_label=action.owner_label or "",
        mandatory=action.mandatory, deadline_kind=action.deadline_kind, due_at=to_db(action.due), status="open",
        created_at=created)


def get_incident(store: Store, actor: Actor, incident_id: str) -> IncidentDetail:
    """Read one incident. Every view is audited."""
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        audit.record(session, actor, "incident.view", entity_type="incident", entity_id=inc.id,
                     detail={"restricted": inc.restricted})
        session.commit()
        return detail_of(session, inc)


@audited
def list_my_incidents(store: Store, actor: Actor) -> list[IncidentSummary]:
    """The reporter's own incidents with status, outstanding actions and the manager's feedback."""
    require(actor, "incident.create")
    with unit_of_work(store, write=False) as session:
        rows = session.scalars(select(Incident).where(Incident.reporter_id == actor.user_id,
                                                      visible_incidents(session, actor, ward_only=False))
                               .order_by(Incident.created_at.desc())).all()
        return [_summary(session, inc) for inc in rows]


def _summary(session, inc: Incident) -> IncidentSummary:
    now = now_db()
    open_q = select(func.count()).where(SafeguardingAction.incident_id == inc.id, SafeguardingAction.status == "open")
    types = tuple(session.scalars(select(IncidentType.code).where(IncidentType.incident_id == inc.id)))
    ward = session.get(Ward, inc.ward_id)
    return IncidentSummary(inc.id, inc.reference, inc.ward_id, ward.name if ward else "", inc.status, types,
                           from_db(inc.occurred_at), inc.location, inc.restricted, session.scalar(open_q),
                           session.scalar(open_q.where(SafeguardingAction.due_at < now)), inc.reporter_id,
                           inc.feedback_note)


def _set_status(store: Store, actor: Actor, incident_id: str, permission: str, allowed_from: tuple[str, ...],
                new_status: str, event: str, reason: str = "", reason_required: bool = False) -> IncidentDetail:
    require(actor, permission)
    if reason_required and not reason.strip():
        raise ValidationError({"reason": "Give a reason."})
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        require_ward(actor, inc.ward_id)
        if inc.status not in allowed_from:
            raise ValidationError({"status": f"This incident is {inc.status.replace('_', ' ')}, so it cannot be "
                                             f"{event.split('.')[-1]}d now."})
        if new_status == "closed":
            blocking = session.scalar(select(func.count()).where(
                SafeguardingAction.incident_id == inc.id, SafeguardingAction.mandatory.is_(True),
                SafeguardingAction.status == "open"))
            if blocking:
                raise ValidationError({"actions": f"{blocking} mandatory action(s) are still open. Complete them, "
                                                  "or mark them not applicable with a reason, before closing."})
            if inc.harm_confirmation_needed:
                raise ValidationError({"harm": "Confirm the harm grading before closing."})
        if reason.strip():
            _keep_version(session, actor, inc, reason.strip())
        inc.status = new_status
        inc.closed_at = now_db() if new_status == "closed" else None
        inc.updated_at = now_db()
        audit.record(session, actor, event, entity_type="incident", entity_id=inc.id, detail={"status": new_status})
        session.commit()
        return detail_of(session, inc)


def start_review(store: Store, actor: Actor, incident_id: str) -> IncidentDetail:
    return _set_status(store, actor, incident_id, "incident.review", ("submitted",), "in_review", "incident.review")


def close_incident(store: Store, actor: Actor, incident_id: str) -> IncidentDetail:
    """Close only when every mandatory action is done or marked not applicable, and harm is confirmed."""
    return _set_status(store, actor, incident_id, "incident.close", ("submitted", "in_review"), "closed",
                       "incident.close")


def reopen_incident(store: Store, actor: Actor, incident_id: str, reason: str) -> IncidentDetail:
    return _set_status(store, actor, incident_id, "incident.close", ("closed",), "in_review", "incident.reopen",
                       reason=reason, reason_required=True)


def confirm_harm(store: Store, actor: Actor, incident_id: str, physical: str, psychological: str,
                 note: str = "") -> IncidentDetail:
    """A manager confirms (or changes) the incident's harm grading; clears the under-grading flag."""
    require(actor, "incident.review")
    tax = load_taxonomy()
    if not tax.has("harm_physical", physical) or not tax.has("harm_psychological", psychological):
        raise ValidationError({"harm": "Choose harm levels from the lists."})
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        require_ward(actor, inc.ward_id)
        _keep_version(session, actor, inc, note.strip() or "harm grading confirmed")
        inc.harm_physical, inc.harm_psychological = physical, psychological
        inc.pd09 = derive_pd09(physical, psychological)
        inc.harm_confirmation_needed = False
        for action in session.scalars(select(SafeguardingAction).where(
                SafeguardingAction.incident_id == inc.id, SafeguardingAction.rule_id == HARM_CONFIRM_RULE,
                SafeguardingAction.status == "open")):
            action.status, action.completed_at, action.completed_by = "done", now_db(), actor.user_id
            action.note = "Harm grading confirmed in review."
        audit.record(session, actor, "incident.harm_confirm", entity_type="incident", entity_id=inc.id,
                     detail={"physical": physical, "psychological": psychological})
        session.commit()
        return detail_of(session, inc)


def set_feedback(store: Store, actor: Actor, incident_id: str, note: str) -> IncidentDetail:
    require(actor, "incident.review")
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        require_ward(actor, inc.ward_id)
        inc.feedback_note = note.strip()[:MAX_TEXT]
        audit.record(session, actor, "incident.feedback", entity_type="incident", entity_id=inc.id)
        session.commit()
        return detail_of(session, inc)


@audited
def list_versions(store: Store, actor: Actor, incident_id: str) -> list[VersionInfo]:
    require(actor, "incident.review")
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        rows = session.scalars(select(IncidentVersion).where(IncidentVersion.incident_id == inc.id)
                               .order_by(IncidentVersion.version)).all()
        audit.record(session, actor, "incident.view_versions", entity_type="incident", entity_id=inc.id)
        session.commit()
        return [VersionInfo(v.version, from_db(v.created_at), v.created_by, v.reason, json.loads(v.snapshot))
                for v in rows]


def _update_action(store: Store, actor: Actor, action_id: int, status: str, note: str, reference: str,
                   event: str) -> ActionInfo:
    """Finish an open action. The closure rules (core.services.closure) are enforced here, not only in a dialog:
    a mandatory action needs a note of what was done, a reference where its rule asks for one; marking one not
    applicable needs a ward manager or the lead and a reason."""
    require(actor, "action.update" if status == "done" else "action.manage")
    with unit_of_work(store) as session:
        action = session.get(SafeguardingAction, action_id)
        if action is None:
            raise NotFound("That action does not exist.")
        inc = load_visible(session, actor, action.incident_id)
        if status != "done":
            require_ward(actor, inc.ward_id)
        if inc.status == "closed":
            raise ValidationError({"status": "This incident is closed. Reopen it to change its actions."})
        if action.status != "open":
            raise ValidationError({"status": "This action is already finished."})
        problems = (closure.completion_problems(action.rule_id, action.mandatory, note, reference) if status == "done"
                    else closure.reason_problems(note, "say why this action does not apply to this incident."))
        if problems:
            raise ValidationError(problems)
        action.status, action.note, action.reference = status, note.strip()[:MAX_TEXT], reference.strip()[:60]
        action.completed_at, action.completed_by = now_db(), actor.user_id
        refresh_police_referred(session, inc)
        audit.record(session, actor, event, entity_type="action", entity_id=str(action.id),
                     detail={"incident": inc.id, "rule": action.rule_id})
        session.commit()
        return action_info(action, inc.reference)


def complete_action(store: Store, actor: Actor, action_id: int, note: str = "", reference: str = "") -> ActionInfo:
    return _update_action(store, actor, action_id, "done", note, reference, "action.complete")


def mark_action_not_applicable(store: Store, actor: Actor, action_id: int, reason: str) -> ActionInfo:
    """Only a ward manager or the safeguarding lead, with a reason of at least a sentence."""
    return _update_action(store, actor, action_id, "not_applicable", reason, "", "action.not_applicable")
