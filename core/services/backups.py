"""Automatic backups, their settings, the last-good-backup warning and restore (core layer).

The administrator chooses a backup folder (never inside the store folder), how many automatic
backups to keep, when to make them (at every sign-out, or at the first sign-out after a day),
and after how many days without a good backup Lantern should warn. Every backup is written by
core.services.maintenance, which verifies it before it is kept. The "last good backup" is the
newest backup event in the audit trail: those are only written after verification.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core import paths
from core.clock import from_db, local, utcnow
from core.db import audit
from core.db.models import AuditEvent, Organisation, Setting
from core.db.store import Store, unit_of_work
from core.dto import Actor
from core.errors import LanternError, ValidationError
from core.fs import private_folders
from core.logs import LOGGER_NAME
from core.security.permissions import require
from core.services import maintenance

log = logging.getLogger(LOGGER_NAME)

WHEN_CHOICES = {"sign_out": "At every sign-out", "daily": "Once a day (at the first sign-out after 24 hours)"}
DEFAULTS = {"backup_folder": "", "backup_keep": "14", "backup_warn_days": "3", "backup_when": "sign_out"}
KEEP_RANGE = (1, 100)
WARN_RANGE = (1, 60)
GOOD_BACKUP_ACTIONS = ("backup.create", "backup.auto")
AUTO_PREFIX = "lantern-auto-"


@dataclass(frozen=True)
class BackupSettings:
    folder: str  # "" means automatic backups are off
    keep: int
    warn_days: int
    when: str


@dataclass(frozen=True)
class BackupStatus:
    settings: BackupSettings
    last_good_at: datetime | None
    warning: str  # "" when all is well
    store_id: str = ""

    @property
    def last_good_text(self) -> str:
        if self.last_good_at is None:
            return "No backup has been made yet."
        return f"Last good backup: {local(self.last_good_at):%d %b %Y at %H:%M}."


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file says about itself (from its checked manifest)."""

    created_at: datetime | None
    incidents: int
    app_version: str
    schema_revision: str
    store_id: str


@dataclass(frozen=True)
class RestoreResult:
    folder: str
    incidents: int
    fully_checked: bool  # the database inside was opened and passed both integrity checks


# ----- settings ----------------------------------------------------------------

def _read(session) -> dict[str, str]:
    rows = session.scalars(select(Setting).where(Setting.key.in_(DEFAULTS))).all()
    return {**DEFAULTS, **{row.key: row.value for row in rows}}


def _parse(values: dict[str, str]) -> BackupSettings:
    def number(key: str, low: int, high: int) -> int:
        try:
            return min(max(int(values[key]), low), high)
        except ValueError:
            return int(DEFAULTS[key])

    when = values["backup_when"] if values["backup_when"] in WHEN_CHOICES else DEFAULTS["backup_when"]
    return BackupSettings(values["backup_folder"], number("backup_keep", *KEEP_RANGE),
                          number("backup_warn_days", *WARN_RANGE), when)


def get_backup_settings(store: Store) -> BackupSettings:
    with unit_of_work(store, write=False) as session:
        return _parse(_read(session))


def backup_settings_in(session) -> BackupSettings:
    """The backup settings, in the caller's transaction."""
    return _parse(_read(session))


def _check_folder(store: Store, folder: str) -> str:
    folder = folder.strip()
    if not folder:
        return ""
    path = Path(folder).expanduser()
    if not path.is_absolute():
        raise ValidationError({"backup_folder": "Give the backup folder's full path, for example D:\\Lantern backups."})
    path = path.resolve()
    store_folder = store.folder.resolve()
    if path.is_relative_to(store_folder):
        raise ValidationError({"backup_folder": "Keep backups outside the store folder, so one failure cannot "
                                                "take both. Choose another folder."})
    try:
        private_folders(path)  # a folder Lantern makes is owner-only; an existing one is left as it is
        probe = path / ".lantern-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        raise ValidationError({"backup_folder": f"Lantern cannot write to {path}. Choose a folder that every "
                                                "Lantern user on this computer can write to."}) from None
    return str(path)


