"""Initial schema: organisation, wards, users, incidents, people, types, actions, versions, audit, exports.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity_type', sa.String(length=30), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('workstation', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_entity_id'), ['entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.String(length=36), nullable=False),
    sa.Column('ods_code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('users',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.CheckConstraint("role IN ('nurse', 'ward_manager', 'safeguarding_lead', 'administrator')", name=op.f('ck_users_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('wards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sex_designation', sa.String(length=20), nullable=False),
    sa.Column('service_type', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wards')),
    sa.UniqueConstraint('name', name=op.f('uq_wards_name'))
    )
    op.create_table('export_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('incident_count', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.String(length=32), nullable=True),
    sa.Column('period_to', sa.String(length=32), nullable=True),
    sa.Column('filename', sa.String(length=260), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_export_batches_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_batches'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('ward_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.String(length=32), nullable=True),
    sa.Column('occurred_precision', sa.String(length=12), nullable=False),
    sa.Column('shift', sa.String(length=20), nullable=True),
    sa.Column('location', sa.String(length=40), nullable=True),
    sa.Column('reported_at', sa.String(length=32), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('immediate_actions', sa.Text(), nullable=False),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('pair', sa.String(length=40), nullable=True),
    sa.Column('harm_physical', sa.String(length=12), nullable=True),
    sa.Column('harm_psychological', sa.String(length=12), nullable=True),
    sa.Column('pd09', sa.Integer(), nullable=True),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('harm_confirmation_needed', sa.Boolean(), nullable=False),
    sa.Column('feedback_note', sa.Text(), nullable=False),
    sa.Column('taxonomy_version', sa.Integer(), nullable=True),
    sa.Column('rules_version', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.Column('submitted_at', sa.String(length=32), nullable=True),
    sa.Column('closed_at', sa.String(length=32), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'in_review', 'closed')", name=op.f('ck_incidents_status_known')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_incidents_reporter_id_users')),
    sa.ForeignKeyConstraint(['ward_id'], ['wards.id'], name=op.f('fk_incidents_ward_id_wards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('reference', name=op.f('uq_incidents_reference'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_restricted'), ['restricted'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_ward_id'), ['ward_id'], unique=False)
        batch_op.create_index('ix_incidents_ward_status_occurred', ['ward_id', 'status', 'occurred_at'], unique=False)

    op.create_table('user_wards',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('ward_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_wards_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ward_id'], ['wards.id'], name=op.f('fk_user_wards_ward_id_wards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'ward_id', name=op.f('pk_user_wards'))
    )
    op.create_table('incident_types',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_types_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'code', name=op.f('pk_incident_types'))
    )
    with op.batch_alter_table('incident_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_types_code'), ['code'], unique=False)

    op.create_table('incident_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_incident_versions_created_by_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_versions_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_versions')),
    sa.UniqueConstraint('incident_id', 'version', name='uq_incident_versions_incident_version')
    )
    with op.batch_alter_table('incident_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_versions_incident_id'), ['incident_id'], unique=False)

    op.create_table('people_involved',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('person_type', sa.String(length=12), nullable=False),
    sa.Column('local_ref', sa.String(length=40), nullable=False),
    sa.Column('sex', sa.String(length=16), nullable=True),
    sa.Column('age_years', sa.Integer(), nullable=True),
    sa.Column('age_band', sa.String(length=16), nullable=True),
    sa.Column('detained', sa.Boolean(), nullable=True),
    sa.Column('capacity_concern', sa.Boolean(), nullable=True),
    sa.Column('care_support_needs', sa.Boolean(), nullable=True),
    sa.Column('police_wishes', sa.String(length=20), nullable=True),
    sa.Column('harm_physical', sa.String(length=12), nullable=True),
    sa.Column('harm_psychological', sa.String(length=12), nullable=True),
    sa.Column('linked_user_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_people_involved_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_user_id'], ['users.id'], name=op.f('fk_people_involved_linked_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people_involved'))
    )
    with op.batch_alter_table('people_involved', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_involved_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_people_involved_linked_user_id'), ['linked_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_people_involved_local_ref'), ['local_ref'], unique=False)

    op.create_table('safeguarding_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('rule_id', sa.String(length=60), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('guidance', sa.Text(), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('owner_role', sa.String(length=20), nullable=False),
    sa.Column('owner_label', sa.String(length=100), nullable=False),
    sa.Column('assigned_user_id', sa.String(length=36), nullable=True),
    sa.Column('mandatory', sa.Boolean(), nullable=False),
    sa.Column('deadline_kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('completed_at', sa.String(length=32), nullable=True),
    sa.Column('completed_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.CheckConstraint("status IN ('open', 'done', 'not_applicable')", name=op.f('ck_safeguarding_actions_status_known')),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['users.id'], name=op.f('fk_safeguarding_actions_assigned_user_id_users')),
    sa.ForeignKeyConstraint(['completed_by'], ['users.id'], name=op.f('fk_safeguarding_actions_completed_by_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_safeguarding_actions_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safeguarding_actions'))
    )
    with op.batch_alter_table('safeguarding_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safeguarding_actions_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_safeguarding_actions_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_safeguarding_actions_status_due', ['status', 'due_at'], unique=False)


    # The audit trail is append-only: the database itself refuses UPDATE and DELETE.
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_APPEND_ONLY:
            op.execute(statement)
        return
    op.execute(
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    )


# PostgreSQL (issue 16): one function refuses every change to an audit event, row by row and by TRUNCATE.
PG_APPEND_ONLY = (
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("audit_events_no_update", "audit_events_no_delete", "audit_events_no_truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table('safeguarding_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_safeguarding_actions_status_due')
        batch_op.drop_index(batch_op.f('ix_safeguarding_actions_incident_id'))
        batch_op.drop_index(batch_op.f('ix_safeguarding_actions_due_at'))

    op.drop_table('safeguarding_actions')
    with op.batch_alter_table('people_involved', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_involved_local_ref'))
        batch_op.drop_index(batch_op.f('ix_people_involved_linked_user_id'))
        batch_op.drop_index(batch_op.f('ix_people_involved_incident_id'))

    op.drop_table('people_involved')
    with op.batch_alter_table('incident_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_versions_incident_id'))

    op.drop_table('incident_versions')
    with op.batch_alter_table('incident_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_types_code'))

    op.drop_table('incident_types')
    op.drop_table('user_wards')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_ward_status_occurred')
        batch_op.drop_index(batch_op.f('ix_incidents_ward_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_status'))
        batch_op.drop_index(batch_op.f('ix_incidents_restricted'))
        batch_op.drop_index(batch_op.f('ix_incidents_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_occurred_at'))

    op.drop_table('incidents')
    op.drop_table('export_batches')
    op.drop_table('wards')
    op.drop_table('users')
    op.drop_table('settings')
    op.drop_table('organisation')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_entity_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
