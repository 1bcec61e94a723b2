"""social: token refresh slot, one clipper per platform account, expiry notification

Revision ID: 0007_social
Revises: 0006_payouts
Create Date: 2026-11-23 04:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_social'
down_revision = '0006_payouts'
branch_labels = None
depends_on = None


OLD_KINDS = ("campaign_approved", "campaign_changes_requested", "campaign_discarded", "application_received",
             "application_approved", "application_rejected", "application_removed", "submission_received",
             "submission_approved", "submission_rejected", "submission_revision_requested", "submission_removed",
             "dispute_opened", "dispute_resolved")
NEW_KINDS = OLD_KINDS + ("social_account_expired",)


def _notification_kinds(kinds):
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_valid'), type_='check')
        batch_op.create_check_constraint('kind_valid', "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")


def upgrade():
    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh_slot', sa.String(length=40), nullable=True))
        batch_op.create_index('uq_connected_accounts_platform_user', ['platform', 'platform_user_id'], unique=True,
                              postgresql_where=sa.text('platform_user_id IS NOT NULL'),
                              sqlite_where=sa.text('platform_user_id IS NOT NULL'))
    _notification_kinds(NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'social_account_expired'")
    _notification_kinds(OLD_KINDS)
    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_connected_accounts_platform_user')
        batch_op.drop_column('refresh_slot')
