"""Corrections ("Korekta") of issued invoices, and invoices issued from proformas.

A correction is a draft that copies the corrected invoice's parties and currency, keeps its lines
as "before" (``InvoiceItem.before``) and starts its lines "after" as a copy to edit; issuing it
takes a number of the correction series. Its totals are the difference (after minus before).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.invoicing import Invoice, InvoiceItem
from app.services import DomainError, clock, inputs, unit_of_work
from app.services import validators as v
from app.services.invoicing import invoices as inv_svc

COPIED = ("seller_name", "seller_nip", "seller_street", "seller_postal_code", "seller_city", "bank_account",
          "buyer_contact_id", "buyer_name", "buyer_nip", "buyer_street", "buyer_postal_code", "buyer_city",
          "buyer_country", "currency", "exchange_rate", "exchange_table", "exchange_date", "payment_method",
          "exemption_basis", "binder_id", "place_of_issue", "order_id", "offer_id")
LINE_FIELDS = ("name", "unit", "quantity", "unit_net", "discount", "rate_code", "annex15", "net")


def can_correct(invoice: Invoice) -> bool:
    """Whether "Korekta" is offered: an issued VAT invoice."""
    return invoice.kind == "vat" and invoice.status == "issued"


@unit_of_work
def create_correction(company_id: int, user: Any, invoice_id: int, reason: Any) -> Invoice:
    """A correction draft of an issued VAT invoice: its lines before, the same lines after (to edit)."""
    original = inv_svc.get_invoice(company_id, invoice_id)
    if original is None:
        raise DomainError(_l("This invoice does not exist."))
    if not can_correct(original):
        raise DomainError(_l("Only an issued VAT invoice can be corrected."))
    text = v.clean_text(reason, "reason", _l("Reason for the correction"), 256, required=True)
    today = clock.local_today()
    correction = Invoice(company_id=company_id, kind="correction", status="draft", corrected_id=original.id,
                         correction_reason=text, issue_date=today, sale_date=original.sale_date,
                         due_date=original.due_date if original.due_date and original.due_date >= today else today,
                         created_by_id=getattr(user, "id", None),
                         **{name: getattr(original, name) for name in COPIED})
    db.session.add(correction)
    items = inv_svc.after_items(original)
    for before in (True, False):
        for pos, item in enumerate(items, start=1):
            correction.items.append(InvoiceItem(
                company_id=company_id, before=before, position=pos + (0 if before else len(items)),
                **{name: getattr(item, name) for name in LINE_FIELDS}))
    inv_svc._recompute(correction)
    db.session.flush()
    return correction


def corrections_of(company_id: int, invoice_id: int) -> list[Invoice]:
    """Corrections referring to an invoice, oldest first."""
    return list(db.session.execute(
        select(Invoice).where(Invoice.company_id == company_id, Invoice.corrected_id == invoice_id)
        .order_by(Invoice.id)
    ).scalars())


@unit_of_work
def invoice_from_proforma(company_id: int, user: Any, proforma_id: int) -> Invoice:
    """"Wystaw fakturę z proformy": a VAT invoice draft with the proforma's buyer, lines and terms."""
    proforma = inv_svc.get_invoice(company_id, proforma_id)
    if proforma is None:
        raise DomainError(_l("This invoice does not exist."))
    if proforma.kind != "proforma" or proforma.status != "issued":
        raise DomainError(_l("Only an issued proforma can become an invoice."))
    data = inv_svc.form_data_of(proforma)
    today = clock.local_today()
    data.issue_date, data.sale_date, data.series_id = today, today, None
    due = inputs.parse_date(data.due_date, "due_date")
    if due is not None and due < today:
        data.due_date = today
    return inv_svc.create_draft(company_id, user, data, kind="vat", order_id=proforma.order_id,
                                offer_id=proforma.offer_id)
