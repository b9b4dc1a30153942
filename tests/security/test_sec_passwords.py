"""Issue 13 item 5: weak passwords. zxcvbn with its frequency lists plus the NCSC length rule; the published demo
password is refused outside demo stores; the estimate the password fields show as the person types."""

from __future__ import annotations

import json

import pytest

from core import paths
from core.errors import PasswordPolicyError, SlotFileTampered, ValidationError
from core.security.keyslots import MINIMUM_KDF, SLOT_FILE_NAME
from core.security.passwords import check_password, estimate, temporary_password
from core.services import accounts
from tests.conftest import PASSWORD

WEAK = ["monkeymonkey", "abc123abc123", "trustno1trustno1", paths.DEMO_PASSWORD, "Lantern Demo  Only"]


def _init(folder, password, **extra):
    return accounts.init_store(folder, ods_code="RXX", wards=["Oak Ward"], admin_username="admin",
                               admin_password=password, kdf=MINIMUM_KDF, **extra)


@pytest.mark.parametrize("password", WEAK)
def test_a_real_administrator_cannot_have_a_weak_or_published_password(tmp_path, password):
    with pytest.raises(PasswordPolicyError) as err:
        _init(tmp_path / "store", password)
    assert "guess" in str(err.value)
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_for_new_accounts_and_changes(make_store, password):
    store, actors, _recovery, _wards = make_store()
    with pytest.raises(ValidationError):
        accounts.create_user(store, actors["admin"], username="newnurse", role="nurse", password=password)
    with pytest.raises(ValidationError):
        accounts.change_password(store, actors["nurse"], PASSWORD, password)


def test_the_demo_password_works_in_a_demo_store_only(tmp_path):
    store, admin, _ = _init(tmp_path / "demo", paths.DEMO_PASSWORD, demo=True)
    accounts.create_user(store, admin, username="nurse", role="nurse", password=paths.DEMO_PASSWORD,
                         must_change=False)
    with pytest.raises(PasswordPolicyError):  # the rest of the policy still holds in a demo store
        accounts.create_user(store, admin, username="nurse2", role="nurse", password="monkeymonkey")
    store.close()
    store, _nurse = accounts.sign_in(tmp_path / "demo", "nurse", paths.DEMO_PASSWORD)
    store.close()


def test_the_demo_mark_cannot_be_added_to_a_real_store_by_editing_the_key_file(tmp_path, password):
    store, _admin, _ = _init(tmp_path / "store", password)
    store.close()
    path = tmp_path / "store" / SLOT_FILE_NAME
    doc = json.loads(path.read_bytes())
    doc["demo"] = True
    path.write_text(json.dumps(doc))
    with pytest.raises(SlotFileTampered):
        accounts.sign_in(tmp_path / "store", "admin", password)


def test_the_demo_seeder_still_makes_its_store(demo_store_folder):
    store, actor = accounts.sign_in(demo_store_folder, "lead", paths.DEMO_PASSWORD)
    assert store.slots.demo and actor.role == "safeguarding_lead"
    store.close()


@pytest.mark.parametrize("password", [PASSWORD, "fixture store only 0001", "bench-only passphrase 42",
                                      "correct horse battery staple", "purple-otter-lighthouse"])
def test_the_test_and_fixture_passwords_and_random_words_still_pass(password):
    check_password(password, username="nurse")


def test_temporary_passwords_are_strong_and_pass():
    for _ in range(20):
        temp = temporary_password()
        check_password(temp)
        assert len(temp.replace("-", "")) == 16


@pytest.mark.parametrize("typed, acceptable, words", [
    ("", False, "at least 12"),
    ("monkey", False, "6 more characters"),
    ("monkeymonkey", False, "Repeats"),
    (paths.DEMO_PASSWORD, False, "published password"),
    ("purple-otter-lighthouse", True, "Strong enough"),
    (PASSWORD, True, "very long time"),
])
def test_the_estimate_in_plain_words(typed, acceptable, words):
    result = estimate(typed, username="nurse")
    assert result.acceptable is acceptable
    assert words in result.words
