"""A ward store: one folder holding the encrypted database and its key-slot file (core layer).

`Store` owns the engine and the key holder; `unit_of_work` opens one transaction.
Creating, unlocking and locking a store live here; accounts and sign-in policy
live in core.services.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.clock import now_db
from core.db import migrate
from core.db.engine import DB_FILE_NAME, make_engine, writer
from core.db.location import check_store_location
from core.db.models import Organisation
from core.errors import (
    LanternError,
    PermissionDenied,
    ServerUnreachable,
    SlotFileTampered,
    StorageFailure,
    StoreBusy,
    StoreDamaged,
    StoreNotFound,
    StoreReadOnly,
    ValidationError,
)
from core.logs import LOGGER_NAME
from core.security.keys import KeyHolder, new_recovery_key
from core.security.keyslots import DEFAULT_KDF, RECOVERY_SLOT_ID, SLOT_FILE_NAME, KdfParams, Slot, SlotFile

log = logging.getLogger(f"{LOGGER_NAME}.store")  # inside "lantern", so it reaches the log file, not stderr
DAMAGE_FOUND = ("Lantern found damage in the incident store. Nothing more will be saved to it, so the damage "
                "cannot spread; you can still read records. Ask your administrator to restore the latest backup.")


def workstation_name() -> str:
    return socket.gethostname()[:100]


@dataclass
class Store:
    folder: Path
    key: KeyHolder
    slots: SlotFile
    engine: Engine
    # Set when a check or a read finds damage: from then on reads go on but every write is refused (REL-05).
    damaged: bool = False

    @property
    def kdf(self) -> KdfParams:
        return self.slots.kdf

    @property
    def db_path(self) -> Path:
        return self.folder / DB_FILE_NAME

    @property
    def is_open(self) -> bool:
        return not self.key.is_zeroed

    def close(self) -> None:
        """Lock: fold the write-ahead log back into the database, dispose every pooled connection, wipe the key."""
        try:
            self.checkpoint()
        finally:  # whatever the checkpoint met (a damaged or busy file), the key is wiped
            self.engine.dispose()
            self.key.zero()

    def checkpoint(self) -> bool:
        """`wal_checkpoint(TRUNCATE)`, so the -wal file does not grow without bound (REL-07). Returns False if a
        reader still holds an old snapshot (the checkpoint is then partial; the next one finishes it).

        TRUNCATE waits for readers through the busy handler, so the wait is cut to one second here: with the
        connection's usual 15-second timeout, one lingering reader would hold up every lock and exit by 15 s."""
        if self.key.is_zeroed or self.damaged:
            return False
        try:
            with self.engine.connect() as conn:
                usual = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar())
                conn.exec_driver_sql("PRAGMA busy_timeout = 1000")
                try:
                    busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                finally:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {usual}")  # the pooled connection keeps its wait
        except (sa_exc.DBAPIError, StoreDamaged, StoreBusy):  # a new connection met damage or a lock: no checkpoint
            return False
        return busy == 0

    def record_refusal(self, err: BaseException) -> None:
        """Audit the refusal `err` carries (core.security.refusals.audited calls this: security sits below the
        database layer, so it reaches the store through the store it is given, never by importing core.db)."""
        record_refusal(self, err)

    def mark_damaged(self) -> None:
        if not self.damaged:
            self.damaged = True
            log.error("store damage found; the store is read-only until it is restored")

    def save_slots(self) -> None:
        """Seal and write the key-slot file. The write is atomic: if it fails (a full disk), the old file stays."""
        self.slots.seal(self.key)
        try:
            self.slots.write(self.folder)
        except OSError:
            raise StorageFailure() from None


@contextmanager
def unit_of_work(store: Store, *, write: bool = True) -> Iterator[Session]:
    """One transaction. Leaving without `session.commit()` rolls everything back.

    Database errors are translated into plain, parameter-free LanternErrors here.
    """
    if not store.is_open:
        raise StoreNotFound("The store is locked. Sign in again.")
    if write and store.damaged:
        raise StoreReadOnly()
    bind = writer(store.engine) if write else store.engine
    session = Session(bind=bind, expire_on_commit=False, autoflush=True)
    try:
        yield session
    except sa_exc.OperationalError as err:
        session.rollback()
        raise _translate(store, err) from None
    except sa_exc.DatabaseError as err:
        session.rollback()
        raise _translate(store, err) from None
    except LanternError as err:
        if getattr(err, "refusal", None) is not None:  # a refused read: keep its audit row though the read is not
            session.rollback()
            record_refusal(store, err)
        raise
    except UnicodeEncodeError:  # a lone surrogate no encoding can store: validation should have named the field
        session.rollback()
        raise ValidationError({"text": "Some of the text contains a character that cannot be saved (often left "
                                       "by copying and pasting). Type it again and try once more."}) from None
    finally:
        session.close()


def record_refusal(store: Store, err: BaseException) -> None:
    """Audit a refusal carried by `err` (core.security.refusals) in its own small transaction, once. A store
    that is locked or read-only cannot take it; the log says so instead."""
    from core.db import audit
    from core.security.refusals import REFUSED

    refusal = getattr(err, "refusal", None)
    if refusal is None or refusal.recorded:
        return
    refusal.recorded = True
    try:
        with unit_of_work(store) as session:
            audit.record(session, refusal.actor, REFUSED, entity_type=refusal.entity_type,
                         entity_id=refusal.entity_id, outcome="refused",
                         detail={"attempted": refusal.attempted, "why": refusal.why})
            session.commit()
    except LanternError:
        log.warning("a refused %s could not be audited (store locked or read-only)", refusal.attempted)


