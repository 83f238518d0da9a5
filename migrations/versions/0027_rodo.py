"""RODO and support: support requests, company data exports, closing a company account

Revision ID: 0027_rodo
Revises: 0022_fk_indexes
Create Date: 2026-11-30 08:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0027_rodo'
down_revision = '0022_fk_indexes'
branch_labels = None
depends_on = None

#: (table, column, nullable): the same rule as app/models/fk_indexes.py
FK_INDEXES = (
    ("company_export", "requested_by_id", True),
    ("support_request", "answered_by_id", True),
    ("support_request", "user_id", True),
)


def upgrade():
    op.create_table(
        'support_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('attachment_key', sa.String(length=255), nullable=True),
        sa.Column('attachment_name', sa.String(length=255), nullable=True),
        sa.Column('attachment_size', sa.Integer(), nullable=True),
        sa.Column('attachment_mime', sa.String(length=120), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['answered_by_id'], ['ab_user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_support_request_company_created', 'support_request', ['company_id', 'created_at', 'id'])
    op.create_index(op.f('ix_support_request_company_id'), 'support_request', ['company_id'])
    op.create_table(
        'company_export',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('storage_key', sa.String(length=255), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.String(length=255), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['ab_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_company_export_company_created', 'company_export', ['company_id', 'created_at', 'id'])
    op.create_index(op.f('ix_company_export_company_id'), 'company_export', ['company_id'])
    for table, column, nullable in FK_INDEXES:
        where = sa.text(f"{column} IS NOT NULL") if nullable else None
        op.create_index(f"ix_fk_{table}_{column}", table, [column], unique=False,
                        sqlite_where=where, postgresql_where=where)
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closing_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('delete_after', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('delete_after')
        batch_op.drop_column('closing_requested_at')
    for table, column, _nullable in FK_INDEXES:
        op.drop_index(f"ix_fk_{table}_{column}", table_name=table)
    op.drop_index(op.f('ix_company_export_company_id'), table_name='company_export')
    op.drop_index('ix_company_export_company_created', table_name='company_export')
    op.drop_table('company_export')
    op.drop_index(op.f('ix_support_request_company_id'), table_name='support_request')
    op.drop_index('ix_support_request_company_created', table_name='support_request')
    op.drop_table('support_request')
