"""Accounts on the server, through the narrow functions of migration 0015, from plain connections (issue 16
item 2): separation of duties holds in the database, a password only ever reaches the server as a SCRAM
verifier, and a switched-off account cannot sign in."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy.orm import Session

from core.db import migrate
from core.db.models import Incident, User, Ward
from core.db.server import login_role

NOW = "2026-11-30T08:00:00+00:00"


class Server:
    """The test's view of one Lantern database: the owner's connection and plain sign-ins."""

    def __init__(self, pg_server, database):
        self.pg, self.database = pg_server, database

    def verifier(self, username: str, password: str) -> str:
        with self.pg.admin(self.database) as conn:
            return conn.pgconn.encrypt_password(password.encode(), login_role(self.database, username).encode(),
                                                b"scram-sha-256").decode()

    def sign_in(self, username: str, password: str):
        return psycopg.connect(host="127.0.0.1", port=self.pg.port, user=login_role(self.database, username),
                               password=password, dbname=self.database, autocommit=True)


@pytest.fixture
def server(pg_server, pg_database, pg_engine):
    """A server store set up as `server init` will: an organisation, a ward, one incident and a first administrator
    whose login the schema owner made. Returns the helper and the users by name."""
    migrate.upgrade(pg_engine)
    with Session(pg_engine, expire_on_commit=False) as session:
        session.add(Ward(id=1, name="Oak Ward"))
        admin = User(id=str(uuid.uuid4()), username="admin", role="administrator", must_change_password=False,
                     created_at=NOW)
        session.add(admin)
        session.flush()
        session.add(Incident(id="i1", reference="R1", ward_id=1, reporter_id=admin.id, status="submitted",
                             created_at=NOW, updated_at=NOW))
        session.commit()
    srv = Server(pg_server, pg_database)
    with pg_server.admin(pg_database) as conn:
        conn.execute("SELECT lantern_give_login(u, %s) FROM users u WHERE username = 'admin'",
                     (srv.verifier("admin", "admin pass 1"),))
    return srv


def _ask(conn, username: str, role: str, ward: int = 1) -> int:
    """The administrator creates an account and asks for its access (as core/services/accounts.py does)."""
    user_id = str(uuid.uuid4())
    admin_id = conn.execute("SELECT id FROM users WHERE username = 'admin'").fetchone()[0]
    conn.execute("INSERT INTO users (id, username, display_name, role, must_change_password, active, created_at, "
                 "access_pending) VALUES (%s, %s, '', %s, true, true, %s, true)", (user_id, username, role, NOW))
    conn.execute("INSERT INTO user_wards (user_id, ward_id) VALUES (%s, %s)", (user_id, ward))
    return conn.execute("INSERT INTO access_requests (user_id, requested_by, kind, role, created_at, status) "
                        "VALUES (%s, %s, 'grant_role', %s, %s, 'pending') RETURNING id",
                        (user_id, admin_id, role, NOW)).fetchone()[0]


def test_separation_of_duties_holds_in_the_database(server):
    with server.sign_in("admin", "admin pass 1") as admin:
        lead_request = _ask(admin, "lead", "safeguarding_lead")
        nurse_request = _ask(admin, "nurse", "nurse")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the administrator cannot approve
            admin.execute("SELECT lantern_decide_request(%s, true, %s)",
                          (nurse_request, server.verifier("nurse", "known to the admin")))
        nurse_id = admin.execute("SELECT id FROM users WHERE username = 'nurse'").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor give it a login as if an administrator
            admin.execute("SELECT lantern_set_admin_login(%s, %s)",
                          (nurse_id, server.verifier("nurse", "known to the admin")))
    # While there is no lead, the schema owner approves the first one (the recovery key holder's part).
    with server.pg.admin(server.database) as owner:
        owner.execute("SELECT lantern_decide_request(%s, true, %s)",
                      (lead_request, server.verifier("lead", "temporary one")))
    with server.sign_in("lead", "temporary one") as lead:
        assert lead.execute("SELECT count(*) FROM incidents").fetchone()[0] == 0  # temporary password: nothing
        lead.execute("SELECT lantern_set_my_password(%s)", (server.verifier("lead", "the lead's own 2"),))
    with pytest.raises(psycopg.OperationalError):
        server.sign_in("lead", "temporary one")
    with server.sign_in("lead", "the lead's own 2") as lead:
        assert lead.execute("SELECT count(*) FROM incidents").fetchone()[0] == 1
        lead.execute("SELECT lantern_decide_request(%s, true, %s)",
                     (nurse_request, server.verifier("nurse", "nurse temporary")))
    with server.pg.admin(server.database) as owner, server.sign_in("admin", "admin pass 1") as admin:
        again = _ask(admin, "nurse2", "nurse")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # now that there is a lead, only a lead decides
            owner.execute("SELECT lantern_decide_request(%s, true, %s)", (again, server.verifier("nurse2", "x y z")))
    with server.sign_in("nurse", "nurse temporary") as nurse:
        groups = nurse.execute("SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                               "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = session_user)").fetchall()
        assert groups == [("lantern_nurse",)]


def test_nobody_decides_their_own_request_and_refusal_switches_a_new_account_off(server):
    with server.sign_in("admin", "admin pass 1") as admin:
        first = _ask(admin, "lead", "safeguarding_lead")
        second = _ask(admin, "lead2", "safeguarding_lead")
    with server.pg.admin(server.database) as owner:
        owner.execute("SELECT lantern_decide_request(%s, true, %s)", (first, server.verifier("lead", "temp 1")))
    with server.sign_in("lead", "temp 1") as lead:
        lead.execute("SELECT lantern_set_my_password(%s)", (server.verifier("lead", "own pass 1"),))
    with server.sign_in("lead", "own pass 1") as lead:
        lead.execute("SELECT lantern_decide_request(%s, false, NULL)", (second,))
        with pytest.raises(psycopg.errors.NoDataFound):  # decided already
            lead.execute("SELECT lantern_decide_request(%s, true, %s)", (second, server.verifier("lead2", "x")))
    with server.pg.admin(server.database) as owner:  # refused: the new account is switched off
        assert owner.execute("SELECT active, access_pending FROM users WHERE username = 'lead2'").fetchone() == \
            (False, False)
        request = owner.execute("INSERT INTO access_requests (user_id, requested_by, kind, role, created_at, status) "
                                "SELECT id, id, 'reset_password', role, %s, 'pending' FROM users "
                                "WHERE username = 'lead' RETURNING id", (NOW,)).fetchone()[0]
    with server.sign_in("lead", "own pass 1") as lead:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            lead.execute("SELECT lantern_decide_request(%s, true, %s)", (request, server.verifier("lead", "mine")))


def test_a_password_reaches_the_server_only_as_a_verifier(server):
    with server.sign_in("admin", "admin pass 1") as admin:
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            admin.execute("SELECT lantern_set_my_password('plain text password')")
        admin.execute("SELECT lantern_set_my_password(%s)", (server.verifier("admin", "admin pass 2"),))
    server.sign_in("admin", "admin pass 2").close()


def test_an_account_switched_off_cannot_sign_in(server):
    with server.sign_in("admin", "admin pass 1") as admin:
        admin_id = admin.execute("SELECT id FROM users WHERE username = 'admin'").fetchone()[0]
        admin.execute("INSERT INTO users (id, username, display_name, role, must_change_password, active, "
                      "created_at, access_pending) VALUES (%s, 'admin2', '', 'administrator', true, true, %s, false)",
                      (str(uuid.uuid4()), NOW))
        second = admin.execute("SELECT id FROM users WHERE username = 'admin2'").fetchone()[0]
        admin.execute("SELECT lantern_set_admin_login(%s, %s)", (second, server.verifier("admin2", "second pass")))
    with server.sign_in("admin2", "second pass") as other:
        other.execute("SELECT lantern_switch_off(%s)", (admin_id,))
    with pytest.raises(psycopg.OperationalError):
        server.sign_in("admin", "admin pass 1")


def test_lowering_a_role_takes_effect_at_once_and_nothing_is_raised_without_the_lead(server):
    """Migration 0023: the administrator lowers a role in the database at once (record and group together);
    the same function refuses any raise, so widening what an account reads still waits for a lead."""
    with server.sign_in("admin", "admin pass 1") as admin:
        request = _ask(admin, "sam", "ward_manager")
    with server.pg.admin(server.database) as owner:
        owner.execute("SELECT lantern_decide_request(%s, true, %s)", (request, server.verifier("sam", "temp 1")))
        sam_id = owner.execute("SELECT id FROM users WHERE username = 'sam'").fetchone()[0]
    with server.sign_in("sam", "temp 1") as sam:
        sam.execute("SELECT lantern_set_my_password(%s)", (server.verifier("sam", "own pass 1"),))
    with server.sign_in("sam", "own pass 1") as sam, server.sign_in("admin", "admin pass 1") as admin:
        for role in ("safeguarding_lead", "ward_manager", "superuser"):  # a raise, no change, no such role
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                admin.execute("SELECT lantern_lower_role(%s, %s)", (sam_id, role))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # only an administrator lowers
            sam.execute("SELECT lantern_lower_role(%s, 'nurse')", (sam_id,))
        admin.execute("SELECT lantern_lower_role(%s, 'nurse')", (sam_id,))
        groups = sam.execute("SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                             "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = session_user)").fetchall()
        assert groups == [("lantern_nurse",)]  # on the connection already open, from its next statement
        assert sam.execute("SELECT role FROM users WHERE id = %s", (sam_id,)).fetchone() == ("nurse",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # and back up only through a lead
            admin.execute("SELECT lantern_lower_role(%s, 'ward_manager')", (sam_id,))
