"""invoice search on PostgreSQL: pg_trgm GIN indexes on number, lower(buyer_name) and buyer_nip

Revision ID: 0017_inv_search
Revises: 0016_inv_finish
Create Date: 2026-12-01 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_inv_search'
down_revision = '0016_inv_finish'
branch_labels = None
depends_on = None

#: number / NIP "starts with" (LIKE 'q%') and the buyer's name "contains" (lower(buyer_name) LIKE '%q%')
#: on PostgreSQL; company_id leads each index (btree_gin, created by migration 0003)
TRGM_INDEXES = {
    'ix_invoice_trgm_number': 'number',
    'ix_invoice_trgm_buyer_name': '(lower(buyer_name))',
    'ix_invoice_trgm_buyer_nip': 'buyer_nip',
}


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gin')
        for name, column in TRGM_INDEXES.items():
            op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON invoice USING gin (company_id, {column} gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in TRGM_INDEXES:
            op.execute(f'DROP INDEX IF EXISTS {name}')
