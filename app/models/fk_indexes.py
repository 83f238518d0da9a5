"""Indexes led by a foreign key column, for every foreign key a query filters on or a delete cascades on.

``ON DELETE CASCADE / SET NULL / RESTRICT`` (and the RESTRICT check) look the child rows up by the
foreign key alone (``WHERE employer_id = ?``), without ``company_id``: an index that starts with
``company_id`` does not serve them, and without an index led by the column every hard delete of
the parent scans the whole child table (e.g. a contact: every contact, for ``employer_id``). A
foreign key points at one row of one company, so the same index also serves a company's query
``company_id = ? AND employer_id = ?``. Lists that filter by company and sort or range keep their
``company_id``-first indexes next to their models.

Nullable columns get a partial index (``WHERE col IS NOT NULL``): most rows have no value (no
employer, never deleted), those rows stay out of the index and writes stay cheap; an equality on
the column implies ``IS NOT NULL``, so SQLite and PostgreSQL both use it. Left out, on purpose:
FAB's ``ab_user.created_by_fk``/``changed_by_fk`` and ``ab_user_role.role_id`` (small tables whose
referenced rows are never deleted). ``tests/integration/test_sql_per_page.py`` checks that no
other foreign key is left without such an index. Migrations ``0021_ux_perf``, ``0022_fk_indexes``,
``0023_mailboxes``, ``0024_campaigns`` and ``0027_rodo`` create them.
"""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Index

#: (table, column) of every indexed foreign key
FK_INDEXES: tuple[tuple[str, str], ...] = (
    ("api_token", "user_id"),
    ("attachment", "binder_id"),
    ("attachment", "deleted_by_id"),
    ("attachment", "uploaded_by_id"),
    ("audit_event", "actor_id"),
    ("audit_event", "user_id"),
    ("binder", "contact_id"),
    ("campaign", "created_by_id"),
    ("campaign", "deleted_by_id"),
    ("campaign", "mailbox_id"),
    ("campaign_recipient", "campaign_id"),
    ("campaign_recipient", "contact_id"),
    ("binder", "created_by_id"),
    ("binder", "deleted_by_id"),
    ("client_base", "deleted_by_id"),
    ("company_export", "requested_by_id"),
    ("contact", "base_id"),
    ("contact_bulk_job", "tag_id"),
    ("contact_bulk_job", "user_id"),
    ("contact_note", "author_id"),
    ("contact_note", "contact_id"),
    ("contact_note", "deleted_by_id"),
    ("contact", "deleted_by_id"),
    ("contact", "employer_id"),
    ("contact", "owner_id"),
    ("document_email", "mailbox_id"),
    ("document_email", "sent_by_id"),
    ("import_job", "base_id"),
    ("import_job", "user_id"),
    ("invoice", "binder_id"),
    ("invoice", "buyer_contact_id"),
    ("invoice", "corrected_id"),
    ("invoice", "created_by_id"),
    ("invoice", "offer_id"),
    ("invoice", "order_id"),
    ("invoice", "series_id"),
    ("invoice_counter", "series_id"),
    ("invoice_item", "invoice_id"),
    ("invoice_item", "product_id"),
    ("invoice_payment", "created_by_id"),
    ("invoice_payment", "invoice_id"),
    ("ksef_outbox", "invoice_id"),
    ("legal_document", "created_by_id"),
    ("mailbox", "deleted_by_id"),
    ("mail_suppression", "campaign_id"),
    ("nip_claim", "handled_by_id"),
    ("nip_claim", "new_company_id"),
    ("notification", "reminder_id"),
    ("notification", "user_id"),
    ("offer", "contact_id"),
    ("payment", "created_by_id"),
    ("payment", "invoice_id"),
    ("payment_event", "payment_id"),
    ("offer", "deleted_by_id"),
    ("offer", "owner_id"),
    ("offer_item", "deleted_by_id"),
    ("offer_item", "offer_id"),
    ("offer_item", "product_id"),
    ("offer_version", "created_by_id"),
    ("offer_version", "deleted_by_id"),
    ("offer_version", "offer_id"),
    ("product", "deleted_by_id"),
    ("purchase_invoice", "seller_contact_id"),
    ("restore_request", "requested_by_id"),
    ("sales_order", "contact_id"),
    ("sales_order", "deleted_by_id"),
    ("sales_order", "offer_id"),
    ("sales_order", "owner_id"),
    ("sales_order_item", "deleted_by_id"),
    ("sales_order_item", "order_id"),
    ("sales_order_item", "product_id"),
    ("support_request", "answered_by_id"),
    ("support_request", "user_id"),
    ("tag", "deleted_by_id"),
    ("task", "binder_id"),
    ("task", "category_id"),
    ("task", "contact_id"),
    ("task", "created_by_id"),
    ("task", "deleted_by_id"),
    ("task_category", "deleted_by_id"),
    ("terms_acceptance", "document_id"),
    ("terms_acceptance", "user_id"),
)


def index_name(table: str, column: str) -> str:
    """The name of the foreign-key index of ``table.column``."""
    return f"ix_fk_{table}_{column}"


def declare() -> None:
    """Attach every foreign-key index to its table (partial over non-null values when nullable)."""
    tables = Model.metadata.tables
    for table, column in FK_INDEXES:
        col = tables[table].c[column]
        if any(ix.name == index_name(table, column) for ix in tables[table].indexes):
            continue
        where = {"sqlite_where": col.isnot(None), "postgresql_where": col.isnot(None)} if col.nullable else {}
        Index(index_name(table, column), col, **where)
