"""sign-up confirmation and NIP claims

Revision ID: 0013_signup
Revises: 0012_backups
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_signup'
down_revision = '0012_backups'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('nip_lost_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('nip', existing_type=sa.String(length=10), nullable=True)
    # accounts that exist already were usable: they count as confirmed when they were created
    op.execute("UPDATE company SET confirmed_at = created_at WHERE confirmed_at IS NULL")

    op.create_table('nip_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nip', sa.String(length=10), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('first_name', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('email_confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('proof', sa.String(length=20), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('new_company_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['new_company_id'], ['company.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('nip_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nip_claim_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nip_claim_nip'), ['nip'], unique=False)
        batch_op.create_index('ix_nip_claim_status_created', ['status', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('nip_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_nip_claim_status_created')
        batch_op.drop_index(batch_op.f('ix_nip_claim_nip'))
        batch_op.drop_index(batch_op.f('ix_nip_claim_company_id'))
    op.drop_table('nip_claim')
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.alter_column('nip', existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_column('nip_lost_at')
        batch_op.drop_column('confirmed_at')
