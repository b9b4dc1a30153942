"""Issue 13 item 2: one spelling of a username for slots, throttle and audit; made-up names cannot evict a real
account's counter, and a counter still within its lock-out is never forgotten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import utcnow
from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.errors import AccountThrottled, WrongPassword
from core.security.throttle import FREE_ATTEMPTS, MAX_ACCOUNTS, Throttle
from core.security.usernames import normalise_username
from core.services import accounts

pytestmark = pytest.mark.sqlcipher_only("the sign-in throttle file of an embedded store; a server slows guessing with auth_delay (docs/server.md)")

SPELLINGS = (" nurse", "nurse ", "\tnurse", "NURSE", "ｎｕｒｓｅ", " Nurse\n")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_is_the_same_name(spelling):
    assert normalise_username(spelling) == "nurse"


def test_spellings_share_one_counter(fresh, password):
    t0 = utcnow()
    for i, spelling in enumerate(SPELLINGS[:FREE_ATTEMPTS]):
        with pytest.raises(WrongPassword):
            accounts.sign_in(fresh.folder, spelling, "not the password at all", now=t0 + timedelta(seconds=i))
    for spelling in ("nurse", *SPELLINGS):
        with pytest.raises(AccountThrottled):
            accounts.sign_in(fresh.folder, spelling, password, now=t0 + timedelta(seconds=FREE_ATTEMPTS))


def test_padded_name_signs_in_as_the_account_and_is_audited_once_spelt(fresh, password):
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "\tNURSE ", "not the password at all")
    store, actor = accounts.sign_in(fresh.folder, " nurse ", password)
    fresh.extra.append(store)
    assert actor.username == "nurse"
    with unit_of_work(store, write=False) as session:
        failed = set(session.scalars(select(AuditEvent.username).where(
            AuditEvent.action == "sign_in", AuditEvent.outcome == "failed")))
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert failed == {"nurse"}
    assert (last.action, last.username) == ("sign_in", "nurse")


def test_made_up_names_cannot_evict_a_real_accounts_counter(fresh, password):
    t0 = utcnow()
    for i in range(FREE_ATTEMPTS):
        with pytest.raises(WrongPassword):
            accounts.sign_in(fresh.folder, "nurse", "not the password at all", now=t0 + timedelta(seconds=i))
    throttle = Throttle(fresh.folder)
    later = t0 + timedelta(seconds=FREE_ATTEMPTS)
    for i in range(MAX_ACCOUNTS + 20):  # the cheap way: straight into the throttle, as sign_in would
        throttle.failed(f"made-up-{i}", "probe", later + timedelta(milliseconds=i), known=False)
    assert throttle.failures("nurse") == FREE_ATTEMPTS
    with pytest.raises(AccountThrottled):
        accounts.sign_in(fresh.folder, "nurse", password, now=later + timedelta(seconds=1))
    assert len(throttle._load()["unknown"]) <= MAX_ACCOUNTS


def test_a_locked_out_unknown_name_is_not_forgotten(tmp_path):
    throttle, t0 = Throttle(tmp_path), utcnow()
    for i in range(FREE_ATTEMPTS):
        throttle.failed("ghost", "probe", t0 + timedelta(seconds=i), known=False)
    for i in range(MAX_ACCOUNTS + 5):
        throttle.failed(f"other-{i}", "probe", t0 + timedelta(seconds=10, milliseconds=i), known=False)
    assert throttle.failures("ghost") == FREE_ATTEMPTS
    with pytest.raises(AccountThrottled):
        throttle.check("ghost", t0 + timedelta(seconds=11))
