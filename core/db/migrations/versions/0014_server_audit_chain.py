"""The server writes the audit chain (issue 16 item 2). PostgreSQL only; nothing on SQLite.

On the embedded store the app computes each audit event's id, previous hash and hash (core/db/audit.py). On a
trust's server a client must not be able to choose them, nor who and when: a BEFORE INSERT trigger, running as
the schema owner, takes the chain's head under a row lock, numbers the event, stamps it with the server's clock
(UTC, the app's text form) and, for a Lantern login, with the account behind the connection, then hashes it.
Whatever the client sent in those columns is overwritten. The head is no longer writable by any account.

The hash is SHA-256 over the same fields as core/db/audit.py, as JSON with sorted keys and no spaces, with
non-ASCII characters written as themselves (UTF-8; the embedded store escapes them as \\uXXXX), so `check`
recomputes every hash in Python and the chain stays verifiable without trusting the server's arithmetic.
tests/pg/test_pg_audit.py inserts random text through a plain connection and recomputes it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

GROUPS = "lantern_nurse, lantern_ward_manager, lantern_safeguarding_lead, lantern_administrator"
FIELDS = ("action", "at", "detail", "entity_id", "entity_type", "id", "outcome", "prev_hash", "user_id",
          "username", "workstation")  # sorted, as json.dumps(sort_keys=True) writes them


def _canonical() -> str:
    parts = []
    for n, name in enumerate(FIELDS):
        value = "NEW.id::text" if name == "id" else f"coalesce(to_json(NEW.{name})::text, 'null')"
        parts.append(f"'{'{' if n == 0 else ','}\"{name}\":' || {value}")
    return " || ".join(parts) + " || '}'"


CHAIN = f"""
CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS
$$
DECLARE
  head record;
  me record;
BEGIN
  SELECT last_id, last_hash INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the audit trail has no head row';
  END IF;
  SELECT u.id, u.username INTO me FROM users u WHERE lantern_login_role(u.username) = session_user;
  IF FOUND THEN
    NEW.user_id := me.id;
    NEW.username := me.username;
  END IF;
  NEW.id := head.last_id + 1;
  NEW.prev_hash := head.last_hash;
  NEW.at := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"');
  NEW.hash := encode(sha256(convert_to({_canonical()}, 'UTF8')), 'hex');
  UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.hash WHERE id = 1;
  RETURN NEW;
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("INSERT INTO audit_head (id, last_id, last_hash) "
               "SELECT 1, 0, repeat('0', 64) WHERE NOT EXISTS (SELECT 1 FROM audit_head)")
    op.execute(CHAIN)
    op.execute("REVOKE ALL ON FUNCTION audit_events_chain() FROM PUBLIC")
    op.execute("CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION audit_events_chain()")
    op.execute(f"REVOKE INSERT, UPDATE ON audit_head FROM {GROUPS}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"GRANT INSERT, UPDATE ON audit_head TO {GROUPS}")
    op.execute("DROP TRIGGER IF EXISTS audit_events_chain ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_chain()")
