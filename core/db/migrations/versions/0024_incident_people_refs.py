"""The people with a reference, kept on the incident row, so the dashboard's repeat-people count reads one index
(issue 16 item 10).

The dashboard lists the people (by local reference, role and type) who appear in more than one incident of the
period. It counted them from `people_involved`: a probe of the people index for each incident in view and, on a
server, the child table's row-level security policy for each person (about 0.5-0.8 s of a ward-year's 1.1 s on a
1,000,000-incident trust store). `incidents.people_refs` holds each incident's distinct referenced people as one
text (core.db.queries.incidents.people_refs), kept by the services with the other summaries (0006) and checked by
`check`. A partial index holds it with the columns row-level security reads, only for incidents that have such
people, so the count is an index-only read of the period. An incident whose text would pass 1,000 characters
holds "*" and the dashboard reads its people from their own table (an index entry has a size limit on a server).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

# Frozen copies of what core.db.queries.incidents and the models say at this revision.
COLUMNS = ["ward_id", "occurred_at", "status", "restricted", "id", "reporter_id", "people_refs"]
REFS = ("(SELECT {aggregate}(r, {char}(30) ORDER BY r COLLATE {collation}) FROM (SELECT DISTINCT "
        "p.local_ref || {char}(31) || p.role || {char}(31) || p.person_type AS r FROM people_involved p "
        "WHERE p.incident_id = incidents.id AND p.local_ref != '') AS d)")
BACKFILL = ("UPDATE incidents SET people_refs = CASE WHEN length(coalesce({refs}, '')) > 1000 THEN '*' "
            "ELSE coalesce({refs}, '') END")


def upgrade() -> None:
    op.add_column("incidents", sa.Column("people_refs", sa.Text(), server_default="", nullable=False))
    server = op.get_bind().dialect.name == "postgresql"
    refs = REFS.format(**(dict(aggregate="string_agg", char="chr", collation='"C"') if server
                          else dict(aggregate="group_concat", char="char", collation="BINARY")))
    op.execute(BACKFILL.format(refs=refs))
    where = sa.text("people_refs != ''")
    op.create_index("ix_incidents_people_refs", "incidents", COLUMNS, unique=False, sqlite_where=where,
                    postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_incidents_people_refs", table_name="incidents")
    # SQLite's own DROP COLUMN, never batch mode (see 0006).
    op.drop_column("incidents", "people_refs")
