"""Issue 13 item 4: damage `check` did not see. Dropped audit triggers passed `check`, and so did deleting the newest
audit rows and rewriting the head when no backup existed. Now `check` compares the triggers with what the
migrations made, and the key-slot file keeps the audit anchor (newest id and hash) from the last sign-out or lock,
compared at sign-in and in `check` (reported, never a lock-out)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core.db import audit
from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.security.keyslots import SLOT_FILE_NAME
from core.services import accounts, maintenance

pytestmark = pytest.mark.sqlcipher_only("lantern check, the key file's anchor and the store file's damage; a server is checked by lantern server check (tests/pg/test_pg_check.py)")

MIGRATION = Path(__file__).resolve().parents[2] / "core/db/migrations/versions/0001_initial_schema.py"


def _results(store, actor) -> dict:
    return {r.name: r for r in maintenance.check_store(store, actor)}


def _raw(store, *statements):
    """What someone holding the key does with their own SQLCipher tools: past the services and the triggers."""
    raw = store.engine.raw_connection()
    try:
        for sql in statements:
            raw.driver_connection.execute(sql)
        raw.driver_connection.commit()
    finally:
        raw.close()


def test_the_expected_trigger_sql_is_what_the_migration_writes():
    source = MIGRATION.read_text(encoding="utf-8")
    written = re.findall(r'"(CREATE TRIGGER [^"]*)"\s*"([^"]*)"', source)
    sqlite = {a + b for a, b in written if b.startswith("BEGIN")}  # PostgreSQL's own are plpgsql (tests/pg)
    assert sqlite == set(audit.PROTECTIVE_TRIGGERS.values())


def test_a_fresh_store_passes_the_new_checks(fresh):
    results = _results(fresh.store, fresh.actors["admin"])
    assert results["audit_triggers"].ok and results["key_file_anchor"].ok
    assert all(r.ok for r in results.values()), results


@pytest.mark.parametrize("statements, expected", [
    (["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"], "is missing"),
    (["DROP TRIGGER audit_events_no_delete"], "audit_events_no_delete is missing"),
    (["DROP TRIGGER audit_events_no_update",
      "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN 0 "
      "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"], "audit_events_no_update has been changed"),
    (["CREATE TRIGGER quietly AFTER INSERT ON audit_events BEGIN SELECT 1; END"], "unexpected trigger quietly"),
])
def test_dropped_or_changed_audit_triggers_fail_check(fresh, statements, expected):
    _raw(fresh.store, *statements)
    result = _results(fresh.store, fresh.actors["admin"])["audit_triggers"]
    assert not result.ok and expected in result.detail
    assert not fresh.store.damaged  # reported, not a lock-out: the records themselves are intact


def _cut_trail_back(store, keep: int) -> None:
    """Delete every audit event after `keep` and rewrite the head to match, then put the triggers back, so the
    chain walk and the trigger check both pass: only an anchor kept outside the database can tell."""
    with unit_of_work(store, write=False) as session:
        kept_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == keep))
    _raw(store, "DROP TRIGGER audit_events_no_delete", f"DELETE FROM audit_events WHERE id > {keep}",
         f"UPDATE audit_head SET last_id = {keep}, last_hash = '{kept_hash}'",
         audit.PROTECTIVE_TRIGGERS["audit_events_no_delete"])


def _newest_id(store) -> int:
    with unit_of_work(store, write=False) as session:
        return audit.newest_anchor(session)["id"]


def test_sign_out_and_lock_keep_the_anchor_in_the_key_file_under_its_hmac(fresh, password):
    accounts.sign_out(fresh.store, fresh.actors["admin"])
    doc = json.loads((fresh.folder / SLOT_FILE_NAME).read_bytes())
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    assert store.slots.anchor == doc["audit_anchor"] and doc["audit_anchor"]["id"] == _newest_id(store) - 1
    accounts.lock(store, nurse)
    assert json.loads((fresh.folder / SLOT_FILE_NAME).read_bytes())["audit_anchor"]["id"] > doc["audit_anchor"]["id"]
    edited = json.loads((fresh.folder / SLOT_FILE_NAME).read_bytes())
    edited["audit_anchor"]["id"] = 1  # an anchor moved back by hand is refused with the rest of the file
    (fresh.folder / SLOT_FILE_NAME).write_text(json.dumps(edited))
    from core.errors import SlotFileTampered

    with pytest.raises(SlotFileTampered):
        accounts.sign_in(fresh.folder, "nurse", password)


def test_a_trail_cut_back_with_its_head_rewritten_fails_check_without_any_backup(fresh, password):
    admin = fresh.actors["admin"]
    accounts.sign_out(fresh.store, admin)  # the anchor goes into the key file
    store, admin = accounts.sign_in(fresh.folder, "admin", password)
    fresh.extra.append(store)
    anchored = store.slots.anchor["id"]
    _cut_trail_back(store, anchored - 3)
    results = _results(store, admin)
    assert results["audit_chain"].ok and results["audit_triggers"].ok  # the walk alone is fooled
    assert results["audit_anchor"].ok and "no backup" in results["audit_anchor"].detail
    assert not results["key_file_anchor"].ok
    assert f"audit event {anchored}" in results["key_file_anchor"].detail
    assert not store.damaged  # reported plainly, as a backup anchor's mismatch is; nobody is locked out


def test_the_cut_is_found_and_recorded_at_the_next_sign_in(fresh, password):
    accounts.sign_out(fresh.store, fresh.actors["admin"])
    store, _admin = accounts.sign_in(fresh.folder, "admin", password)
    anchored = store.slots.anchor["id"]
    _cut_trail_back(store, anchored - 2)
    store.close()  # the tamperer leaves without signing out, so the key file keeps the old anchor
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    with unit_of_work(store, write=False) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()
        assert audit.verify_chain(session) == []
    assert [e.action for e in events] == ["sign_in", accounts.ANCHOR_MISMATCH]
    assert events[1].outcome == "failed" and events[1].entity_id == str(anchored)
    assert nurse.role == "nurse"  # the nurse still signs in


def test_the_anchor_is_not_written_over_a_key_file_changed_meanwhile(fresh, password):
    """Another Lantern on the PC changes a password; this one's sign-out keeps that change."""
    store2, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    accounts.change_password(store2, nurse, password, "a brand new synthetic passphrase")
    accounts.sign_out(store2, nurse)
    accounts.sign_out(fresh.store, fresh.actors["admin"])
    store, _ = accounts.sign_in(fresh.folder, "nurse", "a brand new synthetic passphrase")
    fresh.extra.append(store)
    with unit_of_work(store, write=False) as session:
        assert session.execute(text("SELECT count(*) FROM audit_events")).scalar() > 0
