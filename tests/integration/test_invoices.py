"""Invoices through the forms: draft, "Wystaw" (number + FA(3) XML + PDF), totals, series, split payment,
currencies, corrections, proformas, cancelling, from an order or an accepted offer."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal as D

import pytest
from lxml import etree

from app.extensions import db
from app.models import Company
from app.models.binders import Attachment
from app.models.invoicing import Invoice, InvoiceSeries
from app.security.tenancy import tenant_scope
from app.services.invoicing import fa3
from tests.integration.invoices_fixtures import create, invoice_form, seed_invoicing
from tests.integration.sales_fixtures import pdf_text

NS = {"fa": fa3.NAMESPACE}


@pytest.fixture()
def seed(app, owner_client):
    return seed_invoicing(app, owner_client.crm)


def _inv(app, seed, invoice_id):
    with app.app_context(), tenant_scope(seed["company_id"]):
        inv = db.session.get(Invoice, invoice_id)
        db.session.expunge(inv)
        return inv


def _xml(client, invoice_id):
    resp = client.get(f"/invoices/{invoice_id}/xml")
    assert resp.status_code == 200
    assert fa3.validate(resp.data) == []
    return resp.data, etree.fromstring(resp.data)


def test_issue_from_scratch_number_xml_pdf_and_totals(app, owner_client, seed):
    invoice_id = create(owner_client, seed)
    draft = _inv(app, seed, invoice_id)
    assert draft.status == "draft" and draft.number is None and draft.xml is None
    # totals through the form: 4050.00 @23, 124.25 @8, 3600.00 zw
    assert (draft.total_net, draft.total_vat, draft.total_gross) == (D("7774.25"), D("941.44"), D("8715.69"))
    resp = owner_client.post(f"/invoices/{invoice_id}/issue", data={})
    assert resp.status_code == 302
    inv = _inv(app, seed, invoice_id)
    today = dt.date.today()
    assert inv.status == "issued" and inv.number == f"FV/1/{today:%m}/{today:%Y}"
    assert inv.xml_sha256 == hashlib.sha256(inv.xml).hexdigest()
    data, root = _xml(owner_client, invoice_id)
    assert data == inv.xml  # the exact stored bytes
    assert root.findtext(".//fa:P_2", namespaces=NS) == inv.number
    assert root.findtext(".//fa:P_15", namespaces=NS) == "8715.69"
    assert root.findtext(".//fa:P_19A", namespaces=NS) == "art. 43 ust. 1 pkt 29 lit. a ustawy o VAT"
    pdf = owner_client.get(f"/invoices/{invoice_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data).replace("\u00a0", " ")
    for expected in (inv.number, "FAKTURA VAT", "Źródło Wód Gęślą Jaźń", "5260250274", "Wdrożenie systemu",
                     "8 715,69", "osiem tysięcy siedemset piętnaście złotych", "Strona 1 z 1",
                     "PL61 1090 1014 0000 0712 1981 2874", "Przelew"):
        assert expected in text, expected
    assert "mechanizm podzielonej płatności" not in text
    with app.app_context(), tenant_scope(seed["company_id"]):
        att = db.session.query(Attachment).filter_by(owner_type="invoice", owner_id=invoice_id).one()
        assert att.binder_id == seed["binder_id"]  # the client's binder
    page = owner_client.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert inv.number in page and "8\u00a0715,69" in page


def test_save_and_issue_in_one_go_and_numbers_follow(app, owner_client, seed):
    first = create(owner_client, seed, issue=True)
    second = create(owner_client, seed, issue=True)
    today = dt.date.today()
    assert _inv(app, seed, first).number == f"FV/1/{today:%m}/{today:%Y}"
    assert _inv(app, seed, second).number == f"FV/2/{today:%m}/{today:%Y}"
    draft = create(owner_client, seed)
    assert _inv(app, seed, draft).number is None  # drafts take no number


def test_seller_without_nip_is_refused_with_a_pointer_to_the_settings(app, owner_client, seed):
    with app.app_context(), tenant_scope(seed["company_id"]):
        db.session.get(Company, seed["company_id"]).nip = None
        db.session.commit()
    resp = owner_client.get("/invoices/add", follow_redirects=True)
    assert "Dane firmy" in resp.get_data(as_text=True) and "NIP" in resp.get_data(as_text=True)
    resp = owner_client.post("/invoices/add", data=invoice_form(seed))
    assert resp.status_code == 200 and "Dane firmy" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.query(Invoice).count() == 0


def test_mailing_base_contact_is_refused_as_buyer(app, owner_client, seed):
    resp = owner_client.post("/invoices/add", data=invoice_form(seed, contact_id=str(seed["mailing_contact_id"])))
    assert resp.status_code == 200
    assert "bazy mailingowej" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.query(Invoice).count() == 0


def test_split_payment_on_pdf_and_p18a(app, owner_client, seed):
    invoice_id = create(owner_client, seed, issue=True, item_name=["Stal zbrojeniowa"], item_unit=["t"],
                        item_quantity=["5"], item_unit_price=["3000"], item_discount=["0"], item_rate=["23"],
                        item_annex15=["1"])
    inv = _inv(app, seed, invoice_id)
    assert inv.total_gross == D("18450.00") and inv.split_payment
    _, root = _xml(owner_client, invoice_id)
    assert root.findtext(".//fa:Adnotacje/fa:P_18A", namespaces=NS) == "1"
    text = pdf_text(owner_client.get(f"/invoices/{invoice_id}/pdf").data)
    assert "mechanizm podzielonej płatności" in text


def test_no_split_payment_under_threshold_or_without_annex(app, owner_client, seed):
    invoice_id = create(owner_client, seed, issue=True, item_name=["Usługa"], item_quantity=["1"],
                        item_unit_price=["20000"], item_unit=["usł."], item_discount=["0"], item_rate=["23"],
                        item_annex15=["0"])
    _, root = _xml(owner_client, invoice_id)
    assert root.findtext(".//fa:Adnotacje/fa:P_18A", namespaces=NS) == "2"


def test_eur_invoice_with_nbp_rate_and_vat_in_pln(app, owner_client, seed):
    invoice_id = create(owner_client, seed, issue=True, currency="EUR", exchange_rate="4,2512",
                        exchange_table="123/A/NBP/2026", exchange_date=(dt.date.today() - dt.timedelta(days=1)).isoformat(),
                        item_name=["Consulting"], item_unit=["h"], item_quantity=["10"], item_unit_price=["100"],
                        item_discount=["0"], item_rate=["23"], item_annex15=["0"])
    inv = _inv(app, seed, invoice_id)
    assert inv.currency == "EUR" and inv.total_vat == D("230.00") and inv.total_vat_pln == D("977.78")
    _, root = _xml(owner_client, invoice_id)
    assert root.findtext(".//fa:KodWaluty", namespaces=NS) == "EUR"
    assert root.findtext(".//fa:P_14_1W", namespaces=NS) == "977.78"
    text = pdf_text(owner_client.get(f"/invoices/{invoice_id}/pdf").data).replace("\u00a0", " ")
    assert "977,78" in text and "4.2512" in text or "4,2512" in text


def test_foreign_currency_needs_the_nbp_rate(app, owner_client, seed):
    resp = owner_client.post("/invoices/add", data=invoice_form(seed, currency="EUR"))
    assert resp.status_code == 200 and "Kurs NBP" in resp.get_data(as_text=True)


def test_reverse_charge_and_exempt_person_buyer_xml_valid(app, owner_client, seed):
    oo = create(owner_client, seed, issue=True, item_name=["Roboty budowlane"], item_unit=["usł."],
                item_quantity=["1"], item_unit_price=["1000"], item_discount=["0"], item_rate=["oo"],
                item_annex15=["0"])
    _, root = _xml(owner_client, oo)
    assert root.findtext(".//fa:P_13_10", namespaces=NS) == "1000.00"
    assert "odwrotne obciążenie" in pdf_text(owner_client.get(f"/invoices/{oo}/pdf").data)
    person = create(owner_client, seed, issue=True, contact_id=str(seed["person_id"]))
    _, root = _xml(owner_client, person)
    assert root.find(".//fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:BrakID", namespaces=NS) is not None


def test_exempt_without_basis_is_refused_on_issue(app, owner_client, seed):
    invoice_id = create(owner_client, seed, exemption_basis="")
    resp = owner_client.post(f"/invoices/{invoice_id}/issue", follow_redirects=True)
    assert "podstawę prawną" in resp.get_data(as_text=True) or "podstawy prawnej" in resp.get_data(as_text=True)
    inv = _inv(app, seed, invoice_id)
    assert inv.status == "draft" and inv.number is None
    with app.app_context(), tenant_scope(seed["company_id"]):
        # the refused issue took no number: the next one is 1
        from app.models.invoicing import InvoiceCounter

        assert db.session.query(InvoiceCounter).count() == 0


def test_correction_before_after_difference_own_series(app, owner_client, seed):
    original = create(owner_client, seed, issue=True)
    resp = owner_client.post(f"/invoices/{original}/correct", data={"reason": "Rabat posprzedażowy"})
    assert resp.status_code == 302 and "/edit" in resp.headers["Location"]
    corr_id = int(resp.headers["Location"].split("/")[-2])
    data = invoice_form(seed, reason="Rabat posprzedażowy", item_unit_price=["4000,00", "35.50", "1800"], then_issue="1")
    resp = owner_client.post(f"/invoices/{corr_id}/edit", data=data)
    assert resp.status_code == 302
    corr = _inv(app, seed, corr_id)
    orig = _inv(app, seed, original)
    assert corr.kind == "correction" and corr.status == "issued"
    assert corr.number == f"KOR/1/{dt.date.today():%Y}"
    # 1 x 4000 - 10 % = 3600 instead of 4050: -450 net, -103.50 VAT
    assert (corr.total_net, corr.total_vat, corr.total_gross) == (D("-450.00"), D("-103.50"), D("-553.50"))
    _, root = _xml(owner_client, corr_id)
    assert root.findtext(".//fa:RodzajFaktury", namespaces=NS) == "KOR"
    assert root.findtext(".//fa:DaneFaKorygowanej/fa:NrFaKorygowanej", namespaces=NS) == orig.number
    assert root.findtext(".//fa:PrzyczynaKorekty", namespaces=NS) == "Rabat posprzedażowy"
    text = pdf_text(owner_client.get(f"/invoices/{corr_id}/pdf").data).replace("\u00a0", " ")
    for expected in ("FAKTURA KORYGUJĄCA", orig.number, "Przed korektą", "Po korekcie", "Różnica", "-553,50",
                     "Rabat posprzedażowy"):
        assert expected in text, expected


def test_proforma_own_series_no_xml_then_invoice(app, owner_client, seed):
    pro = create(owner_client, seed, issue=True, kind="proforma")
    inv = _inv(app, seed, pro)
    assert inv.kind == "proforma" and inv.number == f"PRO/1/{dt.date.today():%Y}" and inv.xml is None
    assert owner_client.get(f"/invoices/{pro}/xml").status_code == 404
    assert "PROFORMA" in pdf_text(owner_client.get(f"/invoices/{pro}/pdf").data)
    resp = owner_client.post(f"/invoices/{pro}/from-proforma", data={})
    assert resp.status_code == 302
    vat_id = int(resp.headers["Location"].split("/")[-2])
    vat = _inv(app, seed, vat_id)
    assert vat.kind == "vat" and vat.status == "draft" and vat.total_gross == inv.total_gross
    owner_client.post(f"/invoices/{vat_id}/issue")
    today = dt.date.today()
    assert _inv(app, seed, vat_id).number == f"FV/1/{today:%m}/{today:%Y}"  # the VAT series is untouched by PRO


def test_cancel_keeps_the_number_and_never_deletes(app, owner_client, seed):
    first = create(owner_client, seed, issue=True)
    owner_client.post(f"/invoices/{first}/cancel")
    inv = _inv(app, seed, first)
    assert inv.status == "cancelled" and inv.number.startswith("FV/1/")
    second = create(owner_client, seed, issue=True)
    assert _inv(app, seed, second).number.startswith("FV/2/")
    # an issued invoice has no delete
    owner_client.post(f"/invoices/{second}/delete")
    assert _inv(app, seed, second).status == "issued"
    page = owner_client.get(f"/invoices/{first}").get_data(as_text=True)
    assert "Anulowana" in page


def test_accepted_by_ksef_is_frozen(app, owner_client, seed):
    invoice_id = create(owner_client, seed, issue=True)
    with app.app_context(), tenant_scope(seed["company_id"]):
        inv = db.session.get(Invoice, invoice_id)
        inv.ksef_status, inv.ksef_number = "accepted", "5265877635-20260101-0100A0B0C0D0-0E"
        db.session.commit()
    owner_client.post(f"/invoices/{invoice_id}/cancel", follow_redirects=True)
    assert _inv(app, seed, invoice_id).status == "issued"
    resp = owner_client.get(f"/invoices/{invoice_id}/edit", follow_redirects=True)
    assert "korekt" in resp.get_data(as_text=True).lower()
    resp = owner_client.post(f"/invoices/{invoice_id}/edit", data=invoice_form(seed, item_unit_price=["1", "1", "1"]))
    assert _inv(app, seed, invoice_id).total_gross == D("8715.69")


def test_from_order_and_accepted_offer_copy_items(app, owner_client, seed):
    from tests.integration.sales_fixtures import offer_form

    resp = owner_client.post("/offers/add", data=offer_form(seed))
    offer_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    refused = owner_client.post(f"/invoices/from-offer/{offer_id}")
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/offers/{offer_id}")
    page = owner_client.get(refused.headers["Location"])
    assert page.status_code == 200 and "tylko z zaakceptowanej oferty" in page.get_data(as_text=True)
    owner_client.post(f"/offers/{offer_id}/status", data={"status": "accepted"})
    resp = owner_client.post(f"/invoices/from-offer/{offer_id}")
    assert resp.status_code == 302 and "/edit" in resp.headers["Location"]
    inv = _inv(app, seed, int(resp.headers["Location"].split("/")[-2]))
    assert inv.offer_id == offer_id and inv.total_gross == D("8940.64")
    resp = owner_client.post(f"/orders/from-offer/{offer_id}")
    order_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    resp = owner_client.post(f"/invoices/from-order/{order_id}")
    inv = _inv(app, seed, int(resp.headers["Location"].split("/")[-2]))
    assert inv.order_id == order_id and inv.total_gross == D("8940.64")


def test_series_settings_pattern_validated_and_used(app, owner_client, seed):
    resp = owner_client.post("/settings/invoice-series/add", data={"name": "Zła", "kind": "vat",
                                                                   "pattern": "FV/{MM}/{YYYY}", "reset": "monthly"})
    assert resp.status_code == 200 and "{n}" in resp.get_data(as_text=True)
    resp = owner_client.post("/settings/invoice-series/add", data={"name": "Miesięczna", "kind": "vat",
                                                                   "pattern": "F/{n}/{YYYY}", "reset": "monthly"})
    assert resp.status_code == 200 and "{MM}" in resp.get_data(as_text=True)
    resp = owner_client.post("/settings/invoice-series/add", data={"name": "Sklep", "kind": "vat",
                                                                   "pattern": "S/{YYYY}/{n}", "reset": "yearly",
                                                                   "is_default": "y"})
    assert resp.status_code == 302
    invoice_id = create(owner_client, seed, issue=True)
    assert _inv(app, seed, invoice_id).number == f"S/{dt.date.today():%Y}/1"
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert [s.name for s in db.session.query(InvoiceSeries).all()] == ["Sklep"]


def test_offer_and_order_pages_offer_issue_an_invoice(app, owner_client, seed):
    from tests.integration.sales_fixtures import offer_form

    resp = owner_client.post("/offers/add", data=offer_form(seed))
    offer_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert 'id="make-invoice"' not in owner_client.get(f"/offers/{offer_id}").get_data(as_text=True)
    owner_client.post(f"/offers/{offer_id}/status", data={"status": "accepted"})
    page = owner_client.get(f"/offers/{offer_id}").get_data(as_text=True)
    assert 'id="make-invoice"' in page and "Wystaw fakturę" in page
    resp = owner_client.post(f"/orders/from-offer/{offer_id}")
    order_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert f"/invoices/from-order/{order_id}" in owner_client.get(f"/orders/{order_id}").get_data(as_text=True)
