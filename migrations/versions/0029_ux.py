"""contact counts read from partial indexes of live rows (no row look-up per contact)

Revision ID: 0029_ux
Revises: 0022_fk_indexes
Create Date: 2026-11-30 08:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0029_ux'
down_revision = '0028_api'
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
INDEXES = (
    ("ix_contact_company_live", ["company_id", "id"]),
    ("ix_contact_company_base_live", ["company_id", "base_id", "id"]),
)


def upgrade():
    for name, columns in INDEXES:
        op.create_index(name, "contact", columns, unique=False, sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade():
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="contact")
