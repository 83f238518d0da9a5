"""contact search: normalised city column; pg_trgm GIN indexes on PostgreSQL

Revision ID: 0003_contacts_search
Revises: 0002_contacts
Create Date: 2026-11-28 01:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_contacts_search'
down_revision = '0002_contacts'
branch_labels = None
depends_on = None

#: substring search (LIKE '%q%') on PostgreSQL; company_id leads each index (btree_gin)
TRGM_INDEXES = {
    'ix_contact_trgm_name': 'name_sort',
    'ix_contact_trgm_email': 'email',
    'ix_contact_trgm_city': 'city_norm',
    'ix_contact_trgm_nip': 'nip',
    'ix_contact_trgm_phone': 'phone',
}


def upgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city_norm', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_contact_company_city_norm', ['company_id', 'city_norm', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gin')
        for name, column in TRGM_INDEXES.items():
            op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON contact USING gin (company_id, {column} gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in TRGM_INDEXES:
            op.execute(f'DROP INDEX IF EXISTS {name}')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_company_city_norm')
        batch_op.drop_column('city_norm')
