"""The server enforces who reads incidents, without the app (issue 16 item 2).

Each account signs in with its own database login role and password over a plain psycopg connection (what `psql`
would do) and reads every incident content table. What it gets must be exactly what the app's one visibility
predicate (core/services/visibility.py) gives the same account, on random stores: wards, roles, statuses,
restricted records, reporters and staff named in records all drawn at random.
"""

from __future__ import annotations

import random
import uuid

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import migrate
from core.db.models import Incident, IncidentType, PersonInvolved, SafeguardingAction, User, UserWard, Ward
from core.dto import Actor
from core.services.visibility import visible_incidents

NOW = "2026-11-30T08:00:00+00:00"
CLINICAL = ("nurse", "ward_manager", "safeguarding_lead")
CHILD_TABLES = ("people_involved", "incident_types", "safeguarding_actions")


def _role_name(user_id: str) -> str:
    return "lantern_u_" + user_id.replace("-", "")


def _login(server, database: str, user_id: str, password: str):
    return psycopg.connect(host="127.0.0.1", port=server.port, user=_role_name(user_id), password=password,
                           dbname=database)


def _make_login(server, database: str, user: User, password: str) -> None:
    with server.admin(database) as conn:
        conn.execute(f'CREATE ROLE "{_role_name(user.id)}" LOGIN PASSWORD %s IN ROLE lantern_{user.role}'
                     .replace("%s", "'" + password + "'"))
        conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{_role_name(user.id)}"')


def _random_store(session: Session, rng: random.Random) -> list[User]:
    wards = [Ward(id=n, name=f"Ward {n}") for n in (1, 2, 3)]
    session.add_all(wards)
    users = []
    for n in range(8):
        role = CLINICAL[n % 3] if n < 7 else "administrator"
        user = User(id=str(uuid.UUID(int=rng.getrandbits(128))), username=f"user{n}", role=role,
                    must_change_password=False, created_at=NOW)
        users.append(user)
    session.add_all(users)
    session.flush()
    for user in users:
        for ward in rng.sample(wards, rng.randint(0, 2)):
            session.add(UserWard(user_id=user.id, ward_id=ward.id))
    clinical = [u for u in users if u.role in CLINICAL]
    for n in range(40):
        incident = Incident(id=f"i{n:03d}", reference=f"R{n}", ward_id=rng.choice(wards).id,
                            reporter_id=rng.choice(clinical).id, status=rng.choice(["draft", "submitted", "closed"]),
                            restricted=rng.random() < 0.3, created_at=NOW, updated_at=NOW)
        session.add(incident)
        session.flush()
        session.add(IncidentType(incident_id=incident.id, code="SS-EXPOSURE"))
        session.add(SafeguardingAction(incident_id=incident.id, title="Check", owner_role="ward_manager",
                                       due_at=NOW, created_at=NOW))
        named = rng.choice(clinical) if rng.random() < 0.25 else None
        session.add(PersonInvolved(incident_id=incident.id, role="alleged_perpetrator", person_type="staff",
                                   linked_user_id=named.id if named else None))
    session.flush()
    return users


def _expected(session: Session, user: User) -> set[str]:
    wards = tuple(session.scalars(select(UserWard.ward_id).where(UserWard.user_id == user.id)))
    actor = Actor(user.id, user.username, user.role, wards, "test")
    return set(session.scalars(select(Incident.id).where(visible_incidents(session, actor, ward_only=False))))


@pytest.mark.parametrize("seed", range(3))
def test_each_account_reads_on_the_server_exactly_what_the_app_shows(pg_server, pg_database, pg_engine, seed):
    migrate.upgrade(pg_engine)
    rng = random.Random(seed)
    password = f"throwaway {seed} {uuid.uuid4().hex}"  # synthetic, for this test's own server only
    with Session(pg_engine, expire_on_commit=False) as session:
        users = _random_store(session, rng)
        expected = {u.id: _expected(session, u) for u in users if u.role in CLINICAL}
        session.commit()
    for user in users:
        _make_login(pg_server, pg_database, user, password)
    saw_something = 0
    for user in users:
        with _login(pg_server, pg_database, user.id, password) as conn:
            if user.role == "administrator":
                for table in ("incidents", *CHILD_TABLES, "incident_versions", "form_drafts"):
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        conn.execute(f"SELECT count(*) FROM {table}")
                    conn.rollback()
                continue
            seen = {row[0] for row in conn.execute("SELECT id FROM incidents")}
            assert seen == expected[user.id], user.role
            for table in CHILD_TABLES:
                assert {row[0] for row in conn.execute(f"SELECT incident_id FROM {table}")} == seen, table
            saw_something += bool(seen)
    assert saw_something >= 3  # the random store is not trivially empty for everyone


def test_a_named_lead_inactive_or_pending_account_reads_nothing_of_it(pg_server, pg_database, pg_engine):
    migrate.upgrade(pg_engine)
    password = f"throwaway {uuid.uuid4().hex}"
    with Session(pg_engine, expire_on_commit=False) as session:
        session.add(Ward(id=1, name="Oak Ward"))
        lead = User(id=str(uuid.uuid4()), username="lead", role="safeguarding_lead", must_change_password=False,
                    created_at=NOW)
        nurse = User(id=str(uuid.uuid4()), username="nurse", role="nurse", must_change_password=False,
                     created_at=NOW)
        session.add_all([lead, nurse])
        session.flush()
        session.add(UserWard(user_id=nurse.id, ward_id=1))
        for n, named in enumerate((lead, None)):
            session.add(Incident(id=f"i{n}", reference=f"R{n}", ward_id=1, reporter_id=nurse.id, status="submitted",
                                 restricted=named is not None, created_at=NOW, updated_at=NOW))
            session.flush()
            session.add(PersonInvolved(incident_id=f"i{n}", role="alleged_perpetrator", person_type="staff",
                                       linked_user_id=named.id if named else None))
        session.commit()
    for user in (lead, nurse):
        _make_login(pg_server, pg_database, user, password)
    with _login(pg_server, pg_database, lead.id, password) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM incidents")] == ["i1"]  # never the one naming the lead
    with pg_server.admin(pg_database) as conn:
        conn.execute("UPDATE users SET access_pending = true WHERE username = 'nurse'")
    with _login(pg_server, pg_database, nurse.id, password) as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0
    with pg_server.admin(pg_database) as conn:
        conn.execute("UPDATE users SET access_pending = false, active = false WHERE username = 'nurse'")
    with _login(pg_server, pg_database, nurse.id, password) as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0


def test_no_account_can_change_the_policies_or_turn_them_off(pg_server, pg_database, pg_engine):
    migrate.upgrade(pg_engine)
    password = f"throwaway {uuid.uuid4().hex}"
    with Session(pg_engine, expire_on_commit=False) as session:
        lead = User(id=str(uuid.uuid4()), username="lead", role="safeguarding_lead", must_change_password=False,
                    created_at=NOW)
        session.add(lead)
        session.commit()
    _make_login(pg_server, pg_database, lead, password)
    with _login(pg_server, pg_database, lead.id, password) as conn:
        for statement in ("ALTER TABLE incidents DISABLE ROW LEVEL SECURITY", "DROP POLICY incidents_read ON incidents",
                          "UPDATE users SET role = 'administrator'", "CREATE TABLE leak (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
