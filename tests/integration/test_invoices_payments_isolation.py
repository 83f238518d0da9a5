"""Invoices: concurrent numbering, payments and overdue, the reminder over real SMTP, lists and exports,
tenant isolation, Polish pages."""

from __future__ import annotations

import datetime as dt
import io
import threading
import zipfile
from decimal import Decimal as D

import pytest

from app.extensions import db
from app.models.invoicing import Invoice, InvoicePayment
from app.security.tenancy import tenant_scope
from app.services.invoicing import invoices as svc
from app.services.invoicing import payments
from tests.helpers import login
from tests.integration.invoices_fixtures import create, invoice_form, seed_invoicing
from tests.integration.test_polish_pages import assert_polish


@pytest.fixture()
def seed(app, owner_client):
    return seed_invoicing(app, owner_client.crm)


def _inv(app, seed, invoice_id):
    with app.app_context(), tenant_scope(seed["company_id"]):
        inv = db.session.get(Invoice, invoice_id)
        db.session.expunge(inv)
        return inv


def test_concurrent_issues_get_consecutive_numbers_without_gaps(app, owner_client, seed):
    ids = [create(owner_client, seed) for _ in range(5)]
    errors: list[BaseException] = []

    def issue(invoice_id: int) -> None:
        try:
            with app.app_context(), tenant_scope(seed["company_id"]):
                svc.issue(seed["company_id"], None, invoice_id)
                db.session.remove()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=issue, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    today = dt.date.today()
    numbers = sorted(_inv(app, seed, i).seq_number for i in ids)
    assert numbers == [1, 2, 3, 4, 5]
    assert {_inv(app, seed, i).number for i in ids} == {f"FV/{n}/{today:%m}/{today:%Y}" for n in range(1, 6)}


def test_partial_then_full_payment_and_unpaid_list(app, owner_client, seed):
    invoice_id = create(owner_client, seed, issue=True)
    resp = owner_client.post(f"/invoices/{invoice_id}/payment", data={"amount": "9000", "paid_on": "", "method": "transfer"},
                             follow_redirects=True)
    assert "pozostałe do zapłaty" in resp.get_data(as_text=True)
    owner_client.post(f"/invoices/{invoice_id}/payment", data={"amount": "1000,00", "method": "cash", "paid_on": ""})
    inv = _inv(app, seed, invoice_id)
    assert inv.paid_amount == D("1000.00") and inv.balance == D("7715.69") and inv.paid_at is None
    page = owner_client.get("/invoices/unpaid").get_data(as_text=True)
    assert inv.number in page and "7\u00a0715,69" in page
    contact = owner_client.get(f"/contacts/{seed['client_id']}").get_data(as_text=True)
    assert "7\u00a0715,69" in contact
    owner_client.post(f"/invoices/{invoice_id}/payment", data={"amount": "7715,69", "method": "transfer", "paid_on": ""})
    inv = _inv(app, seed, invoice_id)
    assert inv.balance == 0 and inv.paid_at == dt.date.today()
    assert inv.number not in owner_client.get("/invoices/unpaid").get_data(as_text=True)
    assert inv.number in owner_client.get("/invoices/?status=paid").get_data(as_text=True)


def test_overdue_filter_and_daily_reminder_over_smtp(app, owner_client, seed, mail_outbox):
    late = create(owner_client, seed, issue=True, due_date=dt.date.today().isoformat())
    on_time = create(owner_client, seed, issue=True)
    with app.app_context(), tenant_scope(seed["company_id"]):
        db.session.get(Invoice, late).due_date = dt.date.today() - dt.timedelta(days=3)
        db.session.commit()
    late_no, on_time_no = _inv(app, seed, late).number, _inv(app, seed, on_time).number
    page = owner_client.get("/invoices/?status=overdue&partial=1").get_data(as_text=True)
    assert late_no in page and on_time_no not in page
    with app.app_context():
        assert payments.send_overdue_reminders() == 1
    assert len(mail_outbox) == 1
    msg = mail_outbox[0]
    assert msg["To"] == seed["email"] and "Przeterminowane faktury: 1" in msg["Subject"]
    body = msg.get_content()
    assert late_no in body and on_time_no not in body and "3 dni temu" in body


