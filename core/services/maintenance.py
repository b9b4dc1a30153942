"""Store maintenance services: integrity check, encrypted backup and restore (core layer).

A backup is one zip file holding an encrypted copy of the database (made with
SQLite's online backup API under the same key, never by copying the live file),
the key-slot file, and a manifest with SHA-256 sums. It opens with the same
passwords as the store it came from, and it is verified after writing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import func, select

import core
from core.clock import from_db, local, now_db
from core.db import audit, migrate
from core.db.engine import CACHE_KIB, DB_FILE_NAME, apply_key
from core.db.location import check_store_location
from core.db.models import AuditEvent, Setting
from core.db.store import Store, unit_of_work
from core.dto import Actor, CheckResult
from core.errors import LanternError, StorageFailure, StoreDamaged, ValidationError
from core.fs import make_private, open_private, private_folders
from core.security.keys import KeyHolder
from core.security.keyslots import SLOT_FILE_NAME, SlotFile
from core.security.permissions import require
from core.services import incidents
from core.services.engines import is_server

MANIFEST = "manifest.json"
# A failure of any of these makes the store read-only for the session (`Store.mark_damaged`). `audit_anchor` is
# not one of them: a trail that no longer holds the newest backup's last event may have been cut back by
# someone with the key, but it is also exactly what an administrator sees after restoring an older backup on
# purpose (newer backups of the store stay in the folder), and a restore must leave the ward able to work.
# `check` reports it as a failure, in words that name both causes.
DAMAGE_CHECKS = ("integrity_check", "cipher_integrity_check", "audit_chain")
BACKUP_FORMAT = "lantern-backup"
BACKUP_FOLDER_SETTING = "backup_folder"  # owned by core.services.backups (which imports this module), read here


def _keyed(path: Path, key: KeyHolder):
    conn = sqlcipher.connect(str(path), isolation_level=None)
    apply_key(conn, key)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def _integrity_check(conn) -> CheckResult:
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        return CheckResult("integrity_check", rows == ["ok"], "ok" if rows == ["ok"] else f"{len(rows)} problem(s)")
    except sqlcipher.DatabaseError:
        return CheckResult("integrity_check", False, "the database could not be read")


def _cipher_check(conn) -> CheckResult:
    try:
        cipher_rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
        return CheckResult("cipher_integrity_check", not cipher_rows,
                           "every page's HMAC is valid" if not cipher_rows else f"{len(cipher_rows)} damaged page(s)")
    except sqlcipher.DatabaseError:
        return CheckResult("cipher_integrity_check", False, "the database could not be read")


def _integrity(conn) -> list[CheckResult]:
    """Both page checks, each on its own: a page that cannot be read fails that check, it does not stop the other."""
    return [_integrity_check(conn), _cipher_check(conn)]


# integrity_check looks every row up in each of its table's indexes; with the usual 64 MiB page cache the
# index pages are evicted and decrypted again and again. During `check` that one connection keeps up to this
# much decrypted (about a third less work on a 10,000-incident store); the Argon2id sign-in has already used
# more memory than this at its peak, so the process's peak does not grow.
CHECK_CACHE_KIB = 192 * 1024


def _page_check(store: Store, name: str) -> CheckResult:
    """One whole-file page check on a connection of its own (so the two run at once, on two cores)."""
    try:
        raw = store.engine.raw_connection()
    except StoreDamaged:  # damage in the pages every new connection reads: report it, by name
        return CheckResult(name, False, "the database could not be opened")
    try:
        conn = raw.driver_connection
        if name == "cipher_integrity_check":
            return _cipher_check(conn)
        conn.execute(f"PRAGMA cache_size = -{CHECK_CACHE_KIB}")
        try:
            return _integrity_check(conn)
        finally:
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    finally:
        raw.close()


def _chain_result(store: Store) -> CheckResult:
    try:
        with unit_of_work(store, write=False) as session:
            problems = audit.verify_chain(session)
            count = session.scalar(select(func.count()).select_from(AuditEvent))
    except StoreDamaged:
        return CheckResult("audit_chain", False, "the audit trail could not be read")
    return CheckResult("audit_chain", not problems,
                       f"{count} events, chain intact" if not problems else "; ".join(problems[:5]))


def _summaries_result(store: Store) -> CheckResult:
    try:
        with unit_of_work(store, write=False) as session:
            stale = incidents.stale_summaries(session)
    except StoreDamaged:
        return CheckResult("dashboard_summaries", False, "the incidents could not be read")
    return CheckResult("dashboard_summaries", not stale, "every incident's summary matches its record" if not stale
                       else f"{stale} incident(s) would be miscounted on the dashboard")


ON_SERVER_CHECK = ("This store is on the trust's server: its owner checks it with 'lantern server check' "
                   "(docs/server.md).")
ON_SERVER_BACKUP = ("This store is on the trust's server: the trust's database administrator backs it up with "
                    "pg_dump (docs/server.md, Backups). Lantern's own backups are for a store on this PC.")


def _embedded_only(store, message: str) -> None:
    if is_server(store):
        raise ValidationError({"store": message})


def check_store(store: Store, actor: Actor) -> list[CheckResult]:
    """Run integrity_check, cipher_integrity_check, the audit-chain walk, the protective-trigger comparison, the
    comparisons with the newest backup's audit anchor and with the key file's, and the dashboard-summary
    comparison; audit the check itself.

    The whole-file integrity_check runs on a second thread (SQLite leaves Python's lock while it works) beside
    the rest, each on its own connection: every check is made in full, in about half the time on two cores.
    A check that cannot even read its pages is reported as failed (by name), never as an exception.
    """
    require(actor, "store.check")
    _embedded_only(store, ON_SERVER_CHECK)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lantern-check") as pool:
        integrity = pool.submit(_page_check, store, "integrity_check")
        cipher = _page_check(store, "cipher_integrity_check")
        rest = [_chain_result(store), _trigger_result(store), _anchor_result(store),
                _key_file_anchor_result(store), _summaries_result(store)]
        results = [integrity.result(), cipher, *rest]
    ok = all(r.ok for r in results)
    try:
        with unit_of_work(store) as session:
            audit.record(session, actor, "store.check", outcome="ok" if ok else "failed",
                         detail={r.name: r.ok for r in results})
            session.commit()
    except LanternError:
        if ok:
            raise
        # A damaged store may refuse writes (SQLCipher goes read-only after a page fails its HMAC);
        # the failed checks are what the caller must see.
    if not all(r.ok for r in results if r.name in DAMAGE_CHECKS):
        store.mark_damaged()
    return results


def _anchor_result(store: Store) -> CheckResult:
    try:
        with unit_of_work(store, write=False) as session:
            row = session.get(Setting, BACKUP_FOLDER_SETTING)
            folder = row.value.strip() if row else ""
        # The backup files are read outside any transaction: checking a large one's checksum takes seconds.
        found = newest_backup_anchor(Path(folder), store.slots.store_id) if folder else None
        if found is None:
            return CheckResult("audit_anchor", True, "no backup to compare with")
        anchor, made = found
        with unit_of_work(store, write=False) as session:
            problem = audit.anchor_problem(session, anchor, backup_made=made)
    except StoreDamaged:
        return CheckResult("audit_anchor", False, "the audit trail could not be read")
    return CheckResult("audit_anchor", not problem,
                       problem or f"the audit trail still holds everything in the backup of {made}")


def _trigger_result(store: Store) -> CheckResult:
    """The triggers that make the audit trail append-only, compared with what the migrations wrote. A missing or
    changed one is reported (someone with the key and their own tools did it), but, like the anchors, it does not
    make the store read-only: the records themselves are not damaged by it."""
    try:
        with unit_of_work(store, write=False) as session:
            problems = audit.trigger_problems(session)
    except StoreDamaged:
        return CheckResult("audit_triggers", False, "the database schema could not be read")
    return CheckResult("audit_triggers", not problems, "; ".join(problems) if problems else
                       f"all {len(audit.PROTECTIVE_TRIGGERS)} protective triggers are in place, as made")


def _key_file_anchor_result(store: Store) -> CheckResult:
    """The live trail against the anchor in the key-slot file, written at the last sign-out or lock. Reported,
    never read-only, as with the backup's anchor (`DAMAGE_CHECKS`)."""
    anchor = store.slots.anchor
    if anchor is None:
        return CheckResult("key_file_anchor", True, "no sign-out or lock noted in the key file yet")
    try:
        with unit_of_work(store, write=False) as session:
            problem = audit.key_file_anchor_problem(session, anchor)
    except StoreDamaged:
        return CheckResult("key_file_anchor", False, "the audit trail could not be read")
    return CheckResult("key_file_anchor", not problem,
                       problem or "the audit trail still holds everything up to the last sign-out or lock")


def _valid_anchor(anchor) -> bool:
    return (isinstance(anchor, dict) and isinstance(anchor.get("id"), int) and anchor["id"] > 0
            and isinstance(anchor.get("hash"), str) and len(anchor["hash"]) == 64)


def newest_backup_anchor(folder: Path, store_id: str) -> tuple[dict, str] | None:
    """The audit anchor of the newest readable backup of store `store_id` in `folder`, with when that backup
    was made (local time, as text); None if there is none.

    Every file directly in the folder is considered (automatic backups and any manual ones saved there); other
    stores' backups and anything that is not a Lantern backup are skipped. Only manifests are read, except
    for the newest candidates, whose checksums are checked in full (`read_backup`) before their anchor is used.
    Backups written before anchors existed have none and are passed over.
    """
    try:
        entries = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    except OSError:
        return None
    candidates = []
    for path in entries:
        manifest = _manifest_only(path)
        if _anchored_backup_of(manifest, store_id) and isinstance(manifest.get("created_at"), str):
            candidates.append((manifest["created_at"], path.name, path))
    for _created_at, _name, path in sorted(candidates, reverse=True):
        try:
            manifest = read_backup(path)
            made = from_db(manifest["created_at"])
        except (LanternError, ValueError, TypeError):
            continue  # damaged since it was written: the next newest one stands in
        if made and manifest.get("store_id") == store_id and _valid_anchor(manifest.get("audit_anchor")):
            return manifest["audit_anchor"], f"{local(made):%d %b %Y at %H:%M}"
    return None


def _anchored_backup_of(manifest, store_id: str) -> bool:
    return (isinstance(manifest, dict) and manifest.get("format") == BACKUP_FORMAT
            and manifest.get("store_id") == store_id and _valid_anchor(manifest.get("audit_anchor")))


def _manifest_only(path: Path):
    """A file's backup manifest, read without checking its checksums (None if it is not a readable zip with one)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read(MANIFEST))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return None


def quick_check(store: Store, actor: Actor) -> bool:
    """The start-up check (REL-05), run in the background after sign-in: `PRAGMA quick_check` reads every page,
    so a page whose HMAC fails (damaged or edited) is found as well as broken structure. On any problem the
    finding is audited if the store still takes a write, and the store turns read-only (`Store.mark_damaged`).
    About 70 ms for a 30 MB store; 10 s for the 1.5 GB, 100,000-incident benchmark store."""
    raw = store.engine.raw_connection()
    try:
        rows = [r[0] for r in raw.driver_connection.execute("PRAGMA quick_check").fetchall()]
        ok = rows == ["ok"]
    except sqlcipher.DatabaseError:
        ok = False
    finally:
        raw.close()
    if not ok:
        try:
            with unit_of_work(store) as session:
                audit.record(session, actor, "store.check", outcome="failed", detail={"quick_check": False})
                session.commit()
        except LanternError:
            pass  # the damage may be where the write would go; the log line below still records it
        store.mark_damaged()
    return ok


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup_store(store: Store, actor: Actor, out_file: Path) -> dict:
    """Write an encrypted, verified backup of a live store to `out_file`. Returns the manifest."""
    require(actor, "backup.run")
    _embedded_only(store, ON_SERVER_BACKUP)
    return write_backup(store, actor, out_file)


def write_backup(store: Store, actor: Actor, out_file: Path, *, action: str = "backup.create") -> dict:
    """The backup itself, audited as `action`. For callers that have already decided it may run
    (core.services.backups runs the administrator's automatic backup at anyone's sign-out)."""
    out_file = Path(out_file).resolve()
    if out_file.is_relative_to(store.folder.resolve()):
        raise ValidationError({"out": "Keep backups outside the store folder, so one failure cannot take both."})
    if out_file.exists():
        raise ValidationError({"out": f"{out_file.name} already exists. Choose a new file name."})
    private_folders(out_file.parent)
    with tempfile.TemporaryDirectory(dir=out_file.parent, prefix=".lantern-backup-") as tmp:
        copy = Path(tmp) / DB_FILE_NAME
        raw = store.engine.raw_connection()
        target = _keyed(copy, store.key)
        try:
            raw.driver_connection.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
        except sqlcipher.Error:
            raise StorageFailure("The backup could not be written. Check there is space and try again.") from None
        finally:
            target.close()
            raw.close()
        # Count from the copy itself: another process may commit between the backup and a second read.
        counted = _keyed(copy, store.key)
        try:
            incidents = counted.execute("SELECT count(*) FROM incidents").fetchone()[0]
            # The anchor: the copy's newest audit event, kept outside the store so a trail cut back later is seen.
            last = counted.execute("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
            revision = counted.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        except sqlcipher.DatabaseError:
            raise StoreDamaged("The backup copy could not be read back, so it was not kept. Try again.") from None
        finally:
            counted.close()
        slot_bytes = store.slots.to_bytes()
        manifest = {
            "format": BACKUP_FORMAT, "version": 1, "app_version": core.__version__, "created_at": now_db(),
            "store_id": store.slots.store_id, "schema_revision": revision, "incidents": incidents,
            "audit_events_at_backup": last[0] if last else None, "db_sha256": _sha256(copy),
            "slots_sha256": hashlib.sha256(slot_bytes).hexdigest(),
        }
        if last is not None:
            manifest["audit_anchor"] = {"id": last[0], "hash": last[1]}
        _verify_copy(copy, store.key, incidents)
        partial = out_file.with_name(out_file.name + ".partial")
        with open_private(partial) as fh:  # owner-only from its first byte (issue 13 item 6)
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.write(copy, DB_FILE_NAME)
                zf.writestr(SLOT_FILE_NAME, slot_bytes)
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, out_file)
    try:
        verify_backup(out_file, store.key)
        with unit_of_work(store) as session:
            audit.record(session, actor, action, entity_type="backup", entity_id=manifest["db_sha256"][:40],
                         detail={"incidents": incidents})
            session.commit()
    except BaseException:
        out_file.unlink(missing_ok=True)  # an unverified or unaudited backup is not kept
        raise
    return manifest


def _verify_copy(db_path: Path, key: KeyHolder, incidents: int | None = None) -> None:
    conn = _keyed(db_path, key)
    try:
        results = _integrity(conn)
        count = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    except sqlcipher.DatabaseError:
        raise StoreDamaged("The backup copy could not be read back, so it was not kept. Try again.") from None
    finally:
        conn.close()
    if not all(r.ok for r in results) or (incidents is not None and count != incidents):
        raise StoreDamaged("The backup copy failed its check after writing, so it was not kept. Try again.")


def read_backup(backup_file: Path) -> dict:
    """Open a backup file, check its shape and checksums; return its manifest."""
    try:
        with zipfile.ZipFile(backup_file) as zf:
            manifest = json.loads(zf.read(MANIFEST))
            if manifest.get("format") != BACKUP_FORMAT:
                raise ValueError
            if hashlib.sha256(zf.read(SLOT_FILE_NAME)).hexdigest() != manifest["slots_sha256"]:
                raise ValueError
            digest = hashlib.sha256()
            with zf.open(DB_FILE_NAME) as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != manifest["db_sha256"]:
                raise ValueError
            SlotFile.from_bytes(zf.read(SLOT_FILE_NAME))
    except FileNotFoundError:
        raise ValidationError({"from": f"There is no backup file at {backup_file}."}) from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise StoreDamaged("That backup file is damaged or is not a Lantern backup.") from None
    return manifest


def verify_backup(backup_file: Path, key: KeyHolder) -> dict:
    """Checksums, then open the database copy with the key and run both integrity checks."""
    manifest = read_backup(backup_file)
    with tempfile.TemporaryDirectory(dir=Path(backup_file).parent, prefix=".lantern-verify-") as tmp:
        with zipfile.ZipFile(backup_file) as zf:
            zf.extract(DB_FILE_NAME, tmp)
        _verify_copy(Path(tmp) / DB_FILE_NAME, key, manifest["incidents"])
    return manifest


def restore_store(backup_file: Path, new_folder: Path) -> dict:
    """Unpack a checked backup into a new, empty store folder. It opens with the same passwords."""
    backup_file, new_folder = Path(backup_file), Path(new_folder)
    manifest = read_backup(backup_file)
    if manifest.get("schema_revision") not in _known_revisions():
        raise ValidationError({"from": "That backup was made by a newer version of Lantern. Update Lantern first."})
    check_store_location(new_folder)
    if new_folder.exists() and any(new_folder.iterdir()):
        raise ValidationError({"store": f"{new_folder} is not empty. Restore into a new or empty folder."})
    staging = Path(tempfile.mkdtemp(dir=new_folder.parent if new_folder.parent.exists() else None,
                                    prefix=".lantern-restore-"))
    try:
        with zipfile.ZipFile(backup_file) as zf:
            zf.extract(DB_FILE_NAME, staging)
            zf.extract(SLOT_FILE_NAME, staging)
        if _sha256(staging / DB_FILE_NAME) != manifest["db_sha256"]:
            raise StoreDamaged("That backup file is damaged or is not a Lantern backup.")
        private_folders(new_folder)
        make_private(new_folder)  # a restored store is owner-only, as a new one is (core.db.store)
        for name in (DB_FILE_NAME, SLOT_FILE_NAME):
            make_private(staging / name)
            shutil.move(str(staging / name), str(new_folder / name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(migrate._config()).walk_revisions()}
