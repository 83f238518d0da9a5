"""Support requests: "Zgłoś modyfikację lub problem" in the user menu, the e-mail to the support address,
the platform admin's list with statuses and answers, the answer by e-mail, and isolation between companies."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from app.integrations.mail import drain
from tests.helpers import STRONG_PASSWORD, csrf_token, find, form_fields, link, login, table_rows, texts

ADMIN = ("wsparcie-admin@platforma.pl", "Platforma-Admin#2026")
SUPPORT = "support@klientela.test"


@pytest.fixture()
def support_mail(app: Any, mail_outbox: list, monkeypatch: Any) -> list:
    """The support address configured, mail through the test SMTP server."""
    monkeypatch.setitem(app.config, "CRM_SUPPORT_EMAIL", SUPPORT)
    return mail_outbox


def _signed_in(app: Any, email: str, password: str = STRONG_PASSWORD) -> Any:
    c = app.test_client()
    assert login(c, email, password).status_code == 302
    return c


def _admin(app: Any) -> Any:
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)
        db.session.remove()
    return _signed_in(app, *ADMIN)


def _send(c: Any, **data: Any) -> Any:
    page = c.get("/support/new").get_data(as_text=True)
    fields = {"kind": "modification", "subject": "", "description": ""}
    if find(page, '#support-form input[name="csrf_token"]'):  # only with CSRF protection on
        fields["csrf_token"] = csrf_token(page, "#support-form")
    fields.update(data)
    return c.post("/support/new", data=fields, content_type="multipart/form-data")


def _raw(app: Any, sql: str, **params: Any) -> list[tuple]:
    with app.app_context(), db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def test_user_menu_leads_to_the_form_and_the_request_reaches_support(app, make_company, support_mail, csrf_on):
    info = make_company("Alfa Sp. z o.o.")
    c = app.test_client()
    page = c.get("/login/").get_data(as_text=True)
    c.post("/login/", data={"username": info["email"], "password": STRONG_PASSWORD,
                            "csrf_token": csrf_token(page)})
    home = c.get("/", follow_redirects=True).get_data(as_text=True)
    assert texts(home, "#menu-support-new") == ["Zgłoś modyfikację lub problem"]
    assert link(home, "#menu-support-new") == "/support/new"
    form = c.get("/support/new").get_data(as_text=True)
    assert "Propozycja modyfikacji" in form and "Problem" in form
    resp = _send(c, subject="Eksport do Optimy", description="Prosimy o eksport faktur do Comarch Optima.",
                 attachment=(io.BytesIO(b"%PDF-1.4 przyklad"), "wzór.pdf"))
    assert resp.status_code == 302
    rows = _raw(app, "SELECT company_id, kind, subject, status, attachment_name, attachment_size FROM support_request")
    assert rows == [(info["company_id"], "modification", "Eksport do Optimy", "new", "wzór.pdf", 17)]
    assert drain()
    assert [m["To"] for m in support_mail] == [SUPPORT]
    body = support_mail[0].get_body(preferencelist=("plain",)).get_content()
    assert support_mail[0]["Subject"] == "[Propozycja modyfikacji] Eksport do Optimy"
    assert "Alfa Sp. z o.o." in body and "Comarch Optima" in body and "/admin/support/" in body
    mine = c.get("/support/").get_data(as_text=True)
    assert table_rows(mine, "#support-requests")[0][1:5] == ["Propozycja modyfikacji", "Eksport do Optimy",
                                                             "Jan Testowya", "Nowe"]


def test_bad_input_is_refused_in_polish_and_saves_nothing(app, owner_client, support_mail, monkeypatch):
    monkeypatch.setitem(app.config, "SUPPORT_MAX_BYTES", 1000)
    resp = _send(owner_client, kind="other", subject=" ", description="")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    errors = texts(page, ".help-block.error")
    assert "Wybierz, czy to propozycja modyfikacji, czy problem." in errors
    assert "Wpisz temat." in errors and "Opisz zgłoszenie." in errors
    big = _send(owner_client, subject="Za duży plik", description="Opis",
                attachment=(io.BytesIO(b"x" * 2000), "log.txt"))
    assert "Plik jest za duży" in " ".join(texts(big.get_data(as_text=True), ".help-block.error"))
    nul = _send(owner_client, subject="a\x00b", description="Opis")
    assert nul.status_code == 400  # the app's input guard: a Polish "Invalid data" page
    assert _raw(app, "SELECT count(*) FROM support_request") == [(0,)]
    assert drain()
    assert support_mail == []


def test_admin_answers_and_the_user_sees_it_and_gets_an_email(app, make_company, support_mail):
    info = make_company()
    c = _signed_in(app, info["email"])
    _send(c, kind="problem", subject="Nie działa wydruk", description="PDF oferty jest pusty.")
    request_id = _raw(app, "SELECT id FROM support_request")[0][0]
    admin = _admin(app)
    listing = admin.get("/admin/support/").get_data(as_text=True)
    assert table_rows(listing, "#support-requests")[0][1:5] == ["Firma 1 Sp. z o.o.", "Problem", "Nie działa wydruk",
                                                                "Nowe"]
    show = admin.get(f"/admin/support/{request_id}").get_data(as_text=True)
    assert form_fields(show, "#answer-form")["status"] == "new"
    # an answer is required for "done"
    resp = admin.post(f"/admin/support/{request_id}/answer", data={"status": "done", "answer": ""})
    assert "Wpisz odpowiedź, którą przeczyta klient." in resp.get_data(as_text=True)
    assert _raw(app, "SELECT status, answer FROM support_request") == [("new", None)]
    resp = admin.post(f"/admin/support/{request_id}/answer",
                      data={"status": "planned", "answer": "Poprawka w wersji z 15 grudnia."})
    assert resp.status_code == 302
    status, answer, answered_at = _raw(app, "SELECT status, answer, answered_at FROM support_request")[0]
    assert (status, answer) == ("planned", "Poprawka w wersji z 15 grudnia.")
    assert answered_at is not None
    assert drain()
    assert [m["To"] for m in support_mail] == [SUPPORT, info["email"]]
    assert "Zaplanowane" in support_mail[1].get_body(preferencelist=("plain",)).get_content()
    page = c.get(f"/support/{request_id}").get_data(as_text=True)
    assert texts(page, "#support-status") == ["Zaplanowane"]
    assert texts(page, "#support-answer") == ["Poprawka w wersji z 15 grudnia."]
    assert texts(page, "#support-answered") != ["—"]
    filtered = admin.get("/admin/support/?status=new").get_data(as_text=True)
    assert table_rows(filtered, "#support-requests") == [["Brak zgłoszeń."]]


def test_company_users_cannot_reach_the_admin_list(app, owner_client):
    assert owner_client.get("/admin/support/").status_code == 403
    assert owner_client.post("/admin/support/1/answer", data={"status": "done", "answer": "x"}).status_code == 403


def test_another_company_sees_none_of_the_requests(app, make_company, support_mail):
    a, b = make_company(), make_company()
    ca = _signed_in(app, a["email"])
    _send(ca, subject="Tajny temat Alfy", description="Opis",
          attachment=(io.BytesIO(b"tresc"), "notatka.txt"))
    request_id = _raw(app, "SELECT id FROM support_request")[0][0]
    assert ca.get(f"/support/{request_id}").status_code == 200
    assert ca.get(f"/support/{request_id}/attachment").data == b"tresc"
    assert "Tajny temat Alfy" in ca.get("/support/").get_data(as_text=True)
    cb = _signed_in(app, b["email"])
    assert cb.get(f"/support/{request_id}").status_code == 404
    assert cb.get(f"/support/{request_id}/attachment").status_code == 404
    assert "Tajny temat Alfy" not in cb.get("/support/").get_data(as_text=True)
    assert not find(cb.get("/support/").get_data(as_text=True), f'a[href="/support/{request_id}"]')


def test_a_request_without_the_csrf_token_is_not_saved(app, owner_client, support_mail, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    resp = owner_client.post("/support/new", data={"kind": "problem", "subject": "Bez tokenu", "description": "x"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/support/new")
    assert _raw(app, "SELECT count(*) FROM support_request") == [(0,)]


def test_support_pages_are_polish(app, make_company, support_mail):
    from tests.integration.test_polish_pages import assert_polish

    info = make_company()
    c = _signed_in(app, info["email"])
    _send(c, kind="problem", subject="Błąd wydruku", description="Opis",
          attachment=(io.BytesIO(b"tresc"), "notatka.txt"))
    request_id = _raw(app, "SELECT id FROM support_request")[0][0]
    for url in ("/support/", "/support/new", f"/support/{request_id}"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.get_data(as_text=True), url)
    admin = _admin(app)
    for url in ("/admin/support/", f"/admin/support/{request_id}", "/admin/support/?status=done"):
        resp = admin.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.get_data(as_text=True), url)
