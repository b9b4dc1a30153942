"""The audit trail: append-only, hash-chained, written in the caller's transaction (the database layer: it writes
ORM rows, so it lives with core.db; it moved here from core.security, which sits below the database).

Each event's hash is SHA-256 over its fields and the previous event's hash. The
`audit_head` row remembers the newest id and hash so a deleted tail is detected.
Every backup's manifest keeps an anchor (its newest event's id and hash) outside the store, and so does the key-slot
file (written at every sign-out and lock, under the file's HMAC); `anchor_problem` and `key_file_anchor_problem`
compare the live trail with them, so a tail cut back past either is seen even with `audit_head` rewritten.
The database's own protection (triggers refusing UPDATE and DELETE) is checked against `PROTECTIVE_TRIGGERS`.
Details are codes and ids only, never patient text.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from core.clock import now_db
from core.db.models import AuditArchive, AuditEvent, AuditHead
from core.dto import Actor

GENESIS = "0" * 64
# Every trigger a store must have, with the exact SQL its migration wrote (core/db/migrations/versions/0001;
# tests/security/test_sec_check_damage.py keeps the two in step). `trigger_problems` compares sqlite_master with it.
PROTECTIVE_TRIGGERS = {
    "audit_events_no_update": "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                              "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "audit_events_no_delete": "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
                              "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
}


def _digest(fields: dict, *, ascii_only: bool = True) -> str:
    """SHA-256 over the fields as JSON with sorted keys and no spaces. The embedded store escapes non-ASCII
    characters (\\uXXXX); the PostgreSQL server's trigger (migration 0014) writes them as UTF-8 (`ascii_only=False`)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=ascii_only)
    return hashlib.sha256(text.encode()).hexdigest()


def server_writes_chain(session: Session) -> bool:
    """On PostgreSQL the server numbers, dates, signs and hashes each event itself (migration 0014)."""
    return session.get_bind().dialect.name == "postgresql"


# On a server the transaction's events go in just before it commits, not where they are recorded: adding one takes
# the chain's head under a row lock until commit, and taken early it made every PC's Send wait for every other's
# whole transaction. The events keep their order; a rolled-back transaction drops them with everything else.
PENDING = "lantern_pending_audit"


