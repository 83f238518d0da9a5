"""Invoices in a real browser: purple "Faktury" -> "Nowa faktura" -> buyer from the picker -> two lines
-> "Zapisz szkic" -> "Wystaw" -> number and PDF; then "Wyślij do KSeF" against the local fake KSeF,
one run of the sender job -> the KSeF number on the page and, with the KOD I link, in the PDF."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Company
from app.security.tenancy import tenant_scope
from app.services.invoicing import ksef
from tests.browser.conftest import shot
from tests.fakes.ksef import running_fake_ksef
from tests.integration.invoices_fixtures import seed_invoicing
from tests.integration.sales_fixtures import pdf_text

TOKEN = "fake-ksef-token-browser-test"


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


@pytest.fixture()
def fake_ksef(app, monkeypatch):
    with running_fake_ksef() as (fake, url):
        monkeypatch.setitem(app.config, "KSEF_BASE_URL", url)
        yield fake


def test_new_invoice_issued_sent_to_ksef_with_number_on_page_and_pdf(page, app, make_company, fake_ksef):
    info = make_company("Źródło Faktur Sp. z o.o.")
    seed_invoicing(app, info)
    with app.app_context(), tenant_scope(info["company_id"]):
        nip = db.session.get(Company, info["company_id"]).nip
        ksef.save_settings(info["company_id"], ksef.SettingsData("test", TOKEN, False))
        db.session.remove()
    fake_ksef.tokens.setdefault(nip, set()).add(TOKEN)
    _sign_in(page, info["email"], info["password"])

    # purple "Faktury" in the left menu -> list -> "Nowa faktura"
    page.click(".crm-sidebar >> text=Faktury")
    page.wait_for_url("**/invoices/")
    page.click("#new-invoice")
    page.wait_for_url("**/invoices/add")

    # the buyer from the picker as you type (a mailing-base contact is never offered)
    page.fill("#contact_label", "Subskry")
    page.wait_for_selector("#contact-results li.empty")
    page.fill("#contact_label", "Źródło")
    page.click("#contact-results >> text=Źródło Wód Gęślą Jaźń")

    # two lines; live totals
    rows = page.locator("#items-table tbody tr.item-row")
    assert rows.count() == 1  # a new invoice starts with one empty line
    rows.nth(0).locator("[name=item_name]").fill("Wdrożenie systemu")
    rows.nth(0).locator("[name=item_quantity]").fill("2")
    rows.nth(0).locator("[name=item_unit_price]").fill("1500,00")
    page.click("#add-item")
    rows.nth(1).locator("[name=item_name]").fill("Szkolenie żółtodziobów")
    rows.nth(1).locator("[name=item_unit]").fill("dzień")
    rows.nth(1).locator("[name=item_quantity]").fill("1")
    rows.nth(1).locator("[name=item_unit_price]").fill("800")
    rows.nth(1).locator("[name=item_rate]").select_option("8")
    assert rows.count() == 2
    assert page.inner_text("#total-net") == "3\u00a0800,00"
    assert page.inner_text("#total-gross") == "4\u00a0554,00"  # 3000 + 690 VAT, 800 + 64 VAT
    shot(page, "invoices-01-form")

    page.click("#save-invoice")
    page.wait_for_url("**/invoices/*")
    assert page.inner_text("#invoice-number") == "(szkic, jeszcze bez numeru)"
    page.click("#issue-invoice")
    page.wait_for_selector(".alert-success")
    number = page.inner_text("#invoice-number")
    assert number.startswith("FV/1/")
    shot(page, "invoices-02-issued")

    # the PDF downloads
    resp = page.request.get(page.get_attribute("#invoice-pdf", "href"))
    assert resp.status == 200 and resp.body().startswith(b"%PDF")
    text = pdf_text(resp.body())
    assert number in text and "Wdrożenie systemu" in text and "4 554,00" in text.replace("\u00a0", " ")
    assert "KSeF:" not in text

    # "Wyślij do KSeF" -> the queue; one run of the sender job -> accepted
    page.click("#ksef-send")
    page.wait_for_selector(".alert-success")
    with app.app_context():
        assert ksef.send_due() == 1
    page.reload()
    ksef_number = page.inner_text("#ksef-number")
    assert len(ksef_number) == 35 and ksef_number.startswith(nip + "-")
    assert [inv["ksefNumber"] for inv in fake_ksef.accepted_invoices(nip)] == [ksef_number]
    shot(page, "invoices-03-ksef")
    resp = page.request.get(page.get_attribute("#invoice-pdf", "href"))
    text = pdf_text(resp.body())
    assert f"KSeF: {ksef_number}" in text
    assert "KOD I — zweryfikuj tę fakturę w KSeF" in text
    assert f"https://qr-test.ksef.mf.gov.pl/invoice/{nip}/" in "".join(text.split())