def set_backup_settings(store: Store, actor: Actor, *, folder: str, keep: int, warn_days: int,
                        when: str = "sign_out") -> BackupSettings:
    """Save the automatic-backup settings (administrators only). An empty folder turns them off."""
    require(actor, "settings.manage")
    errors = {}
    if not KEEP_RANGE[0] <= int(keep) <= KEEP_RANGE[1]:
        errors["backup_keep"] = f"Keep between {KEEP_RANGE[0]} and {KEEP_RANGE[1]} automatic backups."
    if not WARN_RANGE[0] <= int(warn_days) <= WARN_RANGE[1]:
        errors["backup_warn_days"] = f"Choose a warning age between {WARN_RANGE[0]} and {WARN_RANGE[1]} days."
    if when not in WHEN_CHOICES:
        errors["backup_when"] = "Choose when automatic backups are made."
    if errors:
        raise ValidationError(errors)
    new = {"backup_folder": _check_folder(store, folder), "backup_keep": str(int(keep)),
           "backup_warn_days": str(int(warn_days)), "backup_when": when}
    with unit_of_work(store) as session:
        old = _read(session)
        for key, value in new.items():
            row = session.get(Setting, key)
            if row:
                row.value = value
            else:
                session.add(Setting(key=key, value=value))
        changed = {key: {"from": old[key], "to": value} for key, value in new.items() if old[key] != value}
        if changed:
            audit.record(session, actor, "settings.change", entity_type="setting", entity_id="backups",
                         detail=changed)
        session.commit()
    return _parse(new)


# ----- status and warning ---------------------------------------------------------

def last_good_backup(store: Store) -> datetime | None:
    """When the newest verified backup (manual or automatic) was written, from the audit trail."""
    with unit_of_work(store, write=False) as session:
        return last_good_in(session)


def last_good_in(session) -> datetime | None:
    """last_good_backup, in the caller's transaction."""
    at = session.scalar(select(AuditEvent.at).where(AuditEvent.action.in_(GOOD_BACKUP_ACTIONS),
                                                    AuditEvent.outcome == "ok")
                        .order_by(AuditEvent.id.desc()).limit(1))
    return from_db(at)


def backup_status(store: Store, actor: Actor, *, now: datetime | None = None) -> BackupStatus:
    require(actor, "settings.manage")
    with unit_of_work(store, write=False) as session:
        return backup_status_in(session, store, now)


def backup_status_in(session, store: Store, now: datetime | None = None) -> BackupStatus:
    """backup_status, in the caller's transaction (the caller checks the permission)."""
    settings, last = backup_settings_in(session), last_good_in(session)
    store_id = store.slots.store_id if hasattr(store, "slots") else session.scalar(select(Organisation.store_id))
    return BackupStatus(settings, last, backup_warning(settings, last, now or utcnow()), store_id)


def backup_warning(settings: BackupSettings, last: datetime | None, now: datetime) -> str:
    if last is None:
        warning = "There is no good backup of this store yet. Make a backup now."
    elif now - last > timedelta(days=settings.warn_days):
        days = (now - last).days
        warning = (f"The last good backup is {days} day{'s' if days != 1 else ''} old (you asked to be warned "
                   f"after {settings.warn_days}). Make a backup now, and check the backup folder can be reached.")
    else:
        warning = ""
    if not settings.folder:
        warning = (warning + " " if warning else "") + "Automatic backups are off: choose a backup folder."
    return warning


# ----- automatic backups ---------------------------------------------------------

def _auto_name(store: Store, moment: datetime) -> str:
    return f"{AUTO_PREFIX}{store.slots.store_id[:8]}-{moment:%Y%m%d-%H%M%S}.lantern"


def automatic_backups(folder: Path, store_id: str) -> list[Path]:
    """This store's automatic backups in `folder`, oldest first (other files are never touched)."""
    pattern = re.compile(re.escape(AUTO_PREFIX + store_id[:8]) + r"-(\d{8}-\d{6})(?:-(\d+))?\.lantern")
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match and path.is_file():
            found.append(((match.group(1), int(match.group(2) or 1)), path))
    return [path for _key, path in sorted(found)]


