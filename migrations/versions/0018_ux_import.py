"""ux-import: background bulk actions on contacts (tag, untag, delete) with progress

Revision ID: 0018_ux_import
Revises: 0017_inv_search
Create Date: 2026-11-30 06:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_ux_import'
down_revision = '0017_inv_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_bulk_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=True),
    sa.Column('contact_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('deletion_id', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_bulk_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_bulk_job_company_id'), ['company_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_bulk_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_bulk_job_company_id'))
    op.drop_table('contact_bulk_job')
