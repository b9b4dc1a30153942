"""Accounts on a trust's server store (core layer; issue 16 item 2).

The same actions as core/services/accounts.py and access_requests.py, where a password is a login role's
password, not a key slot. Every change of a login goes through the narrow functions of migration 0015, which
check the caller themselves; a password leaves this PC only as a SCRAM verifier (core.db.server.scram_verifier).
Permissions are checked here too, so the app refuses with the same plain words as on the embedded store before
the server would.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text

from core.db import audit
from core.db.models import User
from core.db.server import ServerStore, login_role, open_server_store, scram_verifier, set_password
from core.db.store import unit_of_work
from core.dto import Actor, NewAccount, UserInfo
from core.errors import LanternError, NotFound, PermissionDenied, ValidationError
from core.security.passwords import check_password, temporary_password
from core.security.permissions import CLINICAL, CONTENT_RANK, require
from core.services.access_requests import ask_approval, decision_detail, request_to_decide, withdraw_requests
from core.services.account_rows import actor_of, check_role_change, get_user, insert_user, user_info

log = logging.getLogger("lantern.server")


def _call(session, sql: str, **params) -> None:
    """One of migration 0015's functions; its refusals in plain words."""
    try:
        session.execute(text(sql), params)
    except sa_exc.DBAPIError as err:
        state = getattr(err.orig, "sqlstate", None) or ""
        if state == "42501":
            raise PermissionDenied("The server refused this change to an account: your account does not "
                                   "allow it.") from None
        if state == "P0002":
            raise NotFound("That request is not waiting for approval: it may have been decided already.") from None
        raise


def create_user(store: ServerStore, actor: Actor, *, username: str, role: str, ward_ids=(),
                display_name: str = "", password: str | None = None, must_change: bool = True) -> NewAccount:
    """An administrator creates an account. One that reads incident content waits for a safeguarding lead's
    approval (no password for the administrator, whatever `password` said); another administrator gets
    `password` (checked by the policy) or a temporary one at once, and on a server always changes it at first
    sign-in (`must_change` is the embedded store's choice)."""
    require(actor, "users.manage")
    del must_change  # the server's lantern_set_admin_login always asks for a change
    if password is not None:
        check_password(password, username=username)
    with unit_of_work(store) as session:
        user = insert_user(session, username=username, role=role, ward_ids=ward_ids, display_name=display_name,
                           must_change=True)
        audit.record(session, actor, "user.create", entity_type="user", entity_id=user.id,
                     detail={"role": role, "wards": sorted(set(ward_ids))})
        if role in CLINICAL:
            request = ask_approval(session, actor, user, "grant_role", role)
            session.commit()
            return NewAccount(user_info(session, user), "", request.id)
        temp = password if password is not None else temporary_password()
        _call(session, "SELECT lantern_set_admin_login(:id, :verifier)", id=user.id,
              verifier=scram_verifier(store.engine, login_role(store.database, user.username), temp))
        session.commit()
        return NewAccount(user_info(session, user), temp)


def decide_access_request(store: ServerStore, actor: Actor, request_id: int, approve: bool) -> str | None:
    """An active safeguarding lead approves (returns the account's temporary password, to pass on privately) or
    refuses a request. The server checks it again: never one's own, never by an administrator."""
    require(actor, "access.approve")
    with unit_of_work(store) as session:
        request = request_to_decide(session, actor, request_id)
        username = session.scalar(select(User.username).where(User.id == request.user_id))
        temp = temporary_password() if approve else None
        verifier = scram_verifier(store.engine, login_role(store.database, username), temp) if temp else None
        _call(session, "SELECT lantern_decide_request(:id, :approve, :verifier)", id=request_id, approve=approve,
              verifier=verifier)
        audit.record(session, actor, "access.approve" if approve else "access.refuse", entity_type="user",
                     entity_id=request.user_id, detail=decision_detail(session, request))
        session.commit()
    return temp


