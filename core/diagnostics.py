"""The diagnostic report for support (core layer): versions, platform, settings, folders, store and schema.

It never holds incident data, names, passwords or key material: only what IT needs to see which
Lantern is installed, where its files are and how the store is set up. Safe to paste into an email.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import sys
from datetime import datetime
from pathlib import Path

import core
from core import paths
from core.clock import local, utcnow
from core.logs import log_dir

PACKAGES = ("PySide6-Essentials", "SQLAlchemy", "alembic", "sqlcipher3", "cryptography", "argon2-cffi",
            "reportlab", "lxml", "platformdirs", "tzdata", "holidays", "zxcvbn")
SECRET_WORDS = ("password", "secret", "key", "token")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "bundled" if getattr(sys, "frozen", False) else "not installed"


def _sqlcipher() -> str:
    try:
        import sqlcipher3.dbapi2 as sqlcipher

        from core.db.engine import check_sqlcipher_build

        return f"SQLCipher {check_sqlcipher_build()} on SQLite {sqlcipher.sqlite_version}"
    except Exception as err:  # noqa: BLE001 - the report must still be written
        return f"PROBLEM ({type(err).__name__})"


def _size(path: Path) -> str:
    try:
        return f"{path.stat().st_size / 1e6:.1f} MB"
    except OSError:
        return "missing"


def _settings_file() -> list[str]:
    settings = paths.load_settings()
    lines = []
    for key in sorted(settings):
        value = "(hidden)" if any(word in key.lower() for word in SECRET_WORDS) else json.dumps(settings[key])
        lines.append(f"  {key}: {value}")
    return lines or ["  (none)"]


def _store_lines(store, folder: Path | None) -> list[str]:
    from core.db import migrate
    from core.db.engine import DB_FILE_NAME
    from core.db.location import check_store_location
    from core.errors import LanternError
    from core.services import backups
    from core.services import settings as store_settings

    if folder is None:
        return ["  (no store configured on this computer)"]
    lines = [f"  folder: {folder}", f"  database file: {_size(folder / DB_FILE_NAME)}",
             f"  write-ahead log: {_size(folder / (DB_FILE_NAME + '-wal'))}"]
    try:
        check_store_location(folder)
        lines.append("  location: local disk")
    except LanternError:
        lines.append("  location: NETWORK DRIVE (refused)")
    lines.append(f"  schema: head of this version is {migrate.head_revision()}")
    if store is None or not store.is_open:
        lines.append("  (signed out: store settings not read)")
        return lines
    try:
        lines.append(f"  schema revision in the store: {migrate.current_revision(store.engine)}")
        lines.append(f"  store id: {store.slots.store_id}")
        lines.append(f"  lock after: {store_settings.lock_minutes(store)} minutes")
        backup = backups.get_backup_settings(store)
        last = backups.last_good_backup(store)
        lines.append(f"  backup folder: {backup.folder or '(automatic backups off)'}")
        lines.append(f"  backups: {backup.when}, keep {backup.keep}, warn after {backup.warn_days} days")
        lines.append(f"  last good backup: {local(last):%Y-%m-%d %H:%M} (UK time)" if last else
                     "  last good backup: none")
    except Exception as err:  # noqa: BLE001 - a damaged store must not stop the report
        lines.append(f"  PROBLEM reading the store ({type(err).__name__})")
    return lines


def _server_lines(store) -> list[str]:
    """A store on the trust's server: where (the address never holds a password), and the schema."""
    from core.db import migrate
    from core.services import settings as store_settings

    lines = [f"  server: {store.location}", f"  schema: head of this version is {migrate.head_revision()}"]
    try:
        lines.append(f"  schema revision in the store: {migrate.current_revision(store.engine)}")
        lines.append(f"  lock after: {store_settings.lock_minutes(store)} minutes")
    except Exception as err:  # noqa: BLE001 - an unreachable server must not stop the report
        lines.append(f"  PROBLEM reading the store ({type(err).__name__})")
    lines.append("  backups: the trust's database administrator's (pg_dump; docs/server.md)")
    return lines


def diagnostic_report(store=None, folder: Path | None = None, *, now: datetime | None = None) -> str:
    """The report as plain text. `store` is the open store (optional; a folder's or the trust server's);
    `folder` defaults to its folder."""
    from core.services.engines import is_server

    on_server = is_server(store)
    if not on_server:
        folder = folder or (store.folder if store is not None else paths.configured_store())
    rules_override = paths.rules_override()
    lines = [
        "Lantern diagnostic report (no incident data, no passwords, no keys)",
        f"Made: {local(now or utcnow()):%Y-%m-%d %H:%M} (UK time)",
        "",
        f"Lantern: {core.__version__} ({'installed bundle' if getattr(sys, 'frozen', False) else 'from source'})",
        f"Python: {platform.python_version()} ({platform.python_implementation()})",
        f"Platform: {platform.platform()} ({platform.machine()})",
        f"Database library: {_sqlcipher()}",
        "Packages: " + ", ".join(f"{p} {_version(p)}" for p in PACKAGES),
        "",
        "Folders:",
        f"  program: {Path(sys.executable).parent if getattr(sys, 'frozen', False) else Path(core.__file__).parent.parent}",
        f"  settings file (this PC, wins): {paths.machine_settings_path()}",
        f"  settings file (this user): {paths.settings_path()}",
        f"  logs: {log_dir()}",
        f"  data: {paths.data_dir()}",
        f"  trust-local rules override: {rules_override or '(none)'}",
        "",
        "Settings on this computer:",
        *_settings_file(),
        "",
        "Store:",
        *(_server_lines(store) if on_server else _store_lines(store, Path(folder) if folder else None)),
    ]
    return "\n".join(lines) + "\n"
