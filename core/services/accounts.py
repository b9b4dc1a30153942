"""Account and sign-in services: create the store, sign in, lock, passwords, users (core layer).

One function per user action; each opens one unit of work, checks permission, writes its audit event in the same
transaction and commits. Access requests, wards and the shared row helpers are in core.services.access_requests,
.wards and .account_rows; their public names stay importable from here."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from core.db import audit
from core.db.models import User, UserWard, Ward
from core.db.server import is_server_location
from core.db.store import (
    Store,
    create_store_files,
    open_with_key,
    open_with_recovery_key,
    read_slots,
    unit_of_work,
    workstation_name,
)
from core.dto import Actor, NewAccount, UserInfo
from core.errors import (
    LanternError,
    NotFound,
    PermissionDenied,
    StorageFailure,
    StoreDamaged,
    StoreReadOnly,
    ValidationError,
    WrongPassword,
)
from core.logs import LOGGER_NAME
from core.security.keyslots import DEFAULT_KDF, KdfParams, Slot, derive_wrapping_key
from core.security.passwords import check_password, temporary_password
from core.security.permissions import ADMINISTRATOR, CLINICAL, require
from core.security.throttle import Throttle
from core.security.usernames import normalise_username
from core.services.access_requests import approve_with_recovery_key as approve_with_recovery_key
from core.services.access_requests import ask_approval, needs_approval, withdraw_requests
from core.services.access_requests import decide_access_request as decide_access_request
from core.services.access_requests import list_access_requests as list_access_requests
from core.services.account_rows import (
    actor_of,
    add_user,
    check_role_change,
    clean_new_store,
    get_user,
    may_sign_in,
    slots_guard,
    user_info,
)
from core.services.engines import on_server
from core.services.server_setup import sign_in_server
from core.services.wards import create_ward as create_ward
from core.services.wards import linkable_staff as linkable_staff
from core.services.wards import list_wards as list_wards

log = logging.getLogger(f"{LOGGER_NAME}.accounts")


# ----- store creation --------------------------------------------------------

def init_store(folder: Path, *, ods_code: str, wards: list[str], admin_username: str, admin_password: str,
               kdf: KdfParams = DEFAULT_KDF, demo: bool = False) -> tuple[Store, Actor, str]:
    """Create a new store with its wards and first administrator. Returns the recovery key, to show once.

    `demo` (core.demo only) marks a store of made-up records, the only kind whose accounts may use the published
    demo password; the mark is kept in the key-slot file under its HMAC."""
    ods_code, names, admin_username = clean_new_store(ods_code, wards, admin_username, admin_password,
                                                      allow_demo=demo)
    result: dict = {}

    def populate(session, store: Store) -> None:
        store.slots.demo = demo
        for name in names:
            session.add(Ward(name=name, sex_designation="mixed", service_type="adult_acute", active=True))
        session.flush()
        admin = add_user(session, store, username=admin_username, role=ADMINISTRATOR, password=admin_password,
                          ward_ids=[], display_name="", must_change=False)
        actor = actor_of(session, admin, workstation_name())
        audit.record(session, actor, "store.create", entity_type="store", entity_id=store.slots.store_id,
                     detail={"ods_code": ods_code, "wards": len(names)})
        audit.record(session, actor, "user.create", entity_type="user", entity_id=admin.id,
                     detail={"role": ADMINISTRATOR})
        result["actor"] = actor

    store, recovery_key = create_store_files(folder, ods_code=ods_code, kdf=kdf, populate=populate)
    return store, result["actor"], recovery_key


# ----- sign-in, lock, sign-out -----------------------------------------------

CANNOT_WRITE_AT_SIGN_IN = ("Lantern cannot write to the incident store (the disk may be full, or its files may "
                           "have been made read-only), so it cannot sign anyone in safely. Nothing has been "
                           "changed. Call IT.")

def sign_in(folder: Path, username: str, password: str, *, reason: str = "sign_in",
            now: datetime | None = None) -> tuple[Store, Actor]:
    """Unlock the store with one account's password. Wrong password, throttled account, damaged store
    and tampered key file each raise their own error. A postgresql:// location signs in to a trust's server."""
    if isinstance(folder, str) and is_server_location(folder):
        return sign_in_server(folder, username, password, reason=reason)
    folder = Path(folder)
    username = normalise_username(username)  # one spelling for the slot, the throttle and the audit
    workstation = workstation_name()
    slots = read_slots(folder)
    throttle = Throttle(folder)
    throttle.check(username, now)
    slot = slots.slot_for_username(username)
    try:
        if slot is None:
            derive_wrapping_key(password, secrets.token_bytes(16), slots.kdf)  # same cost as a real try
            raise WrongPassword()
        key = slot.unwrap(password)
    except WrongPassword:
        throttle.failed(username, workstation, now, known=slot is not None)
        raise
    try:
        store = open_with_key(folder, slots, key)
    except StorageFailure:
        raise StorageFailure(CANNOT_WRITE_AT_SIGN_IN) from None
    try:
        try:
            actor = _record_sign_in(store, slot.slot_id, throttle, username, workstation, reason)
        except (StoreDamaged, StoreReadOnly):
            if not store.damaged:
                raise
            actor = _sign_in_read_only(store, slot.slot_id, workstation)
    except StorageFailure:
        store.close()
        raise StorageFailure(CANNOT_WRITE_AT_SIGN_IN) from None
    except BaseException:
        store.close()
        raise
    return store, actor


