"""The safeguarding action queue: open actions across a manager's wards, reassign, add by hand (core layer).

Lists are paged and sorted and filtered in SQL (status+due index), so a store with 100,000 incidents
answers a page in milliseconds. Visibility is the one SQL predicate of core.services.visibility.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import aliased

from core.clock import LONDON, from_db, now_db, to_db, utcnow
from core.db import audit
from core.db.models import Incident, IncidentType, SafeguardingAction, User, UserWard, Ward
from core.db.store import Store, unit_of_work
from core.dto import ActionInfo, Actor
from core.errors import NotFound, ValidationError
from core.security.permissions import (
    ADMINISTRATOR,
    CLINICAL,
    ROLE_LABELS,
    SAFEGUARDING_LEAD,
    allowed,
    require,
    require_ward,
)
from core.services import closure
from core.services.incidents import MAX_TEXT, _keep_version, action_info, load_visible, refresh_police_referred
from core.services.visibility import may_view, status_column, visible_incidents

PAGE = 200
SORTS = ("due", "ward", "type", "owner", "incident")
OWNER_ROLES = ("nurse", "ward_manager", "safeguarding_lead")

@dataclass(frozen=True)
class QueueQuery:
    """Filters and sort for the queue. `owner` is a role code, or "user:<id>" for one person."""

    ward_id: int | None = None
    type_code: str | None = None
    owner: str | None = None
    due: str | None = None  # overdue | today | week | later
    sort: str = "due"
    descending: bool = False


@dataclass(frozen=True)
class QueueRow:
    action_id: int
    incident_id: str
    incident_reference: str
    ward_id: int
    ward_name: str
    types: tuple[str, ...]
    title: str
    owner_role: str
    owner_label: str
    assigned_user_id: str | None
    assigned_username: str
    mandatory: bool
    due_at: datetime
    group: str  # overdue | today | later
    rule_id: str | None
    restricted: bool

    @property
    def owner(self) -> str:
        return self.assigned_username or ROLE_LABELS.get(self.owner_role, self.owner_role)


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[QueueRow, ...]
    offset: int
    has_more: bool


@dataclass(frozen=True)
class Assignee:
    user_id: str
    username: str
    display_name: str
    role: str


@dataclass(frozen=True)
class QueueCounts:
    open: int
    overdue: int
    due_today: int
    by_ward: dict = field(default_factory=dict)


def london_day_bounds(now: datetime) -> tuple[str, str]:
    """(start of today, start of tomorrow) in Europe/London, as stored UTC text."""
    today = now.astimezone(LONDON).date()
    start = datetime.combine(today, time(0), LONDON)
    end = datetime.combine(today + timedelta(days=1), time(0), LONDON)
    return to_db(start), to_db(end)


def _group(due_text: str, now_text: str, tomorrow: str) -> str:
    return "overdue" if due_text < now_text else "today" if due_text < tomorrow else "later"


# ----- queries ----------------------------------------------------------------------

def _queue_filter(session, actor: Actor, q: QueueQuery, now: datetime):
    now_text = to_db(now)
    _start, tomorrow = london_day_bounds(now)
    conds = [SafeguardingAction.status == "open", status_column(session) != "draft",
             visible_incidents(session, actor, ward_id=q.ward_id, ward_index=False)]
    if q.type_code:
        conds.append(select(IncidentType.incident_id).where(IncidentType.incident_id == Incident.id,
                                                            IncidentType.code == q.type_code).exists())
    if q.owner:
        if q.owner.startswith("user:"):
            conds.append(SafeguardingAction.assigned_user_id == q.owner[5:])
        else:
            conds.append(and_(SafeguardingAction.owner_role == q.owner, SafeguardingAction.assigned_user_id.is_(None)))
    if q.due == "overdue":
        conds.append(SafeguardingAction.due_at < now_text)
    elif q.due == "today":
        conds.append(and_(SafeguardingAction.due_at >= now_text, SafeguardingAction.due_at < tomorrow))
    elif q.due == "week":
        conds.append(SafeguardingAction.due_at < to_db(now + timedelta(days=7)))
    elif q.due == "later":
        conds.append(SafeguardingAction.due_at >= tomorrow)
    elif q.due:
        raise ValidationError({"due": "Choose overdue, today, this week or later."})
    return and_(*conds)


def _check_query(q: QueueQuery) -> None:
    if q.sort not in SORTS:
        raise ValidationError({"sort": "Sort by due date, ward, type, owner or incident."})


def list_queue(store: Store, actor: Actor, query: QueueQuery = QueueQuery(), *, offset: int = 0,
               limit: int = PAGE, now: datetime | None = None) -> QueuePage:
    """One page of open actions the actor may see, overdue first (due date order) unless sorted otherwise."""
    require(actor, "action.update")
    _check_query(query)
    now = now or utcnow()
    assignee = aliased(User)
    first_type = (select(func.min(IncidentType.code)).where(IncidentType.incident_id == Incident.id)
                  .correlate(Incident).scalar_subquery())
    owner_key = func.coalesce(assignee.username, SafeguardingAction.owner_role)
    key = {"due": SafeguardingAction.due_at, "ward": Ward.name, "type": first_type, "owner": owner_key,
           "incident": Incident.reference}[query.sort]
    order = [key.desc() if query.descending else key.asc()]
    if query.sort != "due":
        order.append(SafeguardingAction.due_at.asc())
    order.append(SafeguardingAction.id.asc())
    with unit_of_work(store, write=False) as session:
        # Step 1 sorts and pages action ids over indexes only; step 2 reads the page's details.
        ids_stmt = (select(SafeguardingAction.id)
                    .join(Incident, Incident.id == SafeguardingAction.incident_id)
                    .where(_queue_filter(session, actor, query, now)))
        if query.sort == "ward":
            ids_stmt = ids_stmt.join(Ward, Ward.id == Incident.ward_id)
        if query.sort == "owner":
            ids_stmt = ids_stmt.outerjoin(assignee, assignee.id == SafeguardingAction.assigned_user_id)
        page_ids = list(session.scalars(ids_stmt.order_by(*order).offset(max(offset, 0)).limit(limit + 1)))
        more, page_ids = len(page_ids) > limit, page_ids[:limit]
        stmt = (select(SafeguardingAction.id, SafeguardingAction.incident_id, Incident.reference, Incident.ward_id,
                       Ward.name, SafeguardingAction.title, SafeguardingAction.owner_role,
                       SafeguardingAction.owner_label, SafeguardingAction.assigned_user_id,
                       func.coalesce(assignee.username, literal("")), SafeguardingAction.mandatory,
                       SafeguardingAction.due_at, SafeguardingAction.rule_id, Incident.restricted)
                .join(Incident, Incident.id == SafeguardingAction.incident_id)
                .join(Ward, Ward.id == Incident.ward_id)
                .outerjoin(assignee, assignee.id == SafeguardingAction.assigned_user_id)
                .where(SafeguardingAction.id.in_(page_ids)))
        by_id = {r[0]: r for r in session.execute(stmt)} if page_ids else {}
        raw = [by_id[i] for i in page_ids if i in by_id]
        types = _types_for(session, {r[1] for r in raw})
    now_text, (_s, tomorrow) = to_db(now), london_day_bounds(now)
    rows = tuple(QueueRow(r[0], r[1], r[2], r[3], r[4], types.get(r[1], ()), r[5], r[6], r[7], r[8], r[9],
                          bool(r[10]), from_db(r[11]), _group(r[11], now_text, tomorrow), r[12], bool(r[13]))
                 for r in raw)
    return QueuePage(rows, offset, more)


def _types_for(session, incident_ids) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    ids = list(incident_ids)
    for start in range(0, len(ids), 500):
        for inc_id, code in session.execute(select(IncidentType.incident_id, IncidentType.code)
                                            .where(IncidentType.incident_id.in_(ids[start:start + 500]))
                                            .order_by(IncidentType.code)):
            found.setdefault(inc_id, []).append(code)
    return {k: tuple(v) for k, v in found.items()}


def queue_counts(store: Store, actor: Actor, query: QueueQuery = QueueQuery(), *,
                 now: datetime | None = None) -> QueueCounts:
    """How many open actions match, how many are overdue and how many are due later today."""
    require(actor, "action.update")
    now = now or utcnow()
    now_text, (_s, tomorrow) = to_db(now), london_day_bounds(now)
    with unit_of_work(store, write=False) as session:
        base = (select(func.count(),
                       func.sum(case((SafeguardingAction.due_at < now_text, 1), else_=0)),
                       func.sum(case((and_(SafeguardingAction.due_at >= now_text,
                                               SafeguardingAction.due_at < tomorrow), 1), else_=0)))
                .select_from(SafeguardingAction).join(Incident, Incident.id == SafeguardingAction.incident_id)
                .where(_queue_filter(session, actor, query, now)))
        total, overdue, today = session.execute(base).one()
    return QueueCounts(total or 0, overdue or 0, today or 0)


def overdue_count(store: Store, actor: Actor, *, now: datetime | None = None) -> int:
    """Open actions past their deadline on the actor's wards (0 for roles without actions)."""
    if actor.role == ADMINISTRATOR or not allowed(actor, "action.update"):
        return 0
    now = now or utcnow()
    with unit_of_work(store, write=False) as session:
        return session.scalar(
            select(func.count()).select_from(SafeguardingAction)
            .join(Incident, Incident.id == SafeguardingAction.incident_id)
            .where(SafeguardingAction.status == "open", SafeguardingAction.due_at < to_db(now),
                   Incident.status != "draft", visible_incidents(session, actor))) or 0


