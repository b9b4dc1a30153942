"""Stores for the foundation benchmarks, built once per session (synthetic data only).

LANTERN_BENCH_CACHE=DIR keeps the 100,000-incident store between runs (it takes minutes to build);
LANTERN_BENCH_INCIDENTS=N changes its size (default 100000).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.security.keyslots import DEFAULT_KDF, MINIMUM_KDF
from core.services import accounts
from tests.conftest import add_account

BENCH_PASSWORD = "bench-only passphrase 42"  # synthetic


def _init(folder: Path, kdf) -> None:
    store, admin, recovery = accounts.init_store(
        folder, ods_code="RBENCH", wards=["Oak Ward", "Elm Ward", "Willow Ward"], admin_username="admin",
        admin_password=BENCH_PASSWORD, kdf=kdf)
    wards = [w.ward_id for w in accounts.list_wards(store, admin)]
    for username, role, ward_ids in (("nurse", "nurse", wards[:1]), ("manager", "ward_manager", wards),
                                     ("lead", "safeguarding_lead", [])):
        add_account(store, admin, recovery_key=recovery, username=username, role=role, ward_ids=ward_ids,
                    password=BENCH_PASSWORD)
    store.close()


@pytest.fixture(scope="session")
def bench_default_kdf_store(tmp_path_factory) -> Path:
    """A small store whose key slots use the shipped (default) Argon2id cost."""
    folder = tmp_path_factory.mktemp("bench-default") / "store"
    _init(folder, DEFAULT_KDF)
    return folder


@pytest.fixture(scope="session")
def bench_min_kdf_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench-min") / "store"
    _init(folder, MINIMUM_KDF)
    return folder


@pytest.fixture(scope="session")
def bench_big_store(tmp_path_factory) -> tuple[Path, int]:
    """A store of 100,000 synthetic incidents (spread over 12 months and three wards), built once."""
    from core.demo.seed import add_synthetic_incidents

    count = int(os.environ.get("LANTERN_BENCH_INCIDENTS", "100000"))
    cache = os.environ.get("LANTERN_BENCH_CACHE")
    base = Path(cache) if cache else tmp_path_factory.mktemp("bench-big")
    folder = base / f"store-{count}"
    done = base / f"store-{count}.complete"
    if folder.exists() and not done.exists():
        shutil.rmtree(folder)
    if not folder.exists():
        base.mkdir(parents=True, exist_ok=True)
        _init(folder, MINIMUM_KDF)
        store, admin = accounts.sign_in(folder, "admin", BENCH_PASSWORD)
        try:
            add_synthetic_incidents(store, admin, count, seed=100_000)
        finally:
            store.close()
        done.touch()
    return folder, count
