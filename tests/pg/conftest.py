"""Fixtures for the PostgreSQL tests: a throwaway server per test session (`pg_server`, in tests/both_engines.py),
a fresh database per test.

Without the server programs the tests skip with one line saying how to run them; with `CI=true` a missing
server is a failure, not a skip (issue 16, item 9)."""

from __future__ import annotations

import uuid

import pytest

from core.services import accounts  # the one name the front ends call: it goes to the server's variants
from core.services.server_setup import approve_as_owner, init_server
from tests.pg.server import ThrowawayServer, find_bindir


@pytest.fixture(scope="module")
def own_server(pg_server):
    """A server of the test module's own, which its tests may stop (`pause`) and start again (`resume`).
    Asks for pg_server first: that skips, or fails on CI, when there is no PostgreSQL."""
    server = ThrowawayServer.start(find_bindir())
    yield server
    server.stop()


@pytest.fixture
def pg_database(pg_server):
    """The name of a new, empty database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with pg_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with pg_server.admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_engine(pg_server, pg_database):
    """An engine on the new database, signed in as the cluster's owner (schema work only, never the app's roles)."""
    from core.db.server import make_server_engine

    engine = make_server_engine(pg_server.url(pg_database), username=pg_server.superuser,
                                password=pg_server.password)
    yield engine
    engine.dispose()


PASSWORDS = {name: f"test-only passphrase {n} for the trust" for n, name in enumerate(("admin", "lead", "nurse", "manager"))}


@pytest.fixture
def trust(pg_server, pg_database):
    """A server store with an administrator, and a lead, a nurse and a ward manager of Oak Ward, each approved,
    each past their temporary password. Returns a function that signs someone in: (store, actor)."""
    yield from build_trust(pg_server, pg_database)


def build_trust(pg_server, pg_database, wards=("Oak Ward", "Elm Ward")):
    owner_url = pg_server.url(pg_database)
    location = owner_url.replace(f"{pg_server.superuser}@", "")
    init_server(owner_url, owner=pg_server.superuser, owner_password=pg_server.password, ods_code="RXX",
                wards=list(wards), admin_username="admin", admin_password=PASSWORDS["admin"])
    opened = []

    def sign_in(name: str, password: str | None = None):
        store, actor = accounts.sign_in(location, name, password or PASSWORDS[name])
        opened.append(store)
        return store, actor

    def settle(name: str, temp: str) -> None:  # first sign-in: replace the temporary password
        store, actor = sign_in(name, temp)
        accounts.change_password(store, actor, temp, PASSWORDS[name])

    admin_store, admin = sign_in("admin")
    oak = {w.name: w.ward_id for w in review_wards(admin_store, admin)}[wards[0]]
    lead_request = accounts.create_user(admin_store, admin, username="lead", role="safeguarding_lead").request_id
    settle("lead", approve_as_owner(owner_url, owner=pg_server.superuser, owner_password=pg_server.password,
                                    request_id=lead_request))
    lead_store, lead = sign_in("lead")
    for name, role in (("nurse", "nurse"), ("manager", "ward_manager")):
        new = accounts.create_user(admin_store, admin, username=name, role=role, ward_ids=[oak])
        assert new.temporary_password == ""  # the administrator never holds a password that opens it
        settle(name, accounts.decide_access_request(lead_store, lead, new.request_id, approve=True))
    yield sign_in, oak
    for store in opened:
        store.close()


def review_wards(store, actor):
    from core.services import wards

    return wards.list_wards(store, actor)
