"""One restriction rule: an incident is restricted when any of its types is SS-STAFF or any alleged perpetrator
is staff of any kind (staff, bank or agency, contractor, volunteer).

Before this, only a perpetrator recorded with the person type `staff` restricted a record, so an `SS-STAFF`
incident whose perpetrator was recorded as a patient, or a bank nurse, could be opened by any nurse on the ward.
core.taxonomy.is_restricted keeps the flag right whenever an incident is written; this migration recomputes it
for every existing record. It only ever turns restriction on (never off), and it changes no schema.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# A frozen copy of core.taxonomy.is_restricted at this revision (a migration never imports the app's code).
RESTRICT = """
UPDATE incidents SET restricted = TRUE
WHERE restricted = FALSE AND (
  EXISTS (SELECT 1 FROM incident_types t WHERE t.incident_id = incidents.id AND t.code = 'SS-STAFF')
  OR EXISTS (SELECT 1 FROM people_involved p WHERE p.incident_id = incidents.id
             AND p.role = 'alleged_perpetrator'
             AND p.person_type IN ('staff', 'bank_or_agency', 'contractor', 'volunteer')))
"""


def upgrade() -> None:
    op.execute(RESTRICT)


def downgrade() -> None:
    # Restriction is a safeguard: going back to the older code keeps the records restricted.
    pass