# ----- changes -----------------------------------------------------------------------

def _load_action(session, actor: Actor, action_id: int) -> tuple[SafeguardingAction, Incident]:
    action = session.get(SafeguardingAction, action_id)
    if action is None:
        raise NotFound("That action does not exist.")
    inc = load_visible(session, actor, action.incident_id)
    require_ward(actor, inc.ward_id)
    return action, inc


def _as_actor(session, user: User) -> Actor:
    wards = tuple(session.scalars(select(UserWard.ward_id).where(UserWard.user_id == user.id)))
    return Actor(user.id, user.username, user.role, wards, "")


def _may_own(session, user: User, inc: Incident) -> bool:
    who = _as_actor(session, user)
    on_ward = user.role == SAFEGUARDING_LEAD or inc.ward_id in who.ward_ids
    return user.active and user.role in CLINICAL and on_ward and may_view(session, who, inc.id)


def assignable_users(store: Store, actor: Actor, action_id: int) -> list[Assignee]:
    """People an action may be given to: active clinical staff on its ward who may see the incident."""
    require(actor, "action.manage")
    with unit_of_work(store, write=False) as session:
        _action, inc = _load_action(session, actor, action_id)
        users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)).all()
        return [Assignee(u.id, u.username, u.display_name, u.role) for u in users if _may_own(session, u, inc)]


