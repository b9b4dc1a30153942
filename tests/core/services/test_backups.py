"""Automatic backups, the last-good-backup warning and restore, on real encrypted stores (REL-06)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from core import paths
from core.clock import utcnow
from core.errors import PermissionDenied, ValidationError
from core.services import accounts, backups, maintenance
from core.services.maintenance import check_store
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


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


def test_restore_checks_the_backup_restores_into_a_new_folder_and_switches(configured, tmp_path):
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

    restored, admin = accounts.sign_in(tmp_path / "restored", "admin", PASSWORD)
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
def test_a_backup_made_while_another_process_writes_restores_to_a_store_that_passes_check(make_store, tmp_path):
    store, actors, _r, _w = make_store()
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store.folder), str(stop), str(ROOT)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        writer.stdin.write(PASSWORD + "\n")
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
        restored, admin = accounts.sign_in(restored_folder, "admin", PASSWORD)
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
