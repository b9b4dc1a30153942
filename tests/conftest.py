"""Shared test fixtures: real encrypted stores (never a mocked database), synthetic data only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.security.keyslots import MINIMUM_KDF  # noqa: E402
from core.services import accounts  # noqa: E402

PASSWORD = "test-only passphrase 42"  # synthetic, meets the policy


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Logs and settings go to a temporary folder, never the developer's own."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("LANTERN_LOG_DIR", str(base / "logs"))
    monkeypatch.setenv("LANTERN_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("LANTERN_DATA_DIR", str(base / "data"))


@pytest.fixture
def make_store(tmp_path):
    """Create a real SQLCipher store with two wards and one account per role.

    Uses the RFC 9106 minimum Argon2id cost to keep tests quick. Returns a function giving
    (store, actors_by_role, recovery_key); every store is closed at teardown.
    """
    opened = []

    def _make(name: str = "store"):
        folder = tmp_path / name
        store, admin, recovery = accounts.init_store(
            folder, ods_code="RXX", wards=["Oak Ward", "Elm Ward"], admin_username="admin",
            admin_password=PASSWORD, kdf=MINIMUM_KDF)
        wards = {w.name: w.ward_id for w in accounts.list_wards(store, admin)}
        actors = {"administrator": admin}
        for username, role, ward_names in (("nurse", "nurse", ["Oak Ward"]),
                                           ("nurse2", "nurse", ["Oak Ward"]),
                                           ("manager", "ward_manager", ["Oak Ward"]),
                                           ("manager_elm", "ward_manager", ["Elm Ward"]),
                                           ("lead", "safeguarding_lead", [])):
            accounts.create_user(store, admin, username=username, role=role,
                                 ward_ids=[wards[w] for w in ward_names], password=PASSWORD, must_change=False)
        store.close()
        for username in ("nurse", "nurse2", "manager", "manager_elm", "lead", "admin"):
            s, actor = accounts.sign_in(folder, username, PASSWORD)
            s.close()
            actors[username] = actor
        store, _ = accounts.sign_in(folder, "admin", PASSWORD)
        opened.append(store)
        return store, actors, recovery, wards

    yield _make
    for store in opened:
        if store.is_open:
            store.close()


@pytest.fixture
def store_folder(make_store) -> Path:
    store, _actors, _recovery, _wards = make_store()
    return store.folder