def _record_sign_in(store: Store, user_id: str, throttle: Throttle, username: str, workstation: str,
                    reason: str) -> Actor:
    with unit_of_work(store) as session:
        user = session.get(User, user_id)
        may_sign_in(user)
        for failure in throttle.succeeded(username):
            audit.record(session, None, "sign_in", outcome="failed", username=failure["username"],
                         workstation=failure["workstation"], at=failure["at"])
        actor = actor_of(session, user, workstation)
        _compare_key_file_anchor(session, store, actor)
        audit.record(session, actor, reason, entity_type="user", entity_id=user.id)
        session.commit()
        return actor


ANCHOR_MISMATCH = "audit.anchor_mismatch"


def _compare_key_file_anchor(session, store: Store, actor: Actor) -> None:
    """At sign-in, compare the trail with the anchor the key file kept at the last sign-out or lock. A mismatch
    is written into the trail (and the log) and `check` reports it, but nobody is locked out: as with a backup's
    anchor (core.services.maintenance), the ward must keep working while someone looks into it."""
    anchor = store.slots.anchor
    if anchor is None or audit.holds(session, anchor):
        return
    log.warning("the audit trail no longer holds the event noted in the key file at the last sign-out or lock")
    audit.record(session, actor, ANCHOR_MISMATCH, entity_type="audit_event", entity_id=str(anchor["id"]),
                 outcome="failed", detail={"key_file_anchor": anchor["id"]})


def _sign_in_read_only(store: Store, user_id: str, workstation: str) -> Actor:
    """Damage found while recording the sign-in: open the store read-only (the damage banner shows, records can
    still be read and the restore wizard reached) instead of locking everybody out. The sign-in cannot be
    audited in a store that takes no writes; the log says so."""
    with unit_of_work(store, write=False) as session:
        user = session.get(User, user_id)
        may_sign_in(user)
        actor = actor_of(session, user, workstation)
    log.warning("signed in read-only: store damage found while recording the sign-in, which is not audited")
    return actor


def _close(store: Store, actor: Actor, event: str) -> None:
    """Write the event, then dispose the engine and wipe the key. A damaged (read-only) store takes no audit
    row, and the key is wiped whatever happens."""
    try:
        if not store.damaged:
            with unit_of_work(store) as session:
                audit.record(session, actor, event, entity_type="user", entity_id=actor.user_id)
                session.commit()
                anchor = audit.newest_anchor(session)
            _save_anchor(store, anchor)
    finally:
        store.close()


