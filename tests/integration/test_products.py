"""The price list ("Cennik"): add, edit, search JSON, CSV import, soft delete, tenant isolation."""

from __future__ import annotations

from decimal import Decimal as D
from io import BytesIO

from sqlalchemy import select

from app.extensions import db
from app.models import Product
from app.security.tenancy import tenant_scope
from tests.helpers import login


def _products(app, company_id):
    with app.app_context(), tenant_scope(company_id):
        return {p.code or p.name: p for p in db.session.execute(select(Product)).scalars()}


def test_add_edit_search_and_delete_product(app, owner_client):
    cid = owner_client.crm["company_id"]
    resp = owner_client.post("/offers/products/add", data={
        "name": "Usługa księgowa", "code": "KSI-1", "unit": "godz.", "net_price": "1 250,5", "currency": "PLN",
        "vat_rate": "23"})
    assert resp.status_code == 302
    p = _products(app, cid)["KSI-1"]
    assert p.net_price == D("1250.50") and p.unit == "godz."
    assert owner_client.get("/offers/products/api/search?q=księg").get_json()[0]["net_price"] == "1250.50"
    assert owner_client.get("/offers/products/api/search?q=ksi-1").get_json()[0]["code"] == "KSI-1"
    resp = owner_client.post(f"/offers/products/{p.id}/edit", data={
        "name": "Usługa księgowa", "code": "KSI-1", "unit": "godz.", "net_price": "99", "currency": "EUR", "vat_rate": "np"})
    assert resp.status_code == 302
    p = _products(app, cid)["KSI-1"]
    assert (p.net_price, p.currency, p.vat_rate) == (D("99.00"), "EUR", "np")
    assert "Usługa księgowa" in owner_client.get("/offers/products/").get_data(as_text=True)
    owner_client.post(f"/offers/products/{p.id}/delete")
    assert _products(app, cid) == {}
    assert owner_client.get(f"/offers/products/{p.id}/edit").status_code == 404


def test_bad_product_input_is_refused_in_polish(app, owner_client):
    for bad in ({"net_price": "abc"}, {"net_price": "1.234"}, {"vat_rate": "22"}, {"name": ""}, {"currency": "XXX"}):
        data = {"name": "X", "unit": "szt.", "net_price": "1", "currency": "PLN", "vat_rate": "23", **bad}
        resp = owner_client.post("/offers/products/add", data=data)
        assert resp.status_code == 200, bad
    assert _products(app, owner_client.crm["company_id"]) == {}


def test_duplicate_code_is_refused(app, owner_client):
    data = {"name": "A", "code": "K1", "unit": "szt.", "net_price": "1", "currency": "PLN", "vat_rate": "23"}
    assert owner_client.post("/offers/products/add", data=data).status_code == 302
    resp = owner_client.post("/offers/products/add", data={**data, "name": "B"})
    assert resp.status_code == 200 and "K1" in resp.get_data(as_text=True)


def test_csv_import_polish_headers_cp1250_updates_by_code_and_reports_bad_rows(app, owner_client):
    cid = owner_client.crm["company_id"]
    owner_client.post("/offers/products/add", data={
        "name": "Stara nazwa", "code": "A1", "unit": "szt.", "net_price": "1", "currency": "PLN", "vat_rate": "23"})
    csv_text = (
        "Nazwa;JM;Cena netto;Waluta;VAT;Kod\n"
        "Żółta farba;l;12,99;PLN;23%;A1\n"
        "Szkolenie BHP;usł.;300;PLN;zw;B2\n"
        "Transport;km;2,5;EUR;np;\n"
        "Zła cena;szt.;abc;PLN;23;C3\n"
        "Zły VAT;szt.;1;PLN;7;C4\n"
    )
    resp = owner_client.post("/offers/products/import", data={"file": (BytesIO(csv_text.encode("cp1250")), "cennik.csv")},
                             content_type="multipart/form-data", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Import zakończony: dodano 2, zaktualizowano 1, pominięto wierszy: 2." in page
    products = _products(app, cid)
    assert products["A1"].name == "Żółta farba" and products["A1"].net_price == D("12.99") and products["A1"].unit == "l"
    assert products["B2"].vat_rate == "zw" and products["Transport"].currency == "EUR"
    assert "C3" not in products and "C4" not in products
    assert "Wiersz 5" in page and "Wiersz 6" in page


def test_csv_without_required_columns_changes_nothing(app, owner_client):
    resp = owner_client.post("/offers/products/import", data={"file": (BytesIO(b"foo,bar\n1,2\n"), "x.csv")},
                             content_type="multipart/form-data", follow_redirects=True)
    assert resp.status_code == 200
    assert _products(app, owner_client.crm["company_id"]) == {}


def test_products_are_isolated_between_companies(app, owner_client, make_company):
    owner_client.post("/offers/products/add", data={
        "name": "Tajny produkt", "code": "T1", "unit": "szt.", "net_price": "1", "currency": "PLN", "vat_rate": "23"})
    pid = _products(app, owner_client.crm["company_id"])["T1"].id
    other = make_company("Obca")
    c = app.test_client()
    login(c, other["email"])
    assert "Tajny produkt" not in c.get("/offers/products/").get_data(as_text=True)
    assert c.get("/offers/products/api/search?q=Tajny").get_json() == []
    assert c.get(f"/offers/products/{pid}/edit").status_code == 404
    assert c.post(f"/offers/products/{pid}/delete").status_code == 404
    assert "T1" in _products(app, owner_client.crm["company_id"])
