"""Accounts and sign-in: throttling that survives restarts, temporary passwords, one-slot rewrap,
recovery key, deactivation, password policy. Real encrypted stores, synthetic accounts."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import utcnow
from core.db.models import AuditEvent, User
from core.db.store import unit_of_work
from core.errors import AccountThrottled, PasswordPolicyError, PermissionDenied, ValidationError, WrongPassword
from core.security.keyslots import SLOT_FILE_NAME
from core.security.passwords import check_password, temporary_password
from core.security.throttle import FREE_ATTEMPTS, MAX_DELAY_S, Throttle, delay_after
from core.services import accounts, incidents, maintenance
from tests.core.helpers_common import PY, REPO, draft, python_env

NEW_PASSWORD = "another synthetic passphrase"


def _audit_rows(store, **where):
    with unit_of_work(store, write=False) as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return session.scalars(query).all()


# ----- throttling (SEC-12) ----------------------------------------------------------------------------


def test_delay_schedule():
    assert [delay_after(n) for n in range(FREE_ATTEMPTS)] == [0] * FREE_ATTEMPTS
    delays = [delay_after(n) for n in range(FREE_ATTEMPTS, FREE_ATTEMPTS + 12)]
    assert delays[0] > 0 and all(b >= a for a, b in zip(delays, delays[1:], strict=False))
    assert delays[1] > delays[0] and max(delays) == MAX_DELAY_S


@pytest.mark.sqlcipher_only("the sign-in throttle file of an embedded store; a server slows guessing with auth_delay (docs/server.md)")
def test_five_free_failures_then_growing_delay(fresh, password):
    folder, t0 = fresh.folder, utcnow()
    for i in range(FREE_ATTEMPTS):
        with pytest.raises(WrongPassword):
            accounts.sign_in(folder, "nurse", f"wrong password number {i}", now=t0 + timedelta(seconds=i))
    last = t0 + timedelta(seconds=FREE_ATTEMPTS - 1)
    # Now even the right password must wait.
    with pytest.raises(AccountThrottled) as first:
        accounts.sign_in(folder, "nurse", password, now=last + timedelta(seconds=1))
    assert 0 < first.value.seconds <= delay_after(FREE_ATTEMPTS)
    # Another account is not affected.
    s, _ = accounts.sign_in(folder, "nurse2", password, now=last + timedelta(seconds=1))
    s.close()
    # After the delay, one more failure: the next delay is longer.
    later = last + timedelta(seconds=delay_after(FREE_ATTEMPTS) + 1)
    with pytest.raises(WrongPassword):
        accounts.sign_in(folder, "nurse", "still the wrong password", now=later)
    with pytest.raises(AccountThrottled) as second:
        accounts.sign_in(folder, "nurse", password, now=later + timedelta(seconds=1))
    assert second.value.seconds > first.value.seconds
    assert Throttle(folder).failures("nurse") == FREE_ATTEMPTS + 1
    # A "restart": a new Throttle object reads the same counter and still refuses.
    with pytest.raises(AccountThrottled):
        Throttle(folder).check("NURSE", now=later + timedelta(seconds=2))
    # Success after the delay resets the counter and audits every failure (without the attempted passwords).
    ok_at = later + timedelta(seconds=delay_after(FREE_ATTEMPTS + 1) + 1)
    store, _ = accounts.sign_in(folder, "nurse", password, now=ok_at)
    fresh.extra.append(store)
    assert Throttle(folder).failures("nurse") == 0
    failed = _audit_rows(store, action="sign_in", outcome="failed")
    assert len(failed) == FREE_ATTEMPTS + 1 + 0
    assert {r.username for r in failed} == {"nurse"}
    text = json.dumps([[r.detail, r.username, r.workstation] for r in failed])
    assert "wrong password" not in text
    assert Throttle(folder)._load()["pending"] == []


@pytest.mark.sqlcipher_only("the sign-in throttle file of an embedded store; a server slows guessing with auth_delay (docs/server.md)")
def test_unknown_username_is_throttled_too(fresh, password):
    t0 = utcnow()
    for i in range(FREE_ATTEMPTS):
        with pytest.raises(WrongPassword):
            accounts.sign_in(fresh.folder, "no-such-user", password, now=t0 + timedelta(seconds=i))
    with pytest.raises(AccountThrottled):
        accounts.sign_in(fresh.folder, "no-such-user", password, now=t0 + timedelta(seconds=FREE_ATTEMPTS))


@pytest.mark.sqlcipher_only("the sign-in throttle file of an embedded store; a server slows guessing with auth_delay (docs/server.md)")
def test_throttle_survives_a_new_process(fresh, password):
    for i in range(FREE_ATTEMPTS):
        with pytest.raises(WrongPassword):
            accounts.sign_in(fresh.folder, "nurse", f"wrong password number {i}")
    proc = subprocess.run(
        [PY, str(REPO / "main.py"), "check", "--store", str(fresh.folder), "--user", "nurse", "--password-stdin"],
        input=password + "\n", capture_output=True, text=True, env=python_env(), cwd=REPO, timeout=60)
    assert proc.returncode != 0
    assert "Too many failed sign-ins" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.sqlcipher_only("the sign-in throttle file of an embedded store; a server slows guessing with auth_delay (docs/server.md)")
def test_throttle_file_holds_no_password(fresh):
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse", "a guessed secret phrase")
    raw = (fresh.folder / "signin-failures.json").read_text()
    assert "guessed" not in raw and "nurse" in raw


@pytest.mark.sqlcipher_only("the sign-in throttle file of an embedded store; a server slows guessing with auth_delay (docs/server.md)")
def test_corrupt_throttle_file_does_not_block_sign_in(fresh, password):
    (fresh.folder / "signin-failures.json").write_text("{not json")
    store, _ = accounts.sign_in(fresh.folder, "nurse", password)
    store.close()


# ----- temporary passwords and changing passwords -------------------------------------------------------


def test_temporary_password_must_be_changed_first(fresh):
    admin = fresh.actors["admin"]
    new = accounts.create_user(fresh.store, admin, username="newnurse", role="nurse",
                               ward_ids=[fresh.wards["Oak Ward"]])
    assert new.user.must_change_password and new.user.access_pending and not new.temporary_password
    temp = accounts.decide_access_request(fresh.store, fresh.actors["lead"], new.request_id, approve=True)
    check_password(temp)
    store, actor = accounts.sign_in(fresh.folder, "newnurse", temp)
    fresh.extra.append(store)
    assert actor.must_change_password
    with pytest.raises(PermissionDenied, match="temporary password"):
        incidents.create_draft(store, actor, draft(fresh.wards["Oak Ward"]))
    with pytest.raises(PermissionDenied):
        incidents.list_my_incidents(store, actor)
    with pytest.raises(PermissionDenied):
        maintenance.check_store(store, actor)
    with pytest.raises(WrongPassword):
        accounts.change_password(store, actor, "not the temporary one", NEW_PASSWORD)
    actor = accounts.change_password(store, actor, temp, NEW_PASSWORD)
    assert not actor.must_change_password
    incidents.create_draft(store, actor, draft(fresh.wards["Oak Ward"]))
    store.close()
    store2, actor2 = accounts.sign_in(fresh.folder, "newnurse", NEW_PASSWORD)
    fresh.extra.append(store2)
    assert not actor2.must_change_password
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "newnurse", temp)


@pytest.mark.sqlcipher_only("key slots and the recovery key are the embedded store's; on a server the lead resets (tests/pg/test_pg_accounts.py)")
def test_change_password_rewraps_one_slot_only(fresh, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    before = {s["id"]: s for s in json.loads((fresh.folder / SLOT_FILE_NAME).read_text())["slots"]}
    accounts.change_password(store, nurse, password, NEW_PASSWORD)
    after = {s["id"]: s for s in json.loads((fresh.folder / SLOT_FILE_NAME).read_text())["slots"]}
    assert before.keys() == after.keys()
    changed = [sid for sid in before if before[sid] != after[sid]]
    assert changed == [nurse.user_id]
    assert after[nurse.user_id]["salt"] != before[nurse.user_id]["salt"]
    store.close()
    fresh.store.close()
    for username, typed in (("nurse", NEW_PASSWORD), ("nurse2", password), ("admin", password)):
        s, _ = accounts.sign_in(fresh.folder, username, typed)
        s.close()
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse", password)


def test_change_password_policy_and_same_password(fresh, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    with pytest.raises(PasswordPolicyError):
        accounts.change_password(store, nurse, password, "short")
    with pytest.raises(ValidationError):
        accounts.change_password(store, nurse, password, password)


def test_admin_reset_password_gives_temporary_once_a_lead_approves(fresh, password):
    admin = fresh.actors["admin"]
    assert accounts.reset_password(fresh.store, admin, fresh.actors["nurse"].user_id) is None
    with pytest.raises(WrongPassword, match="waiting for the safeguarding lead"):
        accounts.sign_in(fresh.folder, "nurse", password)
    request = accounts.list_access_requests(fresh.store, fresh.actors["lead"])[0]
    assert (request.kind, request.username, request.requested_by) == ("reset_password", "nurse", "admin")
    temp = accounts.decide_access_request(fresh.store, fresh.actors["lead"], request.request_id, approve=True)
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse", password)
    store, actor = accounts.sign_in(fresh.folder, "nurse", temp)
    fresh.extra.append(store)
    assert actor.must_change_password


# ----- recovery key --------------------------------------------------------------------------------------


@pytest.mark.sqlcipher_only("key slots and the recovery key are the embedded store's; on a server the lead resets (tests/pg/test_pg_accounts.py)")
@pytest.mark.parametrize("typed", ["exact", "lower-spaces"])
def test_recovery_key_resets_a_password(fresh, typed, password):
    fresh.store.close()
    key = fresh.recovery if typed == "exact" else "  " + fresh.recovery.lower().replace("-", " ") + " "
    temp = accounts.reset_password_with_recovery(fresh.folder, key, "Nurse")
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse", password)
    store, actor = accounts.sign_in(fresh.folder, "nurse", temp)
    fresh.extra.append(store)
    assert actor.must_change_password
    rows = _audit_rows(store, action="password.recovery_reset")
    assert len(rows) == 1 and rows[0].username == "recovery-key"


@pytest.mark.sqlcipher_only("key slots and the recovery key are the embedded store's; on a server the lead resets (tests/pg/test_pg_accounts.py)")
def test_wrong_recovery_key_is_refused(fresh, password):
    fresh.store.close()
    wrong = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"
    with pytest.raises(ValidationError, match="recovery key"):
        accounts.reset_password_with_recovery(fresh.folder, wrong, "nurse")
    s, _ = accounts.sign_in(fresh.folder, "nurse", password)
    s.close()


# ----- deactivation, roles --------------------------------------------------------------------------------


def test_deactivated_account_cannot_sign_in(fresh, password):
    admin = fresh.actors["admin"]
    info = accounts.deactivate_user(fresh.store, admin, fresh.actors["nurse2"].user_id)
    assert not info.active
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "nurse2", password)
    with pytest.raises(PermissionDenied):
        accounts.deactivate_user(fresh.store, admin, admin.user_id)


def test_inactive_flag_alone_blocks_sign_in(fresh, password):
    """Even if a slot survived (e.g. a restored older key file), an inactive account is refused."""
    with unit_of_work(fresh.store) as session:
        session.get(User, fresh.actors["nurse"].user_id).active = False
        session.commit()
    with pytest.raises(WrongPassword, match="switched off"):
        accounts.sign_in(fresh.folder, "nurse", password)


def test_set_role_and_wards_are_audited(fresh, password):
    """Lowering a role takes effect at once (raising one waits for a lead: tests/security)."""
    admin, nurse = fresh.actors["admin"], fresh.actors["manager"]
    info = accounts.set_role(fresh.store, admin, nurse.user_id, "nurse")
    assert info.role == "nurse" and not info.access_pending
    info = accounts.set_user_wards(fresh.store, admin, nurse.user_id, [fresh.wards["Elm Ward"]])
    assert info.ward_ids == (fresh.wards["Elm Ward"],)
    assert len(_audit_rows(fresh.store, action="user.role_change")) == 1
    assert len(_audit_rows(fresh.store, action="user.wards_change")) == 1
    with pytest.raises(PermissionDenied):
        accounts.set_role(fresh.store, admin, admin.user_id, "nurse")
    with pytest.raises(ValidationError):
        accounts.set_role(fresh.store, admin, nurse.user_id, "superuser")
    _s, actor = accounts.sign_in(fresh.folder, "manager", password)
    _s.close()
    assert actor.role == "nurse" and actor.ward_ids == (fresh.wards["Elm Ward"],)


def test_duplicate_username_refused(fresh):
    with pytest.raises(ValidationError, match="already taken"):
        accounts.create_user(fresh.store, fresh.actors["admin"], username="Nurse", role="nurse")


# ----- password policy (SEC-13) -----------------------------------------------------------------------------


@pytest.mark.parametrize("password", [
    "correct horse battery staple",
    "ward round at seven",
    "aaaaaaaaaaab-but-not-really-simple",
    "purple-otter-lighthouse",
])
def test_password_policy_accepts_long_passphrases(password):
    check_password(password, username="nurse")


@pytest.mark.parametrize("password, reason", [
    ("short pass", "at least 12"),
    ("elevenchars", "at least 12"),
    ("password1234", "too common"),
    ("Password1234!", "too common"),
    ("aaaaaaaaaaaaaaaa", "too common"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzz1y", "too common"),  # a long run of one letter is not strong (zxcvbn)
    ("abcdefghijklmnop", "sequence"),
    ("1234567890123", "too common"),
    ("qwertyuiopasdf", "sequence"),
    ("my name is nurse1 ok", "username"),
    ("x" * 257, "no more than"),
])
def test_password_policy_refuses(password, reason):
    with pytest.raises(PasswordPolicyError) as err:
        check_password(password, username="nurse1")
    assert reason in str(err.value)


def test_password_policy_has_no_composition_rules_or_expiry():
    import inspect

    from core.security import passwords

    check_password("all lower case words here")  # no digit, capital or symbol needed
    source = inspect.getsource(passwords).lower()
    assert "expir" not in source.replace("no forced expiry", "").replace("no expiry", "")


def test_temporary_passwords_pass_policy_and_differ():
    seen = {temporary_password() for _ in range(20)}
    assert len(seen) > 15
    for p in seen:
        check_password(p)


def test_init_refuses_bad_input(tmp_path, password):
    good = dict(ods_code="RXX", wards=["Oak Ward"], admin_username="admin", admin_password=password)
    for change in ({"ods_code": "!"}, {"wards": []}, {"wards": ["Oak", "oak"]}, {"admin_username": "a b"},
                   {"admin_password": "short"}, {"admin_password": "my admin password"}):
        with pytest.raises(ValidationError):
            accounts.init_store(tmp_path / "s", **{**good, **change})
        assert not (tmp_path / "s").exists()
