"""personal API tokens

Revision ID: 0028_api
Revises: 0022_fk_indexes
Create Date: 2026-11-30 08:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0028_api'
down_revision = '0026_payments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('lookup', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=5), nullable=False),
        sa.Column('user_stamp', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_ip', sa.String(length=45), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('lookup'),
    )
    op.create_index('ix_api_token_company_user', 'api_token', ['company_id', 'user_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_api_token_company_id'), 'api_token', ['company_id'], unique=False)
    op.create_index('ix_fk_api_token_user_id', 'api_token', ['user_id'], unique=False)


def downgrade():
    op.drop_index('ix_fk_api_token_user_id', table_name='api_token')
    op.drop_index(op.f('ix_api_token_company_id'), table_name='api_token')
    op.drop_index('ix_api_token_company_user', table_name='api_token')
    op.drop_table('api_token')
