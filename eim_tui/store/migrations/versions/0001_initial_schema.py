"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa
import eim_tui.store.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('assignment_group',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('shift_lead', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('category',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('saved_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner', 'scope')
    )
    op.create_table('inbound_payload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('remote', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('processed_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inbound_payload', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_payload_status', ['status', 'id'], unique=False)

    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('detected_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reported_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reporter_name', sa.String(length=200), nullable=False),
    sa.Column('reporter_contact', sa.String(length=200), nullable=False),
    sa.Column('reporter_department', sa.String(length=200), nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('configuration_item', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('subcategory', sa.String(length=100), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('urgency', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('priority_override_reason', sa.Text(), nullable=False),
    sa.Column('initial_severity', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('hold_reason', sa.String(length=30), nullable=True),
    sa.Column('hold_note', sa.Text(), nullable=False),
    sa.Column('assignment_group', sa.String(length=100), nullable=False),
    sa.Column('assignee', sa.String(length=100), nullable=False),
    sa.Column('major', sa.Boolean(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('problem_ref', sa.String(length=100), nullable=False),
    sa.Column('change_ref', sa.String(length=100), nullable=False),
    sa.Column('root_cause', sa.Text(), nullable=False),
    sa.Column('resolution_code', sa.String(length=50), nullable=False),
    sa.Column('resolution_notes', sa.Text(), nullable=False),
    sa.Column('resolution_tested', sa.Text(), nullable=False),
    sa.Column('resolution_communication', sa.Text(), nullable=False),
    sa.Column('closure_verified_by', sa.String(length=100), nullable=False),
    sa.Column('feedback_rating', sa.Integer(), nullable=True),
    sa.Column('feedback_comment', sa.Text(), nullable=False),
    sa.Column('lessons_learned', sa.Text(), nullable=False),
    sa.Column('post_incident_review', sa.JSON(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=False),
    sa.Column('response_due_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_due_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_since', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sla_paused_seconds', sa.Float(), nullable=False),
    sa.Column('alert_count', sa.Integer(), nullable=False),
    sa.Column('alerts_resolved', sa.Boolean(), nullable=False),
    sa.Column('last_alert_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('sla_clock', sa.String(length=10), nullable=False),
    sa.Column('sla_due_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sla_warn_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_acknowledged', ['acknowledged_at', 'priority', 'reported_at'], unique=False)
        batch_op.create_index('ix_incident_assignee', ['assignee', 'is_open'], unique=False)
        batch_op.create_index('ix_incident_group', ['assignment_group', 'is_open'], unique=False)
        batch_op.create_index('ix_incident_open_ack', ['is_open', 'acknowledged_at', 'priority'], unique=False)
        batch_op.create_index('ix_incident_open_due', ['is_open', 'sla_due_at'], unique=False)
        batch_op.create_index('ix_incident_open_group', ['is_open', 'assignment_group', 'priority', 'sla_due_at'], unique=False)
        batch_op.create_index('ix_incident_open_major', ['is_open', 'major', 'priority', 'id'], unique=False)
        batch_op.create_index('ix_incident_open_resolution', ['is_open', 'priority', 'acknowledged_at', 'resolution_due_at'], unique=False)
        batch_op.create_index('ix_incident_open_warn', ['is_open', 'sla_warn_at'], unique=False)
        batch_op.create_index('ix_incident_queue', ['is_open', 'priority', 'sla_due_at', 'id', 'confidential', 'title', 'service'], unique=False)
        batch_op.create_index('ix_incident_reported', ['reported_at'], unique=False)
        batch_op.create_index('ix_incident_resolved', ['resolved_at', 'priority', 'reported_at', 'sla_paused_seconds'], unique=False)
        batch_op.create_index('ix_incident_state', ['state', 'resolved_at'], unique=False)

    op.create_table('problem',
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('root_cause', sa.Text(), nullable=False),
    sa.Column('known_error', sa.Boolean(), nullable=False),
    sa.Column('workaround', sa.Text(), nullable=False),
    sa.Column('created_at', eim_tui.store.types.UTCDateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('ref')
    )
    op.create_table('service',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_group', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('sla_policy',
    sa.Column('severity', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('response_seconds', sa.Integer(), nullable=False),
    sa.Column('resolution_seconds', sa.Integer(), nullable=False),
    sa.Column('warning_fraction', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('severity')
    )
    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('annotations', sa.JSON(), nullable=False),
    sa.Column('starts_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen', eim_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', eim_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('payload_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.ForeignKeyConstraint(['payload_id'], ['inbound_payload.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'dedup_key', name='uq_alert_source_key')
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_incident_id'), ['incident_id'], unique=False)

    op.create_table('configuration_item',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['service'], ['service.name'], ),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('configuration_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_configuration_item_service'), ['service'], unique=False)

    op.create_table('diagnosis_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('diagnosis_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diagnosis_note_incident_id'), ['incident_id'], unique=False)

    op.create_table('group_member',
    sa.Column('group_name', sa.String(length=100), nullable=False),
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['group_name'], ['assignment_group.name'], ),
    sa.ForeignKeyConstraint(['user_name'], ['app_user.name'], ),
    sa.PrimaryKeyConstraint('group_name', 'user_name')
    )
    op.create_table('subcategory',
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['category'], ['category.name'], ),
    sa.PrimaryKeyConstraint('category', 'name')
    )
    op.create_table('timeline_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', eim_tui.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('once_key', sa.String(length=200), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('once_key')
    )
    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_event_incident_id'), ['incident_id'], unique=False)

    op.create_table('watch',
    sa.Column('user_name', sa.String(length=100), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('user_name', 'incident_id')
    )


def downgrade() -> None:
    op.drop_table('watch')
    with op.batch_alter_table('timeline_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_event_incident_id'))

    op.drop_table('timeline_event')
    op.drop_table('subcategory')
    op.drop_table('group_member')
    with op.batch_alter_table('diagnosis_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diagnosis_note_incident_id'))

    op.drop_table('diagnosis_note')
    with op.batch_alter_table('configuration_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_configuration_item_service'))

    op.drop_table('configuration_item')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_incident_id'))

    op.drop_table('alert')
    op.drop_table('sla_policy')
    op.drop_table('service')
    op.drop_table('problem')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_state')
        batch_op.drop_index('ix_incident_resolved')
        batch_op.drop_index('ix_incident_reported')
        batch_op.drop_index('ix_incident_queue')
        batch_op.drop_index('ix_incident_open_warn')
        batch_op.drop_index('ix_incident_open_resolution')
        batch_op.drop_index('ix_incident_open_major')
        batch_op.drop_index('ix_incident_open_group')
        batch_op.drop_index('ix_incident_open_due')
        batch_op.drop_index('ix_incident_open_ack')
        batch_op.drop_index('ix_incident_group')
        batch_op.drop_index('ix_incident_assignee')
        batch_op.drop_index('ix_incident_acknowledged')

    op.drop_table('incident')
    with op.batch_alter_table('inbound_payload', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_payload_status')

    op.drop_table('inbound_payload')
    op.drop_table('draft')
    op.drop_table('chain_head')
    op.drop_table('category')
    op.drop_table('assignment_group')
    op.drop_table('app_user')
