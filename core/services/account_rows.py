"""Account rows and key slots, shared by the account, access-request and ward services (core layer).

Each helper works inside the caller's transaction; none checks a permission, audits or commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import select

from core.clock import now_db
from core.db.models import User, UserWard, Ward
from core.db.store import Store
from core.dto import Actor, UserInfo
from core.errors import NotFound, PermissionDenied, StorageFailure, ValidationError, WrongPassword
from core.security.keyslots import Slot
from core.security.passwords import check_password
from core.security.permissions import ROLES
from core.security.usernames import normalise_username
from core.taxonomy.ods import ODS_CODE_RULE, clean_ods_code


def clean_username(username: str) -> str:
    name = normalise_username(username)
    if not (2 <= len(name) <= 64) or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise ValidationError({"username": "Use 2 to 64 letters, digits, dots, dashes or underscores."})
    return name


def clean_ods(code: str) -> str:
    """The one ODS rule (core.taxonomy.ods), the same the NRLS export's schema checks."""
    cleaned = clean_ods_code(code)
    if not cleaned:
        raise ValidationError({"ods_code": ODS_CODE_RULE})
    return cleaned


def clean_ward_name(name: str) -> str:
    name = " ".join(name.split())
    if not (1 <= len(name) <= 100):
        raise ValidationError({"ward": "A ward name needs 1 to 100 characters."})
    return name


def ward_ids_of(session, user_id: str) -> tuple[int, ...]:
    return tuple(sorted(session.scalars(select(UserWard.ward_id).where(UserWard.user_id == user_id))))


def user_info(session, user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.display_name, user.role, ward_ids_of(session, user.id),
                    user.active, user.must_change_password, user.access_pending)


def user_infos(session) -> list[UserInfo]:
    """Every account, by username, in the caller's transaction."""
    return [user_info(session, u) for u in session.scalars(select(User).order_by(User.username)).all()]


SWITCHED_OFF = "This account has been switched off. Ask your ward manager or administrator."


def may_sign_in(user: User | None) -> None:
    """Refuse a sign-in to a switched-off account, or one whose access is still waiting for approval, in words
    that say which (after the password was right, on either engine)."""
    from core.services.access_requests import WAITING

    if user is None or not user.active:
        raise WrongPassword(SWITCHED_OFF)
    if user.access_pending:
        raise WrongPassword(WAITING)


def actor_of(session, user: User, workstation: str) -> Actor:
    return Actor(user.id, user.username, user.role, ward_ids_of(session, user.id), workstation,
                 user.must_change_password, user.display_name)


def get_user(session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("That account does not exist.")
    return user


def add_user(session, store: Store, *, username: str, role: str, password: str, ward_ids, display_name: str,
              must_change: bool) -> User:
    """A new account row and its key slot (the embedded store)."""
    if store.slots.slot_for_username(clean_username(username)):
        raise ValidationError({"username": f"The username {clean_username(username)} is already taken."})
    user = insert_user(session, username=username, role=role, ward_ids=ward_ids, display_name=display_name,
                       must_change=must_change)
    store.slots.slots[user.id] = Slot.wrap(user.id, user.username, password, store.key, store.kdf)
    return user


def insert_user(session, *, username: str, role: str, ward_ids, display_name: str, must_change: bool) -> User:
    """A new account row with its wards, checked (either engine; the caller gives it a way to sign in)."""
    check_role(role)
    username = clean_username(username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationError({"username": f"The username {username} is already taken."})
    known = set(session.scalars(select(Ward.id)))
    if any(w not in known for w in ward_ids):
        raise ValidationError({"wards": "One of the chosen wards does not exist."})
    user = User(id=str(uuid.uuid4()), username=username, display_name=display_name.strip()[:100], role=role,
                must_change_password=must_change, active=True, created_at=now_db())
    session.add(user)
    session.flush()
    session.add_all(UserWard(user_id=user.id, ward_id=ward_id) for ward_id in sorted(set(ward_ids)))
    return user


def check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError({"role": "Choose nurse, ward manager, safeguarding lead or administrator."})


def check_role_change(actor: Actor, user_id: str, role: str) -> None:
    """The checks before any role change, on either engine."""
    check_role(role)
    if user_id == actor.user_id:
        raise PermissionDenied("You cannot change your own role. Ask another administrator.")


def clean_new_store(ods_code: str, wards: list[str], admin_username: str, admin_password: str, *,
                    allow_demo: bool = False) -> tuple[str, list[str], str]:
    """A new store's ODS code, ward names and first administrator, checked (`init` on either engine)."""
    names = [clean_ward_name(w) for w in wards]
    if not names:
        raise ValidationError({"ward": "Add at least one ward."})
    if len({n.casefold() for n in names}) != len(names):
        raise ValidationError({"ward": "Each ward needs a different name."})
    admin_username = clean_username(admin_username)
    check_password(admin_password, username=admin_username, allow_demo=allow_demo)
    return clean_ods(ods_code), names, admin_username


@contextmanager
def slots_guard(store: Store) -> Iterator[None]:
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
