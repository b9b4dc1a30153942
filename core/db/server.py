"""The trust's PostgreSQL server as a store location (core layer; issue 16).

A store is opened from a location: a folder (the embedded SQLCipher store, `core.db.engine`) or a
`postgresql://` URL, handled here with psycopg 3. The URL names the server and database only: the password is
always passed apart from it (asked for at sign-in, never kept in settings), so a URL carrying one is refused.
Any host other than this computer must be reached over TLS that checks the server's certificate against the
trust's CA (`sslmode=verify-full`); PostgreSQL itself has no encryption at rest (docs/admin-guide.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy import create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from core.db.engine import never_log
from core.errors import LanternError, ServerUnreachable, ValidationError, WrongPassword
from core.security.usernames import normalise_username

log = logging.getLogger("lantern.server")
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
STATEMENT_TIMEOUT_MS = 30000


def login_role(database: str, username: str) -> str:
    """The database login role of a Lantern account: `lantern_` and the first 32 hex digits of the SHA-256 of
    `<database>/<normalised username>` (core.security.usernames). Login roles belong to the whole server, so the
    database is in the name (a live and a training database may share usernames). Bounded, plain ASCII and never
    quoted wrongly, whatever the username holds; the server computes the same name (`lantern_login_role`,
    migration 0013)."""
    return "lantern_" + hashlib.sha256(f"{database}/{username}".encode()).hexdigest()[:32]


def is_server_location(location: str) -> bool:
    return location.strip().lower().startswith(tuple(f"{s}://" for s in SCHEMES))


def _problem(message: str) -> ValidationError:
    return ValidationError({"server": message})


def parse_location(location: str, *, ca_file: str = "") -> URL:
    """Check a server address and return the URL to connect with (psycopg driver, TLS settings applied).

    Raises ValidationError naming the server address for anything unsafe or malformed; the message never repeats
    the address itself, which may hold a password."""
    try:
        url = make_url(location.strip())
    except ArgumentError:
        raise _problem("The server address is not a valid postgresql:// address.") from None
    if url.drivername not in SCHEMES:
        raise _problem("The server address must start with postgresql://.")
    if url.password:
        raise _problem("Take the password out of the server address: Lantern asks for it when you sign in and "
                       "never keeps it in settings.")
    if not url.database:
        raise _problem("The server address must name the database, e.g. postgresql://server.trust.nhs.uk/lantern.")
    query = dict(url.query)
    host = url.host or ""
    if host.lower() not in LOCAL_HOSTS and not host.startswith("/"):
        if query.get("sslmode", "verify-full") != "verify-full":
            raise _problem("A server on another computer must be reached with sslmode=verify-full, so the "
                           "connection is encrypted and the server's certificate is checked.")
        ca = query.get("sslrootcert", ca_file)
        if not ca:
            raise _problem("A server on another computer needs the trust's certificate authority file: set "
                           "server_ca_file in the machine-wide settings (see the admin guide).")
        query.update(sslmode="verify-full", sslrootcert=ca)
    return url.set(drivername="postgresql+psycopg", query=query)


def make_server_engine(location: str, *, username: str, password: str, ca_file: str = "",
                       pool_size: int = 4, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Engine:
    """An engine that signs in to the server as `username` (each Lantern account is a database login role).

    The password goes to the driver only, never into the URL, a log or an exception; statements and rows are
    never logged."""
    url = parse_location(location, ca_file=ca_file).set(username=username)
    engine = create_engine(
        url,
        connect_args={"application_name": "lantern", "connect_timeout": 10,
                      "options": f"-c statement_timeout={statement_timeout_ms}"},
        pool_size=pool_size,
        max_overflow=4,
        pool_timeout=30,
        pool_pre_ping=True,
        pool_use_lifo=True,
        hide_parameters=True,
        echo=False,
    )

    never_log(engine)

    secret = {"password": password}
    engine.info_secret = secret  # the one place it is kept; `set_password` changes it after a password change

    @event.listens_for(engine, "do_connect")
    def _password(_dialect, _record, _cargs, cparams):
        cparams["password"] = secret["password"]

    return engine


def set_password(engine: Engine, password: str) -> None:
    """New connections of `engine` sign in with `password` from now on (after the account changed it; the open
    ones stay signed in)."""
    engine.info_secret["password"] = password


@dataclass
class ServerStore:
    """A store on the trust's server, opened as one Lantern account's own login role. It offers what the core
    services use of a store (`engine`, `is_open`, `damaged`, `record_refusal`, `close`); the row-level security of
    migrations 0013-0015 decides what the connection may read and write."""

    location: str
    database: str
    username: str
    engine: Engine
    damaged: bool = False
    _open: bool = field(default=True, repr=False)
    kind: ClassVar[str] = "server"

    @property
    def is_open(self) -> bool:
        return self._open

    def close(self) -> None:
        self.engine.dispose()
        self._open = False

    def checkpoint(self) -> bool:
        return True  # the server keeps its own write-ahead log

    def mark_damaged(self) -> None:
        self.damaged = True

    def record_refusal(self, err: BaseException) -> None:
        from core.db.store import record_refusal

        record_refusal(self, err)


def _connect_problem(err: sa_exc.DBAPIError) -> LanternError:
    """A failed first connection in plain words: a refused password, or a server out of reach."""
    state = getattr(err.orig, "sqlstate", None) or ""
    text = str(err.orig).lower()
    refused = ("password authentication failed", "no pg_hba.conf entry", "not permitted to log in",
               "permission denied for database")
    if state.startswith("28") or any(words in text for words in refused):
        return WrongPassword()
    if "certificate" in text or "ssl" in text:
        return ServerUnreachable("Lantern could not make a secure connection to the incident server (its "
                                 "certificate was not accepted). Call IT.")
    return ServerUnreachable()


def open_server_store(location: str, username: str, password: str, *, ca_file: str = "") -> ServerStore:
    """Sign in: connect as the account's login role with its password. WrongPassword for an unknown name or a
    wrong password alike; ServerUnreachable when the server cannot be reached."""
    name = normalise_username(username)
    url = parse_location(location, ca_file=ca_file)
    engine = make_server_engine(location, username=login_role(url.database, name), password=password,
                                ca_file=ca_file)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except sa_exc.DBAPIError as err:
        engine.dispose()
        raise _connect_problem(err) from None
    return ServerStore(location=location, database=url.database, username=name, engine=engine)


def scram_verifier(engine: Engine, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of `password` for `role`, made on this PC by libpq (PQencryptPasswordConn), so
    the password itself never reaches the server (migration 0015 refuses anything else)."""
    raw = engine.raw_connection()
    try:
        return raw.driver_connection.pgconn.encrypt_password(password.encode(), role.encode(),
                                                             b"scram-sha-256").decode()
    finally:
        raw.close()


