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
from core.errors import NotFound, StorageFailure, ValidationError
from core.security.keyslots import Slot
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
    if role not in ROLES:
        raise ValidationError({"role": "Choose nurse, ward manager, safeguarding lead or administrator."})
    username = clean_username(username)
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
