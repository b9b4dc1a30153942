"""Live refresh across PCs (issue 16 item 4). PostgreSQL only; nothing on SQLite.

When an incident is written or a safeguarding action is added or changes status, the server sends a notice on
the channel `lantern_changes` (NOTIFY, delivered when the transaction commits), and every Lantern on another PC
that listens (core.db.server.ChangeListener) refreshes its queue and overdue count within seconds, without
polling. A notice carries the ward's number and what changed ("incident" or "action") and nothing else: no
reference, no text. Any account of the database may listen, whatever it may read, so that is all it holds.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

CHANNEL = "lantern_changes"
NOTICE = f"""
CREATE FUNCTION lantern_notice() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS
$$
DECLARE ward integer;
BEGIN
  IF TG_TABLE_NAME = 'incidents' THEN
    ward := NEW.ward_id;
  ELSE
    SELECT ward_id INTO ward FROM incidents WHERE id = NEW.incident_id;
  END IF;
  PERFORM pg_notify('{CHANNEL}', json_build_object('ward', ward,
                                                   'what', CASE TG_TABLE_NAME WHEN 'incidents' THEN 'incident'
                                                                              ELSE 'action' END)::text);
  RETURN NULL;
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(NOTICE)
    op.execute("REVOKE ALL ON FUNCTION lantern_notice() FROM PUBLIC")
    op.execute("CREATE TRIGGER incidents_notice AFTER INSERT OR UPDATE OF status, ward_id, restricted ON incidents "
               "FOR EACH ROW EXECUTE FUNCTION lantern_notice()")
    op.execute("CREATE TRIGGER actions_notice AFTER INSERT OR UPDATE OF status, due_at, assigned_user_id "
               "ON safeguarding_actions FOR EACH ROW EXECUTE FUNCTION lantern_notice()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS actions_notice ON safeguarding_actions")
    op.execute("DROP TRIGGER IF EXISTS incidents_notice ON incidents")
    op.execute("DROP FUNCTION IF EXISTS lantern_notice()")
