"""Export of the filtered contact list: CSV for Excel (BOM, ;), XLSX, filters, tenant isolation."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.helpers import login, make_nip
from tests.integration.contacts_data import make_base, make_contact, make_tag


@pytest.fixture()
def data(app, make_company):
    a = make_company("Alfa")
    b = make_company("Beta")
    cid = a["company_id"]
    base1 = make_base(app, cid, "Klienci")
    base2 = make_base(app, cid, "Dostawcy")
    vip = make_tag(app, cid, "VIP")
    c1 = make_contact(app, cid, base1, kind="company", name="Żółta Łódź Sp. z o.o.", nip=make_nip(11),
                      city="Łódź", email="biuro@zolta.pl")
    make_contact(app, cid, base1, kind="company", name="=HYPERLINK(\"http://zly\")", city="Gdańsk",
                 phone="600100200")
    make_contact(app, cid, base2, kind="person", first_name="Jan", last_name="Świątek", city="Kraków")
    from app.extensions import db
    from app.security.tenancy import tenant_scope
    from app.services.contacts import tags

    with app.app_context(), tenant_scope(cid):
        tags.set_contact_tags(cid, c1, [vip])
        db.session.remove()
    foreign_base = make_base(app, b["company_id"], "Obcy klienci")
    make_contact(app, b["company_id"], foreign_base, kind="company", name="Obca Firma", city="Łódź")
    return {"a": a, "b": b, "base1": base1, "base2": base2, "vip": vip, "foreign_base": foreign_base}


def read_csv(resp) -> list[list[str]]:
    assert resp.status_code == 200
    assert resp.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig")), delimiter=";"))


def test_csv_opens_in_excel_with_polish_letters(client, data):
    login(client, data["a"]["email"])
    resp = client.get("/contacts/export/csv")
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    assert b";" in resp.data.splitlines()[0] and b"\r\n" in resp.data
    rows = read_csv(resp)
    header = rows[0]
    assert header[:3] == ["Typ", "Nazwa", "Imię"] and "Miejscowość" in header and "Tagi" in header
    names = [r[1] for r in rows[1:]]
    assert "Żółta Łódź Sp. z o.o." in names and "Jan Świątek" in names
    assert "Obca Firma" not in names
    zolta = next(r for r in rows[1:] if r[1].startswith("Żółta"))
    assert zolta[header.index("Miejscowość")] == "Łódź" and zolta[header.index("Tagi")] == "VIP"
    assert zolta[header.index("Baza klientów")] == "Klienci" and zolta[0] == "Firma"
    # a formula is neutralised, a phone number is left as it is
    assert "'=HYPERLINK(\"http://zly\")" in names
    assert "+48600100200" in [r[header.index("Telefon")] for r in rows[1:]]


def test_filters_base_search_and_tag(client, data):
    login(client, data["a"]["email"])

    def names(url: str) -> list[str]:
        return sorted(r[1] for r in read_csv(client.get(url))[1:])

    assert names(f"/contacts/export/csv?base_id={data['base2']}") == ["Jan Świątek"]
    assert names(f"/contacts/export/csv?base={data['base1']}&q=lodz") == ["Żółta Łódź Sp. z o.o."]
    assert names(f"/contacts/export/csv?tag={data['vip']}") == ["Żółta Łódź Sp. z o.o."]
    assert names("/contacts/export/csv?q=Kraków") == ["Jan Świątek"]
    assert names("/contacts/export/csv?q=nie-ma-takiego") == []


def test_xlsx_is_readable_by_openpyxl(client, data):
    login(client, data["a"]["email"])
    resp = client.get(f"/contacts/export/xlsx?base_id={data['base1']}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][1] == "Nazwa"
    names = sorted(r[1] for r in rows[1:])
    assert names == ["=HYPERLINK(\"http://zly\")", "Żółta Łódź Sp. z o.o."]
    # the formula-looking name is stored as text, not as a formula
    cell = next(c for c in ws.iter_rows(min_row=2) if str(c[1].value).startswith("="))[1]
    assert cell.data_type == "s"


def test_export_never_contains_another_companys_rows(client, data):
    login(client, data["b"]["email"])
    rows = read_csv(client.get("/contacts/export/csv"))
    assert [r[1] for r in rows[1:]] == ["Obca Firma"]
    assert client.get(f"/contacts/export/csv?base_id={data['base1']}").status_code == 404
    assert client.get(f"/contacts/export/xlsx?base_id={data['base1']}").status_code == 404
    assert client.get(f"/contacts/export/csv?tag={data['vip']}").status_code == 404
    assert client.get("/contacts/export/csv?base_id=abc").status_code == 404
    # the XLSX and a search matching rows of both companies hold only the user's own rows
    wb = load_workbook(io.BytesIO(client.get("/contacts/export/xlsx").data))
    assert [r[1] for r in list(wb.active.iter_rows(values_only=True))[1:]] == ["Obca Firma"]
    assert [r[1] for r in read_csv(client.get("/contacts/export/csv?q=lodz"))[1:]] == ["Obca Firma"]


def test_large_export_streams_every_row(app, client, data):
    from tests.integration.contacts_data import bulk_contacts

    bulk_contacts(app, data["a"]["company_id"], data["base2"], 2300, prefix="Masowa")
    login(client, data["a"]["email"])
    rows = read_csv(client.get(f"/contacts/export/csv?base_id={data['base2']}"))
    assert len(rows) == 1 + 2301
    assert len({r[1] for r in rows[1:]}) == 2301


def test_export_needs_login(client, data):
    resp = client.get("/contacts/export/csv")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login/?next=")
    assert b"Obca Firma" not in resp.data and "Żółta".encode() not in resp.data


def test_export_service_never_reads_another_companys_rows(app, data):
    """Called directly (a job, a script), the export filters by company even for a foreign base id."""
    from app.extensions import db
    from app.security.tenancy import tenant_scope
    from app.services.contacts import contact_export as export_svc

    bid = data["b"]["company_id"]
    with app.app_context(), tenant_scope(bid):
        assert list(export_svc.iter_contacts(bid, base_id=data["base1"])) == []
        assert [c.name for c in export_svc.iter_contacts(bid, q="lodz")] == ["Obca Firma"]
        rows = b"".join(export_svc.csv_chunks(bid, tag_id=data["vip"])).decode("utf-8-sig").splitlines()
        assert len(rows) == 1  # the header only
        db.session.remove()
