"""The database enforces who reads and writes incidents (issue 16 item 2): group roles and row-level security on
PostgreSQL. This revision does nothing on SQLite.

The embedded SQLCipher store has no database roles (every account unwraps the same key, so the core services
make the role checks; docs/security-model.md). On a trust's PostgreSQL server each Lantern account is a login
role named from the database and its (normalised) username: `lantern_` and the first 32 hex digits of the SHA-256
of `<database>/<username>` (`core.db.server.login_role`, and `lantern_login_role` below), since login roles
belong to the whole server and two Lantern databases on one server (live and training) may share a username. It
is a member of exactly one group role:

- `lantern_nurse`, `lantern_ward_manager`, `lantern_safeguarding_lead`: the clinical roles;
- `lantern_administrator`: accounts and wards only, with no privilege at all on any incident content table.

An account's role is its group membership, which only the schema owner can change (so an administrator who edits
`users.role` gives nobody more access); it must also match `users.role`, and the account must be active, approved
and past its temporary password. The rule for reading, as in core/services/visibility.py: a submitted incident
of the account's wards (the lead: every ward), a restricted one only as a ward manager or the lead, its own
reports at any status, and never an incident in which it is named (a person involved linked to its account).
Child rows (people, types, actions, versions, export marks) follow their incident, for reading and writing;
an incident is written only by someone who may read it, on one of their wards (the lead: any), and a new one
only as its own reporter; drafts are their author's. The look-ups the policies make run as the schema owner (SECURITY DEFINER, fixed search_path),
so a policy never reads through another policy. tests/pg/test_pg_policies.py proves all of it from plain
connections, against the app's own predicate on random stores.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

GROUPS = ("lantern_nurse", "lantern_ward_manager", "lantern_safeguarding_lead", "lantern_administrator")
CLINICAL = ", ".join(GROUPS[:3])
EVERYONE = ", ".join(GROUPS)
ADMIN = GROUPS[3]
# Incident content below the incident itself, each naming its incident.
CHILDREN = ("people_involved", "incident_types", "safeguarding_actions", "incident_versions", "export_latest")
FUNCTIONS = {
    "lantern_login_role(varchar)": """
    CREATE FUNCTION lantern_login_role(username varchar) RETURNS name LANGUAGE sql STABLE AS
    $$ SELECT ('lantern_' || left(encode(sha256(convert_to(current_database() || '/' || username, 'UTF8')), 'hex'),
                                  32))::name $$""",
    # The Lantern account behind this connection and its role, if it may read anything at all.
    "lantern_me()": """
    CREATE FUNCTION lantern_me() RETURNS TABLE (id varchar, role varchar) LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS
    $$ SELECT u.id, u.role FROM users u
       WHERE lantern_login_role(u.username) = session_user AND u.active AND NOT u.access_pending
         AND NOT u.must_change_password
         AND pg_has_role(session_user, 'lantern_' || u.role, 'MEMBER')
         AND u.role IN ('nurse', 'ward_manager', 'safeguarding_lead') $$""",
    "lantern_my_id()": """
    CREATE FUNCTION lantern_my_id() RETURNS varchar LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
    $$ SELECT id FROM lantern_me() $$""",
    "lantern_may_read_row(varchar, integer, varchar, boolean, varchar)": """
    CREATE FUNCTION lantern_may_read_row(incident varchar, ward integer, status varchar, restricted boolean,
                                         reporter varchar) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
    $$ SELECT EXISTS (
         SELECT 1 FROM lantern_me() me
         WHERE ((status <> 'draft'
                 AND (me.role = 'safeguarding_lead'
                      OR ward IN (SELECT ward_id FROM user_wards WHERE user_id = me.id))
                 AND (NOT restricted OR me.role IN ('ward_manager', 'safeguarding_lead')))
                OR reporter = me.id)
           AND NOT EXISTS (SELECT 1 FROM people_involved p WHERE p.incident_id = incident
                           AND p.linked_user_id = me.id)) $$""",
    # Whether a ward is one this account may report on (core.security.permissions.require_ward).
    "lantern_my_ward(integer)": """
    CREATE FUNCTION lantern_my_ward(ward integer) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS
    $$ SELECT EXISTS (SELECT 1 FROM lantern_me() me WHERE me.role = 'safeguarding_lead'
                      OR ward IN (SELECT ward_id FROM user_wards WHERE user_id = me.id)) $$""",
    "lantern_may_read(varchar)": """
    CREATE FUNCTION lantern_may_read(incident varchar) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS
    $$ SELECT EXISTS (SELECT 1 FROM incidents i WHERE i.id = incident
                      AND lantern_may_read_row(i.id, i.ward_id, i.status, i.restricted, i.reporter_id)) $$""",
}
ROW = "lantern_may_read_row(id, ward_id, status, restricted, reporter_id)"
STATEMENTS = (
    "REVOKE ALL ON SCHEMA public FROM PUBLIC",
    f"GRANT USAGE ON SCHEMA public TO {EVERYONE}",
    # What every account's screens need: names of wards and colleagues, its own account, the settings.
    f"GRANT SELECT ON organisation, wards, users, user_wards, settings, access_requests TO {EVERYONE}",
    f"GRANT INSERT, UPDATE ON users, wards, settings, access_requests TO {ADMIN}",
    f"GRANT INSERT, UPDATE, DELETE ON user_wards TO {ADMIN}",
    # The audit trail: every account adds to it; nobody changes it (0001's triggers); the lead and the
    # administrator read it (the view log, the sign-in history).
    f"GRANT INSERT ON audit_events TO {EVERYONE}",
    f"GRANT SELECT ON audit_events TO lantern_safeguarding_lead, {ADMIN}",
    f"GRANT SELECT, INSERT, UPDATE ON audit_head TO {EVERYONE}",
    f"GRANT SELECT, INSERT, UPDATE ON reference_counters TO {CLINICAL}",
    f"GRANT SELECT, INSERT ON export_batches TO {CLINICAL}",
    "ALTER TABLE incidents ENABLE ROW LEVEL SECURITY",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON incidents TO {CLINICAL}",
    f"CREATE POLICY incidents_read ON incidents FOR SELECT TO {CLINICAL} USING ({ROW})",
    f"CREATE POLICY incidents_add ON incidents FOR INSERT TO {CLINICAL} "
    f"WITH CHECK (reporter_id = lantern_my_id() AND lantern_my_ward(ward_id) AND {ROW})",
    f"CREATE POLICY incidents_change ON incidents FOR UPDATE TO {CLINICAL} USING ({ROW}) "
    f"WITH CHECK (lantern_my_ward(ward_id) AND {ROW})",
    f"CREATE POLICY incidents_discard ON incidents FOR DELETE TO {CLINICAL} "
    "USING (status = 'draft' AND reporter_id = lantern_my_id())",
    *(statement for table in CHILDREN for statement in (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {CLINICAL}",
        f"CREATE POLICY {table}_follow ON {table} FOR ALL TO {CLINICAL} "
        "USING (lantern_may_read(incident_id)) WITH CHECK (lantern_may_read(incident_id))")),
    "ALTER TABLE form_drafts ENABLE ROW LEVEL SECURITY",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON form_drafts TO {CLINICAL}",
    f"CREATE POLICY form_drafts_own ON form_drafts FOR ALL TO {CLINICAL} "
    "USING (user_id = lantern_my_id()) WITH CHECK (user_id = lantern_my_id())",
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    for group in GROUPS:  # group roles belong to the whole server: made once, shared by its Lantern databases
        op.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') THEN "
                   f"CREATE ROLE {group} NOLOGIN; END IF; END $$")
    for signature, statement in FUNCTIONS.items():
        op.execute(statement)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {EVERYONE}")
    for statement in STATEMENTS:
        op.execute(statement)
    # Sequences behind the integer keys that accounts insert into.
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {EVERYONE}")


def downgrade() -> None:
    if not _postgresql():
        return
    for table in ("incidents", *CHILDREN, "form_drafts"):
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        for policy in ("read", "add", "change", "discard", "follow", "own"):
            op.execute(f"DROP POLICY IF EXISTS {table}_{policy} ON {table}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {EVERYONE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {EVERYONE}")
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {EVERYONE}")
    op.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
    # The group roles stay: other Lantern databases on the same server may use them.
