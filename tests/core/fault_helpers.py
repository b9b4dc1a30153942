"""Fault injection for failed writes (REL-02) on a real encrypted store: no mocks, SQLite itself refuses.

The tests run as root in CI, so a chmod-ed file would still be writable; every fault here is made by
SQLite on the store's own connections instead. Each is applied to every pooled connection through a
`connect` listener, and the pool is disposed so the next call opens fresh, faulty connections; leaving
the block removes the listener and disposes the pool again, so the store is healthy afterwards.

- disk_full: `PRAGMA max_page_count` = the current page count, so the database file cannot grow
  (SQLITE_FULL, "database or disk is full"). A write that happens to fit into free space on existing
  pages would not fail, so a TEMP trigger (per connection, never stored in the file) makes every audited
  write, and every autosave, also need more pages than are left: the failure is certain, not luck.
- read_only: `PRAGMA query_only = ON` (SQLITE_READONLY, "attempt to write a readonly database").
- write_locked: another connection (standing in for a second app instance or a backup tool) holds the
  write lock with BEGIN EXCLUSIVE; readers still read, writers time out ("database is locked").
- file_locked: another connection holds an exclusive lock on the whole file (locking_mode EXCLUSIVE),
  as an anti-virus scanner or backup tool can: nobody else can even open a connection.

For the two lock faults the store's busy timeout (core.db.engine.BUSY_TIMEOUT_MS, 15 s) is cut to
100 ms for the connections opened inside the block only, so a test waits a moment rather than 15 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from core.db import engine as engine_module
from core.db.engine import make_engine
from core.errors import StorageFailure, StoreBusy

FAULTS = ("disk_full", "read_only", "write_locked", "file_locked")
EXPECTED = {"disk_full": StorageFailure, "read_only": StorageFailure,
            "write_locked": StoreBusy, "file_locked": StoreBusy}
SHORT_BUSY_MS = 100


def _disk_full(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    try:
        pages, free, page_size = (int(cur.execute(f"PRAGMA {name}").fetchone()[0])  # page_size comes back as text
                                  for name in ("page_count", "freelist_count", "page_size"))
        cur.execute(f"PRAGMA max_page_count = {pages}")
        filler = (free + 8) * page_size  # more than all the free pages: the file must grow, and cannot
        for name, when in (("rel02_fill_audit", "BEFORE INSERT ON main.audit_events"),
                           ("rel02_fill_autosave", "BEFORE UPDATE ON main.form_drafts")):
            cur.execute(f"CREATE TEMP TRIGGER {name} {when} BEGIN INSERT INTO main.settings(key, value) "
                        f"VALUES ('rel02-fill-' || hex(randomblob(8)), zeroblob({filler})); END")
    finally:
        cur.close()


def _read_only(dbapi_conn, _record) -> None:
    dbapi_conn.execute("PRAGMA query_only = ON")


@contextmanager
def refused_writes(store, fault: str) -> Iterator[None]:
    """While inside, every write to `store` fails the way `fault` names (see the module docstring)."""
    assert fault in FAULTS, fault
    listener = {"disk_full": _disk_full, "read_only": _read_only}.get(fault)
    saved_busy = engine_module.BUSY_TIMEOUT_MS
    holder_engine = holder = None
    if listener is not None:
        event.listen(store.engine, "connect", listener)
    else:
        engine_module.BUSY_TIMEOUT_MS = SHORT_BUSY_MS
    store.engine.dispose()
    try:
        if listener is None:
            holder_engine = make_engine(store.db_path, store.key, pool_size=1)
            holder = holder_engine.raw_connection()
            conn = holder.driver_connection
            if fault == "file_locked":
                conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        yield
    finally:
        if holder is not None:
            holder.driver_connection.execute("ROLLBACK")
            holder.close()
        if holder_engine is not None:
            holder_engine.dispose()
        if listener is not None:
            event.remove(store.engine, "connect", listener)
        engine_module.BUSY_TIMEOUT_MS = saved_busy
        store.engine.dispose()
