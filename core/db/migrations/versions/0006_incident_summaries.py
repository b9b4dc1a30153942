"""Summary columns on the incident row, so the dashboard counts one index instead of three child tables.

`type_codes` holds the incident's type codes, sorted and space-separated; `police_referred` says whether the
incident was referred to the police (a person involved wanted the police told, the staff-allegation police
action is done, or a police action was completed with a crime reference). core/services/incidents.py keeps
both up to date; this migration fills them in for existing records and widens the two covering indexes to
hold them (and every other column the dashboard reads).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Frozen copies of what the models say at this revision (a migration never imports the app's models).
OLD_INDEXES = (
    ("ix_incidents_occurred_cover", ["occurred_at", "ward_id", "status", "restricted", "harm_confirmation_needed",
                                     "id"]),
    ("ix_incidents_ward_occurred_cover", ["ward_id", "occurred_at", "status", "restricted", "shift", "location",
                                          "pair", "harm_physical", "harm_psychological",
                                          "harm_confirmation_needed", "id"]),
)
SUMMARY = ["status", "restricted", "shift", "location", "pair", "harm_physical", "harm_psychological",
           "harm_confirmation_needed", "police_referred", "type_codes", "id"]
NEW_INDEXES = (
    ("ix_incidents_occurred_cover", ["occurred_at", "ward_id", *SUMMARY]),
    ("ix_incidents_ward_occurred_cover", ["ward_id", "occurred_at", *SUMMARY]),
)

BACKFILL = """
UPDATE incidents SET
  type_codes = coalesce((SELECT {aggregate}(code, ' ' ORDER BY code) FROM incident_types t
                         WHERE t.incident_id = incidents.id), ''),
  police_referred = (
    EXISTS (SELECT 1 FROM people_involved p WHERE p.incident_id = incidents.id AND p.police_wishes = 'yes')
    OR EXISTS (SELECT 1 FROM safeguarding_actions a WHERE a.incident_id = incidents.id AND a.status = 'done'
               AND (a.rule_id = 'police-inform-staff-alleged' OR (a.rule_id LIKE 'police-%' AND a.reference != ''))))
"""


def _swap_indexes(drop, create) -> None:
    for name, _columns in drop:
        op.drop_index(name, table_name="incidents")
    for name, columns in create:
        op.create_index(name, "incidents", columns, unique=False)


def upgrade() -> None:
    op.add_column("incidents", sa.Column("type_codes", sa.String(length=400), server_default="", nullable=False))
    op.add_column("incidents", sa.Column("police_referred", sa.Boolean(), server_default="0", nullable=False))
    aggregate = "string_agg" if op.get_bind().dialect.name == "postgresql" else "group_concat"
    op.execute(BACKFILL.format(aggregate=aggregate))
    _swap_indexes(OLD_INDEXES, NEW_INDEXES)


def downgrade() -> None:
    _swap_indexes(NEW_INDEXES, OLD_INDEXES)
    # SQLite's own DROP COLUMN, never batch mode: batch mode copies the table and drops the old one, and with
    # foreign keys on that drop would cascade to every incident's types, people and actions.
    op.drop_column("incidents", "police_referred")
    op.drop_column("incidents", "type_codes")
