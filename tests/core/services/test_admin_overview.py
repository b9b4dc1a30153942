"""The administrator's page reads accounts, wards, the lock timeout and the backup status in one service and one
transaction (issue 15 item 1), on a real encrypted store."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from core.errors import PermissionDenied
from core.services import accounts, backups, settings
from core.services.admin_overview import admin_overview


def test_one_read_gives_what_the_four_services_gave(fresh):
    store, admin = fresh.store, fresh.actors["admin"]
    settings.set_lock_minutes(store, admin, 12)
    overview = admin_overview(store, admin)
    assert list(overview.users) == accounts.list_users(store, admin)
    assert {u.username for u in overview.users} >= {"admin", "nurse", "manager", "lead"}
    assert list(overview.wards) == accounts.list_wards(store, admin) and "Oak Ward" in {w.name for w in overview.wards}
    assert overview.lock_minutes == 12 == settings.lock_minutes(store)
    assert overview.backups == backups.backup_status(store, admin)
    assert overview.backups.last_good_at is None and "no good backup" in overview.backups.warning


def test_it_is_one_transaction(fresh):
    transactions = []
    listener = lambda _connection: transactions.append(1)  # noqa: E731
    event.listen(fresh.store.engine, "begin", listener)
    try:
        admin_overview(fresh.store, fresh.actors["admin"])
    finally:
        event.remove(fresh.store.engine, "begin", listener)
    assert len(transactions) == 1


@pytest.mark.parametrize("username", ["nurse", "manager", "lead"])
def test_only_an_administrator_reads_it(fresh, username):
    with pytest.raises(PermissionDenied):
        admin_overview(fresh.store, fresh.actors[username])