def test_search_month_filter_and_exports(app, owner_client, seed):
    first = create(owner_client, seed, issue=True)
    create(owner_client, seed, issue=True, contact_id=str(seed["person_id"]))
    number = _inv(app, seed, first).number
    rows = owner_client.get("/invoices/?q=Kowalski&partial=1").get_data(as_text=True)
    assert "Jan Kowalski" in rows and number not in rows
    assert number in owner_client.get("/invoices/?q=5260250274&partial=1").get_data(as_text=True)
    assert number in owner_client.get(f"/invoices/?q={number}").get_data(as_text=True)
    month = dt.date.today().strftime("%Y-%m")
    csv = owner_client.get(f"/invoices/export.csv?month={month}")
    assert csv.status_code == 200 and number in csv.get_data(as_text=True) and "8715,69" in csv.get_data(as_text=True)
    zipped = owner_client.get(f"/invoices/export.zip?month={month}")
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert number.replace("/", "_") + ".xml" in names and len(names) == 2
    assert zipfile.ZipFile(io.BytesIO(zipped.data)).read(names[0]) == _inv(app, seed, first).xml or len(names) == 2


def test_other_company_sees_nothing_and_gets_404(app, owner_client, seed, make_company, client):
    invoice_id = create(owner_client, seed, issue=True)
    number = _inv(app, seed, invoice_id).number
    other = make_company("Obca Sp. z o.o.")
    other_seed = seed_invoicing(app, other, suffix=" B")
    login(client, other["email"])
    for url in (f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/edit", f"/invoices/{invoice_id}/pdf",
                f"/invoices/{invoice_id}/xml"):
        assert client.get(url).status_code == 404, url
    for url in (f"/invoices/{invoice_id}/payment", f"/invoices/{invoice_id}/issue", f"/invoices/{invoice_id}/cancel",
                f"/invoices/{invoice_id}/correct"):
        assert client.post(url, data={"amount": "1", "method": "cash", "reason": "x"}).status_code == 404, url
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.query(InvoicePayment).count() == 0
        assert db.session.get(Invoice, invoice_id).status == "issued"
    month = dt.date.today().strftime("%Y-%m")
    for url in ("/invoices/", f"/invoices/?q={number}&partial=1", "/invoices/unpaid",
                f"/invoices/export.csv?month={month}"):
        assert number not in client.get(url).get_data(as_text=True), url
    assert zipfile.ZipFile(io.BytesIO(client.get(f"/invoices/export.zip?month={month}").data)).namelist() == []
    # the buyer picker refuses a foreign contact and a mailing-base contact
    resp = client.post("/invoices/add", data=invoice_form(other_seed, contact_id=str(seed["client_id"])))
    assert resp.status_code == 200
    resp = client.post("/invoices/add", data=invoice_form(other_seed, contact_id=str(other_seed["mailing_contact_id"])))
    assert resp.status_code == 200
    with app.app_context(), tenant_scope(other["company_id"]):
        assert db.session.query(Invoice).count() == 0


def test_employee_sees_invoices_but_cannot_issue(app, owner_client, seed, add_employee, client):
    invoice_id = create(owner_client, seed, issue=True)
    emp = add_employee(seed["owner_id"], "kasia@firma.pl")
    login(client, emp["email"])
    assert client.get(f"/invoices/{invoice_id}").status_code == 200
    assert client.get(f"/invoices/{invoice_id}/pdf").status_code == 200
    assert client.get("/invoices/add").status_code in (302, 403)
    client.post(f"/invoices/{invoice_id}/cancel")
    assert _inv(app, seed, invoice_id).status == "issued"
    assert client.get("/settings/invoice-series/").status_code in (302, 403)


def test_invoice_pages_are_polish(app, owner_client, seed):
    invoice_id = create(owner_client, seed, issue=True)
    draft = create(owner_client, seed)
    for url in ("/invoices/", "/invoices/add", "/invoices/add?kind=proforma", f"/invoices/{invoice_id}",
                f"/invoices/{draft}/edit", "/invoices/unpaid", "/settings/invoice-series/",
                "/settings/invoice-series/add", f"/contacts/{seed['client_id']}"):
        resp = owner_client.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.get_data(as_text=True), url)
