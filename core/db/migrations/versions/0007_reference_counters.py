"""A counter row per year for incident references, so a new reference never comes from parsing old ones.

Before this, the next reference was `max(reference) + 1`, read back from text: a demo reference such as
`LAN-2026-D000300` made every new report fail, and any other shape would have broken it again. The counter
starts from the highest number already used in each year by a reference of the plain `LAN-YYYY-NNNNN` shape;
references of any other shape (the demo's `D` numbers) are left as they are and never collide.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PLAIN = re.compile(r"^LAN-(\d{4})-(\d+)$")


def upgrade() -> None:
    counters = op.create_table(
        "reference_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_reference_counters")),
    )
    highest: dict[int, int] = {}
    for (reference,) in op.get_bind().execute(sa.text("SELECT reference FROM incidents")):
        match = PLAIN.match(reference or "")
        if match:
            year, number = int(match.group(1)), int(match.group(2))
            highest[year] = max(highest.get(year, 0), number)
    if highest:
        op.bulk_insert(counters, [{"year": y, "last_number": n} for y, n in sorted(highest.items())])


def downgrade() -> None:
    op.drop_table("reference_counters")