CHANGE_CHANNEL = "lantern_changes"  # migration 0016
EVERYTHING = "everything"  # what a listener is told after a reconnection: notices sent meanwhile were lost
RECONNECT_DELAYS = (1.0, 2.0, 4.0, 8.0)  # seconds between tries while the server is out of reach; then 8 each time


class ChangeListener:
    """Hears, within a second or so, that someone on another PC wrote an incident or an action (migration 0016's
    notices), on a connection of its own, in a thread of its own; calls `on_change(ward_id, what)` from that
    thread for each notice (the GUI hands it to its own thread). No polling of the server: the connection waits.

    A dropped connection (the server restarted, a network blip) is made again by itself, after 1, 2, 4 then every
    8 seconds, never in a busy loop; once it listens again it calls `on_change(None, EVERYTHING)` once, because
    the notices sent while it was away are lost. `stop()` ends it on purpose, within a second or so (a connection
    being made may take up to its 10-second timeout, in a thread nobody waits for)."""

    def __init__(self, store: ServerStore, on_change):
        self._store = store
        self._on_change = on_change
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._conn = None
        self._connect()  # the first connection is made here: a failure is the caller's to see
        self._thread = threading.Thread(target=self._run, name="lantern-change-listener", daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        raw = self._store.engine.raw_connection()
        conn = raw.driver_connection
        raw.detach()  # this connection is the listener's alone, never returned to the pool
        try:
            conn.rollback()
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANGE_CHANNEL}")
        except Exception:
            _close_quietly(conn)
            raise
        with self._lock:
            if self._stopping.is_set():  # stopped while connecting
                _close_quietly(conn)
                return
            self._conn = conn

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._hear()
            except Exception:  # noqa: BLE001 - a dropped connection: make it again, the app still works meanwhile
                if self._stopping.is_set():
                    return
                log.info("lost the connection that hears other PCs' changes; making it again")
                self._drop()
                if not self._reconnect():  # stopped, or the store was closed: nobody to tell any more
                    return
                self._tell(None, EVERYTHING)

    def _hear(self) -> None:
        while not self._stopping.is_set():
            for notice in self._conn.notifies(timeout=0.5):
                try:
                    data = json.loads(notice.payload)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    self._tell(data.get("ward"), data.get("what"))

    def _tell(self, ward_id, what) -> None:
        try:
            self._on_change(ward_id, what)
        except Exception:  # noqa: BLE001 - the listener's own fault must not stop the listening
            log.warning("a change notice could not be handled")

    def _reconnect(self) -> bool:
        """Try again after a short wait, longer each time, until connected (True) or stopped (False)."""
        tries = 0
        while not self._stopping.wait(RECONNECT_DELAYS[min(tries, len(RECONNECT_DELAYS) - 1)]):
            tries += 1
            if not self._store.is_open:
                return False
            try:
                self._connect()
            except Exception as err:  # noqa: BLE001 - still out of reach: wait and try again
                log.debug("still cannot listen for changes (%s)", type(err).__name__)
                continue
            if self._conn is not None:
                log.info("listening for other PCs' changes again")
                return True
        return False

    def _drop(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        _close_quietly(conn)

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._stopping.is_set()

    def stop(self) -> None:
        """Stop listening. Waits a second at most (sign-out must not hang on a server out of reach); a connection
        still being made then closes itself in its own thread."""
        self._stopping.set()
        self._thread.join(1)
        self._drop()


def _close_quietly(conn) -> None:
    if conn is None:
        return
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - closing a dropped connection
        pass
