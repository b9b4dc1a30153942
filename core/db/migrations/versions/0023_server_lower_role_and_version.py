"""On a server, lowering an account's role takes effect at once, as on a PC's store; every account may read the
schema's revision (issue 16).

Lowering fails safe: an administrator who moves a ward manager back to nurse (or any content role down, or to
administrator, which reads no content) must not leave the wider access in place while a safeguarding lead is
away. Until now a server made every change of a content role a request for the lead, lowering included, because
only the lead's approval (`lantern_decide_request`) moves a login between group roles. `lantern_lower_role`
does only the lowering, for an active administrator, and refuses anything that would widen what the account
reads (raising still waits for the lead, docs/security-model.md).

`alembic_version` is readable by the four group roles, so the app on any account can say which schema revision
the server holds (the diagnostic report; an older app against a newer schema).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

GROUPS = "lantern_nurse, lantern_ward_manager, lantern_safeguarding_lead, lantern_administrator"
LOWER = """
CREATE FUNCTION lantern_lower_role(target_id varchar, new_role varchar) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS
$$ DECLARE me users := lantern_caller(); target users;
   rank jsonb := '{"administrator": 0, "nurse": 1, "ward_manager": 2, "safeguarding_lead": 3}';
BEGIN
  IF me.id IS NULL OR me.role <> 'administrator' OR NOT me.active
     OR NOT pg_has_role(session_user, 'lantern_administrator', 'MEMBER') THEN
    RAISE EXCEPTION 'only an active administrator changes a role' USING ERRCODE = '42501';
  END IF;
  SELECT * INTO target FROM users WHERE id = target_id FOR UPDATE;
  IF NOT FOUND OR target.id = me.id OR NOT rank ? new_role OR target.role = 'administrator'
     OR (rank ->> new_role)::int >= (rank ->> target.role)::int THEN
    RAISE EXCEPTION 'only a lower role is given at once: a higher one waits for a safeguarding lead'
      USING ERRCODE = '42501';
  END IF;
  UPDATE users SET role = new_role WHERE id = target.id;
  IF target.login_role IS NOT NULL AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = target.login_role) THEN
    EXECUTE format('REVOKE %I FROM %I', 'lantern_' || target.role, target.login_role);
    EXECUTE format('GRANT %I TO %I', 'lantern_' || new_role, target.login_role);
  END IF;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(LOWER)
    op.execute("REVOKE ALL ON FUNCTION lantern_lower_role(varchar, varchar) FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION lantern_lower_role(varchar, varchar) TO lantern_administrator")
    op.execute(f"GRANT SELECT ON alembic_version TO {GROUPS}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"REVOKE SELECT ON alembic_version FROM {GROUPS}")
    op.execute("DROP FUNCTION IF EXISTS lantern_lower_role(varchar, varchar)")