@event.listens_for(Session, "before_commit")
def _insert_pending(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if rows:
        session.execute(insert(AuditEvent.__table__), rows)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


def _fields(ev: AuditEvent) -> dict:
    return {
        "id": ev.id, "at": ev.at, "user_id": ev.user_id, "username": ev.username, "action": ev.action,
        "entity_type": ev.entity_type, "entity_id": ev.entity_id, "outcome": ev.outcome,
        "workstation": ev.workstation, "detail": ev.detail, "prev_hash": ev.prev_hash,
    }


def record(session: Session, actor: Actor | None, action: str, *, entity_type: str = "",
           entity_id: str = "", outcome: str = "ok", detail: dict | None = None,
           username: str = "", workstation: str = "", at: str | None = None) -> AuditEvent | None:
    """Add one audit event to `session`'s transaction. The caller commits (or everything rolls back).

    On a PostgreSQL server the event goes in as a plain INSERT and the server's trigger fills in its number, time,
    author (for a Lantern login), previous hash and hash, whatever is sent here; nothing is returned then."""
    if server_writes_chain(session):
        session.info.setdefault(PENDING, []).append(dict(
            id=0, at=at or now_db(), user_id=actor.user_id if actor else None,
            username=(actor.username if actor else username)[:64], action=action, entity_type=entity_type,
            entity_id=str(entity_id)[:40], outcome=outcome, workstation=(actor.workstation if actor else workstation)[:100],
            detail=json.dumps(detail or {}, sort_keys=True), prev_hash="", hash=""))
        return None
    head = session.get(AuditHead, 1)
    last_id, prev = (head.last_id, head.last_hash) if head else (0, GENESIS)
    ev = AuditEvent(
        id=last_id + 1, at=at or now_db(),
        user_id=actor.user_id if actor else None,
        username=(actor.username if actor else username)[:64],
        action=action, entity_type=entity_type, entity_id=str(entity_id)[:40], outcome=outcome,
        workstation=(actor.workstation if actor else workstation)[:100],
        detail=json.dumps(detail or {}, sort_keys=True), prev_hash=prev, hash="",
    )
    ev.hash = _digest(_fields(ev))
    session.add(ev)
    if head:
        head.last_id, head.last_hash = ev.id, ev.hash
    else:
        session.add(AuditHead(id=1, last_id=ev.id, last_hash=ev.hash))
    session.flush()
    return ev


_CHAIN_COLUMNS = ("id", "at", "user_id", "username", "action", "entity_type", "entity_id", "outcome", "workstation",
                  "detail", "prev_hash", "hash")


def verify_chain(session: Session, batch: int = 5000) -> list[str]:
    """Walk the whole trail; return plain descriptions of every break found (empty = intact). Plain rows, read in
    batches (no ORM objects: a trail grows by the hundred thousand), each hashed as `record` hashed it."""
    table = AuditEvent.__table__
    query = select(*(table.c[name] for name in _CHAIN_COLUMNS)).order_by(table.c.id).execution_options(yield_per=batch)
    problems, last = _walk(session.connection().execute(query), ascii_only=not server_writes_chain(session))
    head = session.get(AuditHead, 1)
    if head is None and last is not None or head is not None and (
        last is None or head.last_id != last.id or head.last_hash != last.hash
    ):
        problems.append("the newest audit events have been removed")
    return problems


def _walk(events, *, ascii_only: bool) -> tuple[list[str], object]:
    """Check a chain of events, oldest first: numbering, links and hashes. Returns the problems and the last."""
    problems: list[str] = []
    prev, expected_id, last = GENESIS, 1, None
    for ev in events:
        if ev.id != expected_id:
            problems.append(f"audit events {expected_id} to {ev.id - 1} are missing")
        if ev.prev_hash != prev:
            problems.append(f"audit event {ev.id} does not follow the one before it")
        if _digest(_fields(ev), ascii_only=ascii_only) != ev.hash:
            problems.append(f"audit event {ev.id} has been altered")
        prev, expected_id, last = ev.hash, ev.id + 1, ev
    return problems, last


def verify_archive(session: Session, store_id: str, head: dict) -> list[str]:
    """A moved ward store's old trail (migration 0018's `audit_archive`), as its own embedded store hashed it,
    against the head recorded when it was moved (`{"id", "hash"}`). Empty = intact."""
    table = AuditArchive.__table__
    query = (select(*(table.c[name] for name in _CHAIN_COLUMNS)).where(table.c.store_id == store_id)
             .order_by(table.c.id))
    problems, last = _walk(session.connection().execute(query), ascii_only=True)
    if (last.id if last else 0, last.hash if last else GENESIS) != (head["id"], head["hash"]):
        problems.append("the moved store's newest audit events are missing")
    return [f"moved store {store_id[:8]}: {p}" for p in problems]


def anchor_problem(session: Session, anchor: dict, *, backup_made: str = "") -> str:
    """Compare the live trail with a backup's audit anchor (`{"id": ..., "hash": ...}`, the newest event in
    that backup). Returns "" when the live trail still holds event `id` with exactly that hash, else one plain
    sentence (audit event ids only, never record content).

    With `verify_chain` intact, a matching anchor means every event up to the backup is as it was then: each
    hash covers the one before it. This catches a trail cut back past the backup (with the triggers dropped
    and `audit_head` rewritten to match, which `verify_chain` alone cannot see) and any rewrite of events the
    backup holds. Its limits: events recorded after the newest backup can still be removed unseen, and
    whoever can also rewrite the backup folder (or blank the backup-folder setting) can defeat it.
    """
    when = f" of {backup_made}" if backup_made else ""
    if not holds(session, anchor):
        return (f"audit events recorded before the backup{when} are missing or altered "
                f"(audit event {int(anchor['id'])} does not match that backup). If this store was restored "
                "from an older backup, that is expected until its next backup; if not, tell your information "
                "governance lead")
    return ""


def holds(session: Session, anchor: dict) -> bool:
    """Whether the live trail still holds the anchor's event with exactly the anchor's hash."""
    ev = session.get(AuditEvent, int(anchor["id"]))
    return ev is not None and ev.hash == anchor["hash"]


def newest_anchor(session: Session) -> dict | None:
    """The anchor of the live trail now: its newest event's id and hash (None for an empty trail)."""
    row = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    return {"id": row[0], "hash": row[1]} if row else None


def key_file_anchor_problem(session: Session, anchor: dict) -> str:
    """Compare the live trail with the anchor kept in the key-slot file at the last sign-out or lock. "" when it
    still holds that event unchanged, else one plain sentence (event ids only). Like a backup's anchor, it sees a
    trail cut back past that moment (`audit_head` rewritten to match) and any rewrite of the events before it;
    not events removed since, nor an edit by someone who also holds the key and rewrites the key file."""
    if holds(session, anchor):
        return ""
    return (f"audit events recorded before the last sign-out or lock are missing or altered (audit event "
            f"{int(anchor['id'])} does not match the one noted in the store's key file). If the store's files were "
            "put back from a copy, that can explain it; if not, tell your information governance lead")


def trigger_problems(session: Session) -> list[str]:
    """Every protective trigger must exist with exactly its expected SQL, and there must be no other trigger.
    Returns plain descriptions of each difference (empty = as the migrations made them)."""
    found = dict(session.execute(select(text("name"), text("sql")).select_from(text("sqlite_master"))
                                 .where(text("type = 'trigger'"))).all())
    problems = []
    for name, sql in PROTECTIVE_TRIGGERS.items():
        if name not in found:
            problems.append(f"the protective trigger {name} is missing")
        elif " ".join(str(found[name]).split()) != sql:
            problems.append(f"the protective trigger {name} has been changed")
    problems += [f"an unexpected trigger {name} has been added" for name in sorted(set(found) - set(PROTECTIVE_TRIGGERS))]
    return problems
