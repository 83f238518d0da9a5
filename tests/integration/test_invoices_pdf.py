"""The invoice PDF once KSeF has accepted the invoice: its KSeF number, the KOD I link and QR code."""

from __future__ import annotations

import base64
import hashlib

import pytest

from app.extensions import db
from app.integrations.ksef import is_valid_ksef_number, make_ksef_number
from app.models.binders import Attachment
from app.models.invoicing import Invoice
from app.security.tenancy import tenant_scope
from app.services.invoicing import invoices
from tests.integration.invoices_fixtures import create, seed_invoicing
from tests.integration.sales_fixtures import pdf_text


@pytest.fixture()
def seed(app, owner_client):
    return seed_invoicing(app, owner_client.crm)


def _flat(text: str) -> str:
    """PDF text without any white space (a long link wraps over lines in the PDF)."""
    return "".join(text.split())


def test_pdf_carries_ksef_number_and_kod_i_once_accepted(app, owner_client, seed):
    invoice_id = create(owner_client, seed, issue=True)
    before = owner_client.get(f"/invoices/{invoice_id}/pdf")
    assert before.status_code == 200
    assert "KSeF:" not in pdf_text(before.data) and "qr-test.ksef.mf.gov.pl" not in _flat(pdf_text(before.data))

    with app.app_context(), tenant_scope(seed["company_id"]):
        inv = db.session.get(Invoice, invoice_id)
        number = make_ksef_number(inv.seller_nip, inv.issue_date, "0123456789AB")
        assert is_valid_ksef_number(number)
        inv.ksef_number, inv.ksef_status = number, "accepted"
        db.session.commit()
        invoices.store_pdf(seed["company_id"], invoice_id)
        # the link as kody-qr.md builds it: seller NIP, issue date DD-MM-YYYY, Base64URL SHA-256 of the XML file
        digest = base64.urlsafe_b64encode(hashlib.sha256(inv.xml).digest()).decode().rstrip("=")
        link = f"https://qr-test.ksef.mf.gov.pl/invoice/{inv.seller_nip}/{inv.issue_date:%d-%m-%Y}/{digest}"
        html = invoices.render_html(inv)
        stored = db.session.query(Attachment).filter_by(owner_type="invoice", owner_id=invoice_id).count()
        db.session.remove()
    assert stored == 1  # the new PDF replaced the one printed on issue

    # the QR picture on the page encodes exactly that link
    assert f'src="{invoices.qr_svg(link)}"' in html
    after = owner_client.get(f"/invoices/{invoice_id}/pdf")
    assert after.status_code == 200 and after.data.startswith(b"%PDF")
    text = pdf_text(after.data)
    assert f"KSeF: {number}" in text
    assert "KOD I — zweryfikuj tę fakturę w KSeF" in text
    assert link in _flat(text)
