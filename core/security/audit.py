"""The audit trail: append-only, hash-chained, written in the caller's transaction (core layer).

Each event's hash is SHA-256 over its fields and the previous event's hash. The
`audit_head` row remembers the newest id and hash so a deleted tail is detected.
Every backup's manifest keeps an anchor (its newest event's id and hash) outside the store; `anchor_problem`
compares the live trail with it, so a tail cut back past that backup is seen even with `audit_head` rewritten.
Details are codes and ids only, never patient text.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now_db
from core.db.models import AuditEvent, AuditHead
from core.dto import Actor

GENESIS = "0" * 64


def _digest(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _fields(ev: AuditEvent) -> dict:
    return {
        "id": ev.id, "at": ev.at, "user_id": ev.user_id, "username": ev.username, "action": ev.action,
        "entity_type": ev.entity_type, "entity_id": ev.entity_id, "outcome": ev.outcome,
        "workstation": ev.workstation, "detail": ev.detail, "prev_hash": ev.prev_hash,
    }


def record(session: Session, actor: Actor | None, action: str, *, entity_type: str = "",
           entity_id: str = "", outcome: str = "ok", detail: dict | None = None,
           username: str = "", workstation: str = "", at: str | None = None) -> AuditEvent:
    """Add one audit event to `session`'s transaction. The caller commits (or everything rolls back)."""
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


def verify_chain(session: Session, batch: int = 5000) -> list[str]:
    """Walk the whole trail; return plain descriptions of every break found (empty = intact)."""
    problems: list[str] = []
    prev, expected_id, last = GENESIS, 1, None
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)
    for ev in session.scalars(query):
        if ev.id != expected_id:
            problems.append(f"audit events {expected_id} to {ev.id - 1} are missing")
        if ev.prev_hash != prev:
            problems.append(f"audit event {ev.id} does not follow the one before it")
        if _digest(_fields(ev)) != ev.hash:
            problems.append(f"audit event {ev.id} has been altered")
        prev, expected_id, last = ev.hash, ev.id + 1, ev
        session.expunge(ev)
    head = session.get(AuditHead, 1)
    if head is None and last is not None or head is not None and (
        last is None or head.last_id != last.id or head.last_hash != last.hash
    ):
        problems.append("the newest audit events have been removed")
    return problems


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
    ev = session.get(AuditEvent, int(anchor["id"]))
    if ev is None or ev.hash != anchor["hash"]:
        return (f"audit events recorded before the backup{when} are missing or altered "
                f"(audit event {int(anchor['id'])} does not match that backup). If this store was restored "
                "from an older backup, that is expected until its next backup; if not, tell your information "
                "governance lead")
    return ""
