"""Each account's database login role kept on its row (issue 16; measured in docs/performance.md).

Row-level security asks "which account is this connection?" for every row it checks. Working that out from the
username (`lantern_login_role`, a SHA-256 per account row) cost a scan of every account each time: 13 ms per audit
row with 60 accounts, growing with the trust. On PostgreSQL a trigger now keeps `users.login_role` in step with
the username, and the look-ups (migrations 0013-0016's functions, redefined here) use its unique index. On
SQLite the column exists, stays empty and nothing reads it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

KEEP = """
CREATE FUNCTION users_login_role() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.login_role := lantern_login_role(NEW.username); RETURN NEW; END $$"""
ME = """
CREATE OR REPLACE FUNCTION lantern_me() RETURNS TABLE (id varchar, role varchar) LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = public AS
$$ SELECT u.id, u.role FROM users u
   WHERE u.login_role = session_user AND u.active AND NOT u.access_pending AND NOT u.must_change_password
     AND pg_has_role(session_user, 'lantern_' || u.role, 'MEMBER')
     AND u.role IN ('nurse', 'ward_manager', 'safeguarding_lead') $$"""
CALLER = """
CREATE OR REPLACE FUNCTION lantern_caller() RETURNS users LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS
$$ DECLARE found users;
BEGIN
  SELECT * INTO found FROM users WHERE login_role = session_user;
  RETURN found;
END $$"""


def upgrade() -> None:
    # Plain ADD COLUMN, never batch mode: other tables reference users with ON DELETE CASCADE (see env.py).
    op.add_column("users", sa.Column("login_role", sa.String(length=63), nullable=True))
    op.create_index("ix_users_login_role", "users", ["login_role"], unique=True)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(KEEP)
    op.execute("CREATE TRIGGER users_login_role BEFORE INSERT OR UPDATE OF username ON users "
               "FOR EACH ROW EXECUTE FUNCTION users_login_role()")
    op.execute("UPDATE users SET login_role = lantern_login_role(username)")
    op.execute(CALLER)
    op.execute(ME)
    chain = op.get_bind().execute(sa.text("SELECT pg_get_functiondef('audit_events_chain'::regproc)")).scalar()
    op.execute(chain.replace("WHERE lantern_login_role(u.username) = session_user", "WHERE u.login_role = session_user"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        chain = op.get_bind().execute(sa.text("SELECT pg_get_functiondef('audit_events_chain'::regproc)")).scalar()
        op.execute(chain.replace("WHERE u.login_role = session_user", "WHERE lantern_login_role(u.username) = session_user"))
        op.execute(ME.replace("u.login_role = session_user", "lantern_login_role(u.username) = session_user"))
        op.execute(CALLER.replace("login_role = session_user", "lantern_login_role(username) = session_user"))
        op.execute("DROP TRIGGER IF EXISTS users_login_role ON users")
        op.execute("DROP FUNCTION IF EXISTS users_login_role()")
    op.drop_index("ix_users_login_role", table_name="users")
    op.drop_column("users", "login_role")
