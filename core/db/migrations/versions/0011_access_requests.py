"""Separation of duties (issue 13 item 1): requests for content access that a safeguarding lead approves.

An administrator who creates an account with a role that reads incident content (nurse, ward manager,
safeguarding lead), raises an account to such a role, or resets such an account's password, no longer gives
it access: the change waits in `access_requests` until an active safeguarding lead (or, while there is none,
the recovery key holder) approves it, and `users.access_pending` keeps the account from signing in meanwhile.
Existing accounts are not pending.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("access_pending", sa.Boolean(), server_default="0", nullable=False))
    op.create_table('access_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('requested_by', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', sa.String(length=32), nullable=True),
    sa.CheckConstraint("kind IN ('grant_role', 'raise_role', 'reset_password')",
                       name=op.f('ck_access_requests_kind_known')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'refused', 'withdrawn')",
                       name=op.f('ck_access_requests_status_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_requests_user_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_access_requests_requested_by_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_access_requests_decided_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_requests'))
    )
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_requests_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_requests_user_id'))
        batch_op.drop_index(batch_op.f('ix_access_requests_status'))
    op.drop_table('access_requests')
    # Not batch mode: it would copy and drop `users`, which every other table references (see env.py).
    # SQLite (3.35 and later, which Lantern requires) drops a plain column in place.
    op.execute("ALTER TABLE users DROP COLUMN access_pending")
