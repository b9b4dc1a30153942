"""Export batch items: which incidents, at which version, each export batch held (for re-export flags).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    with op.batch_alter_table('export_batch_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_batch_items_incident_id'))
    op.drop_table('export_batch_items')
