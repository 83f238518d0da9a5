"""subscription payments through PayU, their notified statuses, the platform operator

Revision ID: 0026_payments
Revises: 0025_plans
Create Date: 2026-11-30 08:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0026_payments'
down_revision = '0023_mailboxes'
branch_labels = None
depends_on = None

#: (table, column, nullable): the same rule as app/models/fk_indexes.py
FK_INDEXES = (
    ("payment", "created_by_id", True),
    ("payment", "invoice_id", True),
    ("payment_event", "payment_id", False),
)


def upgrade():
    op.create_table(
        'platform_operator',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id'),
    )
    op.create_table(
        'payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ext_order_id', sa.String(length=64), nullable=False),
        sa.Column('payu_order_id', sa.String(length=64), nullable=True),
        sa.Column('plan_code', sa.String(length=20), nullable=False),
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('period_start', sa.Date(), nullable=True),
        sa.Column('period_end', sa.Date(), nullable=True),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('canceled_at', sa.DateTime(), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('invoice_number', sa.String(length=60), nullable=True),
        sa.Column('invoice_mailed_at', sa.DateTime(), nullable=True),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ext_order_id', name='uq_payment_ext_order'),
        sa.UniqueConstraint('payu_order_id', name='uq_payment_payu_order'),
    )
    op.create_index('ix_payment_company_created', 'payment', ['company_id', 'created_at', 'id'], unique=False)
    op.create_index(op.f('ix_payment_company_id'), 'payment', ['company_id'], unique=False)
    op.create_table(
        'payment_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'payment_id', 'status', name='uq_payment_event_company_payment_status'),
    )
    op.create_index(op.f('ix_payment_event_company_id'), 'payment_event', ['company_id'], unique=False)
    for table, column, nullable in FK_INDEXES:
        where = sa.text(f"{column} IS NOT NULL") if nullable else None
        op.create_index(f"ix_fk_{table}_{column}", table, [column], unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade():
    for table, column, _nullable in FK_INDEXES:
        op.drop_index(f"ix_fk_{table}_{column}", table_name=table)
    op.drop_index(op.f('ix_payment_event_company_id'), table_name='payment_event')
    op.drop_table('payment_event')
    op.drop_index(op.f('ix_payment_company_id'), table_name='payment')
    op.drop_index('ix_payment_company_created', table_name='payment')
    op.drop_table('payment')
    op.drop_table('platform_operator')
