"""Account and sign-in services: create the store, sign in, lock, passwords, users, wards (core layer).

One function per user action; each opens one unit of work, checks permission,
writes its audit event in the same transaction and commits.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, or_, select

from core.clock import now_db
from core.db import audit
from core.db.models import AccessRequest, User, UserWard, Ward
from core.db.store import (
    Store,
    create_store_files,
    open_with_key,
    open_with_recovery_key,
    read_slots,
    unit_of_work,
    workstation_name,
)
from core.dto import AccessRequestInfo, Actor, NewAccount, StaffChoice, UserInfo, WardInfo
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
from core.security.keys import normalise_recovery_key
from core.security.keyslots import DEFAULT_KDF, KdfParams, Slot, derive_wrapping_key
from core.security.passwords import check_password, temporary_password
from core.security.permissions import (
    ADMINISTRATOR,
    CLINICAL,
    CONTENT_RANK,
    NURSE,
    ROLE_LABELS,
    ROLES,
    SAFEGUARDING_LEAD,
    WARD_MANAGER,
    require,
    require_ward,
)
from core.security.refusals import attach
from core.security.throttle import Throttle
from core.security.usernames import normalise_username
from core.taxonomy.ods import ODS_CODE_RULE, clean_ods_code

SEX_DESIGNATIONS = ("female", "male", "mixed")
log = logging.getLogger(f"{LOGGER_NAME}.accounts")


# ----- helpers ---------------------------------------------------------------

def _clean_username(username: str) -> str:
    name = normalise_username(username)
    if not (2 <= len(name) <= 64) or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise ValidationError({"username": "Use 2 to 64 letters, digits, dots, dashes or underscores."})
    return name


def _clean_ods(code: str) -> str:
    """The one ODS rule (core.taxonomy.ods), the same the NRLS export's schema checks."""
    cleaned = clean_ods_code(code)
    if not cleaned:
        raise ValidationError({"ods_code": ODS_CODE_RULE})
    return cleaned


def _clean_ward_name(name: str) -> str:
    name = " ".join(name.split())
    if not (1 <= len(name) <= 100):
        raise ValidationError({"ward": "A ward name needs 1 to 100 characters."})
    return name


def _ward_ids(session, user_id: str) -> tuple[int, ...]:
    return tuple(sorted(session.scalars(select(UserWard.ward_id).where(UserWard.user_id == user_id))))


def _user_info(session, user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.display_name, user.role, _ward_ids(session, user.id),
                    user.active, user.must_change_password, user.access_pending)


def _actor(session, user: User, workstation: str) -> Actor:
    return Actor(user.id, user.username, user.role, _ward_ids(session, user.id), workstation,
                 user.must_change_password, user.display_name)


