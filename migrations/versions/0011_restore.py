"""restore requests confirmed by e-mail; the address a company account was created with

Revision ID: 0011_restore
Revises: 0010_sessions
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_restore'
down_revision = '0010_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signup_email', sa.String(length=254), nullable=True))
    # existing accounts: the first person of the company signed up with it; else the company e-mail
    op.execute(
        "UPDATE company SET signup_email = COALESCE("
        "(SELECT u.email FROM ab_user u WHERE u.company_id = company.id ORDER BY u.id LIMIT 1), company.email)"
    )
    with op.batch_alter_table('restore_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_to', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('confirm_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('restore_request', schema=None) as batch_op:
        batch_op.drop_column('outcome')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('confirm_digest')
        batch_op.drop_column('sent_to')
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('signup_email')