def reassign_action(store: Store, actor: Actor, action_id: int, *, user_id: str | None = None,
                    role: str | None = None) -> ActionInfo:
    """Give an open action to one person (who must be able to see the incident) or back to a role."""
    require(actor, "action.manage")
    if bool(user_id) == bool(role):
        raise ValidationError({"owner": "Choose either a person or a role."})
    if role and role not in OWNER_ROLES:
        raise ValidationError({"owner": "Choose nurse, ward manager or safeguarding lead."})
    with unit_of_work(store) as session:
        action, inc = _load_action(session, actor, action_id)
        if action.status != "open":
            raise ValidationError({"status": "This action is already finished."})
        if user_id:
            user = session.get(User, user_id)
            if user is None or not _may_own(session, user, inc):
                raise ValidationError({"owner": "That person cannot take this action: they must work on the "
                                                "ward and be allowed to see the incident."})
            action.assigned_user_id = user.id
        else:
            action.owner_role, action.assigned_user_id = role, None
            action.owner_label = ROLE_LABELS[role]
        audit.record(session, actor, "action.reassign", entity_type="action", entity_id=str(action.id),
                     detail={"incident": inc.id, "user": user_id, "role": role})
        session.commit()
        return action_info(action, inc.reference)


def add_action(store: Store, actor: Actor, incident_id: str, *, title: str, owner_role: str, due_at: datetime,
               guidance: str = "", mandatory: bool = True) -> ActionInfo:
    """Add a safeguarding action by hand to a submitted incident."""
    require(actor, "action.manage")
    errors = {}
    if not title.strip():
        errors["title"] = "Say what needs doing."
    elif len(title.strip()) > 200:
        errors["title"] = "Keep the action under 200 characters; put detail in the guidance."
    if owner_role not in OWNER_ROLES:
        errors["owner"] = "Choose nurse, ward manager or safeguarding lead."
    if not isinstance(due_at, datetime) or due_at.tzinfo is None:
        errors["due_at"] = "Give a due date."
    if errors:
        raise ValidationError(errors)
    with unit_of_work(store) as session:
        inc = load_visible(session, actor, incident_id)
        require_ward(actor, inc.ward_id)
        if inc.status in ("draft", "closed"):
            raise ValidationError({"status": "Actions can be added to a submitted incident that is not closed."})
        action = SafeguardingAction(
            incident_id=inc.id, rule_id=None, title=title.strip(), guidance=guidance.strip()[:MAX_TEXT],
            why="Added by hand.", source=f"Added by {actor.username}", owner_role=owner_role,
            owner_label=ROLE_LABELS[owner_role], mandatory=mandatory, deadline_kind="by_hand",
            due_at=to_db(due_at), status="open", created_at=now_db())
        session.add(action)
        session.flush()
        audit.record(session, actor, "action.add", entity_type="action", entity_id=str(action.id),
                     detail={"incident": inc.id, "mandatory": mandatory})
        session.commit()
        return action_info(action, inc.reference)


