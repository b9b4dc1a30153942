"""An index of actions by rule, so the dashboard finds completed police actions without visiting every action.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_safeguarding_actions_rule_cover", "safeguarding_actions",
                    ["rule_id", "status", "incident_id", "reference"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_safeguarding_actions_rule_cover", table_name="safeguarding_actions")
