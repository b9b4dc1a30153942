"""Separation of duties: an account's access to incident content waits for a safeguarding lead (core layer).

An administrator creates accounts and sets roles, but granting a role that reads incident content, raising an
account to one that reads more, or resetting such an account's password waits here until a safeguarding lead
(or, while there is none, the recovery key holder) approves it. Demo stores of made-up records are exempt.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.clock import now_db
from core.db import audit
from core.db.models import AccessRequest, User
from core.db.store import Store, open_with_recovery_key, unit_of_work, workstation_name
from core.dto import AccessRequestInfo, Actor
from core.errors import NotFound, PermissionDenied, ValidationError, WrongPassword
from core.security.keys import normalise_recovery_key
from core.security.keyslots import Slot
from core.security.passwords import temporary_password
from core.security.permissions import CLINICAL, CONTENT_RANK, SAFEGUARDING_LEAD, require
from core.security.refusals import attach
from core.services.account_rows import get_user, slots_guard
from core.services.engines import on_server

WAITING = "This account is waiting for the safeguarding lead to approve it."


def needs_approval(store: Store, role: str, old_role: str | None = None) -> bool:
    """Granting a role that reads incident content, raising an account to one that reads more, or (old_role
    None) resetting such an account's password. Demo stores of made-up records are exempt."""
    if getattr(getattr(store, "slots", None), "demo", False) or role not in CLINICAL:
        return False
    return old_role is None or CONTENT_RANK[role] > CONTENT_RANK[old_role]


def ask_approval(session, actor: Actor, user: User, kind: str, role: str) -> AccessRequest:
    """Record a pending request in the caller's transaction; the account cannot sign in until it is decided."""
    waiting = select(AccessRequest.id).where(AccessRequest.user_id == user.id, AccessRequest.status == "pending")
    if session.scalar(waiting) is not None:
        raise ValidationError({"account": f"{user.username} is already waiting for the safeguarding lead to "
                                          "approve a change. Ask them to decide it first."})
    request = AccessRequest(user_id=user.id, requested_by=actor.user_id, kind=kind, role=role,
                            created_at=now_db(), status="pending")
    session.add(request)
    user.access_pending = True
    session.flush()
    audit.record(session, actor, "access.request", entity_type="user", entity_id=user.id,
                 detail={"request": request.id, "kind": kind, "role": role})
    return request


def withdraw_requests(session, actor: Actor, user: User) -> None:
    """A switched-off account's pending requests can no longer be approved."""
    for request in session.scalars(select(AccessRequest).where(AccessRequest.user_id == user.id,
                                                               AccessRequest.status == "pending")):
        request.status, request.decided_by, request.decided_at = "withdrawn", actor.user_id, now_db()
    user.access_pending = False


def _pending_request(session, request_id: int) -> AccessRequest:
    request = session.get(AccessRequest, request_id)
    if request is None or request.status != "pending":
        raise NotFound("That request is not waiting for approval: it may have been decided already.")
    return request


def _decide(session, store: Store, request: AccessRequest, approve: bool, decided_by: str | None) -> str | None:
    """Approve: the account gets the requested role and a new temporary password (returned, for the approver
    only), so no password the administrator knew ever opens it. Refuse: a new account is switched off; an
    existing one keeps its role and password, as before the request."""
    user = get_user(session, request.user_id)
    request.status = "approved" if approve else "refused"
    request.decided_by, request.decided_at = decided_by, now_db()
    user.access_pending = False
    if not approve:
        if request.kind == "grant_role" and user.role == request.role:  # the account was created with it
            user.active = False
            store.slots.slots.pop(user.id, None)
        return None
    temp = temporary_password()
    user.role, user.must_change_password = request.role, True
    store.slots.slots[user.id] = Slot.wrap(user.id, user.username, temp, store.key, store.kdf)
    return temp


def request_to_decide(session, actor: Actor, request_id: int) -> AccessRequest:
    """The checks before a lead decides, on either engine: the approver is active and not waiting themselves,
    the request is pending, and it is not about the approver's own account (each refusal audited)."""
    approver = get_user(session, actor.user_id)
    if not approver.active or approver.access_pending:
        raise attach(PermissionDenied(WAITING), actor, "access.approve", "not_active")
    request = _pending_request(session, request_id)
    if request.user_id == actor.user_id:
        raise attach(PermissionDenied("You cannot decide a request about your own account. Ask another "
                                      "safeguarding lead."), actor, "access.approve", "own_account",
                     entity_type="user", entity_id=actor.user_id)
    return request


def decision_detail(session, request: AccessRequest) -> dict:
    asker = session.get(User, request.requested_by)
    return {"request": request.id, "kind": request.kind, "role": request.role,
            "requested_by": request.requested_by, "requested_by_username": asker.username if asker else "",
            "requested_at": request.created_at}


def list_access_requests(store: Store, actor: Actor) -> list[AccessRequestInfo]:
    """The requests waiting for a safeguarding lead, oldest first: who asked, for whom, which role, when."""
    require(actor, "access.approve")
    with unit_of_work(store, write=False) as session:
        requests = session.scalars(select(AccessRequest).where(AccessRequest.status == "pending")
                                   .order_by(AccessRequest.id)).all()
        infos = []
        for request in requests:
            user, asker = session.get(User, request.user_id), session.get(User, request.requested_by)
            infos.append(AccessRequestInfo(request.id, request.kind, user.username, user.display_name, request.role,
                                           asker.username if asker else "", request.created_at))
        return infos


@on_server("decide_access_request")
def decide_access_request(store: Store, actor: Actor, request_id: int, approve: bool) -> str | None:
    """An active safeguarding lead approves (returns the account's temporary password, to pass on privately)
    or refuses (None) a request. Nobody decides a request about their own account."""
    require(actor, "access.approve")
    with slots_guard(store), unit_of_work(store) as session:
        request = request_to_decide(session, actor, request_id)
        temp = _decide(session, store, request, approve, actor.user_id)
        audit.record(session, actor, "access.approve" if approve else "access.refuse", entity_type="user",
                     entity_id=request.user_id, detail=decision_detail(session, request))
        store.save_slots()
        session.commit()
    return temp


def approve_with_recovery_key(target: Store | Path, recovery_key: str, request_id: int) -> str:
    """The recovery key holder approves a request while no safeguarding lead can: the very first lead (and any
    account asked for before there is one). Returns the account's temporary password. `target` is an open store
    (the key is checked against its recovery slot) or a store folder (opened with the key, then closed)."""
    if not isinstance(target, Store):
        store = open_with_recovery_key(Path(target), recovery_key)
        try:
            return approve_with_recovery_key(store, recovery_key, request_id)
        finally:
            store.close()
    store = target
    try:
        store.slots.recovery_slot().unwrap(normalise_recovery_key(recovery_key)).zero()
    except WrongPassword:
        raise ValidationError({"recovery_key": "That recovery key does not open this store. "
                                               "Check each group of four characters."}) from None
    with slots_guard(store), unit_of_work(store) as session:
        lead = select(User.id).where(User.role == SAFEGUARDING_LEAD, User.active.is_(True),
                                     User.access_pending.is_(False))
        if session.scalar(lead) is not None:
            raise PermissionDenied("There is an active safeguarding lead: ask them to approve it in Lantern. The "
                                   "recovery key approves only while there is none.")
        request = _pending_request(session, request_id)
        temp = _decide(session, store, request, True, None)
        audit.record(session, None, "access.approve", entity_type="user", entity_id=request.user_id,
                     detail=decision_detail(session, request), username="recovery-key",
                     workstation=workstation_name())
        store.save_slots()
        session.commit()
    return temp
