"""RODO on a person's card: the export of everything held about the person (JSON and PDF) and the
irreversible anonymisation, checked on the raw database rows; isolation between companies."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from typing import Any

from sqlalchemy import select, text

from app.extensions import db
from app.integrations.storage import LocalStorage
from app.models import (
    Attachment,
    AuditEvent,
    Binder,
    ContactNote,
    ImportJob,
    Invoice,
    Notification,
    Offer,
    Task,
)
from app.security.tenancy import all_tenants, tenant_scope
from app.services.work.attachments import get_storage
from tests.helpers import csrf_token, find, login
from tests.integration.contacts_data import make_base, make_contact, make_tag
from tests.integration.sales_fixtures import pdf_text
from tests.integration.test_polish_pages import assert_polish

TODAY = dt.date(2026, 11, 20)
PERSON = {
    "kind": "person", "name": "Grzegorz Brzęczyszczykiewicz", "first_name": "Grzegorz",
    "last_name": "Brzęczyszczykiewicz", "position": "Kierownik zakupów", "pesel": "44051401458",
    "street": "ul. Chrząszczyżewoszycka 7", "postal_code": "34-100", "city": "Łękołody",
    "email": "grzegorz.b@chrzaszcz.pl", "phone": "601222333", "notes": "Woli kontakt po 16:00",
}
#: values that must not remain anywhere in the contact's rows after anonymisation
PERSONAL = ("Grzegorz", "Brzęczyszczykiewicz", "brzeczyszczykiewicz", "44051401458", "Chrząszczyżewoszycka",
            "34-100", "Łękołody", "lekolody", "grzegorz.b@chrzaszcz.pl", "601222333", "Woli kontakt",
            "Kierownik zakupów", "Targi w Kielcach", "Zgoda na e-maile", "Dzwonił w sprawie rabatu")


def _person_with_history(app: Any, company_id: int) -> dict:
    """A person with a tag, a note, a task, an offer, an issued and a draft invoice, and a file."""
    base_id = make_base(app, company_id)
    contact_id = make_contact(app, company_id, base_id, **PERSON)
    tag_id = make_tag(app, company_id, "Stały klient")
    with app.app_context(), tenant_scope(company_id):
        # the consent record (kept by the form for mailing bases; any person may hold one)
        db.session.execute(text("UPDATE contact SET consent_given_at = :at, consent_source = :src, consent_text = :txt"
                                " WHERE id = :id"), {"at": dt.datetime(2026, 1, 15), "src": "Targi w Kielcach",
                                                    "txt": "Zgoda na e-maile", "id": contact_id})
        db.session.execute(text("INSERT INTO contact_tag (contact_id, tag_id) VALUES (:c, :t)"),
                           {"c": contact_id, "t": tag_id})
        db.session.add(ContactNote(contact_id=contact_id, text="Dzwonił w sprawie rabatu"))
        db.session.add(Task(title="Oddzwonić: Grzegorz Brzęczyszczykiewicz", description="Tel. 601222333",
                            contact_id=contact_id, due_date=TODAY))
        owner_id = db.session.execute(text("SELECT id FROM ab_user WHERE company_id = :c"), {"c": company_id}).scalar()
        db.session.add(Notification(user_id=owner_id, title="Przypomnienie: Grzegorz Brzęczyszczykiewicz",
                                    body="Napisz na grzegorz.b@chrzaszcz.pl"))
        db.session.add(Offer(number="OF/7/2026", seq_year=2026, seq_number=7, issue_date=TODAY,
                             contact_id=contact_id, total_gross=D("1230.00"), status="sent",
                             sent_to="grzegorz.b@chrzaszcz.pl"))
        db.session.add(Invoice(number="FV/3/11/2026", status="issued", issue_date=TODAY, buyer_contact_id=contact_id,
                               buyer_name="Grzegorz Brzęczyszczykiewicz", buyer_city="Łękołody",
                               total_gross=D("246.00")))
        db.session.add(Invoice(number=None, status="draft", issue_date=TODAY, buyer_contact_id=contact_id,
                               buyer_name="Grzegorz Brzęczyszczykiewicz", buyer_street="ul. Chrząszczyżewoszycka 7",
                               buyer_city="Łękołody", total_gross=D("100.00")))
        content = ("imie;nazwisko;email;telefon\r\n"
                   "Grzegorz;Brzęczyszczykiewicz;grzegorz.b@chrzaszcz.pl;601 222 333\r\n"
                   "Anna;Zielińska;anna@zielona.pl;602 000 111\r\n").encode("cp1250")
        report = ("\ufeffWiersz;Wynik;Powód;imie;nazwisko;email;telefon\r\n"
                  "2;Pominięty;Duplikat;Grzegorz;Brzęczyszczykiewicz;grzegorz.b@chrzaszcz.pl;601 222 333\r\n")
        db.session.add(ImportJob(base_id=base_id, status="done", filename="klienci.csv", encoding="cp1250",
                                 delimiter=";", content=content, report=report.encode("utf-8")))
        binder = Binder(name="Remont biura", contact_id=contact_id)
        db.session.add(binder)
        db.session.flush()
        key = f"{company_id}/attachments/rodo/{contact_id}"
        get_storage().put(key, b"%PDF-1.4 skan dowodu")
        db.session.add(Attachment(owner_type="contact", owner_id=contact_id, filename="skan-dowodu.pdf", size=20,
                                  mime="application/pdf", storage_key=key))
        db.session.commit()
        db.session.remove()
    return {"contact_id": contact_id, "base_id": base_id, "file_key": key}


def _signed_in(app: Any, info: dict) -> Any:
    c = app.test_client()
    assert login(c, info["email"]).status_code == 302
    return c


def test_export_json_holds_everything_about_the_person(app, make_company):
    info = make_company()
    person = _person_with_history(app, info["company_id"])
    c = _signed_in(app, info)
    resp = c.get(f"/contacts/rodo/{person['contact_id']}/export.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert "Brz" not in resp.headers["Content-Disposition"]  # no personal data in the file name
    doc = json.loads(resp.get_data(as_text=True))
    sections = doc["sections"]
    details = sections["contact"]["rows"][0]
    assert details["pesel"] == "44051401458"
    assert details["email"] == "grzegorz.b@chrzaszcz.pl"
    assert details["client_base"] == "Klienci"
    assert sections["consent"]["rows"][0]["consent_source"] == "Targi w Kielcach"
    assert [t["name"] for t in sections["tags"]["rows"]] == ["Stały klient"]
    assert [n["text"] for n in sections["notes"]["rows"]] == ["Dzwonił w sprawie rabatu"]
    assert [t["title"] for t in sections["tasks"]["rows"]] == ["Oddzwonić: Grzegorz Brzęczyszczykiewicz"]
    assert [o["number"] for o in sections["offers"]["rows"]] == ["OF/7/2026"]
    assert sections["offers"]["rows"][0]["total_gross"] == "1230.00"
    assert [i["buyer_name"] for i in sections["invoices"]["rows"]] == ["Grzegorz Brzęczyszczykiewicz"] * 2
    assert [b["name"] for b in sections["binders"]["rows"]] == ["Remont biura"]
    assert [f["filename"] for f in sections["files"]["rows"]] == ["skan-dowodu.pdf"]
    assert sections["campaigns"]["rows"] == []
    assert sections["contact"]["title"] == "Dane kontaktu"


def test_export_pdf_is_readable(app, make_company):
    info = make_company()
    person = _person_with_history(app, info["company_id"])
    c = _signed_in(app, info)
    resp = c.get(f"/contacts/rodo/{person['contact_id']}/export.pdf")
    assert resp.status_code == 200
    assert resp.data.startswith(b"%PDF")
    body = pdf_text(resp.data)
    for expected in ("Brzęczyszczykiewicz", "44051401458", "Dzwonił w sprawie rabatu", "OF/7/2026", "FV/3/11/2026",
                     "skan-dowodu.pdf", "Stały klient", "Zgoda marketingowa"):
        assert expected in body, expected


def _raw_rows(app: Any, sql: str, **params: Any) -> list[str]:
    """Every value of the selected raw rows, as text (no ORM, no tenancy hook)."""
    with app.app_context():
        with db.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
    return [str(v) for row in rows for v in row if v is not None]


def test_anonymise_leaves_no_personal_data_in_the_rows(app, make_company):
    info = make_company()
    person = _person_with_history(app, info["company_id"])
    cid = person["contact_id"]
    c = _signed_in(app, info)
    card = c.get(f"/contacts/{cid}").get_data(as_text=True)
    assert find(card, "#rodo-anonymise")
    confirm = c.get(f"/contacts/rodo/{cid}/anonymise").get_data(as_text=True)
    assert_polish(confirm, "anonymise")
    assert_polish(card, "card")
    consequences = " ".join(el.text_content() for el in find(confirm, "#anonymise-consequences li"))
    assert "Tej operacji nie można cofnąć" in confirm
    assert "faktur" in consequences and "art. 112" in consequences
    resp = c.post(f"/contacts/rodo/{cid}/anonymise", data={"csrf_token": csrf_token(confirm, "#anonymise-form")})
    assert resp.status_code == 302
    contact_values = _raw_rows(app, "SELECT * FROM contact WHERE id = :id", id=cid)
    note_values = _raw_rows(app, "SELECT * FROM contact_note WHERE contact_id = :id", id=cid)
    draft_values = _raw_rows(app, "SELECT * FROM invoice WHERE buyer_contact_id = :id AND status = 'draft'", id=cid)
    offer_values = _raw_rows(app, "SELECT * FROM offer WHERE contact_id = :id", id=cid)
    task_values = _raw_rows(app, "SELECT title, description FROM task WHERE contact_id = :id", id=cid)
    notification_values = _raw_rows(app, "SELECT title, body FROM notification")
    with app.app_context(), db.engine.connect() as conn:
        content, report = conn.execute(text("SELECT content, report FROM import_job")).one()
    imported = bytes(content).decode("cp1250")
    assert imported.splitlines() == ["imie;nazwisko;email;telefon", ";;;", "Anna;Zielińska;anna@zielona.pl;602 000 111"]
    assert bytes(report).decode("utf-8-sig").splitlines()[1] == "2;Pominięty;Duplikat;;;;"
    everything = " ".join(contact_values + note_values + draft_values + offer_values + task_values
                          + notification_values + [imported]).lower()
    for value in PERSONAL:
        assert value.lower() not in everything, value
    assert f"Osoba zanonimizowana #{cid}" in contact_values
    assert task_values == [f"Oddzwonić: Osoba zanonimizowana #{cid}", "Tel. —"]
    assert _raw_rows(app, "SELECT count(*) FROM contact_tag WHERE contact_id = :id", id=cid) == ["0"]
    assert _raw_rows(app, "SELECT count(*) FROM attachment WHERE owner_type = 'contact' AND owner_id = :id",
                     id=cid) == ["0"]
    with app.app_context():
        assert not get_storage().exists(person["file_key"])
        assert isinstance(get_storage(), LocalStorage)
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                for probe in ("brzeczyszczykiewicz", "chrzaszcz", "601222333", "lekolody"):
                    hits = conn.execute(text("SELECT rowid FROM contact_fts WHERE contact_fts MATCH :q"),
                                        {"q": f'"{probe}"'}).all()
                    assert hits == [], probe
    # history stays: the offer and the issued invoice keep their numbers; the issued invoice its buyer
    assert _raw_rows(app, "SELECT number FROM offer WHERE contact_id = :id", id=cid) == ["OF/7/2026"]
    assert _raw_rows(app, "SELECT buyer_name FROM invoice WHERE buyer_contact_id = :id AND status = 'issued'",
                     id=cid) == ["Grzegorz Brzęczyszczykiewicz"]
    with app.app_context(), all_tenants():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "contact_anonymised")).all()
        assert [(e.company_id, e.actor_id, e.details) for e in events] == [(info["company_id"], info["owner_id"],
                                                                            f"#{cid}")]
        db.session.remove()
    page = c.get(f"/contacts/{cid}").get_data(as_text=True)
    assert "Brzęczyszczykiewicz" not in page
    assert f"Osoba zanonimizowana #{cid}" in page


def test_anonymise_needs_the_csrf_token(app, make_company, monkeypatch):
    info = make_company()
    person = _person_with_history(app, info["company_id"])
    c = _signed_in(app, info)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    resp = c.post(f"/contacts/rodo/{person['contact_id']}/anonymise", data={})
    assert resp.status_code == 302  # back to the confirmation page with "the form has expired", nothing done
    assert resp.headers["Location"].endswith(f"/contacts/rodo/{person['contact_id']}/anonymise")
    assert "Grzegorz Brzęczyszczykiewicz" in _raw_rows(app, "SELECT name FROM contact WHERE id = :id",
                                                         id=person["contact_id"])


def test_employee_has_no_rodo_actions(app, make_company, add_employee):
    info = make_company()
    person = _person_with_history(app, info["company_id"])
    emp = add_employee(info["owner_id"], "pracownik@firma1.pl")
    c = _signed_in(app, emp)
    card = c.get(f"/contacts/{person['contact_id']}").get_data(as_text=True)
    assert not find(card, "#rodo-anonymise")
    assert not find(card, "#rodo-export")
    assert c.post(f"/contacts/rodo/{person['contact_id']}/anonymise", data={}).status_code == 403
    assert "Grzegorz Brzęczyszczykiewicz" in _raw_rows(app, "SELECT name FROM contact WHERE id = :id",
                                                         id=person["contact_id"])
    assert c.get(f"/contacts/rodo/{person['contact_id']}/export.json").status_code == 403


def test_company_contact_has_no_rodo_actions(app, make_company):
    info = make_company()
    base_id = make_base(app, info["company_id"])
    firm = make_contact(app, info["company_id"], base_id, kind="company", name="Hurtownia Sp. z o.o.")
    c = _signed_in(app, info)
    assert not find(c.get(f"/contacts/{firm}").get_data(as_text=True), "#rodo-anonymise")
    assert c.get(f"/contacts/rodo/{firm}/export.json").status_code == 404
    assert c.post(f"/contacts/rodo/{firm}/anonymise", data={}).status_code == 404


def test_another_company_cannot_export_or_anonymise(app, make_company):
    a, b = make_company(), make_company()
    person = _person_with_history(app, a["company_id"])
    cid = person["contact_id"]
    cb = _signed_in(app, b)
    assert cb.get(f"/contacts/rodo/{cid}/export.json").status_code == 404
    assert cb.get(f"/contacts/rodo/{cid}/export.pdf").status_code == 404
    assert cb.get(f"/contacts/rodo/{cid}/anonymise").status_code == 404
    assert cb.post(f"/contacts/rodo/{cid}/anonymise", data={}).status_code == 404
    assert "Grzegorz Brzęczyszczykiewicz" in _raw_rows(app, "SELECT name FROM contact WHERE id = :id", id=cid)
    ca = _signed_in(app, a)
    assert ca.get(f"/contacts/rodo/{cid}/export.json").status_code == 200
