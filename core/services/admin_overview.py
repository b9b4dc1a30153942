"""What the administrator's page shows, read in one transaction (core layer; issue 15 item 1): the accounts, the
wards, the lock timeout and the backup settings with their warning. Never incident content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.db.store import Store, unit_of_work
from core.dto import Actor, UserInfo, WardInfo
from core.security.permissions import require
from core.services.account_rows import user_infos
from core.services.backups import BackupStatus, backup_status_in
from core.services.settings import lock_minutes_in
from core.services.wards import ward_infos


@dataclass(frozen=True)
class AdminOverview:
    users: tuple[UserInfo, ...]
    wards: tuple[WardInfo, ...]
    lock_minutes: int
    backups: BackupStatus


def admin_overview(store: Store, actor: Actor, *, now: datetime | None = None) -> AdminOverview:
    """The administrator's page in one read: the accounts and the settings agree with each other, as one moment of
    the store."""
    require(actor, "users.manage")
    require(actor, "settings.manage")
    with unit_of_work(store, write=False) as session:
        return AdminOverview(tuple(user_infos(session)), tuple(ward_infos(session)), lock_minutes_in(session),
                             backup_status_in(session, store, now))
