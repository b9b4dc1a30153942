"""Review services: the paged incident list, an incident's history, and the restricted-record view log (core layer).

The list is sorted, filtered and paged in SQL. History and the view log come from the audit trail, which holds
codes and ids only, never the text of a report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select

from core.clock import LONDON, from_db, to_db, utcnow
from core.db import audit
from core.db.models import (
    AuditEvent,
    Incident,
    IncidentType,
    IncidentVersion,
    PersonInvolved,
    SafeguardingAction,
    User,
    Ward,
)
from core.db.store import Store, unit_of_work
from core.dto import Actor, VersionInfo
from core.errors import PermissionDenied, ValidationError
from core.security.permissions import allowed, require
from core.security.refusals import REFUSED, attach, audited
from core.services.incidents import load_visible
from core.services.queue import PAGE, _types_for, visible_incidents
from core.services.visibility import status_column

UNRECORDED = "unrecorded"  # the filter value for "not recorded" (no shift, no location, not graded)
REPORTED = ("submitted", "in_review", "closed")
STATUS_FILTERS = ("open", "submitted", "in_review", "closed")
INCIDENT_SORTS = ("occurred", "reference", "ward", "status")
EVENT_LABELS = {
    "incident.create": "Report started", "incident.update": "Record edited", "incident.submit": "Report submitted",
    "incident.review": "Review started", "incident.close": "Closed", "incident.reopen": "Reopened",
    "incident.harm_confirm": "Harm grading confirmed", "incident.feedback": "Feedback to reporter saved",
    "incident.view": "Record opened", "incident.view_versions": "Earlier versions opened",
    "action.complete": "Action completed", "action.not_applicable": "Action marked not applicable",
    "action.reassign": "Action reassigned", "action.add": "Action added by hand",
}
VIEW_EVENTS = ("incident.view", "incident.view_versions")


@dataclass(frozen=True)
class IncidentQuery:
    """Filters for the incident list. Dates are Europe/London calendar days, both inclusive.
    For shift, location and harm, `UNRECORDED` matches records where it is not recorded."""

    ward_id: int | None = None
    status: str | None = None  # None: every reported incident; "open": submitted or in review
    type_code: str | None = None
    pair: str | None = None
    shift: str | None = None
    location: str | None = None
    harm_physical: str | None = None
    harm_psychological: str | None = None
    month: str | None = None  # "YYYY-MM", Europe/London
    date_from: date | None = None
    date_to: date | None = None
    needs_harm_confirmation: bool = False
    restricted_only: bool = False
    police_referred: bool | None = None
    local_ref: str | None = None
    service_type: str | None = None  # one service line: the wards of that service type (issue 16 item 6)
    sort: str = "occurred"
    descending: bool = True


@dataclass(frozen=True)
class IncidentRow:
    incident_id: str
    reference: str
    ward_name: str
    status: str
    types: tuple[str, ...]
    occurred_at: datetime | None
    pair: str | None
    harm_physical: str | None
    harm_psychological: str | None
    restricted: bool
    harm_confirmation_needed: bool
    open_actions: int
    overdue_actions: int


@dataclass(frozen=True)
class IncidentPage:
    rows: tuple[IncidentRow, ...]
    offset: int
    has_more: bool


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    username: str
    event: str
    label: str
    detail: str


@dataclass(frozen=True)
class ViewLogRow:
    at: datetime
    username: str
    event: str
    incident_id: str
    incident_reference: str
    ward_name: str
    workstation: str


# ----- periods --------------------------------------------------------------------

def day_start(day: date) -> str:
    """Midnight at the start of a Europe/London day, as stored UTC text."""
    return to_db(datetime.combine(day, time(0), LONDON))


def month_bounds(month: str) -> tuple[str, str]:
    try:
        year, mon = (int(part) for part in month.split("-"))
        first = date(year, mon, 1)
    except ValueError:
        raise ValidationError({"month": "Give the month as YYYY-MM."}) from None
    following = date(year + (mon == 12), mon % 12 + 1, 1)
    return day_start(first), day_start(following)


def _eq_or_unrecorded(column, value):
    return column.is_(None) if value == UNRECORDED else column == value


# Breakdown values a query may narrow to, each the name of an Incident column and an IncidentQuery field.
_BREAKDOWNS = ("pair", "shift", "location", "harm_physical", "harm_psychological")


def _status_clause(session, wanted: str | None):
    status = status_column(session)
    if wanted is None:
        return status.in_(REPORTED)
    if wanted == "open":
        return status.in_(("submitted", "in_review"))
    if wanted in STATUS_FILTERS:
        return status == wanted
    raise ValidationError({"status": "Choose a status from the list."})


def _period_clauses(q: IncidentQuery) -> list:
    conds = []
    if q.date_from:
        conds.append(Incident.occurred_at >= day_start(q.date_from))
    if q.date_to:
        conds.append(Incident.occurred_at < day_start(q.date_to + timedelta(days=1)))
    if q.month:
        start, end = month_bounds(q.month)
        conds += [Incident.occurred_at >= start, Incident.occurred_at < end]
    return conds


def incident_filter(session, actor: Actor, q: IncidentQuery, *, ward_index: bool = True):
    """The WHERE clause for a query: visibility, ward, status, period and the chosen breakdown value.

    Status is compared as `status || ''` so SQLite (which has no statistics here) does not pick the
    ward+status index and sort everything; it walks the covering date indexes instead (migration 0003).
    """
    conds = [visible_incidents(session, actor, ward_id=q.ward_id, ward_index=ward_index), _status_clause(session, q.status)]
    conds += _period_clauses(q)
    if q.type_code:
        # A correlated EXISTS probes the (incident_id, code) key for each candidate row, so a first page stops
        # early; IN (...) would first collect every incident of that type.
        conds.append(select(IncidentType.incident_id).where(IncidentType.incident_id == Incident.id,
                                                            IncidentType.code == q.type_code).exists())
    conds += [_eq_or_unrecorded(getattr(Incident, name), getattr(q, name)) for name in _BREAKDOWNS if getattr(q, name)]
    if q.needs_harm_confirmation:
        conds.append(Incident.harm_confirmation_needed.is_(True))
    if q.restricted_only:
        conds.append(Incident.restricted.is_(True))
    if q.police_referred is not None:
        conds.append(Incident.police_referred.is_(q.police_referred))
    if q.local_ref:
        conds.append(Incident.id.in_(select(PersonInvolved.incident_id).where(
            PersonInvolved.local_ref == q.local_ref.strip())))
    if q.service_type:
        conds.append(Incident.ward_id.in_(select(Ward.id).where(Ward.service_type == q.service_type)))
    return and_(*conds)


# ----- services ----------------------------------------------------------------------

@audited
def list_incidents(store: Store, actor: Actor, query: IncidentQuery = IncidentQuery(), *, offset: int = 0,
                   limit: int = PAGE, now: datetime | None = None) -> IncidentPage:
    """One page of the incidents the actor may review, newest first unless sorted otherwise."""
    require(actor, "incident.review")
    if query.sort not in INCIDENT_SORTS:
        raise ValidationError({"sort": "Sort by date, reference, ward or status."})
    key = {"occurred": Incident.occurred_at, "reference": Incident.reference, "ward": Ward.name,
           "status": Incident.status}[query.sort]
    order = [key.desc() if query.descending else key.asc()]
    if query.sort != "occurred":
        order.append(Incident.occurred_at.desc())
    order.append(Incident.id)
    now_text = to_db(now or utcnow())
    with unit_of_work(store, write=False) as session:
        stmt = (select(Incident.id, Incident.reference, Ward.name, Incident.status, Incident.occurred_at,
                       Incident.pair, Incident.harm_physical, Incident.harm_psychological, Incident.restricted,
                       Incident.harm_confirmation_needed)
                .join(Ward, Ward.id == Incident.ward_id)
                # Date or reference order: walk that index and stop after one page, rather than sort every match.
                .where(incident_filter(session, actor, query, ward_index=query.sort in ("ward", "status")))
                .order_by(*order).offset(max(offset, 0)).limit(limit + 1))
        raw = session.execute(stmt).all()
        more, raw = len(raw) > limit, raw[:limit]
        ids = [r[0] for r in raw]
        types = _types_for(session, ids)
        counts: dict[str, tuple[int, int]] = {}
        if ids:
            for inc_id, n_open, n_overdue in session.execute(
                    select(SafeguardingAction.incident_id, func.count(),
                           func.sum(case((SafeguardingAction.due_at < now_text, 1), else_=0)))
                    .where(SafeguardingAction.incident_id.in_(ids), SafeguardingAction.status == "open")
                    .group_by(SafeguardingAction.incident_id)):
                counts[inc_id] = (n_open, n_overdue or 0)
    rows = tuple(IncidentRow(r[0], r[1], r[2], r[3], types.get(r[0], ()), from_db(r[4]), r[5], r[6], r[7],
                             bool(r[8]), bool(r[9]), *counts.get(r[0], (0, 0))) for r in raw)
    return IncidentPage(rows, offset, more)


def _usernames(session, ids) -> dict[str, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


@audited
def incident_history(store: Store, actor: Actor, incident_id: str) -> list[HistoryRow]:
    """What happened to one incident and its actions, oldest first, from the audit trail (views left out:
    the safeguarding lead sees those in the restricted-record view log)."""
    require(actor, "incident.review")
    with unit_of_work(store, write=False) as session:
        inc = load_visible(session, actor, incident_id)
        action_ids = [str(i) for i in session.scalars(select(SafeguardingAction.id).where(
            SafeguardingAction.incident_id == inc.id))]
        events = session.scalars(select(AuditEvent).where(
            or_(and_(AuditEvent.entity_type == "incident", AuditEvent.entity_id == inc.id),
                and_(AuditEvent.entity_type == "action", AuditEvent.entity_id.in_(action_ids))),
            AuditEvent.action.not_in(VIEW_EVENTS + (REFUSED,))).order_by(AuditEvent.id)).all()
        return [HistoryRow(from_db(e.at), e.username, e.action, EVENT_LABELS.get(e.action, e.action),
                           _detail_text(e)) for e in events]


def _detail_text(event: AuditEvent) -> str:
    detail = json.loads(event.detail or "{}")
    detail.pop("incident", None)
    if event.entity_type == "action":
        detail = {"action": event.entity_id, **detail}
    return ", ".join(f"{k}: {v}" for k, v in sorted(detail.items()) if v not in (None, ""))


@dataclass(frozen=True)
class IncidentVersions:
    """An incident's earlier versions, oldest first, and the username of whoever saved each (by user id)."""

    versions: list[VersionInfo]
    authors: dict[str, str]