def reopen_action(store: Store, actor: Actor, action_id: int, reason: str) -> ActionInfo:
    """A ward manager or the lead reopens a completed or not-applicable action, with a reason of at least a
    sentence. What the action said when it was finished (status, note, reference, who and when) is kept in the
    incident's versions with the reason, then the action is open again with its original due time."""
    require(actor, "action.manage")
    problems = closure.reason_problems(reason, "say why this action is being reopened.")
    if problems:
        raise ValidationError(problems)
    with unit_of_work(store) as session:
        action, inc = _load_action(session, actor, action_id)
        if inc.status == "closed":
            raise ValidationError({"status": "This incident is closed. Reopen the incident first, then the action."})
        if action.status == "open":
            raise ValidationError({"status": "This action is open already."})
        finished = {"action_id": action.id, "rule_id": action.rule_id, "title": action.title,
                    "status": action.status, "note": action.note, "reference": action.reference,
                    "completed_at": action.completed_at, "completed_by": action.completed_by}
        _keep_version(session, actor, inc, f"Action reopened: {reason.strip()}"[:MAX_TEXT],
                      {"reopened_action": finished})
        previous = action.status
        action.status, action.note, action.reference = "open", "", ""
        action.completed_at = action.completed_by = None
        inc.updated_at = now_db()
        refresh_police_referred(session, inc)
        audit.record(session, actor, "action.reopen", entity_type="action", entity_id=str(action.id),
                     detail={"incident": inc.id, "rule": action.rule_id, "from": previous,
                             "version": inc.version})
        session.commit()
        return action_info(action, inc.reference)


def ward_choices(store: Store, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the wards the actor works on (every active ward for the safeguarding lead)."""
    with unit_of_work(store, write=False) as session:
        stmt = select(Ward.id, Ward.name).where(Ward.active.is_(True)).order_by(Ward.name)
        if actor.role != SAFEGUARDING_LEAD:
            stmt = stmt.where(Ward.id.in_(actor.ward_ids or (-1,)))
        return [(w_id, name) for w_id, name in session.execute(stmt)]
