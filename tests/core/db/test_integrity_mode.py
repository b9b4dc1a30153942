"""Damage found in the store turns it read-only (SEC-05, REL-05): reads go on, writes are refused in plain words.

Each test flips one byte of an encrypted page in a real store, as a failing disk or a tamperer would.
"""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db.engine import DB_FILE_NAME
from core.db.store import unit_of_work
from core.errors import StoreDamaged, StoreReadOnly
from core.services import accounts, incidents, maintenance
from tests.core.helpers_common import draft

pytestmark = pytest.mark.sqlcipher_only("SQLCipher page damage and the read-only mode it brings; a server keeps its own pages")

PAGE = 4096
MARKER = "Synthetic integrity marker 7781"


def _fill(fresh, count: int = 30) -> None:
    nurse = fresh.actors["nurse"]
    for i in range(count):
        incidents.create_draft(fresh.store, nurse, draft(fresh.wards["Oak Ward"], description=f"{MARKER} {i}. " * 30))


def _flip(folder, page: int, at: int = 1000) -> None:
    with open(folder / DB_FILE_NAME, "r+b") as fh:
        fh.seek((page - 1) * PAGE + at)
        byte = fh.read(1)
        fh.seek((page - 1) * PAGE + at)
        fh.write(bytes([byte[0] ^ 0x10]))


@pytest.fixture
def filled(fresh):
    _fill(fresh)
    fresh.store.close()
    return fresh


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(0.0, 1.0), at=st.integers(16, PAGE - 64))
def test_any_damaged_page_is_found_at_sign_in_or_by_the_start_up_check(filled, tmp_path_factory, fraction, at, password):
    folder = tmp_path_factory.mktemp("damaged") / "store"
    shutil.copytree(filled.folder, folder)
    pages = (folder / DB_FILE_NAME).stat().st_size // PAGE
    _flip(folder, 2 + round(fraction * (pages - 2)), at)
    try:
        store, nurse = accounts.sign_in(folder, "nurse", password)
    except StoreDamaged:
        return  # found while opening: sign-in refuses, in plain words (tests/core/db/test_store.py)
    try:
        assert maintenance.quick_check(store, nurse) is False
        assert store.damaged
        with pytest.raises(StoreReadOnly) as refused:
            incidents.create_draft(store, nurse, draft(filled.wards["Oak Ward"]))
        assert "restore the latest backup" in refused.value.message
        assert MARKER not in refused.value.message
    finally:
        store.close()


def test_a_healthy_store_passes_the_start_up_check_and_stays_writable(fresh):
    _fill(fresh, 3)
    nurse = fresh.actors["nurse"]
    assert maintenance.quick_check(fresh.store, nurse) is True
    assert not fresh.store.damaged
    incidents.create_draft(fresh.store, nurse, draft(fresh.wards["Oak Ward"]))


def test_a_damaged_page_met_in_normal_use_turns_the_store_read_only(filled, caplog, password):
    store, nurse = accounts.sign_in(filled.folder, "nurse", password)
    filled.extra.append(store)
    with unit_of_work(store, write=False) as session:
        page = session.connection().exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'incidents'").scalar()
    store.engine.dispose()  # forget the decrypted pages this process has in memory
    _flip(filled.folder, page)
    with pytest.raises(StoreDamaged) as found:
        incidents.list_my_incidents(store, nurse)
    assert "Nothing more will be saved" in found.value.message
    assert store.damaged
    with pytest.raises(StoreReadOnly):
        incidents.create_draft(store, nurse, draft(filled.wards["Oak Ward"]))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "read-only" in logged
    assert MARKER not in logged and store.key.hex() not in logged


def test_a_failed_full_check_turns_the_store_read_only(filled, password):
    store, admin = accounts.sign_in(filled.folder, "admin", password)
    filled.extra.append(store)
    store.engine.dispose()
    pages = (filled.folder / DB_FILE_NAME).stat().st_size // PAGE
    _flip(filled.folder, pages // 2)
    results = {r.name: r.ok for r in maintenance.check_store(store, admin)}
    assert not results["cipher_integrity_check"]
    assert store.damaged
    accounts.lock(store, admin)  # no audit row goes into a damaged store, and the lock still wipes the key
    assert not store.is_open


def test_the_administrator_can_restore_and_switch_from_a_damaged_store(filled, tmp_path, password):
    from core import paths
    from core.services import backups

    store, admin = accounts.sign_in(filled.folder, "admin", password)
    filled.extra.append(store)
    backup = tmp_path / "before.lantern"
    maintenance.backup_store(store, admin, backup)
    store.mark_damaged()  # as the start-up check would
    restored = backups.restore_backup(store, admin, backup, tmp_path / "restored")
    assert restored.fully_checked
    assert backups.switch_store(store, admin, tmp_path / "restored") == (tmp_path / "restored").resolve()
    assert paths.configured_store() == (tmp_path / "restored").resolve()
    again, admin2 = accounts.sign_in(tmp_path / "restored", "admin", password)
    filled.extra.append(again)
    assert maintenance.quick_check(again, admin2) and not again.damaged