def change_password(store: ServerStore, actor: Actor, old_password: str, new_password: str) -> Actor:
    """Change one's own password (ending a temporary one). The old password is proven by signing in with it."""
    require(actor, "account.change_own_password")
    open_server_store(store.location, actor.username, old_password).close()  # WrongPassword, as on a PC's store
    check_password(new_password, username=actor.username)
    if new_password == old_password:
        raise ValidationError({"password": "Choose a password different from the old one."})
    with unit_of_work(store) as session:
        _call(session, "SELECT lantern_set_my_password(:verifier)",
              verifier=scram_verifier(store.engine, login_role(store.database, actor.username), new_password))
        audit.record(session, actor, "password.change", entity_type="user", entity_id=actor.user_id)
        session.commit()
        set_password(store.engine, new_password)
        user = session.get(User, actor.user_id)
        session.refresh(user)
        return actor_of(session, user, actor.workstation)


def reset_password(store: ServerStore, actor: Actor, user_id: str) -> str | None:
    """An administrator resets a password. A content account waits for a safeguarding lead's approval, who is
    shown its temporary password (None here); another administrator gets one at once."""
    require(actor, "users.manage")
    with unit_of_work(store) as session:
        user = get_user(session, user_id)
        if user.role in CLINICAL:
            ask_approval(session, actor, user, "reset_password", user.role)
            session.commit()
            return None
        temp = temporary_password()
        _call(session, "SELECT lantern_set_admin_login(:id, :verifier)", id=user.id,
              verifier=scram_verifier(store.engine, login_role(store.database, user.username), temp))
        audit.record(session, actor, "password.reset", entity_type="user", entity_id=user_id)
        session.commit()
    return temp


def set_role(store: ServerStore, actor: Actor, user_id: str, role: str) -> UserInfo:
    """On a server an account's group role is what it reads. Lowering it (to a role that reads less, or to
    administrator) takes effect at once, record and group together (`lantern_lower_role`, migration 0023), as on
    a PC's store; any other change to a content role is a request for a safeguarding lead."""
    require(actor, "users.manage")
    check_role_change(actor, user_id, role)
    with unit_of_work(store) as session:
        user = get_user(session, user_id)
        old = user.role
        if role == old or (old in CLINICAL and CONTENT_RANK[role] < CONTENT_RANK[old]):
            if role != old:  # the same role again changes nothing, and asks nobody (as on a PC's store)
                _call(session, "SELECT lantern_lower_role(:id, :role)", id=user_id, role=role)
            audit.record(session, actor, "user.role_change", entity_type="user", entity_id=user_id,
                         detail={"from": old, "to": role})
        elif role in CLINICAL or old in CLINICAL:
            ask_approval(session, actor, user, "raise_role" if old in CLINICAL else "grant_role", role)
        session.commit()
        session.refresh(user)
        return user_info(session, user)


def deactivate_user(store: ServerStore, actor: Actor, user_id: str) -> UserInfo:
    """Switch an account off: its login role may no longer sign in, and its pending requests are withdrawn."""
    require(actor, "users.manage")
    if user_id == actor.user_id:
        raise PermissionDenied("You cannot switch off your own account.")
    with unit_of_work(store) as session:
        user = get_user(session, user_id)
        withdraw_requests(session, actor, user)
        _call(session, "SELECT lantern_switch_off(:id)", id=user_id)
        audit.record(session, actor, "user.deactivate", entity_type="user", entity_id=user_id)
        session.commit()
        session.refresh(user)
        return user_info(session, user)


def lock(store: ServerStore, actor: Actor) -> None:
    close(store, actor, "lock")


def sign_out(store: ServerStore, actor: Actor) -> None:
    close(store, actor, "sign_out")


def close(store: ServerStore, actor: Actor, event: str) -> None:
    """Sign out or lock: the event goes on the server's trail, then the connections close. (No key to wipe: the
    password is the server's to check.)"""
    try:
        if not store.damaged:
            with unit_of_work(store) as session:
                audit.record(session, actor, event, entity_type="user", entity_id=actor.user_id)
                session.commit()
    except LanternError:
        log.warning("the %s could not be recorded on the server (out of reach)", event)
    finally:
        store.close()

