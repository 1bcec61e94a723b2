"""notifications: drop the CHECK on kind (kinds are a registry in code: app/notifications/kinds.py)

Revision ID: 0010_notification_kinds_in_code
Revises: 0009_earnings
Create Date: 2026-11-30 00:10:00

A new notification kind no longer needs a migration: ``notify`` refuses undeclared
kinds. Downgrade puts back the CHECK of 0009 (after deleting rows of kinds it does
not know, as the earlier downgrades do).

"""
from alembic import op


KINDS_0009 = ("campaign_approved", "campaign_changes_requested", "campaign_discarded", "application_received",
              "application_approved", "application_rejected", "application_removed", "submission_received",
              "submission_approved", "submission_rejected", "submission_revision_requested", "submission_removed",
              "dispute_opened", "dispute_resolved", "social_account_expired", "campaign_change_approved",
              "campaign_change_rejected", "campaign_budget_exhausted")

# revision identifiers, used by Alembic.
revision = '0010_notification_kinds_in_code'
down_revision = '0009_earnings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind_valid'), type_='check')


def downgrade():
    listed = ", ".join(f"'{k}'" for k in KINDS_0009)
    op.execute(f"DELETE FROM notifications WHERE kind NOT IN ({listed})")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_check_constraint('kind_valid', f"kind IN ({listed})")