def rotate(folder: Path, store_id: str, keep: int) -> list[Path]:
    """Delete this store's oldest automatic backups so that `keep` remain. Returns what was removed."""
    backups = automatic_backups(folder, store_id)
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def run_automatic(store: Store, actor: Actor, *, now: datetime | None = None) -> str:
    """Make the automatic backup if one is due (called at sign-out, on the database lane).

    Never raises for an expected failure: sign-out must go ahead. Returns a short outcome that
    names no data ("off", "not due", "written", "failed: <reason>"); failures are logged and audited.
    """
    now = now or utcnow()
    try:
        settings = get_backup_settings(store)
        if not settings.folder:
            return "off"
        if settings.when == "daily":
            last = last_good_backup(store)
            if last is not None and now - last < timedelta(hours=24):
                return "not due"
        folder = Path(settings.folder)
        name = _auto_name(store, now)
        target, n = folder / name, 2
        while target.exists():  # two sign-outs in the same second
            target, n = folder / name.replace(".lantern", f"-{n}.lantern"), n + 1
        manifest = maintenance.write_backup(store, actor, target, action="backup.auto")
        removed = rotate(folder, store.slots.store_id, settings.keep)
        log.info("automatic backup written and verified (%d incidents, %d old backups removed)",
                 manifest["incidents"], len(removed))
        return "written"
    except (LanternError, OSError) as err:
        log.warning("automatic backup failed: %s", type(err).__name__)
        try:
            with unit_of_work(store) as session:
                audit.record(session, actor, "backup.auto", entity_type="backup", outcome="failed",
                             detail={"reason": type(err).__name__})
                session.commit()
        except LanternError:
            pass  # the store itself may be the problem; the log line above stands
        return f"failed: {type(err).__name__}"


# ----- restore ---------------------------------------------------------------------

def describe_backup(backup_file: Path) -> BackupInfo:
    """Check a backup file's shape and checksums; say what is in it. Needs no store."""
    manifest = maintenance.read_backup(Path(backup_file))
    created = manifest.get("created_at")
    return BackupInfo(from_db(created) if created else None, int(manifest.get("incidents", 0)),
                      str(manifest.get("app_version", "")), str(manifest.get("schema_revision", "")),
                      str(manifest.get("store_id", "")))


def restore_backup(store: Store, actor: Actor, backup_file: Path, new_folder: Path) -> RestoreResult:
    """Check a backup and restore it into a new, empty folder (administrators only).

    A backup of this same store is opened with its key and integrity-checked first; a backup of
    another store can only be checked by its checksums here (run `check` on it after switching).
    The restore is recorded in the current store's audit trail, unless that store is damaged (read-only).
    """
    require(actor, "backup.run")
    backup_file, new_folder = Path(backup_file), Path(new_folder)
    manifest = maintenance.read_backup(backup_file)
    same_store = manifest.get("store_id") == store.slots.store_id
    if same_store:
        maintenance.verify_backup(backup_file, store.key)
    if new_folder.resolve().is_relative_to(store.folder.resolve()):
        raise ValidationError({"store": "Restore into a new folder outside the current store's folder."})
    manifest = maintenance.restore_store(backup_file, new_folder)
    if not store.damaged:  # a damaged store takes no more writes; the restore is what mends it
        with unit_of_work(store) as session:
            audit.record(session, actor, "backup.restore", entity_type="backup",
                         entity_id=manifest["db_sha256"][:40],
                         detail={"incidents": manifest["incidents"], "same_store": same_store})
            session.commit()
    return RestoreResult(str(new_folder), int(manifest["incidents"]), same_store)


def switch_store(store: Store, actor: Actor, folder: Path) -> Path:
    """Make `folder` the store Lantern opens on this computer from its next start (administrators only)."""
    require(actor, "settings.manage")
    from core.db.store import is_store

    folder = Path(folder).resolve()
    if not is_store(folder):
        raise ValidationError({"store": f"There is no Lantern store in {folder}."})
    settings = paths.load_settings()
    previous = settings.get("store", "")
    settings["store"] = str(folder)
    paths.save_settings(settings)
    if not store.damaged:
        with unit_of_work(store) as session:
            audit.record(session, actor, "settings.change", entity_type="setting", entity_id="store",
                         detail={"from": previous, "to": str(folder)})
            session.commit()
    return folder
