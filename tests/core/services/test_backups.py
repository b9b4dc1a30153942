"""Backups on real encrypted stores: online (while the store is open and being written), encrypted, verified,
carrying the key slots; restore opens with the same passwords; tampered backups and unsafe targets are refused;
automatic backups, rotation, the last-good-backup warning and the restore that switches to it (REL-06)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cli.main import run
from core import paths
from core.clock import utcnow
from core.db.engine import DB_FILE_NAME
from core.db.models import Incident
from core.db.store import unit_of_work
from core.errors import PermissionDenied, StoreDamaged, ValidationError, WrongPassword
from core.security.keyslots import SLOT_FILE_NAME
from core.services import accounts, backups, incidents, maintenance
from core.services.maintenance import check_store
from tests.core.helpers_common import draft

pytestmark = pytest.mark.sqlcipher_only("Lantern's own backups are for a store on a PC; a server is backed up with pg_dump (docs/server.md)")

ROOT = Path(__file__).resolve().parents[3]


# ----- backing up and restoring by hand ------------------------------------------------------------------

MARKER = "BKP-MARKER-4412"


def _count(store) -> int:
    with unit_of_work(store, write=False) as session:
        return session.scalar(select(func.count()).select_from(Incident))


def _add(store, actor, ward, n, text="Synthetic."):
    for _ in range(n):
        incidents.create_draft(store, actor, draft(ward, description=text))


def test_backup_while_writing_then_restore(fresh, tmp_path, password):
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
        assert password not in zf.read("manifest.json").decode()
    assert not [p for p in backup.parent.iterdir() if p.name != backup.name]  # no temp files left

    restored = tmp_path / "restored"
    assert maintenance.restore_store(backup, restored)["incidents"] == manifest["incidents"]
    for username in ("nurse", "manager", "admin"):
        s, _ = accounts.sign_in(restored, username, password)
        s.close()
    s, restored_admin = accounts.sign_in(restored, "admin", password)
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


def test_cli_backup_and_restore_round_trip(fresh, tmp_path, password):
    _add(fresh.store, fresh.actors["nurse"], fresh.wards["Oak Ward"], 4)
    expected = _count(fresh.store)
    fresh.store.close()
    out, err = io.StringIO(), io.StringIO()
    backup = tmp_path / "cli.lantern-backup"
    code = run(["backup", "--store", str(fresh.folder), "--user", "admin", "--password-stdin", "--out", str(backup)],
               stdin=io.StringIO(password + "\n"), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert f"({expected} incidents)" in out.getvalue()
    restored = tmp_path / "cli-restored"
    code = run(["restore", "--from", str(backup), "--store", str(restored)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    out = io.StringIO()
    code = run(["check", "--store", str(restored), "--user", "manager", "--password-stdin"],
               stdin=io.StringIO(password + "\n"), stdout=out, stderr=err)
    assert code == 0, out.getvalue() + err.getvalue()
    s, _ = accounts.sign_in(restored, "admin", password)
    fresh.extra.append(s)
    assert _count(s) == expected
    # A non-administrator cannot make a backup from the CLI either.
    err = io.StringIO()
    code = run(["backup", "--store", str(fresh.folder), "--user", "nurse", "--password-stdin",
                "--out", str(tmp_path / "nurse.zip")], stdin=io.StringIO(password + "\n"), stdout=io.StringIO(),
               stderr=err)
    assert code != 0 and len(err.getvalue().strip().splitlines()) == 1


# ----- automatic backups, the warning and restore ------------------------------------------------------

def _audit(store, action):
    from sqlalchemy import select

    from core.db.models import AuditEvent
    from core.db.store import unit_of_work

    with unit_of_work(store, write=False) as session:
        return [(e.username, e.outcome, json.loads(e.detail))
                for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


@pytest.fixture
def configured(make_store, tmp_path):
    store, actors, _recovery, _wards = make_store()
    folder = tmp_path / "backups"
    backups.set_backup_settings(store, actors["admin"], folder=str(folder), keep=2, warn_days=3)
    return store, actors, folder


def test_settings_have_safe_defaults_and_are_audited(make_store, tmp_path):
    store, actors, _r, _w = make_store()
    assert backups.get_backup_settings(store) == backups.BackupSettings("", 14, 3, "sign_out")
    saved = backups.set_backup_settings(store, actors["admin"], folder=str(tmp_path / "b"), keep=5, warn_days=7,
                                        when="daily")
    assert saved == backups.get_backup_settings(store)
    assert saved.folder == str((tmp_path / "b").resolve()) and (tmp_path / "b").is_dir()
    (_user, _outcome, detail), = _audit(store, "settings.change")
    assert detail["backup_keep"] == {"from": "14", "to": "5"}


@pytest.mark.parametrize("folder, message", [
    ("store/backups", "outside the store folder"),
    ("relative/folder", "full path"),
])
def test_bad_backup_folders_get_one_plain_message(make_store, tmp_path, folder, message):
    store, actors, _r, _w = make_store()
    target = str(tmp_path / folder) if folder.startswith("store") else folder
    with pytest.raises(ValidationError, match=message):
        backups.set_backup_settings(store, actors["admin"], folder=target, keep=5, warn_days=3)


def test_only_an_administrator_changes_backup_settings(make_store, tmp_path):
    store, actors, _r, _w = make_store()
    with pytest.raises(PermissionDenied):
        backups.set_backup_settings(store, actors["manager"], folder=str(tmp_path / "b"), keep=5, warn_days=3)
    with pytest.raises(ValidationError, match="between 1 and 100"):
        backups.set_backup_settings(store, actors["admin"], folder="", keep=0, warn_days=3)


def test_no_folder_means_automatic_backups_are_off_and_the_status_says_so(make_store):
    store, actors, _r, _w = make_store()
    assert backups.run_automatic(store, actors["nurse"]) == "off"
    status = backups.backup_status(store, actors["admin"])
    assert "no good backup" in status.warning and "Automatic backups are off" in status.warning
    assert status.last_good_text == "No backup has been made yet."


def test_a_nurses_sign_out_makes_a_verified_backup_outside_the_store(configured):
    store, actors, folder = configured
    assert backups.run_automatic(store, actors["nurse"]) == "written"
    made, = backups.automatic_backups(folder, store.slots.store_id)
    assert not made.resolve().is_relative_to(store.folder.resolve())
    assert maintenance.verify_backup(made, store.key)["incidents"] == 0
    assert _audit(store, "backup.auto") == [("nurse", "ok", {"incidents": 0})]
    assert backups.backup_status(store, actors["admin"]).warning == ""


def test_rotation_keeps_the_last_n_and_never_touches_other_files(configured):
    store, actors, folder = configured
    (folder / "notes.txt").write_text("not a backup")
    (folder / "lantern-auto-00000000-20240101-000000.lantern").write_text("another store's")
    start = utcnow()
    for minutes in range(4):
        assert backups.run_automatic(store, actors["nurse"], now=start + timedelta(minutes=minutes)) == "written"
    kept = backups.automatic_backups(folder, store.slots.store_id)
    assert [p.name[-23:] for p in kept] == [f"{(start + timedelta(minutes=m)):%Y%m%d-%H%M%S}.lantern"
                                            for m in (2, 3)]
    assert (folder / "notes.txt").exists() and (folder / "lantern-auto-00000000-20240101-000000.lantern").exists()


def test_two_backups_in_the_same_second_both_survive(configured):
    store, actors, folder = configured
    moment = utcnow()
    assert backups.run_automatic(store, actors["nurse"], now=moment) == "written"
    assert backups.run_automatic(store, actors["nurse"], now=moment) == "written"
    names = [p.name for p in backups.automatic_backups(folder, store.slots.store_id)]
    assert len(names) == 2 and names[1].endswith("-2.lantern")


def test_daily_backups_wait_a_day(make_store, tmp_path):
    store, actors, _r, _w = make_store()
    backups.set_backup_settings(store, actors["admin"], folder=str(tmp_path / "b"), keep=5, warn_days=3,
                                when="daily")
    now = utcnow()
    assert backups.run_automatic(store, actors["nurse"], now=now) == "written"
    assert backups.run_automatic(store, actors["nurse"], now=now + timedelta(hours=2)) == "not due"
    assert backups.run_automatic(store, actors["nurse"], now=now + timedelta(hours=25)) == "written"


def test_a_failed_backup_is_audited_logged_and_does_not_count_as_good(configured, tmp_path):
    store, actors, folder = configured
    folder.rmdir()
    folder.write_text("a file where the backup folder should be")
    assert backups.run_automatic(store, actors["nurse"]).startswith("failed: ")
    assert _audit(store, "backup.auto")[0][1] == "failed"
    assert backups.last_good_backup(store) is None


def test_warning_when_the_last_good_backup_is_older_than_the_set_age(configured):
    store, actors, _folder = configured
    backups.run_automatic(store, actors["nurse"])
    status = backups.backup_status(store, actors["admin"])
    assert status.warning == "" and status.last_good_text.startswith("Last good backup: ")
    later = backups.backup_status(store, actors["admin"], now=utcnow() + timedelta(days=5, hours=1))
    assert later.warning.startswith("The last good backup is 5 days old (you asked to be warned after 3).")


def test_restore_checks_the_backup_restores_into_a_new_folder_and_switches(configured, tmp_path, password):
    store, actors, folder = configured
    backups.run_automatic(store, actors["nurse"])
    made, = backups.automatic_backups(folder, store.slots.store_id)
    info = backups.describe_backup(made)
    assert info.incidents == 0 and info.store_id == store.slots.store_id
    with pytest.raises(PermissionDenied):
        backups.restore_backup(store, actors["manager"], made, tmp_path / "restored")
    with pytest.raises(ValidationError, match="outside the current store"):
        backups.restore_backup(store, actors["admin"], made, store.folder / "inner")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(ValidationError, match="not empty"):
        backups.restore_backup(store, actors["admin"], made, tmp_path / "busy")

    result = backups.restore_backup(store, actors["admin"], made, tmp_path / "restored")
    assert result.fully_checked and result.incidents == 0
    assert _audit(store, "backup.restore")[0][2] == {"incidents": 0, "same_store": True}
    backups.switch_store(store, actors["admin"], tmp_path / "restored")
    assert paths.configured_store() == (tmp_path / "restored").resolve()

    restored, admin = accounts.sign_in(tmp_path / "restored", "admin", password)
    try:
        assert all(r.ok for r in check_store(restored, admin))
    finally:
        restored.close()


def test_a_damaged_backup_file_is_refused_in_plain_words(tmp_path):
    bad = tmp_path / "bad.lantern"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(Exception, match="damaged or is not a Lantern backup"):
        backups.describe_backup(bad)


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from core.demo.seed import add_synthetic_incidents
from core.services import accounts

folder, stop = Path(sys.argv[1]), Path(sys.argv[2])
store, admin = accounts.sign_in(folder, "admin", sys.stdin.readline().rstrip("\\n"))
i = 0
while not stop.exists() and i < 2000:
    add_synthetic_incidents(store, admin, 3, seed=i)
    i += 1
    print(i, flush=True)
store.close()
"""