def incident_versions(store: Store, actor: Actor, incident_id: str) -> IncidentVersions:
    """The review screen's Versions tab in one transaction: the versions, who saved them, and the audit row for
    the reading (issue 15 item 1: one user action, one service, one transaction)."""
    require(actor, "incident.review")
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        rows = session.scalars(select(IncidentVersion).where(IncidentVersion.incident_id == inc.id)
                               .order_by(IncidentVersion.version)).all()
        versions = [VersionInfo(v.version, from_db(v.created_at), v.created_by, v.reason, json.loads(v.snapshot))
                    for v in rows]
        authors = _usernames(session, {v.created_by for v in versions})
        audit.record(session, actor, "incident.view_versions", entity_type="incident", entity_id=inc.id)
        session.commit()
        return IncidentVersions(versions, authors)


@audited
def restricted_view_log(store: Store, actor: Actor, *, incident_id: str | None = None, offset: int = 0,
                        limit: int = PAGE) -> list[ViewLogRow]:
    """Who opened each restricted record and when, newest first. For the safeguarding lead only.
    Reading the log is itself audited."""
    require(actor, "audit.view")
    if not allowed(actor, "incident.view_restricted"):
        raise attach(PermissionDenied("Only the safeguarding lead can see who opened restricted records."), actor,
                     "audit.view_restricted_log", "role")
    with unit_of_work(store) as session:
        stmt = (select(AuditEvent.at, AuditEvent.username, AuditEvent.action, Incident.id, Incident.reference,
                       Ward.name, AuditEvent.workstation)
                .join(Incident, and_(AuditEvent.entity_type == "incident", Incident.id == AuditEvent.entity_id))
                .join(Ward, Ward.id == Incident.ward_id)
                .where(Incident.restricted.is_(True), AuditEvent.action.in_(VIEW_EVENTS + (REFUSED,)))
                .order_by(AuditEvent.id.desc()).offset(max(offset, 0)).limit(limit))
        if incident_id:
            stmt = stmt.where(Incident.id == incident_id)
        rows = [ViewLogRow(from_db(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in session.execute(stmt)]
        audit.record(session, actor, "audit.view_restricted_log", entity_type="incident",
                     entity_id=incident_id or "", detail={"rows": len(rows)})
        session.commit()
        return rows