def _save_anchor(store: Store, anchor: dict | None) -> None:
    """Keep the trail's newest event id and hash in the key-slot file, under its HMAC (issue 13 item 4).

    The file is read afresh first, so a password changed meanwhile by another Lantern on this PC is kept. A
    failure to write it (a full disk, a key file that no longer verifies) never stops the sign-out: the old
    anchor stays, and the log says so."""
    if anchor is None:
        return
    try:
        slots = read_slots(store.folder)
        slots.verify(store.key)
        slots.anchor = anchor
        slots.seal(store.key)
        slots.write(store.folder)
    except (LanternError, OSError):
        log.warning("the audit anchor could not be written to the key file; the previous one stays")
        return
    store.slots = slots


@on_server("lock")
def lock(store: Store, actor: Actor) -> None:
    _close(store, actor, "lock")


@on_server("sign_out")
def sign_out(store: Store, actor: Actor) -> None:
    _close(store, actor, "sign_out")


# ----- passwords -------------------------------------------------------------

PASSWORD_NOT_SAVED = ("Lantern could not save your new password (the disk may be full or read-only), so your "
                      "old password still works. Try again later or call IT.")


@on_server("change_password")
def change_password(store: Store, actor: Actor, old_password: str, new_password: str) -> Actor:
    """Rewrap this account's slot only. Clears the temporary-password flag."""
    require(actor, "account.change_own_password")
    slot = store.slots.slots.get(actor.user_id)
    if slot is None:
        raise NotFound("Your account has no key slot. Ask your administrator.")
    slot.unwrap(old_password).zero()  # raises WrongPassword
    check_password(new_password, username=actor.username, allow_demo=store.slots.demo)
    if new_password == old_password:
        raise ValidationError({"password": "Choose a password different from the old one."})
    try:
        with slots_guard(store), unit_of_work(store) as session:
            user = get_user(session, actor.user_id)
            user.must_change_password = False
            audit.record(session, actor, "password.change", entity_type="user", entity_id=actor.user_id)
            session.flush()
            store.slots.slots[actor.user_id] = Slot.wrap(actor.user_id, user.username, new_password, store.key,
                                                         store.kdf)
            store.save_slots()
            session.commit()
            return actor_of(session, user, actor.workstation)
    except StorageFailure:
        raise StorageFailure(PASSWORD_NOT_SAVED) from None


@on_server("reset_password")
def reset_password(store: Store, actor: Actor, user_id: str) -> str | None:
    """An administrator gives an account a new temporary password (to be changed at first sign-in).

    For an account that reads incident content the administrator is given no password (None): the account stops
    signing in and waits for a safeguarding lead to approve the reset, who is then shown its temporary password
    (separation of duties, docs/security-model.md)."""
    require(actor, "users.manage")
    temp = temporary_password()
    with slots_guard(store), unit_of_work(store) as session:
        user = get_user(session, user_id)
        if needs_approval(store, user.role):
            ask_approval(session, actor, user, "reset_password", user.role)
            session.commit()
            return None
        user.must_change_password = True
        audit.record(session, actor, "password.reset", entity_type="user", entity_id=user_id)
        store.slots.slots[user.id] = Slot.wrap(user.id, user.username, temp, store.key, store.kdf)
        store.save_slots()
        session.commit()
    return temp


def reset_password_with_recovery(folder: Path, recovery_key: str, username: str) -> str:
    """Break glass: the recovery key resets any account to a new temporary password."""
    store = open_with_recovery_key(Path(folder), recovery_key)
    try:
        temp = temporary_password()
        with unit_of_work(store) as session:
            username = normalise_username(username)
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"There is no account called {username}.")
            user.must_change_password = True
            user.active = True
            audit.record(session, None, "password.recovery_reset", entity_type="user", entity_id=user.id,
                         username="recovery-key", workstation=workstation_name())
            store.slots.slots[user.id] = Slot.wrap(user.id, user.username, temp, store.key, store.kdf)
            store.save_slots()
            session.commit()
        Throttle(store.folder).succeeded(user.username)
        return temp
    finally:
        store.close()


