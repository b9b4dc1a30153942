"""The SQLCipher engine: keying, per-connection pragmas and write transactions (core layer).

Uses SQLAlchemy's plain `sqlite://` dialect with `module=sqlcipher3.dbapi2` and a
QueuePool, not the pysqlcipher dialect (see docs/security-model.md). The
raw key is applied on the DBAPI connection before anything else runs; it never
goes into a URL, a log or an exception.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from core.errors import StoreBusy, StoreDamaged, UnsupportedBuild
from core.security.keys import KeyHolder

DB_FILE_NAME = "lantern.db"
BUSY_TIMEOUT_MS = 15000
MIN_SQLITE = (3, 52, 0)
WRITE_OPTION = "lantern_write"
CACHE_KIB = 64 * 1024  # page cache per connection; the LIFO pool keeps one or two connections warm


def check_sqlcipher_build() -> str:
    """Refuse to run unless the DBAPI module really is SQLCipher 4 on a safe SQLite baseline, and turn on
    SQLCipher's memory security before any key is used: every allocation SQLCipher and SQLite make is wiped when
    freed and locked out of swap where the OS allows. It is process-wide and stays on (issue 13 item 7)."""
    try:
        conn = sqlcipher.connect(":memory:")
        try:
            row = conn.execute("PRAGMA cipher_version").fetchone()
            conn.execute("PRAGMA cipher_memory_security = ON")
            secured = conn.execute("PRAGMA cipher_memory_security").fetchone()
        finally:
            conn.close()
    except Exception:  # noqa: BLE001 - any failure here means "not a usable build"
        raise UnsupportedBuild("Lantern could not start its encrypted database library.") from None
    if not row or not str(row[0]).startswith("4."):
        raise UnsupportedBuild(
            "This copy of Lantern is running on a plain, unencrypted SQLite build, so it refuses to "
            "run. Reinstall Lantern or call IT."
        )
    if not secured or str(secured[0]) != "1":
        raise UnsupportedBuild("The encrypted database library could not protect its memory. Reinstall Lantern "
                               "or call IT.")
    if tuple(sqlcipher.sqlite_version_info) < MIN_SQLITE:
        raise UnsupportedBuild("The encrypted database library is too old. Reinstall Lantern or call IT.")
    return str(row[0])


def apply_key(dbapi_conn, key: KeyHolder) -> None:
    """Key a new SQLCipher connection with the raw key, from a bytearray zeroed at once (`KeyHolder.sqlcipher_key`):
    the same as `PRAGMA key = "x'<hex>'"`, without the key ever being a Python str or a cached SQL statement."""
    with key.sqlcipher_key() as blob:
        dbapi_conn.set_key(blob)


def _apply_pragmas(dbapi_conn, key: KeyHolder, wal: bool) -> None:
    apply_key(dbapi_conn, key)
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA cipher_log_level = NONE")
        cur.execute("PRAGMA temp_store = MEMORY")
        if cur.execute("PRAGMA temp_store").fetchone()[0] != 2:
            raise UnsupportedBuild("The encrypted database refused to keep temporary data in memory.")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # The first read proves the key: a wrong key or a damaged file fails here.
        cur.execute("SELECT count(*) FROM sqlite_master").fetchone()
        cur.execute(f"PRAGMA journal_mode = {'WAL' if wal else 'DELETE'}")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA trusted_schema = OFF")
        # Decrypting pages is the main cost of reading; keep more of them decrypted in memory.
        cur.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    finally:
        cur.close()


_SILENT = logging.getLogger("lantern.db.never_logged")
_SILENT.disabled = True


def never_log(engine: Engine) -> None:
    """Whatever the logging configuration, `engine` logs no statements and no result rows (patient text):
    hide_parameters covers bound values only. Its connections, and the one a dialect opens first to look at the
    server (PostgreSQL's version and schema queries), ask this logger, which is never enabled."""
    engine.logger = _SILENT

    @event.listens_for(engine, "engine_connect")
    def _never_echo(conn):
        conn._echo = False


def make_engine(db_path: Path, key: KeyHolder, *, pool_size: int = 4, wal: bool = True) -> Engine:
    """An engine whose every connection is keyed and configured before first use."""
    check_sqlcipher_build()
    key.view()  # fail now if the holder is already wiped
    engine = create_engine(
        f"sqlite:///{db_path.as_posix()}",
        module=sqlcipher,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=4,
        pool_timeout=30,
        pool_use_lifo=True,  # reuse the most recent connection, whose page cache is warm
        hide_parameters=True,
        echo=False,
    )

    @event.listens_for(engine, "connect", insert=True)
    def _on_connect(dbapi_conn, _record):
        # sqlcipher3 has no `autocommit`; take over transaction control (SQLAlchemy's pysqlite recipe).
        dbapi_conn.isolation_level = None
        try:
            # Read the key from its holder on each connect, so no copy outlives `Store.close()`.
            _apply_pragmas(dbapi_conn, key, wal)
        except sqlcipher.DatabaseError as err:
            # A file held locked by another program (backup, anti-virus, a second Lantern) is busy, not damaged.
            if "locked" in str(err).lower() or "busy" in str(err).lower():
                raise StoreBusy() from None
            raise StoreDamaged() from None

    never_log(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions start with BEGIN IMMEDIATE (take the write lock first)."""
    return engine.execution_options(**{WRITE_OPTION: True})