def _get_user(session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("That account does not exist.")
    return user


def _add_user(session, store: Store, *, username: str, role: str, password: str, ward_ids, display_name: str,
              must_change: bool) -> User:
    if role not in ROLES:
        raise ValidationError({"role": "Choose nurse, ward manager, safeguarding lead or administrator."})
    username = _clean_username(username)
    if session.scalar(select(User).where(User.username == username)) or store.slots.slot_for_username(username):
        raise ValidationError({"username": f"The username {username} is already taken."})
    known = set(session.scalars(select(Ward.id)))
    if any(w not in known for w in ward_ids):
        raise ValidationError({"wards": "One of the chosen wards does not exist."})
    user = User(id=str(uuid.uuid4()), username=username, display_name=display_name.strip()[:100], role=role,
                must_change_password=must_change, active=True, created_at=now_db())
    session.add(user)
    session.flush()
    for ward_id in sorted(set(ward_ids)):
        session.add(UserWard(user_id=user.id, ward_id=ward_id))
    store.slots.slots[user.id] = Slot.wrap(user.id, username, password, store.key, store.kdf)
    return user


@contextmanager
def _slots_guard(store: Store) -> Iterator[None]:
    """Undo key-slot changes (in memory and on disk) if the transaction that made them does not commit.

    Slots are wrapped before the audit row and the commit; without this a rolled-back action would leave
    its slot behind in memory, and the next slot-file save would write it out.
    """
    before = dict(store.slots.slots)
    try:
        yield
    except BaseException:
        if store.slots.slots != before:
            store.slots.slots = before
            if store.is_open:
                with suppress(StorageFailure):  # the failed write was atomic: the file on disk is still the old one
                    store.save_slots()
        raise


# ----- store creation --------------------------------------------------------

def init_store(folder: Path, *, ods_code: str, wards: list[str], admin_username: str, admin_password: str,
               kdf: KdfParams = DEFAULT_KDF, demo: bool = False) -> tuple[Store, Actor, str]:
    """Create a new store with its wards and first administrator. Returns the recovery key, to show once.

    `demo` (core.demo only) marks a store of made-up records, the only kind whose accounts may use the published
    demo password; the mark is kept in the key-slot file under its HMAC."""
    ods_code = _clean_ods(ods_code)
    names = [_clean_ward_name(w) for w in wards]
    if not names:
        raise ValidationError({"ward": "Add at least one ward."})
    if len({n.casefold() for n in names}) != len(names):
        raise ValidationError({"ward": "Each ward needs a different name."})
    admin_username = _clean_username(admin_username)
    check_password(admin_password, username=admin_username, allow_demo=demo)
    result: dict = {}

    def populate(session, store: Store) -> None:
        store.slots.demo = demo
        for name in names:
            session.add(Ward(name=name, sex_designation="mixed", service_type="adult_acute", active=True))
        session.flush()
        admin = _add_user(session, store, username=admin_username, role=ADMINISTRATOR, password=admin_password,
                          ward_ids=[], display_name="", must_change=False)
        actor = _actor(session, admin, workstation_name())
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
    and tampered key file each raise their own error."""
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


SWITCHED_OFF = "This account has been switched off. Ask your ward manager or administrator."
WAITING = "This account is waiting for the safeguarding lead to approve it."


def _may_sign_in(user: User | None) -> None:
    if user is None or not user.active:
        raise WrongPassword(SWITCHED_OFF)
    if user.access_pending:
        raise WrongPassword(WAITING)


def _record_sign_in(store: Store, user_id: str, throttle: Throttle, username: str, workstation: str,
                    reason: str) -> Actor:
    with unit_of_work(store) as session:
        user = session.get(User, user_id)
        _may_sign_in(user)
        for failure in throttle.succeeded(username):
            audit.record(session, None, "sign_in", outcome="failed", username=failure["username"],
                         workstation=failure["workstation"], at=failure["at"])
        actor = _actor(session, user, workstation)
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
        _may_sign_in(user)
        actor = _actor(session, user, workstation)
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


def lock(store: Store, actor: Actor) -> None:
    _close(store, actor, "lock")


def sign_out(store: Store, actor: Actor) -> None:
    _close(store, actor, "sign_out")


# ----- passwords -------------------------------------------------------------

PASSWORD_NOT_SAVED = ("Lantern could not save your new password (the disk may be full or read-only), so your "
                      "old password still works. Try again later or call IT.")


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
        with _slots_guard(store), unit_of_work(store) as session:
            user = _get_user(session, actor.user_id)
            user.must_change_password = False
            audit.record(session, actor, "password.change", entity_type="user", entity_id=actor.user_id)
            session.flush()
            store.slots.slots[actor.user_id] = Slot.wrap(actor.user_id, user.username, new_password, store.key,
                                                         store.kdf)
            store.save_slots()
            session.commit()
            return _actor(session, user, actor.workstation)
    except StorageFailure:
        raise StorageFailure(PASSWORD_NOT_SAVED) from None


def reset_password(store: Store, actor: Actor, user_id: str) -> str | None:
    """An administrator gives an account a new temporary password (to be changed at first sign-in).

    For an account that reads incident content the administrator is given no password (None): the account stops
    signing in and waits for a safeguarding lead to approve the reset, who is then shown its temporary password
    (separation of duties, docs/security-model.md)."""
    require(actor, "users.manage")
    temp = temporary_password()
    with _slots_guard(store), unit_of_work(store) as session:
        user = _get_user(session, user_id)
        if _needs_approval(store, user.role):
            _ask(session, actor, user, "reset_password", user.role)
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
    with _slots_guard(store), unit_of_work(store) as session:
        user = _add_user(session, store, username=username, role=role, password=chosen, ward_ids=ward_ids,
                         display_name=display_name, must_change=must_change)
        audit.record(session, actor, "user.create", entity_type="user", entity_id=user.id,
                     detail={"role": role, "wards": sorted(set(ward_ids))})
        request = _ask(session, actor, user, "grant_role", role) if _needs_approval(store, role) else None
        store.save_slots()
        session.commit()
        if request is not None:
            return NewAccount(_user_info(session, user), "", request.id)
        return NewAccount(_user_info(session, user), chosen)


def set_role(store: Store, actor: Actor, user_id: str, role: str) -> UserInfo:
    """Change an account's role. Raising it to a role that reads more incident content (outside a demo store)
    waits for a safeguarding lead's approval: the role is unchanged and the account cannot sign in until then."""
    require(actor, "users.manage")
    if role not in ROLES:
        raise ValidationError({"role": "Choose nurse, ward manager, safeguarding lead or administrator."})
    if user_id == actor.user_id:
        raise PermissionDenied("You cannot change your own role. Ask another administrator.")
    with unit_of_work(store) as session:
        user = _get_user(session, user_id)
        if _needs_approval(store, role, user.role):
            kind = "raise_role" if user.role in CLINICAL else "grant_role"
            _ask(session, actor, user, kind, role)
            session.commit()
            return _user_info(session, user)
        old, user.role = user.role, role
        audit.record(session, actor, "user.role_change", entity_type="user", entity_id=user_id,
                     detail={"from": old, "to": role})
        session.commit()
        return _user_info(session, user)


def set_user_wards(store: Store, actor: Actor, user_id: str, ward_ids) -> UserInfo:
    require(actor, "users.manage")
    with unit_of_work(store) as session:
        user = _get_user(session, user_id)
        known = set(session.scalars(select(Ward.id)))
        if any(w not in known for w in ward_ids):
            raise ValidationError({"wards": "One of the chosen wards does not exist."})
        session.query(UserWard).filter(UserWard.user_id == user_id).delete()
        for ward_id in sorted(set(ward_ids)):
            session.add(UserWard(user_id=user_id, ward_id=ward_id))
        audit.record(session, actor, "user.wards_change", entity_type="user", entity_id=user_id,
                     detail={"wards": sorted(set(ward_ids))})
        session.commit()
        return _user_info(session, user)


def deactivate_user(store: Store, actor: Actor, user_id: str) -> UserInfo:
    """Switch an account off and remove its key slot, so its password no longer opens the store."""
    require(actor, "users.manage")
    if user_id == actor.user_id:
        raise PermissionDenied("You cannot switch off your own account.")
    with _slots_guard(store), unit_of_work(store) as session:
        user = _get_user(session, user_id)
        user.active = False
        audit.record(session, actor, "user.deactivate", entity_type="user", entity_id=user_id)
        _withdraw_requests(session, actor, user)
        store.slots.slots.pop(user_id, None)
        store.save_slots()
        session.commit()
        return _user_info(session, user)


def list_users(store: Store, actor: Actor) -> list[UserInfo]:
    require(actor, "users.manage")
    with unit_of_work(store, write=False) as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        return [_user_info(session, u) for u in users]


# ----- separation of duties: content access waits for a safeguarding lead -------------------------------------

def _needs_approval(store: Store, role: str, old_role: str | None = None) -> bool:
    """Granting a role that reads incident content, raising an account to one that reads more, or (old_role
    None) resetting such an account's password. Demo stores of made-up records are exempt."""
    if store.slots.demo or role not in CLINICAL:
        return False
    return old_role is None or CONTENT_RANK[role] > CONTENT_RANK[old_role]


def _ask(session, actor: Actor, user: User, kind: str, role: str) -> AccessRequest:
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


def _withdraw_requests(session, actor: Actor, user: User) -> None:
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
    user = _get_user(session, request.user_id)
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


def _decision_detail(session, request: AccessRequest) -> dict:
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


def decide_access_request(store: Store, actor: Actor, request_id: int, approve: bool) -> str | None:
    """An active safeguarding lead approves (returns the account's temporary password, to pass on privately)
    or refuses (None) a request. Nobody decides a request about their own account."""
    require(actor, "access.approve")
    with _slots_guard(store), unit_of_work(store) as session:
        approver = _get_user(session, actor.user_id)
        if not approver.active or approver.access_pending:
            raise attach(PermissionDenied(WAITING), actor, "access.approve", "not_active")
        request = _pending_request(session, request_id)
        if request.user_id == actor.user_id:
            raise attach(PermissionDenied("You cannot decide a request about your own account. Ask another "
                                          "safeguarding lead."), actor, "access.approve", "own_account",
                         entity_type="user", entity_id=actor.user_id)
        temp = _decide(session, store, request, approve, actor.user_id)
        audit.record(session, actor, "access.approve" if approve else "access.refuse", entity_type="user",
                     entity_id=request.user_id, detail=_decision_detail(session, request))
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
    with _slots_guard(store), unit_of_work(store) as session:
        lead = select(User.id).where(User.role == SAFEGUARDING_LEAD, User.active.is_(True),
                                     User.access_pending.is_(False))
        if session.scalar(lead) is not None:
            raise PermissionDenied("There is an active safeguarding lead: ask them to approve it in Lantern. The "
                                   "recovery key approves only while there is none.")
        request = _pending_request(session, request_id)
        temp = _decide(session, store, request, True, None)
        audit.record(session, None, "access.approve", entity_type="user", entity_id=request.user_id,
                     detail=_decision_detail(session, request), username="recovery-key",
                     workstation=workstation_name())
        store.save_slots()
        session.commit()
    return temp


# ----- wards -----------------------------------------------------------------

def create_ward(store: Store, actor: Actor, name: str, *, sex_designation: str = "mixed",
                service_type: str = "adult_acute") -> WardInfo:
    require(actor, "wards.manage")
    name = _clean_ward_name(name)
    if sex_designation not in SEX_DESIGNATIONS:
        raise ValidationError({"sex_designation": "Choose female, male or mixed."})
    with unit_of_work(store) as session:
        if session.scalar(select(Ward).where(Ward.name == name)):
            raise ValidationError({"ward": f"There is already a ward called {name}."})
        ward = Ward(name=name, sex_designation=sex_designation, service_type=service_type, active=True)
        session.add(ward)
        session.flush()
        audit.record(session, actor, "ward.create", entity_type="ward", entity_id=str(ward.id))
        session.commit()
        return WardInfo(ward.id, ward.name, ward.sex_designation, ward.service_type, ward.active)


def list_wards(store: Store, actor: Actor) -> list[WardInfo]:
    """Every role may list ward names (they are not patient data)."""
    with unit_of_work(store, write=False) as session:
        wards = session.scalars(select(Ward).order_by(Ward.name)).all()
        return [WardInfo(w.id, w.name, w.sex_designation, w.service_type, w.active) for w in wards]


def linkable_staff(store: Store, actor: Actor, ward_id: int) -> list[StaffChoice]:
    """The accounts a reporter may link to a member of staff named in a report on `ward_id`.

    Linking an account hides the report from that account for good (core.services.visibility), so the list is the
    accounts that could otherwise read it or be asked about it: active nurses and ward managers of that ward,
    and every active safeguarding lead (they cover all wards). Left out, on purpose:
    - administrators: they can never open an incident, so linking one would protect nothing, and their
      accounts are for running Lantern, not for ward staff;
    - staff of other wards: they cannot open this ward's incidents, and a long list of strangers is where a
      tired nurse picks the wrong name;
    - the person asking: linking your own account would hide the report from you before you could send it;
    - switched-off accounts: they cannot sign in.
    Anyone who may report an incident on that ward may ask. Only ids, usernames, display names and roles
    leave this function: never password, key-slot or audit data.
    """
    require(actor, "incident.create")
    require_ward(actor, ward_id)
    with unit_of_work(store, write=False) as session:
        if session.get(Ward, ward_id) is None:
            raise NotFound("That ward does not exist.")
        on_ward = select(UserWard.user_id).where(UserWard.ward_id == ward_id)
        users = session.scalars(
            select(User).where(
                User.active.is_(True), User.id != actor.user_id,
                or_(User.role == SAFEGUARDING_LEAD,
                    and_(User.role.in_((NURSE, WARD_MANAGER)), User.id.in_(on_ward))))
            .order_by(User.username)).all()
        choices = []
        for user in users:
            who = f"{user.username}: {user.display_name}" if user.display_name else user.username
            choices.append(StaffChoice(user.id, f"{who} ({ROLE_LABELS[user.role]})", user.username, user.role))
        return choices
