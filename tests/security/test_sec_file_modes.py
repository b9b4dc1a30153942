"""Issue 13 item 6 (in part): a new store's folder is owner-only (0700) and every file Lantern writes in it
(database, WAL, shared memory, key slots, sign-in throttle) is 0600, on POSIX systems."""

from __future__ import annotations

import os
import stat

import pytest

from core.errors import WrongPassword
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts
from tests.conftest import PASSWORD

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def test_a_new_store_is_owner_only(tmp_path):
    old = os.umask(0o022)  # the usual default, which used to leave the files 0644
    try:
        folder = tmp_path / "store"
        store, admin, _ = accounts.init_store(folder, ods_code="RXX", wards=["Oak Ward"], admin_username="admin",
                                              admin_password=PASSWORD, kdf=MINIMUM_KDF)
        accounts.create_ward(store, admin, "Elm Ward")
        with pytest.raises(WrongPassword):
            accounts.sign_in(folder, "nobody", "not the password at all")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {"lantern.db", "keyslots.json", "signin-failures.json"} <= set(modes)
    assert any(name.endswith("-wal") for name in modes)
    assert all(mode == 0o600 for mode in modes.values()), modes
