"""Incident lifecycle services: draft, submit (rules run here), review, close, reopen, actions (core layer).

One function per user action, one transaction each, each audited. Audit details
hold codes and ids only, never the text of a report. The checks on a draft are in core.services.validation,
the rows <-> DTOs mapping in core.services.incident_mapping, the SQL clauses in core.db.queries.incidents and
who may read what in core.services.visibility; the names other code uses from them stay importable from here.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import delete, func, select

from core.clock import from_db, now_db, to_db, utcnow
from core.db import audit
from core.db.models import FormDraft, Incident, IncidentType, IncidentVersion, SafeguardingAction, Ward
from core.db.queries.incidents import POLICE_ALWAYS_RULE as POLICE_ALWAYS_RULE
from core.db.queries.incidents import named_users, next_reference, refresh_police_referred, ward_service_type
from core.db.queries.incidents import police_referred_clause as police_referred_clause
from core.db.queries.incidents import stale_summaries as stale_summaries
from core.db.store import Store, unit_of_work
from core.dto import ActionInfo, Actor, IncidentDetail, IncidentDraft, IncidentSummary, VersionInfo
from core.errors import NotFound, PermissionDenied, ValidationError
from core.rules import RequiredAction, active_rules, evaluate
from core.security.permissions import allowed, require, require_ward
from core.security.refusals import attach, audited
from core.services import closure
from core.services.changes import check_unchanged
from core.services.incident_mapping import (
    action_info,
    action_row,
    detail_of,
    draft_of,
    facts_for,
    snapshot_of,
    write_draft,
    write_reviewed,
)
from core.services.validation import MAX_TEXT, validate_draft
from core.services.visibility import may_view, visible_incidents
from core.taxonomy import derive_pd09, load_taxonomy

HARM_CONFIRM_RULE = "harm-grading-confirm"  # the rule whose action confirm_harm completes


# ----- reading one incident (who may read it: core.services.visibility) ------------------------------------

def load_visible(session, actor: Actor, incident_id: str) -> Incident:
    # A role that reads no incidents is refused before anything is read (on a trust's server it may not even
    # SELECT from the table: migration 0013).
    inc = session.get(Incident, incident_id) if allowed(actor, "incident.view") else None
    if inc is None or not may_view(session, actor, incident_id):
        named = named_users(session, incident_id) if inc is not None else set()
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


def _keep_version(session, actor: Actor, inc: Incident, reason: str, extra: dict | None = None) -> None:
    """Keep the record as it is now, with the reason for the change (`extra` adds to the snapshot)."""
    snapshot = {**snapshot_of(session, inc), **(extra or {})}
    session.add(IncidentVersion(incident_id=inc.id, version=inc.version, snapshot=json.dumps(snapshot),
                                reason=reason, created_by=actor.user_id, created_at=now_db()))
    inc.version += 1


# ----- services -------------------------------------------------------------------

def create_draft(store: Store, actor: Actor, draft: IncidentDraft) -> IncidentDetail:
    """Start a report. It gets its reference now, so it can be quoted at once."""
    with unit_of_work(store) as session:
        inc = _create_in(session, actor, draft)
        session.commit()
        return detail_of(session, inc)


def _create_in(session, actor: Actor, draft: IncidentDraft, new_id: str | None = None) -> Incident:
    require(actor, "incident.create")
    require_ward(actor, draft.ward_id)
    errors = validate_draft(draft, for_submit=False)
    if errors:
        raise ValidationError(errors)
    now = now_db()
    inc = Incident(id=new_id or str(uuid.uuid4()), reference=next_reference(session, utcnow().year), ward_id=draft.ward_id,
                   reporter_id=actor.user_id, status="draft", created_at=now, updated_at=now, flags="[]",
                   taxonomy_version=load_taxonomy().version)
    session.add(inc)
    session.flush()
    write_draft(session, inc, draft)
    audit.record(session, actor, "incident.create", entity_type="incident", entity_id=inc.id,
                 detail={"reference": inc.reference, "status": "draft"})
    return inc


def update_incident(store: Store, actor: Actor, incident_id: str, draft: IncidentDraft, *,
                    reason: str = "", seen_version: int | None = None) -> IncidentDetail:
    """Save changes. A draft is the reporter's to change freely; after submission an edit needs the
    review permission and a reason, and the earlier version is kept. `seen_version`: the version the person
    opened; a newer one saved by someone else meanwhile refuses the save (ChangedElsewhere)."""
    with unit_of_work(store) as session:
        inc = _update_in(session, actor, incident_id, draft, reason, seen_version)
        session.commit()
        return detail_of(session, inc)


def _update_in(session, actor: Actor, incident_id: str, draft: IncidentDraft, reason: str = "",
               seen_version: int | None = None) -> Incident:
    inc = load_visible(session, actor, incident_id)
    check_unchanged(session, inc, seen_version)
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
    if inc.status == "draft":
        write_draft(session, inc, draft)
    else:
        _keep_version(session, actor, inc, reason.strip())
        write_reviewed(session, inc, draft)
    audit.record(session, actor, "incident.update", entity_type="incident", entity_id=inc.id,
                 detail={"status": inc.status, "version": inc.version})
    return inc


def actions_for(draft: IncidentDraft, reported_at: datetime, service_type: str | None = None) -> list[RequiredAction]:
    """The safeguarding actions the rules require for this draft (no store needed: the caller passes the ward's
    service type, WardInfo.service_type, so a CAMHS ward's presumption applies)."""
    return evaluate(facts_for(draft, reported_at, service_type), active_rules())


def kept_prompts(draft: IncidentDraft, kept_at: datetime, service_type: str | None = None) -> list[ActionInfo]:
    """The safeguarding steps for a report kept on this PC while the server is out of reach (issue 16 item 5):
    the same rules, run here, as the steps the prompts show after a send (ids are placeholders, negative: nothing
    is stored until the server has the report)."""
    rows = [action_row("", action, to_db(kept_at)) for action in actions_for(draft, kept_at, service_type)]
    for n, row in enumerate(rows, start=1):
        row.id, row.status = -n, "open"
    return [action_info(row, "", kept_at) for row in rows]


def submit(store: Store, actor: Actor, incident_id: str, *, now: datetime | None = None) -> IncidentDetail:
    """Validate, run the safeguarding rules, create the actions, mark submitted: one transaction."""
    with unit_of_work(store) as session:
        inc, reported = _submit_in(session, actor, incident_id, now)
        session.commit()
        return detail_of(session, inc, reported)


def submit_report(store: Store, actor: Actor, draft: IncidentDraft, incident_id: str | None = None, *,
                  now: datetime | None = None, send_id: str | None = None,
                  kept_at: str | None = None) -> IncidentDetail:
    """The nurse's Send, as one transaction: write the report (new, or the draft already started), run the
    safeguarding rules, create the actions, mark it submitted and clear the sender's autosaved form.

    Any failure rolls all of it back: nothing is half-sent, and the autosave still holds every word.
    `send_id` (a UUID the PC made when the report was first sent) makes sending a new report idempotent: a retry
    after a dropped connection, which may or may not have committed, finds the report already sent and returns
    it, never a second copy (issue 16 item 5). With `incident_id` (her draft already on the server) and `send_id`,
    a draft of hers already sent is returned as it is, never sent twice. `kept_at` (a report kept on her PC while
    the server was out of reach, sent later): only an autosaved form from before then is cleared, never the one
    she has started since.
    """
    new_id = _checked_send_id(send_id) if incident_id is None else None
    with unit_of_work(store) as session:
        if new_id is not None:
            sent = session.get(Incident, new_id)
            if sent is not None:
                if sent.reporter_id != actor.user_id or sent.status == "draft":
                    raise PermissionDenied("That report cannot be sent again from here. Call IT.")
                return detail_of(session, sent)
        elif send_id is not None:  # her draft already on the server, sent again: once sent, it is not sent twice
            sent = session.get(Incident, incident_id)
            if sent is not None and sent.reporter_id == actor.user_id and sent.status != "draft":
                return detail_of(session, sent)
        if incident_id is None:
            incident_id = _create_in(session, actor, draft, new_id).id
        else:
            _update_in(session, actor, incident_id, draft)
        session.flush()
        inc, reported = _submit_in(session, actor, incident_id, now)
        clear = delete(FormDraft).where(FormDraft.user_id == actor.user_id)
        session.execute(clear if kept_at is None else clear.where(FormDraft.updated_at <= kept_at))
        session.commit()
        return detail_of(session, inc, reported)


def _checked_send_id(send_id: str | None) -> str | None:
    if send_id is None:
        return None
    try:
        return str(uuid.UUID(send_id))
    except ValueError:
        raise ValidationError({"send_id": "The report's sending number is not valid. Call IT."}) from None


def _submit_in(session, actor: Actor, incident_id: str, now: datetime | None) -> tuple[Incident, datetime]:
    inc = load_visible(session, actor, incident_id)
    require(actor, "incident.create")
    if inc.status != "draft":
        raise ValidationError({"status": "This report has already been submitted."})
    if inc.reporter_id != actor.user_id:
        raise PermissionDenied("Only the person who started this draft can submit it.")
    draft = draft_of(session, inc)
    reported = now or utcnow()
    errors = validate_draft(draft, for_submit=True, now=reported)
    if errors:
        raise ValidationError(errors)
    rules = active_rules()
    required = evaluate(facts_for(draft, reported, ward_service_type(session, inc.ward_id)), rules)
    created = now_db()
    for action in required:
        session.add(action_row(inc.id, action, created))
    inc.status, inc.reported_at, inc.submitted_at = "submitted", to_db(reported), to_db(reported)
    inc.rules_version = getattr(rules, "version", None)
    audit.record(session, actor, "incident.submit", entity_type="incident", entity_id=inc.id,
                 detail={"reference": inc.reference, "actions": len(required), "restricted": inc.restricted})
    return inc, reported


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
                 note: str = "", *, seen_version: int | None = None) -> IncidentDetail:
    """A manager confirms (or changes) the incident's harm grading; clears the under-grading flag."""
    require(actor, "incident.review")
    tax = load_taxonomy()
    if not tax.has("harm_physical", physical) or not tax.has("harm_psychological", psychological):
        raise ValidationError({"harm": "Choose harm levels from the lists."})
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        require_ward(actor, inc.ward_id)
        check_unchanged(session, inc, seen_version)
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


def set_feedback(store: Store, actor: Actor, incident_id: str, note: str, *,
                 seen_version: int | None = None) -> IncidentDetail:
    """The manager's feedback to the reporter. The earlier text is kept as a version, so a colleague's newer
    feedback is never silently replaced (`seen_version`)."""
    require(actor, "incident.review")
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        require_ward(actor, inc.ward_id)
        check_unchanged(session, inc, seen_version)
        _keep_version(session, actor, inc, "feedback to the reporter changed")
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
