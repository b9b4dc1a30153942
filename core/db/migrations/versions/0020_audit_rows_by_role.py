"""Who reads which audit events on a server (issue 16 item 2). PostgreSQL only; nothing on SQLite.

The app shows a ward manager the history of an incident they may read (core.services.review.incident_history:
the incident's and its actions' events, codes and ids only). On a server the database now gives exactly that:
row-level security on `audit_events` lets a ward manager read the events about incidents and actions they may
read (through the incidents' own policy), and the safeguarding lead and the administrator every event, as the
app does (the lead's view log; the administrator's sign-in history). Nurses read none. Every account still adds
events; nobody changes them (0001, 0014).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

EVERYONE = "lantern_nurse, lantern_ward_manager, lantern_safeguarding_lead, lantern_administrator"
MANAGER_READS = ("(entity_type = 'incident' AND EXISTS (SELECT 1 FROM incidents i WHERE i.id = entity_id)) OR "
                 "(entity_type = 'action' AND EXISTS (SELECT 1 FROM safeguarding_actions a "
                 "WHERE a.id::text = entity_id))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY")
    op.execute("GRANT SELECT ON audit_events TO lantern_ward_manager")
    op.execute(f"CREATE POLICY audit_events_add ON audit_events FOR INSERT TO {EVERYONE} WITH CHECK (true)")
    op.execute("CREATE POLICY audit_events_all ON audit_events FOR SELECT "
               "TO lantern_safeguarding_lead, lantern_administrator USING (true)")
    op.execute(f"CREATE POLICY audit_events_ward ON audit_events FOR SELECT TO lantern_ward_manager "
               f"USING ({MANAGER_READS})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in ("audit_events_ward", "audit_events_all", "audit_events_add"):
        op.execute(f"DROP POLICY IF EXISTS {name} ON audit_events")
    op.execute("REVOKE SELECT ON audit_events FROM lantern_ward_manager")
    op.execute("ALTER TABLE audit_events DISABLE ROW LEVEL SECURITY")
