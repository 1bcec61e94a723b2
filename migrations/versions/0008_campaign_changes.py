"""campaign change requests (CPM/budget re-review) and their notification kinds

Revision ID: 0008_campaign_changes
Revises: 0007_social
Create Date: 2026-11-23 05:20:00

"""
from alembic import op
import sqlalchemy as sa

import app.db


# revision identifiers, used by Alembic.
revision = '0008_campaign_changes'
down_revision = '0007_social'
branch_labels = None
depends_on = None


OLD_KINDS = ("campaign_approved", "campaign_changes_requested", "campaign_discarded", "application_received",
             "application_approved", "application_rejected", "application_removed", "submission_received",
             "submission_approved", "submission_rejected", "submission_revision_requested", "submission_removed",
             "dispute_opened", "dispute_resolved", "social_account_expired")
NEW_KINDS = OLD_KINDS + ("campaign_change_approved", "campaign_change_rejected")


def _notification_kinds(kinds):
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_valid'), type_='check')
        batch_op.create_check_constraint('kind_valid', "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")


def upgrade():
    op.create_table('campaign_change_requests',
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger(), nullable=False),
    sa.Column('cpm_cents', sa.BigInteger(), nullable=True),
    sa.Column('budget_cents', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by_id', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name=op.f('ck_campaign_change_requests_status_valid')),
    sa.CheckConstraint('cpm_cents IS NULL OR cpm_cents > 0', name=op.f('ck_campaign_change_requests_cpm_positive')),
    sa.CheckConstraint('budget_cents IS NULL OR budget_cents > 0', name=op.f('ck_campaign_change_requests_budget_positive')),
    sa.CheckConstraint('cpm_cents IS NOT NULL OR budget_cents IS NOT NULL', name=op.f('ck_campaign_change_requests_changes_something')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_change_requests_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_campaign_change_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_campaign_change_requests_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_change_requests'))
    )
    with op.batch_alter_table('campaign_change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_change_requests_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('uq_campaign_change_requests_one_pending', ['campaign_id'], unique=True,
                              postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))
    _notification_kinds(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind IN ('campaign_change_approved', 'campaign_change_rejected')")
    _notification_kinds(OLD_KINDS)
    with op.batch_alter_table('campaign_change_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_campaign_change_requests_one_pending')
        batch_op.drop_index(batch_op.f('ix_campaign_change_requests_campaign_id'))
    op.drop_table('campaign_change_requests')
