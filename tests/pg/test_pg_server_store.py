"""Setting up a server store and signing in to it through the core services (issue 16 items 1, 2 and 8)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.db.server import make_server_engine
from core.db.store import unit_of_work
from core.errors import ServerUnreachable, ValidationError, WrongPassword
from core.services.server_setup import init_server, sign_in_server

ADMIN_PASSWORD = "test-only passphrase 42"  # synthetic, meets the policy


@pytest.fixture
def server_store(pg_server, pg_database):
    location = pg_server.url(pg_database).replace(f"{pg_server.superuser}@", "")
    init_server(pg_server.url(pg_database), owner=pg_server.superuser, owner_password=pg_server.password,
                ods_code="RXX", wards=["Oak Ward", "Elm Ward"], admin_username="Admin", admin_password=ADMIN_PASSWORD)
    return location


def _owner_rows(pg_server, database, sql):
    with pg_server.admin(database) as conn:
        return conn.execute(sql).fetchall()


def test_init_then_the_first_administrator_signs_in(pg_server, pg_database, server_store):
    store, actor = sign_in_server(server_store, " ADMIN ", ADMIN_PASSWORD)  # the username is normalised
    try:
        assert (actor.username, actor.role, actor.must_change_password) == ("admin", "administrator", False)
    finally:
        store.close()
    events = _owner_rows(pg_server, pg_database, "SELECT id, username, action FROM audit_events ORDER BY id")
    assert [(e[1], e[2]) for e in events] == [("admin", "store.create"), ("admin", "user.create"),
                                              ("admin", "sign_in")]
    assert [e[0] for e in events] == [1, 2, 3]
    wards = _owner_rows(pg_server, pg_database, "SELECT name FROM wards ORDER BY name")
    assert wards == [("Elm Ward",), ("Oak Ward",)]


def test_the_server_chain_of_a_new_store_verifies_in_python(pg_server, pg_database, server_store):
    """Including a non-ASCII username, which the server hashes as UTF-8 (the embedded store escapes it)."""
    from sqlalchemy.orm import Session

    from core.db import audit

    store, actor = sign_in_server(server_store, "admin", ADMIN_PASSWORD)
    try:
        with unit_of_work(store) as session:
            audit.record(session, actor, "test.note", entity_type="ward", entity_id="Ward Zoë ✓")
            session.commit()
    finally:
        store.close()
    engine = make_server_engine(pg_server.url(pg_database), username=pg_server.superuser,
                                password=pg_server.password)
    try:
        with Session(engine) as session:
            assert audit.verify_chain(session) == []
            session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"))
            session.execute(text("UPDATE audit_events SET detail = '{\"wards\": 9}' WHERE id = 1"))
            assert any("altered" in p for p in audit.verify_chain(session))
            session.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("username, password", [("admin", "not the password at all"),
                                                ("nobody", ADMIN_PASSWORD)])
def test_a_wrong_password_and_an_unknown_name_are_told_apart_by_nobody(server_store, username, password):
    with pytest.raises(WrongPassword) as err:
        sign_in_server(server_store, username, password)
    assert password not in str(err.value)


def test_an_unreachable_server_is_said_plainly(pg_server):
    with pytest.raises(ServerUnreachable, match="cannot reach"):
        sign_in_server("postgresql://127.0.0.1:1/lantern", "admin", ADMIN_PASSWORD)


def test_init_refuses_a_database_that_is_not_empty(pg_server, pg_database, server_store):
    with pytest.raises(ValidationError, match="already holds tables") as err:
        init_server(pg_server.url(pg_database), owner=pg_server.superuser, owner_password=pg_server.password,
                    ods_code="RXX", wards=["Oak Ward"], admin_username="admin2", admin_password=ADMIN_PASSWORD)
    assert set(err.value.field_errors) == {"server"}