def _translate(store: Store, err: sa_exc.DBAPIError) -> LanternError:
    state = getattr(err.orig, "sqlstate", None) or ""  # PostgreSQL's error class (a server store, issue 16)
    if state == "42501":
        return PermissionDenied()  # row-level security or a missing grant: the server refused, not the disk
    if state in ("40001", "40P01", "55P03"):
        return StoreBusy()
    if state.startswith("08") or state.startswith("57P"):
        return ServerUnreachable()
    if getattr(store, "kind", "") == "server" and isinstance(err, sa_exc.OperationalError) and not state:
        return ServerUnreachable()  # no connection at all: refused, timed out, or dropped with no error class
    message = str(err.orig).lower()
    if "locked" in message or "busy" in message:
        return StoreBusy()
    if "not a database" in message or "malformed" in message:
        store.mark_damaged()
        return StoreDamaged(DAMAGE_FOUND)
    return StorageFailure()


def _open_engine(folder: Path, key: KeyHolder) -> Engine:
    db_path = folder / DB_FILE_NAME
    if not db_path.exists():
        raise StoreDamaged("The store's database file is missing. Ask your administrator to restore "
                           "the store from the latest backup.")
    engine = make_engine(db_path, key)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar()
        migrate.upgrade(engine)
    except LanternError:
        engine.dispose()
        raise
    except sa_exc.DBAPIError:
        engine.dispose()
        raise StoreDamaged() from None
    return engine


def is_store(folder: Path) -> bool:
    return (folder / SLOT_FILE_NAME).exists() or (folder / DB_FILE_NAME).exists()


def read_slots(folder: Path) -> SlotFile:
    if not folder.is_dir() or not is_store(folder):
        raise StoreNotFound(f"There is no Lantern store in {folder}.")
    return SlotFile.read(folder)


def open_with_key(folder: Path, slots: SlotFile, key: KeyHolder) -> Store:
    """Open the database with an unwrapped key and check the slot file's seal."""
    check_store_location(folder)
    try:
        engine = _open_engine(folder, key)
    except LanternError:
        key.zero()
        raise
    store = Store(folder=folder, key=key, slots=slots, engine=engine)
    try:
        slots.verify(key)
        with unit_of_work(store, write=False) as session:
            org = session.scalar(select(Organisation))
            if org is None or org.store_id != slots.store_id:
                raise SlotFileTampered()
    except LanternError:
        store.close()
        raise
    return store


def open_with_recovery_key(folder: Path, recovery_key: str) -> Store:
    from core.security.keys import normalise_recovery_key

    slots = read_slots(folder)
    try:
        key = slots.recovery_slot().unwrap(normalise_recovery_key(recovery_key))
    except LanternError as err:
        if type(err).__name__ == "WrongPassword":
            raise ValidationError({"recovery_key": "That recovery key does not open this store. "
                                   "Check each group of four characters."}) from None
        raise
    return open_with_key(folder, slots, key)


def _make_private(folder: Path) -> None:
    """Owner-only folder (0700) on POSIX systems. On Windows the folder's ACL is set by the installer or IT
    (docs/security-model.md, "File permissions"); Lantern does not change ACLs itself."""
    if os.name == "posix":
        os.chmod(folder, 0o700)


def create_store_files(folder: Path, *, ods_code: str, kdf: KdfParams = DEFAULT_KDF,
                       populate=None) -> tuple[Store, str]:
    """Create a new store folder: database, schema, organisation row, recovery slot.

    `populate(session, store)` adds the first rows (wards, first admin and its slot) in the
    same transaction. Returns the open store and the recovery key (shown once, never stored).
    On any failure the half-made folder is removed.
    """
    check_store_location(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ValidationError({"store": f"{folder} is not empty. Choose a new or empty folder for the store."})
    created_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _make_private(folder)
    key = KeyHolder.generate()
    store_id = str(uuid.uuid4())
    recovery_key = new_recovery_key()
    try:
        slots = SlotFile(store_id=store_id)
        slots.slots[RECOVERY_SLOT_ID] = Slot.wrap(RECOVERY_SLOT_ID, "", recovery_key, key, kdf)
        # Owner-only from the first byte; SQLite gives the -wal and -shm files the database file's mode.
        os.close(os.open(folder / DB_FILE_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        engine = make_engine(folder / DB_FILE_NAME, key)
        migrate.upgrade(engine)
        store = Store(folder=folder, key=key, slots=slots, engine=engine)
        with unit_of_work(store) as session:
            session.add(Organisation(id=1, store_id=store_id, ods_code=ods_code, name="", created_at=now_db()))
            if populate:
                populate(session, store)
            store.save_slots()
            session.commit()
    except BaseException:
        try:
            engine.dispose()  # type: ignore[possibly-undefined]
        except NameError:
            pass
        key.zero()
        if created_folder:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for child in folder.iterdir():
                if child.is_file():
                    child.unlink()
        raise
    return store, recovery_key
