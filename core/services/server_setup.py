"""Setting up a trust's PostgreSQL server and signing in to it (core layer; issue 16 items 2 and 8).

`init_server` runs once, as a database role allowed to create roles (the schema owner from then on): the schema
and its policies (Alembic, migrations 0001-0015), the organisation, the wards and the first administrator, whose
login role it makes with a SCRAM verifier computed on this PC. `sign_in_server` signs an account in with its own
login role: the server checks the password, and row-level security decides what the connection reads and writes.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from core.clock import now_db
from core.db import audit, migrate
from core.db.models import AccessRequest, Organisation, User, Ward
from core.db.server import ServerStore, login_role, make_server_engine, open_server_store, scram_verifier
from core.db.store import unit_of_work, workstation_name
from core.dto import Actor
from core.errors import LanternError, NotFound, PermissionDenied, ServerUnreachable, ValidationError, WrongPassword
from core.security.passwords import temporary_password
from core.security.permissions import ADMINISTRATOR
from core.services.account_rows import actor_of, clean_new_store, may_sign_in

NOT_EMPTY = ("That database already holds tables. Lantern sets up only an empty database: create a new one "
             "(CREATE DATABASE) and name it in the address.")


def role_in(location: str) -> str:
    """The database role a server address names (postgresql://ROLE@HOST/DATABASE), for the commands run as the
    schema's owner; a plain message naming the address when it names none."""
    try:
        role = make_url(location.strip()).username
    except ArgumentError:
        role = None
    if not role:
        raise ValidationError({"url": "Name the database role in the address: postgresql://ROLE@HOST/DATABASE."})
    return role


def _owner_engine(location: str, owner: str, owner_password: str, ca_file: str):
    engine = make_server_engine(location, username=owner, password=owner_password, ca_file=ca_file)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar()
            may_create_roles = conn.execute(text("SELECT rolcreaterole OR rolsuper FROM pg_roles "
                                                 "WHERE rolname = current_user")).scalar()
    except sa_exc.DBAPIError as err:
        engine.dispose()
        state = getattr(err.orig, "sqlstate", None) or ""
        raise (WrongPassword() if state.startswith("28") else ServerUnreachable()) from None
    if tables:
        engine.dispose()
        raise ValidationError({"server": NOT_EMPTY})
    if not may_create_roles:
        engine.dispose()
        raise PermissionDenied("The database role in the address may not create roles, and Lantern makes one "
                               "login role per account. Use a role with CREATEROLE (not a superuser).")
    return engine


def init_server(location: str, *, owner: str, owner_password: str, ods_code: str, wards: list[str],
                admin_username: str, admin_password: str, ca_file: str = "") -> None:
    """Set up an empty database on the trust's server as a Lantern store (`lantern server init`)."""
    ods_code, names, admin_username = clean_new_store(ods_code, wards, admin_username, admin_password)
    engine = _owner_engine(location, owner, owner_password, ca_file)
    try:
        migrate.upgrade(engine)
        verifier = scram_verifier(engine, login_role(engine.url.database, admin_username), admin_password)
        with Session(engine) as session:
            store_id = str(uuid.uuid4())
            session.add(Organisation(id=1, store_id=store_id, ods_code=ods_code, name="", created_at=now_db()))
            session.add_all(Ward(name=n, sex_designation="mixed", service_type="adult_acute", active=True)
                            for n in names)
            admin = User(id=str(uuid.uuid4()), username=admin_username, display_name="", role=ADMINISTRATOR,
                         must_change_password=False, active=True, created_at=now_db())
            session.add(admin)
            session.flush()
            session.execute(text("SELECT lantern_give_login(u, :verifier) FROM users u WHERE u.id = :id"),
                            {"verifier": verifier, "id": admin.id})
            actor = actor_of(session, admin, workstation_name())
            audit.record(session, actor, "store.create", entity_type="store", entity_id=store_id,
                         detail={"ods_code": ods_code, "wards": len(names), "engine": "postgresql"})
            audit.record(session, actor, "user.create", entity_type="user", entity_id=admin.id,
                         detail={"role": ADMINISTRATOR})
            session.commit()
    except sa_exc.DBAPIError:
        raise LanternError("The server refused to set up the database. Nothing was kept; ask the database "
                           "administrator to check the server's log.") from None
    finally:
        engine.dispose()


def upgrade_server(location: str, *, owner: str, owner_password: str, ca_file: str = "") -> tuple[str, str]:
    """Bring a trust's Lantern schema up to this version's (`lantern server upgrade`, the schema's owner): every
    migration not yet applied, in one transaction, with no statement time limit (a migration may rewrite every
    incident). Returns the revisions (before, after). Refuses a database that holds no Lantern schema."""
    engine = make_server_engine(location, username=owner, password=owner_password, ca_file=ca_file,
                                statement_timeout_ms=0)
    try:
        try:
            before = migrate.current_revision(engine)
        except sa_exc.DBAPIError as err:
            state = getattr(err.orig, "sqlstate", None) or ""
            raise (WrongPassword() if state.startswith("28") else ServerUnreachable()) from None
        if before is None:
            raise ValidationError({"server": "This database holds no Lantern store: set it up with lantern server "
                                             "init."})
        try:
            migrate.upgrade(engine)
        except sa_exc.DBAPIError:
            raise LanternError("The server refused the upgrade. Nothing was changed; ask the database administrator "
                               "to check the server's log.") from None
        return before, migrate.current_revision(engine)
    finally:
        engine.dispose()


def sign_in_server(location: str, username: str, password: str, *, ca_file: str = "",
                   reason: str = "sign_in") -> tuple[ServerStore, Actor]:
    """Sign in to a server store with the account's own login role. The same WrongPassword for an unknown name
    and a wrong password; after a right password, the same words as on the embedded store for an account switched
    off or still waiting for approval. `reason` is what the trail records ("sign_in", or "unlock" after a lock).
    Without `ca_file`, the trust's CA named in this PC's machine-wide settings (core.paths.configured_server) is
    used."""
    if not ca_file:
        from core import paths

        configured = paths.configured_server()
        ca_file = configured[1] if configured else ""
    store = open_server_store(location, username, password, ca_file=ca_file)
    try:
        with unit_of_work(store) as session:
            user = session.scalar(select(User).where(User.username == store.username))
            may_sign_in(user)
            actor = actor_of(session, user, workstation_name())
            audit.record(session, actor, reason, entity_type="user", entity_id=user.id)
            session.commit()
    except LanternError:
        store.close()
        raise
    return store, actor


def approve_as_owner(location: str, *, owner: str, owner_password: str, request_id: int, ca_file: str = "") -> str:
    """The schema owner approves a request while there is no active safeguarding lead (the first lead): the
    server's counterpart of the recovery key holder (`lantern approve` on the embedded store). Returns the
    account's temporary password, shown once. The server refuses it once there is an active lead."""
    engine = make_server_engine(location, username=owner, password=owner_password, ca_file=ca_file)
    try:
        with Session(engine) as session:
            found = session.execute(select(User.id, User.username).join(AccessRequest, AccessRequest.user_id == User.id)
                                    .where(AccessRequest.id == request_id, AccessRequest.status == "pending")).first()
            if found is None:
                raise NotFound("That request is not waiting for approval: it may have been decided already.")
            user_id, username = found
            temp = temporary_password()
            verifier = scram_verifier(engine, login_role(engine.url.database, username), temp)
            try:
                session.execute(text("SELECT lantern_decide_request(:id, true, :verifier)"),
                                {"id": request_id, "verifier": verifier})
            except sa_exc.DBAPIError as err:
                if (getattr(err.orig, "sqlstate", None) or "") == "42501":
                    raise PermissionDenied("There is an active safeguarding lead: ask them to approve it in "
                                           "Lantern.") from None
                raise
            audit.record(session, None, "access.approve", entity_type="user", entity_id=user_id,
                         detail={"request": request_id}, username="server-owner", workstation=workstation_name())
            session.commit()
            return temp
    finally:
        engine.dispose()
