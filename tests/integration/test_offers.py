"""Offers: the builder through HTTP, numbering, totals on the server, PDF versions in "Załączniki",
status, e-mailing, expiry, soft delete and tenant isolation."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Offer, OfferVersion
from app.models.binders import Attachment
from app.security.tenancy import tenant_scope
from app.services.sales import offers as svc
from tests.helpers import field_values, login
from tests.integration.sales_fixtures import offer_form, pdf_text, seed_sales
from tests.mailservers import active_mailbox


@pytest.fixture()
def seed(app, owner_client):
    data = seed_sales(app, owner_client.crm)
    owner_client.seed = data
    return data


def _create(client, seed, **over):
    resp = client.post("/offers/add", data=offer_form(seed, **over))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return int(re.search(r"/offers/(\d+)", resp.headers["Location"]).group(1))


def test_new_offer_saves_totals_number_and_pdf_in_attachments(app, owner_client, seed):
    offer_id = _create(owner_client, seed)
    year = dt.date.today().year
    with app.app_context(), tenant_scope(seed["company_id"]):
        offer = db.session.get(Offer, offer_id)
        assert offer.number == f"OF/1/{year}"
        assert [i.net for i in offer.items] == [D("4050.00"), D("3600.00"), D("179.70"), D("138.58")]
        assert (offer.total_net, offer.total_vat, offer.total_gross) == (D("7968.28"), D("972.36"), D("8940.64"))
        assert offer.status == "draft" and offer.version == 1
        att = db.session.get(Attachment, offer.versions[0].attachment_id)
        assert att.binder_id == seed["binder_id"] and att.owner_type == "offer" and att.owner_id == offer.id
        assert att.mime == "application/pdf" and att.filename == f"OF_1_{year}_v1.pdf"
    page = owner_client.get(f"/offers/{offer_id}").get_data(as_text=True)
    assert "8\u00a0940,64" in page and "Źródło Wód Gęślą Jaźń" in page
    assert "osiem tysięcy dziewięćset czterdzieści złotych, sześćdziesiąt cztery grosze" in page
    # the binder's file list ("Załączniki") shows the PDF
    binder_page = owner_client.get(f"/binders/{seed['binder_id']}").get_data(as_text=True)
    assert f"OF_1_{year}_v1.pdf" in binder_page


def test_pdf_text_has_client_items_totals_and_polish_letters(app, owner_client, seed):
    offer_id = _create(owner_client, seed)
    resp = owner_client.get(f"/offers/{offer_id}/pdf/1")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = pdf_text(resp.data)
    for expected in (
        "Źródło Wód Gęślą Jaźń Sp. z o.o.", "5260250274", "Gdańsk",            # client
        "Wdrożenie systemu", "Szkolenie żółtodziobów", "Podręcznik", "Dojazd – ręcznie wpisany",  # items
        "4 050,00", "3 600,00", "179,70", "138,58",                              # line nets
        "963,37", "8,99", "7 968,28", "972,36", "8 940,64",                      # totals
        "zw", "23%", "5%",
        "osiem tysięcy dziewięćset czterdzieści złotych, sześćdziesiąt cztery grosze",
        "Strona 1 z 1", "Łódź", "Przelew 14 dni",
    ):
        assert expected in text.replace("\u00a0", " "), expected


def test_compact_english_template_and_second_version_keeps_first(app, owner_client, seed):
    offer_id = _create(owner_client, seed)
    resp = owner_client.post(f"/offers/{offer_id}/edit", data=offer_form(
        seed, template="compact", language="en", item_quantity=["2", "2", "3", "120,5"]))
    assert resp.status_code == 302
    first = pdf_text(owner_client.get(f"/offers/{offer_id}/pdf/1").data)
    second = pdf_text(owner_client.get(f"/offers/{offer_id}/pdf/2").data)
    assert "Oferta" in first and "Offer" in second and "Page 1 of 1" in second
    assert "8 940,64" in first.replace("\u00a0", " ")
    # 2 x 4050 -> 23 %: 8238.58 net, 1894.87 VAT; total gross 13 922,14
    assert "13 922,14" in second.replace("\u00a0", " ")
    assert "eight thousand" not in second  # words follow the total, not the old one
    assert "thirteen thousand, nine hundred and twenty-two" in second
    with app.app_context(), tenant_scope(seed["company_id"]):
        offer = db.session.get(Offer, offer_id)
        assert [v.version for v in offer.versions] == [2, 1]
        assert offer.number.startswith("OF/1/") and offer.total_gross == D("13922.14")
        atts = db.session.execute(select(Attachment).where(Attachment.owner_type == "offer")).scalars().all()
        assert len(atts) == 2


def test_numbers_follow_a_per_company_series(app, owner_client, seed, make_company):
    a = _create(owner_client, seed)
    b = _create(owner_client, seed)
    other = make_company("Inna")
    seed_b = seed_sales(app, other, " B")
    c = app.test_client()
    login(c, other["email"])
    x = _create(c, seed_b)
    year = dt.date.today().year
    with app.app_context():
        with tenant_scope(seed["company_id"]):
            assert [db.session.get(Offer, i).number for i in (a, b)] == [f"OF/1/{year}", f"OF/2/{year}"]
        with tenant_scope(other["company_id"]):
            assert db.session.get(Offer, x).number == f"OF/1/{year}"


def test_mailing_base_contact_and_foreign_ids_are_refused(app, owner_client, seed, make_company):
    resp = owner_client.post("/offers/add", data=offer_form(seed, contact_id=str(seed["mailing_contact_id"])))
    assert resp.status_code == 200
    assert "bazy mailingowej" in resp.get_data(as_text=True)
    other = seed_sales(app, make_company("Obca"), " X")
    for over in ({"contact_id": str(other["client_id"])}, {"binder_id": str(other["binder_id"])},
                 {"item_product_id": [str(other["product_ids"][0]), "", "", ""]}):
        resp = owner_client.post("/offers/add", data=offer_form(seed, **over))
        assert resp.status_code == 200, over
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.execute(select(Offer)).first() is None


@pytest.mark.parametrize("over", [
    {"item_quantity": ["abc", "1", "1", "1"]},
    {"item_quantity": ["0", "1", "1", "1"]},
    {"item_unit_price": ["-5", "1", "1", "1"]},
    {"item_discount": ["120", "0", "0", "0"]},
    {"item_vat_rate": ["22", "23", "23", "23"]},
    {"item_name": ["", "", "", ""], "item_product_id": ["", "", "", ""]},
    {"valid_until": "2001-01-01"},
    {"valid_until": "31/02/2030"},
    {"template": "fancy"},
    {"contact_id": ""},
    {"contact_id": "abc"},
    {"binder_id": "999999"},
])
def test_bad_input_gives_a_polish_message_and_saves_nothing(app, owner_client, seed, over):
    resp = owner_client.post("/offers/add", data=offer_form(seed, **over))
    assert resp.status_code == 200
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.execute(select(Offer)).first() is None


def test_status_flow_expiry_and_edit_lock(app, owner_client, seed):
    offer_id = _create(owner_client, seed, valid_until=(dt.date.today() + dt.timedelta(days=3)).isoformat())
    second = _create(owner_client, seed, valid_until=(dt.date.today() + dt.timedelta(days=30)).isoformat())
    with app.app_context():
        assert svc.expire_offers(dt.date.today() + dt.timedelta(days=4)) == 1
        with tenant_scope(seed["company_id"]):
            assert db.session.get(Offer, offer_id).status == "expired"
            assert db.session.get(Offer, second).status == "draft"
    assert owner_client.post(f"/offers/{second}/status", data={"status": "accepted"}).status_code == 302
    assert owner_client.post(f"/offers/{second}/status", data={"status": "draft"}).status_code == 302
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.get(Offer, second).status == "accepted"
    resp = owner_client.post(f"/offers/{second}/edit", data=offer_form(seed))
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.get(Offer, second).version == 1


def test_send_by_email_attaches_the_pdf_and_records_it(app, owner_client, seed, mail_servers):
    """Sent from the company's verified mailbox (never the platform's SMTP server), with the PDF."""
    box_id, box_user = active_mailbox(app, seed["company_id"], owner_client.crm["owner_id"], mail_servers)
    client_box = mail_servers.add_user()
    offer_id = _create(owner_client, seed)
    resp = owner_client.post(f"/offers/{offer_id}/send", data={
        "mailbox_id": str(box_id), "to": client_box.email, "subject": "Oferta OF/1",
        "body": "Dzień dobry, w załączniku oferta."})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    msg = mail_servers.wait_for_messages(client_box)[-1]
    assert msg["To"] == client_box.email and box_user.email in msg["From"]
    parts = [p for p in msg.iter_attachments()]
    assert parts[0].get_content_type() == "application/pdf" and parts[0].get_filename().endswith("_v1.pdf")
    assert "Źródło Wód" in pdf_text(parts[0].get_content())
    with app.app_context(), tenant_scope(seed["company_id"]):
        offer = db.session.get(Offer, offer_id)
        assert offer.status == "sent" and offer.sent_to == client_box.email and offer.sent_version == 1
        assert offer.sent_from == box_user.email


def test_send_without_an_active_mailbox_is_refused_politely(app, owner_client, seed, mail_outbox):
    offer_id = _create(owner_client, seed)
    page = owner_client.get(f"/offers/{offer_id}/send")
    assert "Firma nie ma aktywnej skrzynki" in page.get_data(as_text=True)
    resp = owner_client.post(f"/offers/{offer_id}/send", data={"to": "k@x.pl", "subject": "S", "body": "B"},
                             follow_redirects=True)
    assert resp.status_code == 200 and "Firma nie ma aktywnej skrzynki" in resp.get_data(as_text=True)
    assert mail_outbox == []  # the platform's SMTP server sends no company documents
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.get(Offer, offer_id).status == "draft"


def test_soft_delete_hides_offer_and_its_pdfs_and_restore_brings_them_back(app, owner_client, seed):
    from app.services import trash

    offer_id = _create(owner_client, seed)
    assert owner_client.post(f"/offers/{offer_id}/delete").status_code == 302
    assert owner_client.get(f"/offers/{offer_id}").status_code == 404
    assert owner_client.get(f"/offers/{offer_id}/pdf/1").status_code == 404
    assert "OF/1/" not in owner_client.get("/offers/").get_data(as_text=True)
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.execute(select(Attachment)).first() is None
        row = db.session.execute(select(Offer).execution_options(include_deleted=True)).scalar_one()
        assert trash.restore(row.deletion_id, seed["company_id"]) >= 4  # offer, 4 items, version, attachment
    assert owner_client.get(f"/offers/{offer_id}/pdf/1").status_code == 200


def test_another_company_cannot_see_or_touch_offers(app, owner_client, seed, make_company):
    offer_id = _create(owner_client, seed)
    other = make_company("Intruz")
    c = app.test_client()
    login(c, other["email"])
    for url in (f"/offers/{offer_id}", f"/offers/{offer_id}/edit", f"/offers/{offer_id}/pdf/1",
                f"/offers/{offer_id}/send"):
        assert c.get(url).status_code == 404, url
    for url in (f"/offers/{offer_id}/delete", f"/offers/{offer_id}/status", f"/offers/{offer_id}/edit",
                f"/orders/from-offer/{offer_id}"):
        assert c.post(url, data={"status": "accepted"}).status_code == 404, url
    assert "OF/1/" in owner_client.get("/offers/").get_data(as_text=True)
    assert "OF/1/" not in c.get("/offers/").get_data(as_text=True)
    assert "OF/1/" not in c.get("/offers/?q=OF").get_data(as_text=True)
    assert owner_client.get("/offers/products/api/search?q=Wdro").get_json() != []
    assert c.get("/offers/products/api/search?q=Wdro").get_json() == []
    with app.app_context(), tenant_scope(seed["company_id"]):
        offer = db.session.get(Offer, offer_id)
        assert offer.status == "draft" and offer.deleted_at is None
        att_id = offer.versions[0].attachment_id
    assert c.get(f"/attachments/{att_id}/download").status_code == 404
    assert owner_client.get(f"/attachments/{att_id}/download").status_code == 200


def test_employee_can_build_offers(app, owner_client, seed, add_employee):
    emp = add_employee(seed["owner_id"], "handlowiec@firma.pl")
    c = app.test_client()
    login(c, emp["email"])
    assert c.get("/offers/").status_code == 200
    _create(c, seed)
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.execute(select(OfferVersion)).scalar_one().version == 1


#: labels each language's document must not show (words of user data, e.g. item names, are not checked)
POLISH_LABELS = ("Oferta", "Sprzedawca", "Klient", "Lp.", "Produkt lub usługa", "Ilość", "J.m.", "Rabat",
                 "Cena jedn.", "Wartość netto", "Stawka", "Netto", "Brutto", "Razem", "Słownie", "Strona",
                 "Ważna do", "Data wystawienia", "Warunki płatności", "Notatki", "Konto", "NIP:", "złot",
                 "usł.", "szt.", "dzień", " zw", " np", " oo", "Przygotował")
ENGLISH_LABELS = (r"\bOffer\b", r"\bSeller\b", r"\bClient\b", r"\bNo\.", r"\bQty\b", r"\bUnit\b",
                  r"\bDiscount\b", r"\bNet\b", r"\bGross\b", r"\bTotal\b", r"In words", r"\bPage\b",
                  r"Valid until", r"Issue date", r"Payment terms", r"\bNotes\b", r"\bAccount\b", r"exempt",
                  r"reverse charge", r"Tax ID", r"\bzloty", r"Prepared by")


@pytest.mark.parametrize("template", ["full", "compact"])
def test_english_document_has_no_polish_labels_and_polish_one_no_english(app, owner_client, seed, template):
    from app.models import Company

    with app.app_context(), tenant_scope(seed["company_id"]):
        db.session.get(Company, seed["company_id"]).iban = "PL61109010140000071219812874"
        db.session.commit()
    neutral = dict(template=template, valid_until=(dt.date.today() + dt.timedelta(days=30)).isoformat(),
                   payment_terms="14", notes="", item_vat_rate=["23", "zw", "np", "oo"],
                   item_name=["CRM", "Training", "Manual", "Travel"], item_unit=["usł.", "dzień", "szt.", "km"])
    en = pdf_text(owner_client.get(f"/offers/{_create(owner_client, seed, language='en', **neutral)}/pdf/1").data)
    pl = pdf_text(owner_client.get(f"/offers/{_create(owner_client, seed, language='pl', **neutral)}/pdf/1").data)
    en_labels = en.replace("Źródło Wód Gęślą Jaźń Sp. z o.o.", "").replace("Łódź", "").replace("Gdańsk", "")
    for label in POLISH_LABELS:
        assert label not in en_labels, label
    for pattern in ENGLISH_LABELS:
        assert not re.search(pattern, pl), pattern
    for expected in ("Offer OF/1/", "Page 1 of 1", "exempt", "out of scope", "reverse charge", "service", "day",
                     "pcs", "Tax ID (NIP)", "In words: eight thousand, eight hundred and ninety-nine zlotys"):
        assert expected in en, expected
    for expected in ("Oferta OF/2/", "Strona 1 z 1", "zw", "np", "oo", "usł.", "dzień", "szt.", "NIP",
                     "Słownie: osiem tysięcy osiemset dziewięćdziesiąt dziewięć złotych"):
        assert expected in pl, expected
    iban = "PL61 1090 1014 0000 0712 1981 2874"
    shows_account = template == "full"  # the compact one-page layout has no bank account line
    assert (iban in pl, iban in en) == (shows_account, shows_account)


def test_expiry_job_uses_the_polish_date_not_the_servers_utc_date(app, owner_client, seed, monkeypatch):
    """The job runs at 00:10 Warsaw time, when UTC is still the day before: yesterday's offers expire."""
    from app.services import clock

    offer_id = _create(owner_client, seed)
    with app.app_context(), tenant_scope(seed["company_id"]):
        db.session.get(Offer, offer_id).valid_until = dt.date(2027, 3, 1)
        db.session.commit()
    # 2027-03-01 23:10 UTC == 2027-03-02 00:10 in Warsaw
    monkeypatch.setattr(clock, "utcnow", lambda: dt.datetime(2027, 3, 1, 23, 10))
    with app.app_context():
        assert svc.expire_offers() == 1
        with tenant_scope(seed["company_id"]):
            assert db.session.get(Offer, offer_id).status == "expired"


