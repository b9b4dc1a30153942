"""The audit anchor: every backup's manifest records the newest audit event it holds (id and hash), and `check`
compares the live trail with the newest backup's anchor (`audit_anchor`).

This catches a trail cut back past the newest backup, with the triggers dropped and `audit_head` rewritten to
match, which the chain walk alone cannot see. Its honest limit: audit rows recorded after the newest backup
can still be removed unseen (the anchor knows nothing newer than its backup), and someone who can also rewrite
the backup folder, or blank the backup-folder setting, can defeat it. Synthetic data only.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import select, text

from cli.main import run
from core.db import audit
from core.db.engine import DB_FILE_NAME
from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.services import backups, incidents, maintenance
from tests.core.helpers_common import draft

pytestmark = pytest.mark.sqlcipher_only("the audit anchor lives in an embedded store's backups and key file; a server's chain is checked by lantern server check (tests/pg/test_pg_check.py)")


@pytest.fixture
def configured(make_store, tmp_path):
    store, actors, _recovery, wards = make_store()
    folder = tmp_path / "backups"
    backups.set_backup_settings(store, actors["admin"], folder=str(folder), keep=5, warn_days=3)
    return store, actors, wards, folder


def _backup(store, actors, folder) -> dict:
    assert backups.run_automatic(store, actors["nurse"]) == "written"
    newest = backups.automatic_backups(folder, store.slots.store_id)[-1]
    return maintenance.read_backup(newest)


def _more_actions(store, actors, wards, n=2):
    for i in range(n):
        detail = incidents.create_draft(store, actors["nurse"], draft(wards["Oak Ward"], local_ref=f"A{i}"))
        incidents.submit(store, actors["nurse"], detail.incident_id)


def _events(store) -> list[tuple[int, str]]:
    with unit_of_work(store, write=False) as session:
        return [(e.id, e.hash) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _results(store, actor) -> dict:
    return {r.name: r for r in maintenance.check_store(store, actor)}


def _cut_back_to(store, keep_up_to: int):
    """What someone with the key and their own tools could do: drop the triggers, delete every audit row after
    `keep_up_to` and rewrite the head record so the chain walk finds nothing wrong."""
    with unit_of_work(store) as session:
        last_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == keep_up_to))
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
        session.execute(text("DELETE FROM audit_events WHERE id > :n"), {"n": keep_up_to})
        session.execute(text("UPDATE audit_head SET last_id = :n, last_hash = :h WHERE id = 1"),
                        {"n": keep_up_to, "h": last_hash})
        session.commit()


def test_a_backup_manifest_holds_the_anchor_of_the_copy_s_last_event(configured):
    store, actors, wards, folder = configured
    _more_actions(store, actors, wards)
    before = _events(store)
    manifest = _backup(store, actors, folder)
    anchor = manifest["audit_anchor"]
    assert anchor == {"id": before[-1][0], "hash": before[-1][1]}  # the copy's newest event, as it was
    assert anchor["id"] == manifest["audit_events_at_backup"]
    after = _events(store)
    assert after[-1][0] > anchor["id"]  # the backup's own audit row came after the copy was taken
    # and the copy inside the zip holds exactly that event as its newest
    with zipfile.ZipFile(backups.automatic_backups(folder, store.slots.store_id)[-1]) as zf:
        assert json.loads(zf.read(maintenance.MANIFEST))["audit_anchor"] == anchor


def test_check_passes_after_more_actions(configured):
    store, actors, wards, folder = configured
    _backup(store, actors, folder)
    _more_actions(store, actors, wards)
    result = _results(store, actors["admin"])["audit_anchor"]
    assert result.ok and "still holds everything in the backup of" in result.detail
    assert not store.damaged


def test_a_trail_cut_back_past_the_newest_backup_is_caught_though_the_chain_walk_passes(configured, password):
    store, actors, wards, folder = configured
    _more_actions(store, actors, wards)
    manifest = _backup(store, actors, folder)
    anchor = manifest["audit_anchor"]
    _more_actions(store, actors, wards)

    _cut_back_to(store, anchor["id"] - 2)
    with unit_of_work(store, write=False) as session:
        assert audit.verify_chain(session) == []  # the chain and head agree: the walk alone sees nothing
        assert "missing or altered" in audit.anchor_problem(session, anchor)

    results = _results(store, actors["admin"])
    assert results["audit_chain"].ok
    found = results["audit_anchor"]
    assert not found.ok
    assert found.detail.startswith("audit events recorded before the backup of ")
    assert "are missing or altered" in found.detail
    assert anchor["hash"] not in found.detail and manifest["db_sha256"] not in found.detail
    assert "restored from an older backup" in found.detail  # the one innocent cause is named
    assert not store.damaged  # reported, but the ward can still work: a restore looks the same

    store.close()
    out, err = io.StringIO(), io.StringIO()
    code = run(["check", "--store", str(store.folder), "--user", "admin", "--password-stdin"],
               stdin=io.StringIO(password + "\n"), stdout=out, stderr=err)
    assert code != 0
    assert "FAIL audit_anchor: audit events recorded before the backup of" in out.getvalue()
    assert "ok   audit_chain" in out.getvalue()


def test_a_rewritten_anchored_event_is_caught(configured):
    store, actors, wards, folder = configured
    manifest = _backup(store, actors, folder)
    _cut_back_to(store, manifest["audit_anchor"]["id"] - 1)
    _more_actions(store, actors, wards, n=1)  # a new event takes the anchored id, with another hash
    with unit_of_work(store, write=False) as session:
        assert audit.verify_chain(session) == []
    assert not _results(store, actors["admin"])["audit_anchor"].ok


def test_no_backup_folder_means_nothing_to_compare(make_store):
    store, actors, _recovery, _wards = make_store()
    result = _results(store, actors["admin"])["audit_anchor"]
    assert result.ok and result.detail == "no backup to compare with"


def test_an_empty_backup_folder_or_a_backup_without_an_anchor_means_nothing_to_compare(configured, tmp_path):
    store, actors, _wards, folder = configured
    assert _results(store, actors["admin"])["audit_anchor"].detail == "no backup to compare with"
    _backup(store, actors, folder)
    made = backups.automatic_backups(folder, store.slots.store_id)[-1]
    older = tmp_path / "older.lantern"  # as written before anchors existed: the manifest has no such key
    with zipfile.ZipFile(made) as src, zipfile.ZipFile(older, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == maintenance.MANIFEST:
                manifest = json.loads(data)
                del manifest["audit_anchor"]
                data = json.dumps(manifest).encode()
            dst.writestr(name, data)
    made.unlink()
    older.replace(folder / older.name)
    result = _results(store, actors["admin"])["audit_anchor"]
    assert result.ok and result.detail == "no backup to compare with"


def test_a_damaged_newest_backup_gives_way_to_the_one_before(configured):
    store, actors, wards, folder = configured
    first = _backup(store, actors, folder)
    _more_actions(store, actors, wards, n=1)
    second = _backup(store, actors, folder)
    assert second["audit_anchor"] != first["audit_anchor"]
    newest = backups.automatic_backups(folder, store.slots.store_id)[-1]
    with zipfile.ZipFile(newest) as src:
        members = {name: src.read(name) for name in src.namelist()}
    members[DB_FILE_NAME] = b"not the database"  # the manifest still reads; its checksum no longer matches
    with zipfile.ZipFile(newest, "w") as dst:
        for name, data in members.items():
            dst.writestr(name, data)
    found = maintenance.newest_backup_anchor(folder, store.slots.store_id)
    assert found is not None and found[0] == first["audit_anchor"]
    assert _results(store, actors["admin"])["audit_anchor"].ok
