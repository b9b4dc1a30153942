"""The covering incident indexes hold the reporter too, so the server reads a ward's period from the index alone
(issue 16 item 10).

Row-level security on `incidents` (migration 0019) tests each row's ward, status, restriction, id and reporter.
The two covering indexes (migration 0006) held all of those but the reporter, so PostgreSQL could not answer a
ward's dashboard from the (ward, date) index: it visited the incident rows themselves, one table page for each
of a ward-year's 25,000 incidents on a 1,000,000-incident trust store (about 250 ms for each of the dashboard's
counts). With the reporter in the index the counts are index-only scans. Both engines get the same indexes (the
models say so); SQLite's queries are unchanged by the extra column.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# Frozen copies of what the models say at each revision (a migration never imports the app's models).
SUMMARY = ["status", "restricted", "shift", "location", "pair", "harm_physical", "harm_psychological",
           "harm_confirmation_needed", "police_referred", "type_codes", "id"]
OLD_INDEXES = (
    ("ix_incidents_occurred_cover", ["occurred_at", "ward_id", *SUMMARY]),
    ("ix_incidents_ward_occurred_cover", ["ward_id", "occurred_at", *SUMMARY]),
)
NEW_INDEXES = tuple((name, [*columns, "reporter_id"]) for name, columns in OLD_INDEXES)


def _swap_indexes(drop, create) -> None:
    for name, _columns in drop:
        op.drop_index(name, table_name="incidents")
    for name, columns in create:
        op.create_index(name, "incidents", columns, unique=False)


def upgrade() -> None:
    _swap_indexes(OLD_INDEXES, NEW_INDEXES)


def downgrade() -> None:
    _swap_indexes(NEW_INDEXES, OLD_INDEXES)
