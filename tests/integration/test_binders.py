"""Binders and files: sections, upload checks, download headers, store_attachment, isolation, trash."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from urllib.parse import quote

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Binder
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, trash
from app.services.work.attachments import DOCX, store_attachment
from tests.helpers import login
from tests.integration.sales_fixtures import offer_form, seed_sales
from tests.integration.tasks_fixtures import make_contacts

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def _binder(client, ids, name="Budowa hali w Łodzi") -> int:
    resp = client.post("/binders/add", data={"name": name, "contact_id": ids["contact"], "description": "Etap 1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _upload(client, binder_id, data: bytes, name: str):
    return client.post(
        f"/binders/{binder_id}/upload", data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data", follow_redirects=True,
    )


def _attachments(app, company_id):
    with app.app_context(), tenant_scope(company_id):
        rows = list(db.session.execute(select(Attachment).order_by(Attachment.id)).scalars())
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_binder_page_shows_sections_and_empty_states(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    assert "Nowy segregator" in c.get("/binders/").get_data(as_text=True)
    bid = _binder(c, ids)
    html = c.get(f"/binders/{bid}").get_data(as_text=True)
    for text in ("Budowa hali w Łodzi", "Budimex Sp. z o.o.", "Oferty", "Zlecenia", "Faktury", "Załączniki", "Zadania"):
        assert text in html, text
    assert "W tym segregatorze nie ma jeszcze ofert." in html and "None" not in html
    # "Nowe zadanie" from the binder: the task lands in it
    assert f"/tasks/add?binder_id={bid}" in html
    form = c.get(f"/tasks/add?binder_id={bid}").get_data(as_text=True)
    assert f'name="binder_id" id="binder_id" value="{bid}"' in form and 'value="Budowa hali w Łodzi"' in form
    resp = c.post("/tasks/add", data={"title": "Pomiar hali", "binder_id": bid, "priority": "normal", "status": "todo"})
    assert resp.status_code == 302
    task_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    page = c.get(f"/binders/{bid}").get_data(as_text=True)
    assert f'<a href="/tasks/{task_id}">Pomiar hali</a>' in page
    assert "Do zrobienia" in page
    assert "Budowa hali w Łodzi" in c.get("/binders/?q=hali").get_data(as_text=True)
    assert "Budowa hali w Łodzi" in c.get("/binders/?q=budimex").get_data(as_text=True)
    assert "Budowa hali w Łodzi" not in c.get("/binders/?q=zzz").get_data(as_text=True)


def test_binder_refuses_mailing_contact(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    resp = c.post("/binders/add", data={"name": "Zły", "contact_id": ids["mailing_contact"]})
    assert resp.status_code == 200 and "bazy mailingowej" in resp.get_data(as_text=True)


def test_upload_and_download_with_polish_name(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    bid = _binder(c, ids)
    resp = _upload(c, bid, PDF, "Umowa żółć 2026.pdf")
    assert "Dodano plik" in resp.get_data(as_text=True) and "Umowa żółć 2026.pdf" in resp.get_data(as_text=True)
    for data, name in ((PNG, "zdjęcie.png"), (_docx(), "oferta.docx"), ("Nazwa;Miasto\nŁódź;Łódź\n".encode(), "lista.csv")):
        assert "Dodano plik" in _upload(c, bid, data, name).get_data(as_text=True), name
    rows = _attachments(app, c.crm["company_id"])
    assert [r.mime for r in rows] == ["application/pdf", "image/png", DOCX, "text/csv"]
    pdf = rows[0]
    assert pdf.binder_id == bid and pdf.uploaded_by_id == c.crm["owner_id"] and pdf.size == len(PDF)
    assert "Umowa" not in pdf.storage_key and pdf.storage_key.startswith(f"{c.crm['company_id']}/")
    path = os.path.join(app.instance_path, "files", pdf.storage_key)
    assert os.path.isfile(path)
    resp = c.get(f"/attachments/{pdf.id}/download")
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.mimetype == "application/pdf"
    disp = resp.headers["Content-Disposition"]
    assert disp.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("Umowa żółć 2026.pdf") in disp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_upload_refuses_bad_types_and_sizes(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    bid = _binder(c, ids)
    bad = (
        (b"MZ\x90\x00\x03" + b"\x00" * 100, "faktura.pdf"),  # an .exe renamed to .pdf
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg"),
        (b"<html><script>alert(1)</script></html>", "strona.html"),
        (b"PK\x03\x04" + b"\x00" * 30, "archiwum.zip"),
        (b"\x00\x01\x02binary", "dane.txt"),
    )
    for data, name in bad:
        html = _upload(c, bid, data, name).get_data(as_text=True)
        assert "Ten typ pliku jest niedozwolony" in html, name
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    try:
        html = _upload(c, bid, PDF + b"0" * 2000, "duzy.pdf").get_data(as_text=True)
        assert "za duży" in html
    finally:
        app.config.pop("ATTACHMENT_MAX_BYTES")
    html = _upload(c, bid, b"", "pusty.pdf").get_data(as_text=True)
    assert "Wybierz plik" in html
    assert _attachments(app, c.crm["company_id"]) == []


def test_store_attachment_for_an_offer_owner(app, make_company):
    info = make_company()
    with app.app_context():
        att = store_attachment(info["company_id"], PDF, "Oferta 1/2026.pdf", owner=("offer", 7), user_id=info["owner_id"])
        assert att.owner_type == "offer" and att.owner_id == 7 and att.binder_id is None
        assert att.filename == "Oferta 1_2026.pdf"
        try:
            store_attachment(info["company_id"], b"not a pdf", "x.pdf")
        except DomainError as err:
            assert err.field == "file"
        else:
            raise AssertionError("a fake PDF was stored")
        db.session.remove()


def test_binder_and_file_isolation(app, owner_client, make_company):
    a = owner_client
    ids = make_contacts(app, a.crm["company_id"], "A ")
    bid = _binder(a, ids, "Tajny segregator")
    _upload(a, bid, PDF, "tajne.pdf")
    att_id = _attachments(app, a.crm["company_id"])[0].id
    b_info = make_company("Beta")
    b = app.test_client()
    login(b, b_info["email"])
    for url in (f"/binders/{bid}", f"/binders/{bid}/edit", f"/attachments/{att_id}/download"):
        assert b.get(url).status_code == 404, url
    for url in (f"/binders/{bid}/delete", f"/attachments/{att_id}/delete"):
        assert b.post(url).status_code == 404, url
    resp = b.post(f"/binders/{bid}/upload", data={"file": (io.BytesIO(PDF), "x.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 404
    # the owner's pages do show them, so the checks below can fail
    for url, text in (("/binders/", "Tajny segregator"), ("/binders/?q=tajny", "Tajny segregator"),
                      ("/binders/api/pick?q=tajny", "Tajny segregator"), ("/contacts/api/pick?q=budimex", "A Budimex"),
                      (f"/tasks/add?binder_id={bid}", "Tajny segregator")):
        assert text in a.get(url).get_data(as_text=True), url
    for url in ("/binders/", "/binders/?q=tajny", "/binders/api/pick?q=tajny", "/contacts/api/pick?q=budimex",
                f"/tasks/add?binder_id={bid}", "/binders/add"):
        html = b.get(url).get_data(as_text=True)
        assert "Tajny segregator" not in html and "A Budimex" not in html, url
    # a foreign binder id in B's own task and in store_attachment is refused
    resp = b.post("/tasks/add", data={"title": "Intruz", "binder_id": bid, "priority": "normal", "status": "todo"})
    assert resp.status_code == 200
    with app.app_context():
        try:
            store_attachment(b_info["company_id"], PDF, "x.pdf", binder_id=bid)
        except DomainError:
            pass
        else:
            raise AssertionError("stored into another company's binder")
        db.session.remove()
    assert len(_attachments(app, a.crm["company_id"])) == 1
    assert _attachments(app, b_info["company_id"]) == []


def test_binder_soft_delete_takes_files_and_restore_brings_them_back(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    bid = _binder(c, ids)
    _upload(c, bid, PDF, "umowa.pdf")
    att_id = _attachments(app, c.crm["company_id"])[0].id
    assert c.post(f"/binders/{bid}/delete").status_code == 302
    assert "Budowa hali" not in c.get("/binders/").get_data(as_text=True)
    assert c.get(f"/binders/{bid}").status_code == 404
    assert c.get(f"/attachments/{att_id}/download").status_code == 404
    with app.app_context(), all_tenants():
        binder = db.session.execute(select(Binder).execution_options(include_deleted=True)).scalar_one()
        att = db.session.execute(select(Attachment).execution_options(include_deleted=True)).scalar_one()
        assert binder.deletion_id and att.deletion_id == binder.deletion_id
        deletion_id = binder.deletion_id
        db.session.remove()
    with app.app_context():
        assert trash.restore(deletion_id, c.crm["company_id"]) == 2
        db.session.remove()
    assert c.get(f"/attachments/{att_id}/download").status_code == 200


def test_file_soft_delete(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    bid = _binder(c, ids)
    _upload(c, bid, PDF, "do-usuniecia.pdf")
    att = _attachments(app, c.crm["company_id"])[0]
    resp = c.post(f"/attachments/{att.id}/delete", follow_redirects=True)
    assert "Usunięto plik" in resp.get_data(as_text=True)
    assert "do-usuniecia.pdf" not in c.get(f"/binders/{bid}").get_data(as_text=True)
    assert c.get(f"/attachments/{att.id}/download").status_code == 404
    # the bytes stay until the purge, which removes them with the row
    path = os.path.join(app.instance_path, "files", att.storage_key)
    assert os.path.isfile(path)
    import datetime as dt

    from app.scheduler import bind_app, purge_trash
    from app.services.work import attachments

    with app.app_context():
        attachments.purge_files(0, now=dt.datetime.now() + dt.timedelta(days=1))
        db.session.remove()
    assert not os.path.exists(path)
    bind_app(app)
    try:
        purge_trash()
    finally:
        bind_app(None)


def test_binder_page_links_its_offers_and_orders(app, owner_client):
    c = owner_client
    seed = seed_sales(app, c.crm)
    resp = c.post("/offers/add", data=offer_form(seed))
    assert resp.status_code == 302
    offer_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert c.post(f"/offers/{offer_id}/status", data={"status": "accepted"}).status_code == 302
    resp = c.post(f"/orders/from-offer/{offer_id}")
    assert resp.status_code == 302
    order_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    page = c.get(f"/binders/{seed['binder_id']}").get_data(as_text=True)
    year = dt.date.today().year
    assert f'<a href="/offers/{offer_id}">OF/1/{year}</a>' in page
    assert f'<a href="/orders/{order_id}">ZL/1/{year}</a>' in page
    assert f"/offers/add?binder_id={seed['binder_id']}" in page and f"/orders/add?binder_id={seed['binder_id']}" in page
