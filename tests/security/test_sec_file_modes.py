"""Issue 13 item 6 (in part): a new store's folder is owner-only (0700) and every file Lantern writes in it
(database, WAL, shared memory, key slots, sign-in throttle) is 0600, on POSIX systems."""

from __future__ import annotations

import os
import stat

import pytest

from core.errors import WrongPassword
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def test_a_new_store_is_owner_only(tmp_path, password):
    old = os.umask(0o022)  # the usual default, which used to leave the files 0644
    try:
        folder = tmp_path / "store"
        store, admin, _ = accounts.init_store(folder, ods_code="RXX", wards=["Oak Ward"], admin_username="admin",
                                              admin_password=password, kdf=MINIMUM_KDF)
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


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlcipher_only("Lantern's own backups and restores are for a store on a PC")
def test_backups_exports_restores_logs_and_settings_are_owner_only(tmp_path, make_store, monkeypatch, password):
    """Issue 13 item 6: modes after init (above), backup, export and restore, and of the log and settings files,
    with the usual 022 umask that used to leave them 0644 and 0755."""
    import logging

    from core import paths
    from core.logs import LOGGER_NAME, log_dir, setup_logging
    from core.services import backups, exports, maintenance

    (tmp_path / "not a folder").write_text("")  # the machine-wide settings cannot be written: the user's own are
    monkeypatch.setenv("LANTERN_SITE_CONFIG_DIR", str(tmp_path / "not a folder" / "site"))
    monkeypatch.setenv("LANTERN_CONFIG_DIR", str(tmp_path / "new config" / "Lantern"))
    old = os.umask(0o022)
    try:
        store, actors, _recovery, _wards = make_store()
        backup = tmp_path / "new backups" / "nightly" / "store.lantern-backup"
        maintenance.backup_store(store, actors["admin"], backup)
        auto_folder = tmp_path / "automatic backups"
        backups.set_backup_settings(store, actors["admin"], folder=str(auto_folder), keep=3, warn_days=3)
        lead_store, lead = accounts.sign_in(store.folder, "lead", password)
        export = tmp_path / "exports" / "nrls.csv"
        export.parent.mkdir()
        exports.export_incidents(lead_store, lead, "nrls-csv", out_path=export)
        lead_store.close()
        store.close()
        restored = tmp_path / "restored"
        maintenance.restore_store(backup, restored)
        setup_logging()
        logging.getLogger(LOGGER_NAME).info("a line")
        saved = paths.save_settings({"store": str(restored)})
    finally:
        os.umask(old)
    assert saved == paths.settings_path()  # the machine-wide file is shared by every user of the PC on purpose
    folders = [backup.parent, backup.parent.parent, auto_folder, restored, log_dir(), saved.parent, saved.parent.parent]
    assert {str(f): _mode(f) for f in folders} == {str(f): 0o700 for f in folders}
    files = [backup, export, saved, *restored.iterdir(), *log_dir().iterdir()]
    assert {p.name for p in restored.iterdir()} >= {"lantern.db", "keyslots.json"}
    assert {str(p): _mode(p) for p in files} == {str(p): 0o600 for p in files}
    store, _admin = accounts.sign_in(restored, "admin", password)  # the restored store still opens
    store.close()
