"""The audit trail: one row per service call in the same transaction (a failed audit write rolls the
action back), append-only triggers, and a SHA-256 chain that catches edits and deletions."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from cli.main import run
from core.db import audit
from core.db.models import AuditEvent, Incident, SafeguardingAction, User, Ward
from core.db.store import unit_of_work
from core.errors import NotFound, StorageFailure, WrongPassword
from core.security.keyslots import SLOT_FILE_NAME
from core.services import accounts, incidents, maintenance
from tests.core.helpers_common import draft


class AuditDown(Exception):
    pass


def _count(store, model, *where) -> int:
    with unit_of_work(store, write=False) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _events(store) -> list[AuditEvent]:
    with unit_of_work(store, write=False) as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


@pytest.fixture
def audit_down(monkeypatch):
    def arm():
        def boom(*_a, **_k):
            raise AuditDown("audit write failed")

        monkeypatch.setattr(audit, "record", boom)

    return arm


# ----- one row, right fields ------------------------------------------------------------------------------


def test_service_calls_write_one_audit_row_each(fresh, password, engine):
    store, admin = fresh.store, fresh.actors["admin"]
    nurse_store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(nurse_store)
    manager_store, manager = accounts.sign_in(fresh.folder, "manager", password)
    fresh.extra.append(manager_store)
    steps = [
        (lambda: accounts.create_ward(store, admin, "Ash Ward"), "ward.create", admin),
        (lambda: accounts.create_user(store, admin, username="extra", role="administrator"), "user.create",
         admin),
    ]
    for call, action, actor in steps:
        before = len(_events(store))
        call()
        new = _events(store)[before:]
        assert [e.action for e in new] == [action]
        assert new[0].user_id == actor.user_id and new[0].username == actor.username
        assert new[0].workstation == actor.workstation and new[0].outcome == "ok" and new[0].at
    detail = incidents.create_draft(nurse_store, nurse, draft(fresh.wards["Oak Ward"], description="secret words"))
    incidents.submit(nurse_store, nurse, detail.incident_id)
    incidents.get_incident(manager_store, manager, detail.incident_id)
    rows = [e for e in _events(store) if e.entity_id == detail.incident_id]
    assert [e.action for e in rows] == ["incident.create", "incident.submit", "incident.view"]
    assert [e.username for e in rows] == ["nurse", "nurse", "manager"]
    assert "secret words" not in json.dumps([e.detail for e in _events(store)])
    if engine == "sqlcipher":  # a server is checked by its owner (lantern server check), not by the app
        maintenance.check_store(store, admin)
        assert _events(store)[-1].action == "store.check"


def test_sign_in_lock_and_sign_out_are_audited(fresh, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    accounts.lock(store, nurse)
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password, reason="unlock")
    accounts.sign_out(store, nurse)
    actions = [e.action for e in _events(fresh.store) if e.username == "nurse"]
    assert actions[-4:] == ["sign_in", "lock", "unlock", "sign_out"]


# ----- the audit write is part of the action ----------------------------------------------------------------


@pytest.mark.sqlcipher_only("the key slots and backup files an embedded store writes beside its database")
def test_failed_audit_rolls_back_account_changes(fresh, audit_down, password):
    store, admin, nurse = fresh.store, fresh.actors["admin"], fresh.actors["nurse"]
    slot_bytes = (fresh.folder / SLOT_FILE_NAME).read_bytes()
    users, wards, events = _count(store, User), _count(store, Ward), len(_events(store))
    memory_slots = dict(store.slots.slots)
    audit_down()
    calls = [
        lambda: accounts.create_user(store, admin, username="ghost", role="nurse", password=password + " x"),
        lambda: accounts.create_ward(store, admin, "Ghost Ward"),
        lambda: accounts.set_role(store, admin, nurse.user_id, "ward_manager"),
        lambda: accounts.set_user_wards(store, admin, nurse.user_id, []),
        lambda: accounts.deactivate_user(store, admin, nurse.user_id),
        lambda: accounts.reset_password(store, admin, nurse.user_id),
    ]
    for call in calls:
        with pytest.raises(AuditDown):
            call()
    with pytest.raises(AuditDown):
        accounts.sign_in(fresh.folder, "nurse", password)
    assert (fresh.folder / SLOT_FILE_NAME).read_bytes() == slot_bytes
    assert store.slots.slots == memory_slots
    assert (_count(store, User), _count(store, Ward), len(_events(store))) == (users, wards, events)
    with unit_of_work(store, write=False) as session:
        user = session.get(User, nurse.user_id)
        assert user.role == "nurse" and user.active and not user.must_change_password


@pytest.mark.sqlcipher_only("the key slots and backup files an embedded store writes beside its database")
def test_after_a_failed_audit_the_same_action_can_be_retried(fresh, monkeypatch, password):
    """Nothing of the rolled-back action lingers (not even in the in-memory key slots)."""
    store, admin = fresh.store, fresh.actors["admin"]
    real = audit.record

    def boom(*_a, **_k):
        raise AuditDown()

    monkeypatch.setattr(audit, "record", boom)
    with pytest.raises(AuditDown):
        accounts.create_user(store, admin, username="ghost", role="administrator", password=password)
    monkeypatch.setattr(audit, "record", real)
    accounts.create_ward(store, admin, "Ash Ward")
    assert store.slots.slot_for_username("ghost") is None
    new = accounts.create_user(store, admin, username="ghost", role="administrator", password=password)
    assert new.user.username == "ghost"
    s, _ = accounts.sign_in(fresh.folder, "ghost", password)
    s.close()


@pytest.mark.sqlcipher_only("the key slots and backup files an embedded store writes beside its database")
def test_failed_audit_on_password_change_keeps_old_password(fresh, audit_down, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    slot_bytes = (fresh.folder / SLOT_FILE_NAME).read_bytes()
    audit_down()
    with pytest.raises(AuditDown):
        accounts.change_password(store, nurse, password, "a brand new passphrase")
    assert (fresh.folder / SLOT_FILE_NAME).read_bytes() == slot_bytes
    store.close()


def test_failed_audit_rolls_back_incident_actions(fresh, monkeypatch, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    detail = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"]))
    incidents_before, events_before = _count(fresh.store, Incident), len(_events(fresh.store))

    def boom(*_a, **_k):
        raise AuditDown()

    monkeypatch.setattr(audit, "record", boom)
    with pytest.raises(AuditDown):
        incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"]))
    with pytest.raises(AuditDown):
        incidents.submit(store, nurse, detail.incident_id)
    with pytest.raises(AuditDown):  # a read that cannot be audited is refused
        incidents.get_incident(store, nurse, detail.incident_id)
    assert _count(fresh.store, Incident) == incidents_before
    assert _count(fresh.store, SafeguardingAction) == 0
    with unit_of_work(store, write=False) as session:
        assert session.get(Incident, detail.incident_id).status == "draft"
    assert len(_events(fresh.store)) == events_before


@pytest.mark.sqlcipher_only("the key slots and backup files an embedded store writes beside its database")
def test_failed_audit_removes_the_backup_file(fresh, monkeypatch, tmp_path):
    out = tmp_path / "backups" / "b.lantern-backup"
    real = audit.record

    def boom(session, actor, action, **kw):
        if action == "backup.create":
            raise AuditDown()
        return real(session, actor, action, **kw)

    monkeypatch.setattr(audit, "record", boom)
    with pytest.raises(AuditDown):
        maintenance.backup_store(fresh.store, fresh.actors["admin"], out)
    assert not out.exists()


# ----- append-only and the chain ---------------------------------------------------------------------------


@pytest.mark.parametrize("sql", ["UPDATE audit_events SET outcome = 'ok' WHERE id = 1",
                                 "DELETE FROM audit_events WHERE id = 1",
                                 "DELETE FROM audit_events"])
def test_update_and_delete_refused_by_triggers(fresh, sql):
    with pytest.raises(StorageFailure):
        with unit_of_work(fresh.store) as session:
            session.execute(text(sql))
            session.commit()
    raw = fresh.store.engine.raw_connection()
    try:
        with pytest.raises(Exception, match="append-only"):
            raw.driver_connection.execute(sql)
    finally:
        raw.close()
    assert len(_events(fresh.store)) > 1


def _tamper(store, *statements):
    with unit_of_work(store) as session:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
        for sql in statements:
            session.execute(text(sql))
        session.commit()


def _check(store, admin):
    results = {r.name: r for r in maintenance.check_store(store, admin)}
    return results["audit_chain"]


@pytest.mark.sqlcipher_only("the chain walk of lantern check; on a server the append-only trigger refuses these edits and lantern server check catches an owner's (tests/pg/test_pg_check.py)")
def test_intact_chain(fresh):
    with unit_of_work(fresh.store, write=False) as session:
        assert audit.verify_chain(session) == []
    assert _check(fresh.store, fresh.actors["admin"]).ok


@pytest.mark.parametrize("statements, expected", [
    (["UPDATE audit_events SET username = 'someone' WHERE id = 3"], "audit event 3 has been altered"),
    (["UPDATE audit_events SET detail = '{}' WHERE id = 2"], "audit event 2 has been altered"),
    (["DELETE FROM audit_events WHERE id = 4"], "missing"),
    (["DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)"], "newest audit events"),
    (["UPDATE audit_events SET outcome = 'failed' WHERE id = (SELECT max(id) FROM audit_events)"], "altered"),
    (["DELETE FROM audit_head"], "newest audit events"),
    (["DELETE FROM audit_events"], "newest audit events"),
])
@pytest.mark.sqlcipher_only("the chain walk of lantern check; on a server the append-only trigger refuses these edits and lantern server check catches an owner's (tests/pg/test_pg_check.py)")
def test_edits_and_deletions_are_detected(fresh, statements, expected):
    _tamper(fresh.store, *statements)
    with unit_of_work(fresh.store, write=False) as session:
        problems = audit.verify_chain(session)
    assert any(expected in p for p in problems), problems
    result = _check(fresh.store, fresh.actors["admin"])
    assert not result.ok and expected in result.detail


@pytest.mark.sqlcipher_only("the chain walk of lantern check; on a server the append-only trigger refuses these edits and lantern server check catches an owner's (tests/pg/test_pg_check.py)")
def test_cli_check_reports_a_broken_chain(fresh, password):
    _tamper(fresh.store, "UPDATE audit_events SET action = 'nothing' WHERE id = 2")
    fresh.store.close()
    out, err = io.StringIO(), io.StringIO()
    code = run(["check", "--store", str(fresh.folder), "--user", "admin", "--password-stdin"],
               stdin=io.StringIO(password + "\n"), stdout=out, stderr=err)
    assert code != 0
    assert "FAIL audit_chain" in out.getvalue()
    assert "ok   integrity_check" in out.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@pytest.mark.sqlcipher_only("the chain walk of lantern check; on a server the append-only trigger refuses these edits and lantern server check catches an owner's (tests/pg/test_pg_check.py)")
@given(data=st.data())
def test_any_single_edit_is_detected(fresh, data):
    """Hypothesis picks a row and a column and changes it; the change is rolled back after checking."""
    events = _events(fresh.store)
    row = data.draw(st.sampled_from(events))
    column = data.draw(st.sampled_from(["at", "user_id", "username", "action", "entity_type", "entity_id",
                                        "outcome", "workstation", "detail", "prev_hash", "hash"]))
    new_value = data.draw(st.text(min_size=1, max_size=20))
    if new_value == getattr(row, column):
        return
    with unit_of_work(fresh.store) as session:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text(f"UPDATE audit_events SET {column} = :v WHERE id = :i"), {"v": new_value, "i": row.id})
        problems = audit.verify_chain(session)
        session.rollback()
    assert problems


@pytest.mark.sqlcipher_only("a wrong password never opens a server connection to record it: the server refuses the login and slows guessing with auth_delay (docs/server.md)")
def test_failed_sign_in_is_recorded_without_password(fresh, password):
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse", "a wrong guess phrase")
    s, _ = accounts.sign_in(fresh.folder, "manager", password)
    s.close()
    failed = [e for e in _events(fresh.store) if e.outcome == "failed"]
    assert len(failed) == 1 and failed[0].username == "nurse" and failed[0].action == "sign_in"
    assert "guess" not in json.dumps([failed[0].detail, failed[0].entity_id])


def test_admin_cannot_read_incidents_but_views_are_audited(fresh, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    detail = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"]))
    with pytest.raises(NotFound):
        incidents.get_incident(fresh.store, fresh.actors["admin"], detail.incident_id)
