"""Store-wide settings services (core layer): values an administrator sets for every user of the store."""

from __future__ import annotations

from core.db import audit
from core.db.models import Setting
from core.db.store import Store, unit_of_work
from core.dto import Actor
from core.errors import ValidationError
from core.security.permissions import require

DEFAULTS = {"lock_minutes": "5"}
LOCK_RANGE = (1, 60)


def get_setting(store: Store, key: str) -> str:
    with unit_of_work(store, write=False) as session:
        return setting_in(session, key)


def setting_in(session, key: str) -> str:
    row = session.get(Setting, key)
    return row.value if row else DEFAULTS[key]


def lock_minutes(store: Store) -> int:
    """Minutes without input before the app locks itself (on by default: 5)."""
    with unit_of_work(store, write=False) as session:
        return lock_minutes_in(session)


def lock_minutes_in(session) -> int:
    """lock_minutes, in the caller's transaction."""
    try:
        return int(setting_in(session, "lock_minutes"))
    except ValueError:
        return int(DEFAULTS["lock_minutes"])


def set_lock_minutes(store: Store, actor: Actor, minutes: int) -> int:
    require(actor, "settings.manage")
    low, high = LOCK_RANGE
    if not low <= int(minutes) <= high:
        raise ValidationError({"lock_minutes": f"Choose between {low} and {high} minutes."})
    with unit_of_work(store) as session:
        row = session.get(Setting, "lock_minutes")
        old = row.value if row else DEFAULTS["lock_minutes"]
        if row:
            row.value = str(int(minutes))
        else:
            session.add(Setting(key="lock_minutes", value=str(int(minutes))))
        audit.record(session, actor, "settings.change", entity_type="setting", entity_id="lock_minutes",
                     detail={"from": old, "to": str(int(minutes))})
        session.commit()
    return int(minutes)
