"""invoice search: (company_id, buyer_name) index, read index-only by the buyer search

Revision ID: 0016_inv_finish
Revises: 0015_inv_ksef
Create Date: 2026-12-01 10:00:00

"""
from alembic import op


revision = '0016_inv_finish'
down_revision = '0015_inv_ksef'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_company_buyer_name', ['company_id', 'buyer_name'], unique=False)


def downgrade():
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_company_buyer_name')
