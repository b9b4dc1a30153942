"""The database enforces who reads incidents (issue 16 item 2): group roles and row-level security on PostgreSQL.

The embedded SQLCipher store has no database roles (every account unwraps the same key, so the core services
make the role checks; docs/security-model.md). On a trust's PostgreSQL server each Lantern account is a login
role named `lantern_u_<user id without dashes>`, member of one group role:

- `lantern_nurse`, `lantern_ward_manager`, `lantern_safeguarding_lead`: the clinical roles. Row-level security on
  every incident content table gives each exactly what core/services/visibility.py gives it, so a plain
  database connection with the account's own password reads no more than the app shows.
- `lantern_administrator`: accounts and wards only. It has no SELECT on any incident content table at all.

The rule, as in core/services/visibility.py: an account that is active, approved and past its temporary password
reads a submitted incident of its wards (the lead: every ward), a restricted one only as a ward manager or the
lead, its own reports at any status, and never an incident in which it is named (a person involved linked to
its account). Child rows (people, types, actions, versions) follow their incident; drafts are their author's.
The look-ups the policies make run as the schema owner (SECURITY DEFINER, fixed search_path), so a policy never
reads through another policy. tests/pg/test_pg_policies.py proves the rule from plain connections, against the
app's own predicate on random stores.

This revision does nothing on SQLite.

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
CLINICAL = GROUPS[:3]
# Incident content, each with the column that names its incident.
CONTENT = {"incidents": "id", "people_involved": "incident_id", "incident_types": "incident_id",
           "safeguarding_actions": "incident_id", "incident_versions": "incident_id", "export_latest": "incident_id"}
# Not content: what every account's screens need (names of wards and colleagues, its own account).
SHARED = ("organisation", "wards", "users", "user_wards", "settings")

FUNCTIONS = (
    # The Lantern account behind this connection, if it may read anything at all.
    """CREATE FUNCTION lantern_me() RETURNS varchar LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS
    $$ SELECT id FROM users WHERE 'lantern_u_' || replace(id, '-', '') = session_user
       AND active AND NOT access_pending AND NOT must_change_password $$""",
    """CREATE FUNCTION lantern_may_read(incident varchar) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public AS
    $$ SELECT EXISTS (
         SELECT 1 FROM incidents i JOIN users u ON u.id = lantern_me()
         WHERE i.id = incident
           AND u.role IN ('nurse', 'ward_manager', 'safeguarding_lead')
           AND ((i.status <> 'draft'
                 AND (u.role = 'safeguarding_lead'
                      OR i.ward_id IN (SELECT ward_id FROM user_wards WHERE user_id = u.id))
                 AND (NOT i.restricted OR u.role IN ('ward_manager', 'safeguarding_lead')))
                OR i.reporter_id = u.id)
           AND NOT EXISTS (SELECT 1 FROM people_involved p WHERE p.incident_id = i.id
                           AND p.linked_user_id = u.id)) $$""",
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    for group in GROUPS:  # group roles belong to the whole server: made once, shared by its Lantern databases
        op.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') THEN "
                   f"CREATE ROLE {group} NOLOGIN; END IF; END $$")
    op.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {', '.join(GROUPS)}")
    for statement in FUNCTIONS:
        op.execute(statement)
    for name in ("lantern_me()", "lantern_may_read(varchar)"):
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {name} TO {', '.join(CLINICAL)}")
    for table in SHARED:
        op.execute(f"GRANT SELECT ON {table} TO {', '.join(GROUPS)}")
    for table, column in CONTENT.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"GRANT SELECT ON {table} TO {', '.join(CLINICAL)}")
        op.execute(f"CREATE POLICY {table}_read ON {table} FOR SELECT TO {', '.join(CLINICAL)} "
                   f"USING (lantern_may_read({column}))")
    op.execute("ALTER TABLE form_drafts ENABLE ROW LEVEL SECURITY")
    op.execute(f"GRANT SELECT ON form_drafts TO {', '.join(CLINICAL)}")
    op.execute(f"CREATE POLICY form_drafts_own ON form_drafts FOR SELECT TO {', '.join(CLINICAL)} "
               "USING (user_id = lantern_me())")


def downgrade() -> None:
    if not _postgresql():
        return
    for table in (*CONTENT, "form_drafts"):
        op.execute(f"DROP POLICY IF EXISTS {table}_read ON {table}")
        op.execute(f"DROP POLICY IF EXISTS {table}_own ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {', '.join(GROUPS)}")
    for table in SHARED:
        op.execute(f"REVOKE ALL ON {table} FROM {', '.join(GROUPS)}")
    op.execute("DROP FUNCTION IF EXISTS lantern_may_read(varchar)")
    op.execute("DROP FUNCTION IF EXISTS lantern_me()")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {', '.join(GROUPS)}")
    # The group roles stay: other Lantern databases on the same server may use them.