def test_offer_without_binder_is_listed_in_its_clients_binder(app, owner_client, seed):
    _create(owner_client, seed, binder_id="")
    page = owner_client.get(f"/binders/{seed['binder_id']}").get_data(as_text=True)
    assert f"OF/1/{dt.date.today().year}" in page


def test_client_picker_never_offers_a_mailing_base_contact(owner_client, seed):
    assert owner_client.get("/contacts/api/pick?q=Subskry").get_json() == []
    names = [c["name"] for c in owner_client.get("/contacts/api/pick?q=Źródło").get_json()]
    assert names == ["Źródło Wód Gęślą Jaźń Sp. z o.o."]


@pytest.mark.parametrize("template", ["full", "compact"])
def test_company_logo_is_printed_on_the_offer(app, owner_client, seed, template):
    import io
    import subprocess
    import tempfile

    from PIL import Image

    from app.models import Company

    buf = io.BytesIO()
    Image.new("RGB", (120, 40), (46, 158, 79)).save(buf, "PNG")
    with app.app_context(), tenant_scope(seed["company_id"]):
        company = db.session.get(Company, seed["company_id"])
        company.logo, company.logo_mime = buf.getvalue(), "image/png"
        db.session.commit()
    data = owner_client.get(f"/offers/{_create(owner_client, seed, template=template)}/pdf/1").data
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        listing = subprocess.run(["pdfimages", "-list", f.name], capture_output=True, text=True, check=True).stdout
    images = [line.split() for line in listing.splitlines()[2:]]
    assert any(cols[3:5] == ["120", "40"] for cols in images), listing


def test_edit_form_shows_polish_numbers_and_saving_them_back_keeps_the_totals(app, owner_client, seed):
    offer_id = _create(owner_client, seed, item_quantity=["1", "2", "3", "1234,5"])
    page = owner_client.get(f"/offers/{offer_id}/edit").get_data(as_text=True)
    values = {name: field_values(page, name, "form.crm-builder")  # the empty row <template> is not sent
              for name in ("item_quantity", "item_unit_price", "item_discount")}
    assert values == {"item_quantity": ["1", "2", "3", "1\u00a0234,5"],
                      "item_unit_price": ["4500,00", "1800,00", "59,90", "1,15"],
                      "item_discount": ["10", "0", "0", "0"]}
    with app.app_context(), tenant_scope(seed["company_id"]):
        before = db.session.get(Offer, offer_id).total_gross
    resp = owner_client.post(f"/offers/{offer_id}/edit", data=offer_form(seed, **values))
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(seed["company_id"]):
        offer = db.session.get(Offer, offer_id)
        assert offer.version == 2 and offer.total_gross == before
