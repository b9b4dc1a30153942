"""Covering indexes for the action queue, incident list and dashboard on large stores.

The queue, the incident list and the dashboard filter, sort and count in SQL. These indexes hold every
column those queries read, so SQLite answers them from the index alone instead of reading the wide
incident and action rows (1 million actions carry their guidance text). See core/services/queue.py,
review.py and reports.py.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_incidents_occurred_cover", "incidents",
     ["occurred_at", "ward_id", "status", "restricted", "harm_confirmation_needed", "id"]),
    ("ix_incidents_ward_occurred_cover", "incidents",
     ["ward_id", "occurred_at", "status", "restricted", "shift", "location", "pair", "harm_physical",
      "harm_psychological", "harm_confirmation_needed", "id"]),
    ("ix_safeguarding_actions_status_due_incident", "safeguarding_actions", ["status", "due_at", "incident_id"]),
    ("ix_safeguarding_actions_incident_cover", "safeguarding_actions",
     ["incident_id", "status", "due_at", "rule_id", "reference"]),
    ("ix_people_involved_incident_cover", "people_involved",
     ["incident_id", "role", "person_type", "local_ref", "police_wishes"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
