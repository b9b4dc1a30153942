"""The encrypted store: nothing readable at rest, pragmas on every pooled connection, the build check,
three distinct unlock failures, network-share refusal and the Alembic schema. Real SQLCipher stores only."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from sqlalchemy import event, text

from core.db import engine as engine_mod
from core.db import migrate
from core.db.engine import DB_FILE_NAME, make_engine
from core.db.location import check_store_location
from core.db.models import Base
from core.db.store import Store, unit_of_work
from core.errors import (
    SlotFileTampered,
    StoreDamaged,
    StoreLocationRefused,
    StoreNotFound,
    UnsupportedBuild,
    WrongPassword,
)
from core.security.keyslots import SLOT_FILE_NAME, SlotFile, _canonical
from core.security.throttle import FILE_NAME as THROTTLE_FILE
from core.services import accounts, incidents
from tests.core.helpers_common import draft

MARKER = "ZQX-MARKER-7731"
HEADER = b"SQLite format 3\x00"


def _store_files(folder):
    return sorted(p for p in folder.iterdir() if p.is_file())


def _assert_no_plaintext(folder, *, expect=()):
    files = _store_files(folder)
    names = {p.name for p in files}
    for name in expect:
        assert name in names, f"expected {name} in {sorted(names)}"
    for path in files:
        raw = path.read_bytes()
        assert MARKER.encode() not in raw, path.name
        assert MARKER.encode("utf-16-le") not in raw, path.name
        if path.name.startswith(DB_FILE_NAME):
            assert not raw.startswith(HEADER), path.name
    return names


# ----- SEC-01: no plaintext at rest -------------------------------------------------------------------


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_marker_absent_from_every_file_in_wal_mode(fresh, password):
    nurse = fresh.actors["nurse"]
    store, _ = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse2", "not the right password at all")
    detail = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"], description=f"text {MARKER} text",
                                                        local_ref=MARKER[:12]))
    incidents.submit(store, nurse, detail.incident_id)
    # Store open: the committed rows are still in the WAL.
    names = _assert_no_plaintext(fresh.folder, expect=(DB_FILE_NAME, DB_FILE_NAME + "-wal", DB_FILE_NAME + "-shm",
                                                      SLOT_FILE_NAME, THROTTLE_FILE))
    assert (fresh.folder / (DB_FILE_NAME + "-wal")).stat().st_size > 0, names
    # The marker really is stored (decrypted through the key).
    with unit_of_work(store, write=False) as session:
        assert session.execute(text("SELECT count(*) FROM incidents WHERE description LIKE :m"),
                               {"m": f"%{MARKER}%"}).scalar() == 1
        assert session.execute(text("SELECT count(*) FROM people_involved WHERE local_ref = :m"),
                               {"m": MARKER[:12]}).scalar() == 1
    store.close()
    fresh.store.close()
    _assert_no_plaintext(fresh.folder, expect=(DB_FILE_NAME, SLOT_FILE_NAME))


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_marker_absent_from_rollback_journal_mid_transaction(fresh, password):
    """DELETE journal mode: the journal holds the *old* pages, which contain the committed marker."""
    fresh.store.close()
    slots = SlotFile.read(fresh.folder)
    key = slots.slot_for_username("nurse").unwrap(password)
    eng = make_engine(fresh.folder / DB_FILE_NAME, key, wal=False)
    store = Store(fresh.folder, key, slots, eng)
    fresh.extra.append(store)
    nurse = fresh.actors["nurse"]
    detail = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"], description=f"a {MARKER} b"))
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
    with unit_of_work(store) as session:
        session.execute(text("UPDATE incidents SET description = 'changed' WHERE id = :i"), {"i": detail.incident_id})
        session.flush()
        session.execute(text("PRAGMA cache_spill = 1"))
        _assert_no_plaintext(fresh.folder, expect=(DB_FILE_NAME, DB_FILE_NAME + "-journal"))
        assert (fresh.folder / (DB_FILE_NAME + "-journal")).stat().st_size > 0
        session.rollback()
    store.close()
    _assert_no_plaintext(fresh.folder, expect=(DB_FILE_NAME,))


# ----- SEC-02/03: pragmas and the build check ---------------------------------------------------------


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_every_pooled_connection_is_configured(fresh):
    conns = [fresh.store.engine.connect() for _ in range(3)]
    try:
        for conn in conns:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731,B023
            assert pragma("temp_store") == 2
            assert pragma("foreign_keys") == 1
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
            assert pragma("busy_timeout") >= 5000
            assert pragma("cipher_version").startswith("4.")
            assert pragma("cipher_provider") == "openssl"
        assert fresh.store.engine.pool.checkedout() == 3
    finally:
        for conn in conns:
            conn.close()


def test_sqlcipher_build_is_safe():
    assert engine_mod.check_sqlcipher_build().startswith("4.")
    conn = engine_mod.sqlcipher.connect(":memory:")
    options = {r[0] for r in conn.execute("PRAGMA compile_options")}
    conn.close()
    assert "TEMP_STORE=2" in options or "TEMP_STORE=3" in options
    assert tuple(engine_mod.sqlcipher.sqlite_version_info) >= engine_mod.MIN_SQLITE


def test_plain_sqlite_build_is_refused(monkeypatch, template, tmp_path, password):
    monkeypatch.setattr(engine_mod, "sqlcipher", sqlite3)
    with pytest.raises(UnsupportedBuild) as err:
        engine_mod.check_sqlcipher_build()
    assert "unencrypted" in str(err.value)
    with pytest.raises(UnsupportedBuild):
        accounts.sign_in(template.folder, "admin", password)
    with pytest.raises(UnsupportedBuild):
        accounts.init_store(tmp_path / "new", ods_code="RXX", wards=["Oak Ward"], admin_username="admin",
                            admin_password=password)
    assert not (tmp_path / "new").exists()  # nothing half-made left behind


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_writes_begin_immediate_and_reads_plain_begin(fresh):
    seen: list[str] = []
    event.listen(fresh.store.engine, "before_cursor_execute",
                 lambda conn, cur, stmt, *a: seen.append(stmt.strip().upper()))
    with unit_of_work(fresh.store) as session:
        session.execute(text("SELECT 1"))
        session.commit()
    assert seen[0] == "BEGIN IMMEDIATE"
    seen.clear()
    with unit_of_work(fresh.store, write=False) as session:
        session.execute(text("SELECT 1"))
    assert seen[0] == "BEGIN"


def test_savepoint_rolls_back_only_the_inner_part(fresh):
    with unit_of_work(fresh.store) as session:
        session.execute(text("INSERT INTO settings(key, value) VALUES ('outer', '1')"))
        nested = session.begin_nested()
        session.execute(text("INSERT INTO settings(key, value) VALUES ('inner', '1')"))
        nested.rollback()
        session.commit()
    with unit_of_work(fresh.store, write=False) as session:
        keys = set(session.execute(text("SELECT key FROM settings")).scalars())
    assert "outer" in keys and "inner" not in keys


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_locked_store_refuses_work_and_forgets_key(fresh):
    store = fresh.store
    store.close()
    assert store.key.is_zeroed and not store.is_open
    with pytest.raises(StoreNotFound):
        with unit_of_work(store):
            pass
    with pytest.raises(RuntimeError):  # a new pooled connection cannot be keyed any more
        store.engine.connect()


# ----- SEC-04: three distinct unlock failures -----------------------------------------------------


def _flip_wrapped_byte(folder, username):
    path = folder / SLOT_FILE_NAME
    doc = json.loads(path.read_text())
    slot = next(s for s in doc["slots"] if s["username"] == username)
    wrapped = bytearray(__import__("base64").b64decode(slot["wrapped"]))
    wrapped[5] ^= 0x01
    slot["wrapped"] = __import__("base64").b64encode(bytes(wrapped)).decode()
    path.write_text(json.dumps(doc))


def _rewrite_slots(folder, change):
    """Change the slot list and recompute each slot's checksum (the file's HMAC cannot be recomputed)."""
    path = folder / SLOT_FILE_NAME
    doc = json.loads(path.read_text())
    change(doc["slots"])
    for slot in doc["slots"]:
        body = {k: v for k, v in slot.items() if k != "checksum"}
        slot["checksum"] = __import__("hashlib").sha256(_canonical(body)).hexdigest()
    path.write_text(json.dumps(doc))


def test_wrong_password(fresh, password):
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse", password + "x")
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nobody-here", password)


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_damaged_database_first_page(fresh, password):
    fresh.store.close()
    with open(fresh.folder / DB_FILE_NAME, "r+b") as fh:
        fh.write(os.urandom(4096))
    with pytest.raises(StoreDamaged):
        accounts.sign_in(fresh.folder, "nurse", password)


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_missing_or_truncated_database(fresh, password):
    fresh.store.close()
    db = fresh.folder / DB_FILE_NAME
    db.write_bytes(db.read_bytes()[:1000])
    with pytest.raises(StoreDamaged):
        accounts.sign_in(fresh.folder, "nurse", password)
    db.unlink()
    with pytest.raises(StoreDamaged):
        accounts.sign_in(fresh.folder, "nurse", password)


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_slot_byte_edited_without_checksum(fresh, password):
    fresh.store.close()
    _flip_wrapped_byte(fresh.folder, "nurse")
    with pytest.raises(SlotFileTampered):
        accounts.sign_in(fresh.folder, "admin", password)  # any account: the file as a whole is refused


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_slot_removed_with_valid_checksums_caught_by_hmac(fresh, password):
    fresh.store.close()
    _rewrite_slots(fresh.folder, lambda slots: slots.remove(next(s for s in slots if s["username"] == "nurse2")))
    with pytest.raises(SlotFileTampered):
        accounts.sign_in(fresh.folder, "admin", password)


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_slot_added_with_valid_checksums_caught_by_hmac(fresh, password):
    fresh.store.close()

    def add(slots):
        copy = dict(next(s for s in slots if s["username"] == "nurse"))
        copy["id"], copy["username"] = "00000000-0000-0000-0000-000000000000", "intruder"
        slots.append(copy)

    _rewrite_slots(fresh.folder, add)
    with pytest.raises(SlotFileTampered):
        accounts.sign_in(fresh.folder, "admin", password)
    with pytest.raises((WrongPassword, SlotFileTampered)):
        accounts.sign_in(fresh.folder, "intruder", password)


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_missing_slot_file_and_missing_store(fresh, tmp_path, password):
    fresh.store.close()
    (fresh.folder / SLOT_FILE_NAME).unlink()
    with pytest.raises(SlotFileTampered):
        accounts.sign_in(fresh.folder, "admin", password)
    with pytest.raises(StoreNotFound):
        accounts.sign_in(tmp_path / "no-such-store", "admin", password)


def test_three_failures_have_three_distinct_messages():
    messages = {str(WrongPassword()), str(StoreDamaged()), str(SlotFileTampered())}
    assert len(messages) == 3
    assert all(m and "\n" not in m for m in messages)


# ----- REL-04: network shares ----------------------------------------------------------------------


MOUNTS = """sysfs /sys sysfs rw 0 0
/dev/sda1 / ext4 rw,relatime 0 0
{mount}
"""


@pytest.mark.parametrize("fstype", ["nfs", "nfs4", "cifs", "smb3", "fuse.sshfs"])
def test_network_share_refused(tmp_path, fstype):
    folder = tmp_path / "store"
    mounts = MOUNTS.format(mount=f"server:/export {tmp_path} {fstype} rw 0 0")
    with pytest.raises(StoreLocationRefused) as err:
        check_store_location(folder, mounts_text=mounts, platform="linux")
    assert "network" in str(err.value)


def test_unc_paths_refused(tmp_path):
    from pathlib import PurePosixPath

    for path in ("//server/share/lantern", "\\\\server\\share\\lantern"):
        with pytest.raises(StoreLocationRefused):
            check_store_location(PurePosixPath(path), mounts_text="", platform="linux")


def test_local_disk_accepted(tmp_path):
    mounts = MOUNTS.format(mount=f"tmpfs {tmp_path.parent}/elsewhere tmpfs rw 0 0")
    check_store_location(tmp_path / "store", mounts_text=mounts, platform="linux")
    # A network mount elsewhere does not taint a local folder whose name merely starts the same.
    mounts = MOUNTS.format(mount=f"server:/x {tmp_path}-other nfs rw 0 0")
    check_store_location(tmp_path / "store", mounts_text=mounts, platform="linux")


def test_init_on_network_share_refused(tmp_path, monkeypatch, password):
    import core.db.store as store_mod

    real = store_mod.check_store_location
    mounts = MOUNTS.format(mount=f"server:/export {tmp_path} cifs rw 0 0")
    monkeypatch.setattr(store_mod, "check_store_location", lambda folder: real(folder, mounts_text=mounts))
    with pytest.raises(StoreLocationRefused):
        accounts.init_store(tmp_path / "store", ods_code="RXX", wards=["Oak Ward"], admin_username="admin",
                            admin_password=password)
    assert not (tmp_path / "store").exists()


# ----- Schema by Alembic --------------------------------------------------------------------------


def test_fresh_store_is_at_alembic_head(fresh):
    assert migrate.current_revision(fresh.store.engine) == migrate.head_revision()


@pytest.mark.sqlcipher_only("the store folder, its key file and the SQLite engine")
def test_alembic_schema_matches_models(fresh):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with fresh.store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        assert compare_metadata(ctx, Base.metadata) == []
        tables = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
        triggers = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'").scalars())
    for table in ("organisation", "wards", "users", "incidents", "people_involved", "incident_types",
                  "safeguarding_actions", "incident_versions", "audit_events", "export_batches"):
        assert table in tables
    assert {"audit_events_no_update", "audit_events_no_delete"} <= triggers


def test_foreign_keys_enforced(fresh):
    from core.errors import StorageFailure

    with pytest.raises(StorageFailure):
        with unit_of_work(fresh.store) as session:
            session.execute(text("INSERT INTO user_wards(user_id, ward_id) VALUES ('no-such-user', 999)"))
            session.commit()
