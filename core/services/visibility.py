"""Who may read an incident, as one SQL predicate used by every list and every single read (core layer).

Every read path goes through `visible_incidents` (a WHERE clause; it reads the store, never writes or commits):
single reads (`may_view`, so incidents.load_visible), my incidents, the review list, the queue and its counts,
the overdue count, the dashboard and report summary (review.incident_filter), and every export (the ids in the
export's own set-based query, the re-export flags and the reference look-up). There is no second copy of the
rule in Python; tests/core/services/test_visibility_paths.py drives random stores and actors through all of them.

- Administrators never read incidents.
- A restricted incident (core.taxonomy.is_restricted, stored on the row when it is written) is read only by the
  safeguarding lead and the ward managers of its ward, and by its reporter (who wrote it and must submit it).
- Anyone else clinical reads the incidents of their wards (the lead: every ward), and the reporter their own.
- An unsubmitted draft is its author's alone.
- Staff named in a record (a person involved linked to their account) never read it, whatever their role.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select, true

from core.db.models import Incident, PersonInvolved
from core.dto import Actor
from core.security.permissions import SAFEGUARDING_LEAD, allowed


def visible_incidents(session, actor: Actor, *, ward_id: int | None = None, ward_only: bool = True,
                      ward_index: bool = True):
    """A WHERE clause on Incident: the incidents `actor` may read.

    `ward_only` drops the "reporter keeps their own report" case: queues and dashboards are about wards.
    `ward_id` narrows to one ward (which must be the actor's, or nothing matches). `ward_index=False`
    writes the ward test as `ward_id + 0`, so SQLite drives the query from another index (dates, actions).
    """
    if not allowed(actor, "incident.view"):
        return false()
    # `ward_id + 0` steers SQLite's planner to another index; PostgreSQL's planner needs no steering, and there the
    # expression would hide the ward index itself (a sequential scan of every incident: docs/performance.md).
    ward_col = Incident.ward_id if ward_index or on_server(session) else Incident.ward_id + 0
    on_ward = true() if actor.role == SAFEGUARDING_LEAD else ward_col.in_(actor.ward_ids or (-1,))
    ward_ok = and_(on_ward, status_column(session) != "draft")
    if not allowed(actor, "incident.view_restricted"):
        ward_ok = and_(ward_ok, Incident.restricted.is_(False))
    clause = ward_ok if ward_only else or_(ward_ok, Incident.reporter_id == actor.user_id)
    named = list(session.scalars(select(PersonInvolved.incident_id).where(
        PersonInvolved.linked_user_id == actor.user_id)))
    if named:
        clause = and_(clause, Incident.id.not_in(named))
    if ward_id is not None:
        clause = and_(clause, ward_col == ward_id)
    return clause


def on_server(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def status_column(session):
    """`status || ''` keeps SQLite from choosing the status index over the ward, date or action index; on a server
    the plain column, so PostgreSQL's estimates (and its choice of the ward and date index) stay right."""
    return Incident.status if on_server(session) else Incident.status.concat("")


def may_view(session, actor: Actor, incident_id: str) -> bool:
    """Whether `actor` may read this one incident: the same predicate as every list (reporter included). An
    account still on its temporary password reads nothing until it has changed it (as `require` says)."""
    if actor.must_change_password or not allowed(actor, "incident.view"):
        return False
    found = session.scalar(select(Incident.id).where(Incident.id == incident_id,
                                                     visible_incidents(session, actor, ward_only=False)))
    return found is not None
