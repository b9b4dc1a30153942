"""The log file and the diagnostic report: rotating, and never patient text, passwords or key material."""

from __future__ import annotations

import dataclasses
import logging
import logging.handlers
import random
from datetime import timedelta

import pytest

from cli import main as cli
from core import logs
from core.clock import utcnow
from core.demo.synthetic import synthetic_incident
from core.diagnostics import diagnostic_report
from core.errors import LanternError
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts, backups, incidents, maintenance

MARKER_TEXT = "ZQXMARKERTEXT"  # stands for patient free text
MARKER_REF = "ZQXMARKERREF"  # stands for a local patient reference
MARKER_PASSWORD = "ZQX marker password 9"  # meets the password policy


@pytest.fixture
def fresh_log(monkeypatch):
    """A logger with only this test's rotating file handler, at DEBUG so nothing is filtered out."""
    logger = logging.getLogger(logs.LOGGER_NAME)
    monkeypatch.setattr(logger, "handlers", [])
    path = logs.setup_logging(logging.DEBUG)
    yield path, logger
    for handler in logger.handlers:
        handler.close()


def _all_log_text(path) -> str:
    for handler in logging.getLogger(logs.LOGGER_NAME).handlers:
        handler.flush()
    return "\n".join(p.read_text(encoding="utf-8") for p in path.parent.glob("lantern.log*"))


def test_the_log_rotates_in_the_per_user_log_folder(fresh_log, tmp_path):
    path, logger = fresh_log
    assert path.parent == logs.log_dir()
    handler, = [h for h in logger.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert (handler.maxBytes, handler.backupCount) == (1_000_000, 5)
    for n in range(12_000):  # about 1.2 MB of lines
        logger.info("filler line %06d %s", n, "x" * 40)
    assert (path.parent / "lantern.log.1").exists()
    assert path.stat().st_size < 1_000_000


def test_setting_up_twice_adds_no_second_handler(fresh_log):
    _path, logger = fresh_log
    logs.setup_logging()
    assert len([h for h in logger.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]) == 1


def test_marker_strings_and_keys_never_reach_the_log(fresh_log, tmp_path, capsys, add_account):
    path, _logger = fresh_log
    folder = tmp_path / "store"
    store, admin, recovery = accounts.init_store(folder, ods_code="RXX", wards=["Oak Ward"], admin_username="admin",
                                                 admin_password=MARKER_PASSWORD, kdf=MINIMUM_KDF)
    oak = accounts.list_wards(store, admin)[0].ward_id
    add_account(store, admin, recovery_key=recovery, username="nurse", role="nurse", ward_ids=[oak],
                password=MARKER_PASSWORD)
    key_hex = store.key.hex()
    store.close()
    with pytest.raises(LanternError):
        accounts.sign_in(folder, "nurse", MARKER_PASSWORD + " wrong")
    store, nurse = accounts.sign_in(folder, "nurse", MARKER_PASSWORD)
    draft = synthetic_incident(random.Random(3), oak, utcnow() - timedelta(hours=3), [])
    people = tuple(dataclasses.replace(p, local_ref=f"{MARKER_REF}{i}") for i, p in enumerate(draft.people))
    draft = dataclasses.replace(draft, description=f"{MARKER_TEXT} said something", people=people)
    detail = incidents.create_draft(store, nurse, draft)
    incidents.submit(store, nurse, detail.incident_id)
    with pytest.raises(LanternError):  # a validation failure that concerns the marker text
        incidents.update_incident(store, nurse, detail.incident_id,
                                  dataclasses.replace(draft, types=(MARKER_TEXT,)), reason=MARKER_TEXT)
    store.close()

    store, admin = accounts.sign_in(folder, "admin", MARKER_PASSWORD)
    maintenance.backup_store(store, admin, tmp_path / "manual.lantern")
    backups.set_backup_settings(store, admin, folder=str(tmp_path / "auto"), keep=2, warn_days=3)
    (tmp_path / "auto").rmdir()
    (tmp_path / "auto").write_text("now a file, so the automatic backup fails and is logged")
    assert backups.run_automatic(store, admin).startswith("failed")
    report = diagnostic_report(store)
    store.close()

    try:  # an unexpected error whose message quotes patient text and the key
        raise RuntimeError(f"{MARKER_TEXT} {key_hex}")
    except RuntimeError as err:
        logs.log_unexpected(err)
    assert cli.run(["restore", "--from", str(tmp_path / f"{MARKER_REF}.lantern"), "--store", str(tmp_path / "r")]) != 0
    capsys.readouterr()

    text = _all_log_text(path)
    assert "automatic backup failed" in text and "RuntimeError" in text  # the log is really being written
    for secret in (MARKER_TEXT, MARKER_REF, MARKER_PASSWORD, "marker password", key_hex, recovery,
                   recovery.replace("-", "")):
        assert secret not in text
        assert secret not in report


def test_the_diagnostic_report_has_versions_settings_and_schema_but_no_data(make_store, engine, password):
    from core import paths
    from core.db import migrate

    store, actors, _recovery, _wards = make_store()
    paths.save_settings({"store": str(store.folder), "api_password": "ZQX-not-shown"})
    if engine == "postgresql":
        store = store.as_actor(actors["admin"])  # the administrator's own login, as Help gives it on a server
    report = diagnostic_report(store)
    assert "Lantern: 0.1.0" in report and "SQLCipher 4." in report
    assert f"schema revision in the store: {migrate.head_revision()}" in report
    assert "api_password: (hidden)" in report and "ZQX-not-shown" not in report
    assert password not in report
    if engine == "postgresql":
        assert f"server: {store.location}" in report and "lock after: " in report and "pg_dump" in report
        return
    assert f"folder: {store.folder}" in report and "location: local disk" in report
    assert store.key.hex() not in report
    assert "last good backup: none" in report
