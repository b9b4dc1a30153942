"""On the server, the audit chain is written by the server (issue 16 item 2): a client cannot choose an event's
number, previous hash, hash, time or author, cannot touch the head, and every hash can be recomputed in Python."""

from __future__ import annotations

import hashlib
import json
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from core.db import migrate
from core.db.models import User
from core.db.server import login_role

NOW = "2026-11-30T08:00:00+00:00"
FIELDS = ("id", "at", "user_id", "username", "action", "entity_type", "entity_id", "outcome", "workstation",
          "detail", "prev_hash")


def _recomputed(row: dict) -> str:
    """core/db/audit.py's digest, with non-ASCII written as UTF-8 (the server's form, migration 0014)."""
    fields = {name: row[name] for name in FIELDS}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


@pytest.fixture
def nurse_login(pg_server, pg_database, pg_engine):
    from psycopg import sql

    migrate.upgrade(pg_engine)
    nurse = User(id=str(uuid.uuid4()), username="nurse", role="nurse", must_change_password=False, created_at=NOW)
    with Session(pg_engine, expire_on_commit=False) as session:
        session.add(nurse)
        session.commit()
    password = f"throwaway {uuid.uuid4().hex}"
    role = sql.Identifier(login_role(pg_database, "nurse"))
    with pg_server.admin(pg_database) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE lantern_nurse").format(role, sql.Literal(password)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(pg_database), role))
    conn = psycopg.connect(host="127.0.0.1", port=pg_server.port, user=login_role(pg_database, "nurse"),
                           password=password, dbname=pg_database, autocommit=True)
    yield nurse, conn
    conn.close()


def _insert(conn, **values) -> None:
    row = {"id": 999, "at": "1999-01-01T00:00:00+00:00", "user_id": None, "username": "someone-else",
           "action": "incident.view", "entity_type": "incident", "entity_id": "i1", "outcome": "ok",
           "workstation": "ward-pc", "detail": "{}", "prev_hash": "f" * 64, "hash": "e" * 64, **values}
    columns = ", ".join(row)
    conn.execute(f"INSERT INTO audit_events ({columns}) VALUES ({', '.join(['%s'] * len(row))})",
                 tuple(row.values()))


def test_the_server_numbers_dates_signs_and_hashes_every_event(pg_engine, nurse_login):
    nurse, conn = nurse_login
    _insert(conn)
    _insert(conn, action="incident.update")
    first, second = _owner_rows(pg_engine)
    assert (first["id"], second["id"]) == (1, 2)
    assert first["prev_hash"] == "0" * 64 and second["prev_hash"] == first["hash"]
    assert first["username"] == "nurse" and first["user_id"] == nurse.id  # never what the client claimed
    assert first["at"] > "2026-01-01" and first["at"].endswith("+00:00")
    assert [_recomputed(r) for r in (first, second)] == [first["hash"], second["hash"]]
    with pg_engine.connect() as owner:
        head = owner.exec_driver_sql("SELECT last_id, last_hash FROM audit_head").one()
    assert tuple(head) == (2, second["hash"])


def _owner_rows(pg_engine) -> list[dict]:
    with pg_engine.connect() as conn:
        return [dict(r._mapping) for r in conn.exec_driver_sql("SELECT * FROM audit_events ORDER BY id")]


def test_a_client_cannot_move_the_head_or_read_the_trail(nurse_login):
    _nurse, conn = nurse_login
    for statement in ("UPDATE audit_head SET last_id = 0", "INSERT INTO audit_head VALUES (2, 0, 'x')",
                      "SELECT * FROM audit_events"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40).filter(lambda s: "\x00" not in s))
def test_every_server_hash_is_recomputed_in_python(pg_engine, nurse_login, text):
    _nurse, conn = nurse_login
    _insert(conn, workstation=text[:100], detail=json.dumps({"why": text}, ensure_ascii=False), entity_id=text[:40])
    newest = _owner_rows(pg_engine)[-1]
    assert newest["hash"] == _recomputed(newest)
