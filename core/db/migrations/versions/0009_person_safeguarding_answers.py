"""Two more yes / no / not known answers on each person involved: under 18, and could become pregnant.

The rules engine reads both (core/rules/facts.py PersonFacts.under_18 and .could_become_pregnant). Each is a
nullable boolean: NULL means not known, and a not-known answer never removes a safeguarding action (issue 12 A;
docs/safeguarding-rules.md). Existing rows stay NULL (not known), which is the fail-safe reading.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people_involved") as batch:
        batch.add_column(sa.Column("under_18", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("could_become_pregnant", sa.Boolean(), nullable=True))


def downgrade() -> None:
    # In place, not batch mode (which copies the table): SQLite 3.35 and later drops a plain column.
    op.execute("ALTER TABLE people_involved DROP COLUMN could_become_pregnant")
    op.execute("ALTER TABLE people_involved DROP COLUMN under_18")
