"""Moving a ward's embedded store into the trust's server (issue 16 item 7): what was moved, and the old trail.

`store_moves` has one row per ward store moved in (its store id is the key, so a store cannot be moved twice),
with the counts moved and the moved store's newest audit event (id and hash), which the new trail's
`store.moved_in` event also carries: the new chain's row anchors the old chain's head. `audit_archive` keeps the
moved store's audit events exactly as they were, so the old chain stays verifiable (core/db/audit.py,
`verify_archive`). On PostgreSQL both are append-only, like the live trail. On SQLite the tables exist, empty.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

EVENT_COLUMNS = (
    ("id", sa.Integer()), ("at", sa.String(32)), ("user_id", sa.String(36)), ("username", sa.String(64)),
    ("action", sa.String(40)), ("entity_type", sa.String(30)), ("entity_id", sa.String(40)),
    ("outcome", sa.String(16)), ("workstation", sa.String(100)), ("detail", sa.Text()),
    ("prev_hash", sa.String(64)), ("hash", sa.String(64)),
)


def upgrade() -> None:
    op.create_table(
        "store_moves",
        sa.Column("store_id", sa.String(36), nullable=False),
        sa.Column("ods_code", sa.String(10), nullable=False),
        sa.Column("moved_by", sa.String(64), nullable=False),
        sa.Column("moved_at", sa.String(32), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("old_head_id", sa.Integer(), nullable=False),
        sa.Column("old_head_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_store_moves")),
    )
    op.create_table(
        "audit_archive",
        sa.Column("store_id", sa.String(36), nullable=False),
        *(sa.Column(name, kind, nullable=name == "user_id", autoincrement=False) for name, kind in EVENT_COLUMNS),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_audit_archive")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("store_moves", "audit_archive"):
            op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
        op.execute("GRANT SELECT ON store_moves, audit_archive TO lantern_safeguarding_lead, lantern_administrator")


def downgrade() -> None:
    op.drop_table("audit_archive")
    op.drop_table("store_moves")