# ----- users -----------------------------------------------------------------

@on_server("create_user")
def create_user(store: Store, actor: Actor, *, username: str, role: str, ward_ids=(), display_name: str = "",
                password: str | None = None, must_change: bool = True) -> NewAccount:
    """Create an account. Without `password`, a temporary one is generated and must be changed at first use.

    An account that reads incident content (outside a demo store) cannot sign in until a safeguarding lead
    approves it: the administrator is given no password (""), whatever `password` said, and the approver is
    shown the temporary password (`decide_access_request`)."""
    require(actor, "users.manage")
    chosen = password if password is not None else temporary_password()
    if password is not None:
        check_password(password, username=username, allow_demo=store.slots.demo)
    with slots_guard(store), unit_of_work(store) as session:
        user = add_user(session, store, username=username, role=role, password=chosen, ward_ids=ward_ids,
                         display_name=display_name, must_change=must_change)
        audit.record(session, actor, "user.create", entity_type="user", entity_id=user.id,
                     detail={"role": role, "wards": sorted(set(ward_ids))})
        request = ask_approval(session, actor, user, "grant_role", role) if needs_approval(store, role) else None
        store.save_slots()
        session.commit()
        if request is not None:
            return NewAccount(user_info(session, user), "", request.id)
        return NewAccount(user_info(session, user), chosen)


@on_server("set_role")
def set_role(store: Store, actor: Actor, user_id: str, role: str) -> UserInfo:
    """Change an account's role. Raising it to a role that reads more incident content (outside a demo store)
    waits for a safeguarding lead's approval: the role is unchanged and the account cannot sign in until then."""
    require(actor, "users.manage")
    check_role_change(actor, user_id, role)
    with unit_of_work(store) as session:
        user = get_user(session, user_id)
        if needs_approval(store, role, user.role):
            kind = "raise_role" if user.role in CLINICAL else "grant_role"
            ask_approval(session, actor, user, kind, role)
            session.commit()
            return user_info(session, user)
        old, user.role = user.role, role
        audit.record(session, actor, "user.role_change", entity_type="user", entity_id=user_id,
                     detail={"from": old, "to": role})
        session.commit()
        return user_info(session, user)


def set_user_wards(store: Store, actor: Actor, user_id: str, ward_ids) -> UserInfo:
    require(actor, "users.manage")
    with unit_of_work(store) as session:
        user = get_user(session, user_id)
        known = set(session.scalars(select(Ward.id)))
        if any(w not in known for w in ward_ids):
            raise ValidationError({"wards": "One of the chosen wards does not exist."})
        session.query(UserWard).filter(UserWard.user_id == user_id).delete()
        for ward_id in sorted(set(ward_ids)):
            session.add(UserWard(user_id=user_id, ward_id=ward_id))
        audit.record(session, actor, "user.wards_change", entity_type="user", entity_id=user_id,
                     detail={"wards": sorted(set(ward_ids))})
        session.commit()
        return user_info(session, user)


@on_server("deactivate_user")
def deactivate_user(store: Store, actor: Actor, user_id: str) -> UserInfo:
    """Switch an account off and remove its key slot, so its password no longer opens the store."""
    require(actor, "users.manage")
    if user_id == actor.user_id:
        raise PermissionDenied("You cannot switch off your own account.")
    with slots_guard(store), unit_of_work(store) as session:
        user = get_user(session, user_id)
        user.active = False
        audit.record(session, actor, "user.deactivate", entity_type="user", entity_id=user_id)
        withdraw_requests(session, actor, user)
        store.slots.slots.pop(user_id, None)
        store.save_slots()
        session.commit()
        return user_info(session, user)


def list_users(store: Store, actor: Actor) -> list[UserInfo]:
    require(actor, "users.manage")
    with unit_of_work(store, write=False) as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        return [user_info(session, u) for u in users]
