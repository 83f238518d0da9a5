"""foreign-key indexes: every foreign key filtered or cascaded on is led by its own index

Deletes (ON DELETE CASCADE / SET NULL / RESTRICT) look child rows up by the foreign key alone;
without these, e.g. every hard delete of a contact scanned the whole contact table for
``employer_id``, and the contact page's "people of this company" look-up did the same. Nullable
columns get a partial index over non-null values. See app/models/fk_indexes.py.

Revision ID: 0021_ux_perf
Revises: 0020_ux_card
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021_ux_perf'
down_revision = '0020_ux_card'
branch_labels = None
depends_on = None

#: (table, column, nullable) as in app/models/fk_indexes.py
FK_INDEXES = (
    ('attachment', 'binder_id', True),
    ('attachment', 'deleted_by_id', True),
    ('attachment', 'uploaded_by_id', True),
    ('audit_event', 'actor_id', True),
    ('audit_event', 'user_id', True),
    ('binder', 'contact_id', True),
    ('binder', 'created_by_id', True),
    ('binder', 'deleted_by_id', True),
    ('client_base', 'deleted_by_id', True),
    ('contact', 'base_id', False),
    ('contact', 'deleted_by_id', True),
    ('contact', 'employer_id', True),
    ('contact', 'owner_id', True),
    ('import_job', 'base_id', False),
    ('import_job', 'user_id', True),
    ('invoice', 'binder_id', True),
    ('invoice', 'buyer_contact_id', True),
    ('invoice', 'corrected_id', True),
    ('invoice', 'created_by_id', True),
    ('invoice', 'offer_id', True),
    ('invoice', 'order_id', True),
    ('invoice', 'series_id', True),
    ('invoice_counter', 'series_id', False),
    ('invoice_item', 'invoice_id', False),
    ('invoice_item', 'product_id', True),
    ('invoice_payment', 'created_by_id', True),
    ('invoice_payment', 'invoice_id', False),
    ('ksef_outbox', 'invoice_id', False),
    ('nip_claim', 'handled_by_id', True),
    ('nip_claim', 'new_company_id', True),
    ('notification', 'reminder_id', True),
    ('notification', 'user_id', False),
    ('offer', 'contact_id', False),
    ('offer', 'deleted_by_id', True),
    ('offer', 'owner_id', True),
    ('offer_item', 'deleted_by_id', True),
    ('offer_item', 'offer_id', False),
    ('offer_item', 'product_id', True),
    ('offer_version', 'created_by_id', True),
    ('offer_version', 'deleted_by_id', True),
    ('offer_version', 'offer_id', False),
    ('product', 'deleted_by_id', True),
    ('purchase_invoice', 'seller_contact_id', True),
    ('restore_request', 'requested_by_id', True),
    ('sales_order', 'contact_id', False),
    ('sales_order', 'deleted_by_id', True),
    ('sales_order', 'offer_id', True),
    ('sales_order', 'owner_id', True),
    ('sales_order_item', 'deleted_by_id', True),
    ('sales_order_item', 'order_id', False),
    ('sales_order_item', 'product_id', True),
    ('tag', 'deleted_by_id', True),
    ('task', 'binder_id', True),
    ('task', 'category_id', True),
    ('task', 'contact_id', True),
    ('task', 'created_by_id', True),
    ('task', 'deleted_by_id', True),
    ('task_category', 'deleted_by_id', True),
)


def upgrade():
    for table, column, nullable in FK_INDEXES:
        where = sa.text(f"{column} IS NOT NULL") if nullable else None
        op.create_index(f"ix_fk_{table}_{column}", table, [column], unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade():
    for table, column, _nullable in reversed(FK_INDEXES):
        op.drop_index(f"ix_fk_{table}_{column}", table_name=table)

