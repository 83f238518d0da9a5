"""inv-ksef: KSeF token save time, purchase-invoice fetch request and its last error

Revision ID: 0015_inv_ksef
Revises: 0014_invoicing
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_inv_ksef'
down_revision = '0014_invoicing'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ksef_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_saved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('purchases_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('purchases_error', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('ksef_settings', schema=None) as batch_op:
        batch_op.drop_column('purchases_error')
        batch_op.drop_column('purchases_requested_at')
        batch_op.drop_column('token_saved_at')
