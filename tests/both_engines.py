"""The core tests on both engines (issue 16, item 1): the same test body on a SQLCipher store and on a database of a
real PostgreSQL server that the fixtures start themselves.

A test that asks for `make_store`, `fresh` or `store_folder` under `tests/core/` runs twice, `[sqlcipher]` and
`[postgresql]` (tests/core/conftest.py). A test marked `sqlcipher_only("why")` runs once: it tests the file store
itself (key slots, the folder, backups, WAL) that a server store does not have.

On the server every account is its own database login, and row-level security answers to the login, not to the
actor a test passes. The core tests were written the embedded way: one store handle, signed in as the
administrator, and whichever actor the test means. So the server store a test gets is a `RoutedStore`: each
service call (a `core.services` function whose first two parameters are `store, actor`) runs on a store signed in
as that actor's own login, exactly as that person's PC would; whatever a test reads itself, outside a service
(`unit_of_work(store)`), reads as the database owner, which sees every row, as the key of an embedded store does.

Building the template (six accounts, each a login) costs about a second once per session. Each test's database is
`CREATE DATABASE ... TEMPLATE`; login roles belong to the whole server and their names include the database's
(core.db.server.login_role), so each copy's accounts get logins of their own, with the same SCRAM verifiers
(a verifier does not depend on the role's name), and lose them when the test ends.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import pkgutil
import uuid
from dataclasses import dataclass, field

import pytest

from core.db.server import ServerStore, make_server_engine
from core.dto import Actor

ACCOUNTS = (("nurse", "nurse", ["Oak Ward"]), ("nurse2", "nurse", ["Oak Ward"]),
            ("manager", "ward_manager", ["Oak Ward"]), ("manager_elm", "ward_manager", ["Elm Ward"]))


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the test session. Without the server programs the tests skip with one
    line saying how to run them; with `CI=true` a missing server is a failure, not a skip (issue 16, item 9)."""
    from tests.pg.server import HOW_TO, ThrowawayServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no PostgreSQL server programs were found; bootstrap.py test installs them.")
        pytest.skip(HOW_TO)
    server = ThrowawayServer.start(bindir)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class RoutedStore(ServerStore):
    """A server store as the core tests use a store: service calls go to the actor's own login (`as_actor`), and
    anything else to the database owner's connection (`engine`)."""

    password: str = ""
    passwords: dict[str, str] = field(default_factory=dict)
    signed_in: dict[str, ServerStore] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """Where the store is, as `accounts.sign_in` takes it: the server store's location."""
        return self.location

    def remember_password(self, username: str, password: str) -> None:
        """A test changed or was given `username`'s password (a new account's temporary one, say)."""
        self.passwords[username] = password
        self.signed_in.pop(username, None)

    def as_actor(self, actor: Actor, password: str | None = None) -> ServerStore:
        """A store signed in as `actor`'s own login (without a sign-in row in the trail: the test did not ask
        for one), kept for the test's next call."""
        from core.db.server import open_server_store

        store = self.signed_in.get(actor.username)
        if password is not None or store is None or not store.is_open:
            secret = password if password is not None else self.passwords.get(actor.username, self.password)
            store = open_server_store(self.location, actor.username, secret)
            self.signed_in[actor.username] = store
        return store

    def close(self) -> None:
        for store in self.signed_in.values():
            if store.is_open:
                store.close()
        super().close()