@pytest.mark.slow
def test_a_backup_made_while_another_process_writes_restores_to_a_store_that_passes_check(make_store, tmp_path, password):
    store, actors, _r, _w = make_store()
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store.folder), str(stop), str(ROOT)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        writer.stdin.write(password + "\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "1", writer.stderr.read()  # the writer is writing
        manifests = []
        for n in range(3):  # each backup overlaps the writer's transactions
            manifests.append(maintenance.backup_store(store, actors["admin"], tmp_path / f"during-{n}.lantern"))
            time.sleep(0.05)
    finally:
        stop.write_text("stop")
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert int(out.split()[-1]) >= 3  # it kept writing across the backups
    assert manifests[0]["incidents"] < manifests[-1]["incidents"]

    for n, manifest in enumerate(manifests):
        restored_folder = tmp_path / f"restored-{n}"
        maintenance.restore_store(tmp_path / f"during-{n}.lantern", restored_folder)
        restored, admin = accounts.sign_in(restored_folder, "admin", password)
        try:
            from sqlalchemy import func, select

            from core.db.models import AuditEvent, Incident
            from core.db.store import unit_of_work

            with unit_of_work(restored, write=False) as session:
                incidents = session.scalar(select(func.count()).select_from(Incident))
                audited = session.scalar(select(func.count()).select_from(AuditEvent)
                                         .where(AuditEvent.action == "incident.create"))
                head = session.scalar(select(func.max(AuditEvent.id)).where(
                    AuditEvent.id <= manifest["audit_events_at_backup"]))
            assert incidents == manifest["incidents"] == audited  # every incident with its audit row, no more
            assert head == manifest["audit_events_at_backup"]
            assert all(r.ok for r in check_store(restored, admin)), [r for r in check_store(restored, admin)]
        finally:
            restored.close()
