"""The owner's export of all the company's data: one ZIP (CSV and XLSX per entity plus the files), built in
the background, with a download link; only that company's data; owner only; reachable with an expired licence."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import text

from app.extensions import db
from app.models import Attachment, Company
from app.security.tenancy import tenant_scope
from app.services.platform import company_export
from app.services.work.attachments import get_storage
from tests.helpers import find, links, login, table_rows, texts
from tests.integration.contacts_data import make_base, make_contact, make_tag
from tests.integration.test_polish_pages import assert_polish

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _seed(app: Any, info: dict, name: str) -> dict:
    """A base, a contact with a tag, a stored file and a logo for one company."""
    company_id = info["company_id"]
    base_id = make_base(app, company_id, f"Baza {name}")
    contact_id = make_contact(app, company_id, base_id, kind="company", name=name)
    tag_id = make_tag(app, company_id, f"Tag {name}")
    with app.app_context(), tenant_scope(company_id):
        db.session.execute(text("INSERT INTO contact_tag (contact_id, tag_id) VALUES (:c, :t)"),
                           {"c": contact_id, "t": tag_id})
        key = f"{company_id}/attachments/export/{contact_id}"
        get_storage().put(key, f"umowa {name}".encode())
        db.session.add(Attachment(owner_type="contact", owner_id=contact_id, filename="umowa.pdf", size=10,
                                  mime="application/pdf", storage_key=key))
        company = db.session.get(Company, company_id)
        company.logo, company.logo_mime = PNG, "image/png"
        db.session.commit()
        db.session.remove()
    return {"contact_id": contact_id, "tag_id": tag_id}


def _signed_in(app: Any, info: dict) -> Any:
    c = app.test_client()
    assert login(c, info["email"]).status_code == 302
    return c


def _export(app: Any, c: Any) -> zipfile.ZipFile:
    """Ask for an export, wait for the background job, download the ZIP from the link on the page."""
    page = c.get("/settings/export/").get_data(as_text=True)
    token = find(page, '#export-form input[name="csrf_token"]')[0].get("value")
    assert c.post("/settings/export/", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        export_id = db.session.execute(text("SELECT max(id) FROM company_export")).scalar_one()
        db.session.remove()
    company_export.wait(export_id)
    page = c.get("/settings/export/").get_data(as_text=True)
    assert table_rows(page, "#exports")[0][2] == "Gotowy"
    assert_polish(page, "/settings/export/")
    resp = c.get(links(page, "a.export-download")[0])
    assert resp.status_code == 200
    assert resp.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(resp.data))


def _csv(zf: zipfile.ZipFile, name: str) -> list[dict]:
    with zf.open(f"csv/{name}.csv") as fh:
        return list(csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8-sig"), delimiter=";"))


def test_export_holds_every_entity_as_csv_and_xlsx_and_the_files(app, make_company, monkeypatch):
    a, b = make_company("Alfa Sp. z o.o."), make_company("Beta S.A.")
    seeded = _seed(app, a, "Klient Alfy")
    _seed(app, b, "Tajny Klient Bety")
    c = _signed_in(app, a)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # the export form carries its token
    zf = _export(app, c)
    names = set(zf.namelist())
    for entity in ("company", "users", "client_base", "contact", "tag", "contact_tag", "attachment", "audit_event"):
        assert f"csv/{entity}.csv" in names, entity
        assert f"xlsx/{entity}.xlsx" in names, entity
    assert "README.txt" in names and "Eksport wszystkich danych firmy Alfa" in zf.read("README.txt").decode()
    contacts = _csv(zf, "contact")
    assert [r["name"] for r in contacts] == ["Klient Alfy"]
    assert _csv(zf, "contact_tag") == [{"contact_id": str(seeded["contact_id"]), "tag_id": str(seeded["tag_id"])}]
    users = _csv(zf, "users")
    assert [u["email"] for u in users] == [a["email"]]
    assert "password" not in users[0] and "totp_secret" not in users[0]
    assert [r["name"] for r in _csv(zf, "company")] == ["Alfa Sp. z o.o."]
    wb = load_workbook(io.BytesIO(zf.read("xlsx/contact.xlsx")), read_only=True)
    cells = [row for row in wb.active.iter_rows(values_only=True)]
    assert "Klient Alfy" in cells[1]
    files = [n for n in names if n.startswith("files/attachments/")]
    assert len(files) == 1 and files[0].endswith("-umowa.pdf")
    assert zf.read(files[0]) == "umowa Klient Alfy".encode()
    assert zf.read("files/logo.png") == PNG
    everything = b"".join(zf.read(n) for n in names if n.startswith("csv/"))
    assert "Tajny Klient Bety".encode() not in everything and b"Beta S.A." not in everything


def test_another_company_cannot_see_or_download_the_export(app, make_company):
    a, b = make_company(), make_company()
    _seed(app, a, "Klient Alfy")
    ca = _signed_in(app, a)
    _export(app, ca)
    with app.app_context():
        export_id = db.session.execute(text("SELECT id FROM company_export")).scalar_one()
        db.session.remove()
    cb = _signed_in(app, b)
    assert cb.get(f"/settings/export/{export_id}/download").status_code == 404
    assert table_rows(cb.get("/settings/export/").get_data(as_text=True), "#exports") == [["Brak eksportów."]]
    assert ca.get(f"/settings/export/{export_id}/download").status_code == 200


def test_only_the_owner_may_export(app, make_company, add_employee):
    a = make_company()
    emp = add_employee(a["owner_id"], "kierownik@firma1.pl", role="Manager")
    c = _signed_in(app, emp)
    assert c.get("/settings/export/").status_code == 403
    assert c.post("/settings/export/", data={}).status_code == 403
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM company_export")).scalar_one() == 0
        db.session.remove()


def test_second_export_waits_for_the_first(app, make_company):
    a = make_company()
    c = _signed_in(app, a)
    with app.app_context(), tenant_scope(a["company_id"]):
        db.session.execute(text("INSERT INTO company_export (company_id, status, created_at, updated_at) "
                                "VALUES (:c, 'running', :now, :now)"), {"c": a["company_id"], "now": dt.datetime.now()})
        db.session.commit()
        db.session.remove()
    page = c.post("/settings/export/", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Eksport jest już przygotowywany. Poczekaj, aż będzie gotowy." in texts(page, ".alert")[0]
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM company_export")).scalar_one() == 1
        db.session.remove()


def test_export_works_with_an_expired_licence(app, make_company):
    a = make_company()
    _seed(app, a, "Klient Alfy")
    with app.app_context():
        company = db.session.get(Company, a["company_id"])
        company.licence_valid_until = dt.date.today() - dt.timedelta(days=10)
        db.session.commit()
        db.session.remove()
    c = _signed_in(app, a)
    zf = _export(app, c)
    assert [r["name"] for r in _csv(zf, "contact")] == ["Klient Alfy"]
