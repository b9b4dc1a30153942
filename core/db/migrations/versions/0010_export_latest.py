"""Re-export flags from one row per incident and export kind, instead of one row per incident per export.

Every export used to add a row for each incident it held (export_batch_items), so a store grew by about 2 MB
with each export of 10,000 incidents (issue 14). The re-export flag needs only the latest export of each kind
that held an incident, and the incident's version and updated_at then: export_latest keeps exactly that, and
an export replaces its rows. The batch itself keeps its count and the file's SHA-256, and the audit event a
SHA-256 of the incident ids. The upgrade keeps, for each incident and kind, the row of the latest batch.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_latest',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('incident_version', sa.Integer(), nullable=False),
    sa.Column('incident_updated_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['export_batches.id'],
                            name=op.f('fk_export_latest_batch_id_export_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                            name=op.f('fk_export_latest_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'incident_id', name=op.f('pk_export_latest'))
    )
    with op.batch_alter_table('export_latest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_latest_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_latest_incident_id'), ['incident_id'], unique=False)
    op.execute("""
        INSERT INTO export_latest (kind, incident_id, batch_id, incident_version, incident_updated_at)
        SELECT b.kind, i.incident_id, i.batch_id, i.incident_version, i.incident_updated_at
        FROM export_batch_items AS i JOIN export_batches AS b ON b.id = i.batch_id
        WHERE i.batch_id = (SELECT max(i2.batch_id) FROM export_batch_items AS i2
                            JOIN export_batches AS b2 ON b2.id = i2.batch_id
                            WHERE i2.incident_id = i.incident_id AND b2.kind = b.kind)
    """)
    with op.batch_alter_table('export_batch_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_batch_items_incident_id'))
    op.drop_table('export_batch_items')


def downgrade() -> None:
    op.create_table('export_batch_items',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('incident_version', sa.Integer(), nullable=False),
    sa.Column('incident_updated_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['export_batches.id'],
                            name=op.f('fk_export_batch_items_batch_id_export_batches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                            name=op.f('fk_export_batch_items_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('batch_id', 'incident_id', name=op.f('pk_export_batch_items'))
    )
    with op.batch_alter_table('export_batch_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_batch_items_incident_id'), ['incident_id'], unique=False)
    op.execute("""
        INSERT INTO export_batch_items (batch_id, incident_id, incident_version, incident_updated_at)
        SELECT batch_id, incident_id, incident_version, incident_updated_at FROM export_latest
    """)
    with op.batch_alter_table('export_latest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_latest_incident_id'))
        batch_op.drop_index(batch_op.f('ix_export_latest_batch_id'))
    op.drop_table('export_latest')
