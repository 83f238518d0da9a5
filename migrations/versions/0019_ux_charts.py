"""dashboard charts: offers by issue date, tasks by completion, invoices by payment date, per company

Revision ID: 0019_ux_charts
Revises: 0018_ux_import
Create Date: 2026-11-30 07:00:00

"""
from alembic import op


revision = '0019_ux_charts'
down_revision = '0018_ux_import'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.create_index('ix_offer_company_issue', ['company_id', 'issue_date'], unique=False)
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index('ix_task_company_completed', ['company_id', 'completed_at'], unique=False)
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_company_paid', ['company_id', 'paid_at'], unique=False)


def downgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_company_paid')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_company_completed')
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_index('ix_offer_company_issue')
