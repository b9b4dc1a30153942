"""Room for every code the taxonomy has: `people_involved.person_type` from 12 and `sex` from 16 to 20 characters.

Migration 0008 added the person type `bank_or_agency` (14 characters), and the sex `withheld_or_other` has 17.
SQLite does not enforce a VARCHAR's length, so the embedded store never noticed; PostgreSQL does (issue 16), and
would refuse such a person. tests/pg/test_pg_schema.py
checks every taxonomy code against the width of the column it is stored in.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode copies people_involved on SQLite; nothing references that table, so no cascade can fire.
    with op.batch_alter_table("people_involved") as batch:
        batch.alter_column("person_type", existing_type=sa.String(length=12), type_=sa.String(length=20),
                           existing_nullable=False)
        batch.alter_column("sex", existing_type=sa.String(length=16), type_=sa.String(length=20),
                           existing_nullable=True)


def downgrade() -> None:
    # SQLite ignores the length. On PostgreSQL the narrowing fails while a longer type is stored; no Lantern before
    # this revision ran on PostgreSQL, so that downgrade is never needed there.
    with op.batch_alter_table("people_involved") as batch:
        batch.alter_column("sex", existing_type=sa.String(length=20), type_=sa.String(length=16),
                           existing_nullable=True)
        batch.alter_column("person_type", existing_type=sa.String(length=20), type_=sa.String(length=12),
                           existing_nullable=False)
