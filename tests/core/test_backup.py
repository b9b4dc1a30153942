"""Backups: online (while the store is open and being written), encrypted, verified, carrying the key
slots; restore opens with the same passwords; tampered backups and unsafe targets are refused."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import pytest
from helpers_common import PASSWORD, draft, fresh_fixture, template_fixture  # noqa: F401
from sqlalchemy import func, select

from cli.main import run
from core.db.engine import DB_FILE_NAME
from core.db.models import Incident
from core.db.store import unit_of_work
from core.errors import StoreDamaged, ValidationError, WrongPassword
from core.security.keyslots import SLOT_FILE_NAME
from core.services import accounts, incidents, maintenance

MARKER = "BKP-MARKER-4412"


def _count(store) -> int:
    with unit_of_work(store, write=False) as session:
        return session.scalar(select(func.count()).select_from(Incident))


def _add(store, actor, ward, n, text="Synthetic."):
    for _ in range(n):
        incidents.create_draft(store, actor, draft(ward, description=text))


def test_backup_while_writing_then_restore(fresh, tmp_path):
    store, admin, nurse, ward = fresh.store, fresh.actors["admin"], fresh.actors["nurse"], fresh.wards["Oak Ward"]
    _add(store, nurse, ward, 5, f"before {MARKER}")
    stop, errors = threading.Event(), []

    def writer():
        try:
            while not stop.is_set():
                incidents.create_draft(store, nurse, draft(ward))
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        manifest = maintenance.backup_store(store, admin, tmp_path / "out" / "ward.lantern-backup")
    finally:
        stop.set()
        thread.join()
    assert not errors
    backup = tmp_path / "out" / "ward.lantern-backup"
    assert manifest["incidents"] >= 5 and manifest["store_id"] == store.slots.store_id
    assert maintenance.verify_backup(backup, store.key)["db_sha256"] == manifest["db_sha256"]
    raw = backup.read_bytes()
    assert MARKER.encode() not in raw
    with zipfile.ZipFile(backup) as zf:
        assert set(zf.namelist()) == {DB_FILE_NAME, SLOT_FILE_NAME, "manifest.json"}
        assert not zf.read(DB_FILE_NAME).startswith(b"SQLite format 3")
        assert PASSWORD not in zf.read("manifest.json").decode()
    assert not [p for p in backup.parent.iterdir() if p.name != backup.name]  # no temp files left

    restored = tmp_path / "restored"
    assert maintenance.restore_store(backup, restored)["incidents"] == manifest["incidents"]
    for username in ("nurse", "manager", "admin"):
        s, _ = accounts.sign_in(restored, username, PASSWORD)
        s.close()
    s, restored_admin = accounts.sign_in(restored, "admin", PASSWORD)
    fresh.extra.append(s)
    assert _count(s) == manifest["incidents"]
    assert all(r.ok for r in maintenance.check_store(s, restored_admin))
    with pytest.raises(WrongPassword):
        accounts.sign_in(restored, "nurse", "not the password at all")


def test_backup_refuses_target_inside_store_or_existing_file(fresh, tmp_path):
    admin = fresh.actors["admin"]
    with pytest.raises(ValidationError, match="outside the store folder"):
        maintenance.backup_store(fresh.store, admin, fresh.folder / "b.zip")
    with pytest.raises(ValidationError, match="outside the store folder"):
        maintenance.backup_store(fresh.store, admin, fresh.folder / "sub" / ".." / "b.zip")
    existing = tmp_path / "exists.zip"
    existing.write_bytes(b"keep me")
    with pytest.raises(ValidationError, match="already exists"):
        maintenance.backup_store(fresh.store, admin, existing)
    assert existing.read_bytes() == b"keep me"


@pytest.fixture
def backup_file(fresh, tmp_path):
    _add(fresh.store, fresh.actors["nurse"], fresh.wards["Oak Ward"], 3)
    path = tmp_path / "b.lantern-backup"
    maintenance.backup_store(fresh.store, fresh.actors["admin"], path)
    return path


def _rewrite_zip(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, change(item.filename, zin.read(item.filename)))


def _flip(data: bytes, offset: int) -> bytes:
    b = bytearray(data)
    b[offset] ^= 0x40
    return bytes(b)


@pytest.mark.parametrize("target", [DB_FILE_NAME, SLOT_FILE_NAME, "manifest.json"])
def test_tampered_backup_refused(backup_file, tmp_path, target):
    bad = tmp_path / "bad.lantern-backup"

    def change(name, data):
        if name != target:
            return data
        if name == "manifest.json":
            doc = json.loads(data)
            doc["db_sha256"] = "0" * 64
            return json.dumps(doc).encode()
        return _flip(data, len(data) // 2)

    _rewrite_zip(backup_file, bad, change)
    with pytest.raises(StoreDamaged):
        maintenance.restore_store(bad, tmp_path / "restored")
    assert not (tmp_path / "restored").exists() or not any((tmp_path / "restored").iterdir())


def test_raw_byte_flip_and_garbage_backup_refused(backup_file, tmp_path):
    data = bytearray(backup_file.read_bytes())
    data[len(data) // 3] ^= 0xFF
    bad = tmp_path / "flipped.lantern-backup"
    bad.write_bytes(bytes(data))
    with pytest.raises(StoreDamaged):
        maintenance.restore_store(bad, tmp_path / "r1")
    junk = tmp_path / "junk.lantern-backup"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(StoreDamaged):
        maintenance.restore_store(junk, tmp_path / "r2")
    with pytest.raises(ValidationError):
        maintenance.restore_store(tmp_path / "missing.lantern-backup", tmp_path / "r3")


def test_restore_refuses_non_empty_folder(backup_file, tmp_path):
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "something.txt").write_text("keep")
    with pytest.raises(ValidationError, match="not empty"):
        maintenance.restore_store(backup_file, target)
    assert (target / "something.txt").read_text() == "keep"


def test_backup_needs_backup_permission(fresh, tmp_path):
    from core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        maintenance.backup_store(fresh.store, fresh.actors["lead"], tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_cli_backup_and_restore_round_trip(fresh, tmp_path):
    _add(fresh.store, fresh.actors["nurse"], fresh.wards["Oak Ward"], 4)
    expected = _count(fresh.store)
    fresh.store.close()
    out, err = io.StringIO(), io.StringIO()
    backup = tmp_path / "cli.lantern-backup"
    code = run(["backup", "--store", str(fresh.folder), "--user", "admin", "--password-stdin", "--out", str(backup)],
               stdin=io.StringIO(PASSWORD + "\n"), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert f"({expected} incidents)" in out.getvalue()
    restored = tmp_path / "cli-restored"
    code = run(["restore", "--from", str(backup), "--store", str(restored)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    out = io.StringIO()
    code = run(["check", "--store", str(restored), "--user", "manager", "--password-stdin"],
               stdin=io.StringIO(PASSWORD + "\n"), stdout=out, stderr=err)
    assert code == 0, out.getvalue() + err.getvalue()
    s, _ = accounts.sign_in(restored, "admin", PASSWORD)
    fresh.extra.append(s)
    assert _count(s) == expected
    # A non-administrator cannot make a backup from the CLI either.
    err = io.StringIO()
    code = run(["backup", "--store", str(fresh.folder), "--user", "nurse", "--password-stdin",
                "--out", str(tmp_path / "nurse.zip")], stdin=io.StringIO(PASSWORD + "\n"), stdout=io.StringIO(),
               stderr=err)
    assert code != 0 and len(err.getvalue().strip().splitlines()) == 1
