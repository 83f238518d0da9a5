"""foreign-key indexes of the tables added with the client card and bulk actions

Revision ID: 0022_fk_indexes
Revises: 0021_ux_perf
Create Date: 2026-11-30 07:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0022_fk_indexes'
down_revision = '0021_ux_perf'
branch_labels = None
depends_on = None

#: (table, column, nullable): the same rule as app/models/fk_indexes.py
FK_INDEXES = (
    ("contact_bulk_job", "tag_id", True),
    ("contact_bulk_job", "user_id", True),
    ("contact_note", "author_id", True),
    ("contact_note", "contact_id", False),
    ("contact_note", "deleted_by_id", True),
)


def upgrade():
    for table, column, nullable in FK_INDEXES:
        where = sa.text(f"{column} IS NOT NULL") if nullable else None
        op.create_index(f"ix_fk_{table}_{column}", table, [column], unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade():
    for table, column, _nullable in FK_INDEXES:
        op.drop_index(f"ix_fk_{table}_{column}", table_name=table)