def _routed(fn):
    """`fn(store, actor, ...)`, run on the actor's own login when `store` is a RoutedStore. Changing one's
    password signs in with the old one and remembers the new one."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        store = args[0] if args else kwargs.get("store")
        actor = args[1] if len(args) > 1 else kwargs.get("actor")
        if not (isinstance(store, RoutedStore) and isinstance(actor, Actor)):
            return fn(*args, **kwargs)
        changing = fn.__name__ == "change_password"
        own = store.as_actor(actor, args[2] if changing else None)
        args = (own, *args[1:]) if args else args
        kwargs = kwargs if args else {**kwargs, "store": own}
        result = fn(*args, **kwargs)
        if changing:
            store.passwords[actor.username] = args[3]
        return result

    return call


def _service_functions():
    """Every `core.services` function whose first two parameters are `store, actor`, under every name a module
    gives it (`accounts.list_wards` is `wards.list_wards` re-exported): (module, name, function)."""
    import core.services

    for info in pkgutil.iter_modules(core.services.__path__):
        module = importlib.import_module(f"core.services.{info.name}")
        for name, fn in vars(module).items():
            if not inspect.isfunction(fn) or not fn.__module__.startswith("core.services.") or name.startswith("__"):
                continue
            params = list(inspect.signature(fn).parameters)
            if params[:2] == ["store", "actor"]:
                yield module, name, fn


@pytest.fixture(scope="session")
def _pg_routing():
    """Service calls on a RoutedStore go to the actor's own login from the first server test on (the wrappers
    pass any other store straight through)."""
    patch = pytest.MonkeyPatch()
    for module, name, fn in _service_functions():
        patch.setattr(module, name, _routed(fn))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def _pg_store_template(pg_server, _pg_routing):
    """The server counterpart of tests/conftest.py's `_store_template`: Oak Ward and Elm Ward, and the same six
    accounts (admin, lead, nurse, nurse2, manager, manager_elm), each approved and past its temporary password."""
    from core.services import accounts
    from core.services.server_setup import approve_as_owner, init_server
    from tests.conftest import PASSWORD as password  # every account's (a test may parametrize `password`)

    name = f"template_{uuid.uuid4().hex[:8]}"
    with pg_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner_url = pg_server.url(name)
    location = owner_url.replace(f"{pg_server.superuser}@", "")
    init_server(owner_url, owner=pg_server.superuser, owner_password=pg_server.password, ods_code="RXX",
                wards=["Oak Ward", "Elm Ward"], admin_username="admin", admin_password=password)
    opened = []

    def sign_in(username, secret=password):
        store, actor = accounts.sign_in(location, username, secret)
        opened.append(store)
        return store, actor

    def settle(username, temp):
        store, actor = sign_in(username, temp)
        accounts.change_password(store, actor, temp, password)

    admin_store, admin = sign_in("admin")
    wards = {w.name: w.ward_id for w in accounts.list_wards(admin_store, admin)}
    request = accounts.create_user(admin_store, admin, username="lead", role="safeguarding_lead").request_id
    settle("lead", approve_as_owner(owner_url, owner=pg_server.superuser, owner_password=pg_server.password,
                                    request_id=request))
    lead_store, lead = sign_in("lead")
    for username, role, ward_names in ACCOUNTS:
        new = accounts.create_user(admin_store, admin, username=username, role=role,
                                   ward_ids=[wards[w] for w in ward_names])
        settle(username, accounts.decide_access_request(lead_store, lead, new.request_id, approve=True))
    actors = {"administrator": admin}
    for username in ("nurse", "nurse2", "manager", "manager_elm", "lead", "admin"):
        actors[username] = sign_in(username)[1]
    for store in opened:
        store.close()
    return name, actors, wards


def _copy_database(pg_server, template: str) -> str:
    """A new database from `template`, its accounts given login roles of their own with the template's
    verifiers (so the same passwords)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    with pg_server.admin(name) as conn:
        old = conn.execute("SELECT id, login_role FROM users WHERE login_role IS NOT NULL").fetchall()
        conn.execute("UPDATE users SET login_role = lantern_login_role(username)")
        for user_id, role in old:
            verifier = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
            if verifier and verifier[0]:
                conn.execute("SELECT lantern_give_login(u, %s) FROM users u WHERE u.id = %s", (verifier[0], user_id))
    return name


def _drop_database(pg_server, name: str) -> None:
    with pg_server.admin(name) as conn:
        roles = [r for (r,) in conn.execute("SELECT login_role FROM users WHERE login_role IS NOT NULL")]
    with pg_server.admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def copied_store(request):
    """A RoutedStore on a new database copied from the template: (store, actors, wards, drop)."""
    from tests.conftest import PASSWORD as password

    pg_server = request.getfixturevalue("pg_server")
    template, actors, wards = request.getfixturevalue("_pg_store_template")
    name = _copy_database(pg_server, template)
    owner_url = pg_server.url(name)
    location = owner_url.replace(f"{pg_server.superuser}@", "")
    engine = make_server_engine(owner_url, username=pg_server.superuser, password=pg_server.password)
    store = RoutedStore(location=location, database=name, username="admin", engine=engine, password=password)

    def drop() -> None:
        store.close()
        _drop_database(pg_server, name)

    return store, dict(actors), dict(wards), drop


@pytest.fixture
def pg_store_maker(request):
    """Give a test its own server database copied from the template: returns a function giving (RoutedStore,
    actors, recovery key (None: a server store has none), ward ids by name), as `make_store` does."""
    made = []

    def _make(_name: str = "store"):
        store, actors, wards, drop = copied_store(request)
        made.append(drop)
        return store, actors, None, wards

    yield _make
    for drop in made:
        drop()
