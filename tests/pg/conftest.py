"""Fixtures for the PostgreSQL tests: a throwaway server per test session, a fresh database per test.

Without the server programs the tests skip with one line saying how to run them; with `CI=true` a missing
server is a failure, not a skip (issue 16, item 9)."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.pg.server import HOW_TO, ThrowawayServer, find_bindir


@pytest.fixture(scope="session")
def pg_server():
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
