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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import migrate
from core.db.models import Incident, IncidentType, PersonInvolved, SafeguardingAction, User, UserWard, Ward
from core.db.server import login_role
from core.dto import Actor
from core.services.visibility import visible_incidents

NOW = "2026-11-30T08:00:00+00:00"
CLINICAL = ("nurse", "ward_manager", "safeguarding_lead")
CHILD_TABLES = ("people_involved", "incident_types", "safeguarding_actions")


def _login(server, database: str, user: User, password: str):
    return psycopg.connect(host="127.0.0.1", port=server.port, user=login_role(database, user.username), password=password,
                           dbname=database)


def _make_login(server, database: str, user: User, password: str) -> None:
    """As the schema owner (account management through narrow functions is not built yet)."""
    from psycopg import sql

    role = sql.Identifier(login_role(database, user.username))
    with server.admin(database) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            role, sql.Literal(password), sql.Identifier(f"lantern_{user.role}")))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role))


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
        with _login(pg_server, pg_database, user, password) as conn:
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
    with _login(pg_server, pg_database, lead, password) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM incidents")] == ["i1"]  # never the one naming the lead
    with pg_server.admin(pg_database) as conn:
        conn.execute("UPDATE users SET access_pending = true WHERE username = 'nurse'")
    with _login(pg_server, pg_database, nurse, password) as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0
    with pg_server.admin(pg_database) as conn:
        conn.execute("UPDATE users SET access_pending = false, active = false WHERE username = 'nurse'")
    with _login(pg_server, pg_database, nurse, password) as conn:
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
    with _login(pg_server, pg_database, lead, password) as conn:
        for statement in ("ALTER TABLE incidents DISABLE ROW LEVEL SECURITY", "DROP POLICY incidents_read ON incidents",
                          "UPDATE users SET role = 'administrator'", "CREATE TABLE leak (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()


def _two_ward_store(pg_engine):
    """Oak (the nurse's) and Elm wards; a nurse, a ward manager of Elm and an administrator; one submitted
    incident on each ward, reported by the manager."""
    migrate.upgrade(pg_engine)
    with Session(pg_engine, expire_on_commit=False) as session:
        session.add_all([Ward(id=1, name="Oak Ward"), Ward(id=2, name="Elm Ward")])
        people = {role: User(id=str(uuid.uuid4()), username=role, role=role, must_change_password=False,
                             created_at=NOW) for role in ("nurse", "ward_manager", "administrator")}
        session.add_all(people.values())
        session.flush()
        session.add_all([UserWard(user_id=people["nurse"].id, ward_id=1),
                         UserWard(user_id=people["ward_manager"].id, ward_id=2)])
        for n, ward in ((1, 1), (2, 2)):
            session.add(Incident(id=f"i{n}", reference=f"R{n}", ward_id=ward, reporter_id=people["ward_manager"].id,
                                 status="submitted", created_at=NOW, updated_at=NOW))
        session.commit()
    return people


def _insert_incident(conn, incident_id: str, reporter: str, ward: int = 1) -> None:
    conn.execute("INSERT INTO incidents (id, reference, ward_id, reporter_id, status, occurred_precision, "
                 "description, immediate_actions, flags, restricted, harm_confirmation_needed, type_codes, "
                 "police_referred, feedback_note, version, created_at, updated_at) VALUES (%s, %s, %s, %s, 'draft', "
                 "'exact', '', '', '[]', false, false, '', false, '', 1, %s, %s)",
                 (incident_id, "R-" + incident_id, ward, reporter, NOW, NOW))


def test_an_account_writes_only_what_it_may_read(pg_server, pg_database, pg_engine):
    people = _two_ward_store(pg_engine)
    password = f"throwaway {uuid.uuid4().hex}"
    for user in people.values():
        _make_login(pg_server, pg_database, user, password)
    nurse, manager = people["nurse"], people["ward_manager"]
    with _login(pg_server, pg_database, nurse, password) as conn:
        _insert_incident(conn, "mine", nurse.id)  # her own draft, with its people and types
        conn.execute("INSERT INTO incident_types (incident_id, code) VALUES ('mine', 'SS-EXPOSURE')")
        conn.execute("INSERT INTO people_involved (incident_id, position, role, person_type, local_ref) "
                     "VALUES ('mine', 0, 'affected', 'patient', '')")
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # row-level security refuses the new row
            _insert_incident(conn, "forged", manager.id)
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # a person added to an Elm incident
            conn.execute("INSERT INTO people_involved (incident_id, position, role, person_type, local_ref) "
                         "VALUES ('i2', 0, 'witness', 'patient', '')")
        conn.rollback()
        # Rows she may not read are not there for her to change or delete.
        assert conn.execute("UPDATE incidents SET description = 'x' WHERE id = 'i2'").rowcount == 0
        assert conn.execute("DELETE FROM incidents WHERE id IN ('i1', 'i2')").rowcount == 0  # submitted: kept
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor move one of hers to a ward not hers
            conn.execute("UPDATE incidents SET ward_id = 2, status = 'submitted' WHERE id = 'mine'")
        conn.rollback()
    with _login(pg_server, pg_database, manager, password) as conn:  # her draft is hers alone
        assert conn.execute("SELECT count(*) FROM people_involved WHERE incident_id = 'mine'").fetchone()[0] == 0
    with _login(pg_server, pg_database, people["administrator"], password) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _insert_incident(conn, "by-admin", people["administrator"].id)


def test_editing_users_role_gives_no_one_more_than_their_group(pg_server, pg_database, pg_engine):
    """Separation of duties on the server: an administrator may edit account rows, but what an account reads
    comes from its group role, which only the schema owner changes. A nurse relabelled as the safeguarding
    lead reads nothing (the row and the group disagree), not every ward."""
    people = _two_ward_store(pg_engine)
    password = f"throwaway {uuid.uuid4().hex}"
    for user in people.values():
        _make_login(pg_server, pg_database, user, password)
    with _login(pg_server, pg_database, people["nurse"], password) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM incidents")] == ["i1"]
    with _login(pg_server, pg_database, people["administrator"], password) as conn:
        conn.execute("UPDATE users SET role = 'safeguarding_lead' WHERE username = 'nurse'")
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"GRANT lantern_safeguarding_lead TO {login_role(pg_database, 'nurse')}")
    with _login(pg_server, pg_database, people["nurse"], password) as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=st.text(min_size=1, max_size=64).filter(lambda s: "\x00" not in s))
def test_the_app_and_the_server_name_login_roles_alike(pg_engine, username):
    migrate.upgrade(pg_engine)  # once: later examples find the schema at head
    with pg_engine.connect() as conn:
        on_server = conn.execute(select(func.lantern_login_role(username))).scalar()
    assert on_server == login_role(pg_engine.url.database, username)
