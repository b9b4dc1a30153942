"""Queries about incidents: the police-referral clauses, the stored summaries' check, references (core layer).

Each takes the caller's session and never commits. `Incident.police_referred`, `Incident.type_codes` (migration
0006) and `Incident.people_refs` (migration 0024) are summaries of an incident's child rows, kept by the services
so the dashboard counts from one table; `stale_summaries` is the store check that they still agree.
"""

from __future__ import annotations

import itertools

from sqlalchemy import and_, literal_column, or_, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db.models import Incident, PersonInvolved, ReferenceCounter, SafeguardingAction, Ward

POLICE_RULE_PREFIX = "police-"
POLICE_ALWAYS_RULE = "police-inform-staff-alleged"


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


# `people_refs`: the incident's people who have a reference, each "reference<US>role<US>type", distinct, sorted by
# code point, joined by <RS>; references cannot hold control characters (core.services.validation), so it splits
# back exactly. Past PEOPLE_REFS_LIMIT characters it is TOO_MANY_PEOPLE and the dashboard reads that incident's
# people from their own table (an index entry has a size limit on a server; an incident of a dozen people is rare).
# Migration 0024's backfill computes the same in SQL.
UNIT, RECORD, PEOPLE_REFS_LIMIT, TOO_MANY_PEOPLE = "\x1f", "\x1e", 1000, "*"


def people_refs(people) -> str:
    """The `people_refs` summary of (local_ref, role, person_type) triples, as the SQL below writes it."""
    text = RECORD.join(sorted({UNIT.join(p) for p in people if p[0]}))
    return TOO_MANY_PEOPLE if len(text) > PEOPLE_REFS_LIMIT else text


def stale_summaries(session) -> int:
    """How many incidents' summary columns disagree with their child rows (store check; should be none)."""
    aggregate = "string_agg" if session.get_bind().dialect.name == "postgresql" else "group_concat"
    type_codes = literal_column(f"coalesce((SELECT {aggregate}(t.code, ' ' ORDER BY t.code) FROM incident_types t "
                                "WHERE t.incident_id = incidents.id), '')")
    stale = set(session.scalars(select(Incident.id).where(or_(
        Incident.type_codes != type_codes, Incident.police_referred != police_referred_clause()))))
    return len(stale | _stale_people_refs(session))


def _stale_people_refs(session) -> set[str]:
    """Incidents whose `people_refs` is not what `people_refs` makes of their people rows: one ordered pass over
    the incidents and their referenced people, a stream (memory does not grow with the store)."""
    rows = session.connection().execute(
        select(Incident.id, Incident.people_refs, PersonInvolved.local_ref, PersonInvolved.role,
               PersonInvolved.person_type)
        .outerjoin(PersonInvolved, and_(PersonInvolved.incident_id == Incident.id, PersonInvolved.local_ref != ""))
        .order_by(Incident.id), execution_options={"yield_per": 10_000})
    stale = set()
    for incident_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        group = list(group)
        if group[0][1] != people_refs(row[2:] for row in group if row[2] is not None):
            stale.add(incident_id)
    return stale


def refresh_police_referred(session, inc: Incident) -> None:
    """Recompute `inc.police_referred` from its people and actions. Every service that writes either calls it."""
    session.flush()
    inc.police_referred = bool(session.scalar(select(police_referred_clause()).where(Incident.id == inc.id)))


def named_users(session, incident_id: str) -> set[str]:
    """The accounts linked to people involved in this incident (staff named in it)."""
    return set(session.scalars(select(PersonInvolved.linked_user_id).where(
        PersonInvolved.incident_id == incident_id, PersonInvolved.linked_user_id.is_not(None))))


def ward_service_type(session, ward_id: int) -> str | None:
    """The ward's service type from its row (e.g. "camhs"), or None when there is no such ward."""
    return session.scalar(select(Ward.service_type).where(Ward.id == ward_id))


def _take_number(session, year: int) -> int:
    """The year's next number: on the embedded store, the counter row plus one, in one statement (an upsert inside
    the write transaction, which holds the store's write lock); on a server, the year's sequence (issue 16
    item 4: PCs sending at once never queue for it)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # the year's own sequence, which never waits for another PC (migration 0021)
        return session.execute(text("SELECT lantern_next_number(:y)"), {"y": year}).scalar_one()
    table = ReferenceCounter.__table__
    statement = (sqlite_insert(table).values(year=year, last_number=1)
                 .on_conflict_do_update(index_elements=[table.c.year], set_={"last_number": table.c.last_number + 1})
                 .returning(table.c.last_number))
    return session.execute(statement).scalar_one()


def next_reference(session, year: int) -> str:
    """Take the year's next number from its counter row, inside the caller's write transaction.

    References are never parsed back from text (demo references like `LAN-2026-D000300` share the store), nor
    taken from max(): a counter row per year on the embedded store, a sequence per year on a server. A number
    already used by some other path (a restored, moved or hand-made record) is skipped, never reused.
    """
    while True:
        reference = f"LAN-{year}-{_take_number(session, year):05d}"
        if session.scalar(select(Incident.id).where(Incident.reference == reference)) is None:
            return reference
