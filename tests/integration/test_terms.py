"""Terms of service and the data-processing agreement: accepted at sign-up (versions, time, who), a new
version accepted by the owner at the next sign-in, the platform admin's editor, and tenant isolation."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from sqlalchemy import select

from app.extensions import db
from app.models.company import Company
from app.models.legal import LegalDocument, TermsAcceptance
from app.models.mixins import utcnow
from app.models.security import AuditEvent
from app.security.tenancy import all_tenants, tenant_scope
from tests.helpers import STRONG_PASSWORD, field_values, links, login, text, texts

ADMIN = ("admin@klientela.pl", STRONG_PASSWORD)
SIGNUP = {
    "company_name": "Piekarnia Złoty Kłos Sp. z o.o.", "nip": "526-025-02-74", "first_name": "Zofia",
    "last_name": "Wiśniewska", "email": "zofia@zlotyklos.pl", "password": STRONG_PASSWORD,
    "password_confirm": STRONG_PASSWORD,
}
NEW_TERMS = ("Regulamin świadczenia usługi Klientela CRM (wersja 2)",
             "§ 1. Postanowienia ogólne\n\nNowa wersja regulaminu: zmieniony termin odpowiedzi na reklamację "
             "na 7 dni oraz nowe zasady wysyłki e-maili.")


def _acceptances(app: Any) -> list[tuple[int, str, int, int | None, dt.datetime, str | None]]:
    with app.app_context(), all_tenants():
        rows = [(a.company_id, a.document.kind, a.document.version, a.user_id, a.accepted_at, a.ip)
                for a in db.session.execute(select(TermsAcceptance).order_by(TermsAcceptance.id)).scalars()]
        db.session.remove()
    return rows


def _admin(app: Any) -> Any:
    from app.cli import ensure_platform_admin

    with app.app_context():
        ensure_platform_admin(*ADMIN)
        db.session.remove()
    c = app.test_client()
    assert login(c, ADMIN[0], ADMIN[1]).status_code == 302
    return c


def _publish_terms(admin: Any) -> None:
    resp = admin.post("/admin/legal/terms/edit", data={"title": NEW_TERMS[0], "body": NEW_TERMS[1]})
    assert resp.status_code == 302
    assert admin.post("/admin/legal/terms/publish").status_code == 302


# ---------------------------------------------------------------- sign-up


def test_sign_up_without_accepting_the_terms_is_refused_and_creates_nothing(app: Any, client: Any) -> None:
    """The box unticked: the Polish message next to it, no company, no acceptance."""
    resp = client.post("/signup/", data=SIGNUP)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert text(page, "#accept-terms .error") == (
        "Aby założyć konto, zaakceptuj regulamin i umowę powierzenia przetwarzania danych osobowych.")
    with app.app_context(), all_tenants():
        assert db.session.execute(select(Company)).first() is None
        db.session.remove()
    assert _acceptances(app) == []


def test_the_sign_up_page_links_to_both_documents_which_are_public(app: Any, client: Any) -> None:
    """The check box names both documents; each opens without signing in, in Polish, with its version."""
    page = client.get("/signup/").get_data(as_text=True)
    assert links(page, "#accept-terms a") == ["/legal/terms/", "/legal/dpa/"]
    assert "firma jest administratorem danych swoich klientów" in text(page, "#accept-terms")
    terms = client.get("/legal/terms/").get_data(as_text=True)
    assert text(terms, "h1") == "Regulamin świadczenia usługi Klientela CRM"
    assert "Wersja 1, obowiązuje od" in terms and "14-dniową licencję" in terms
    dpa = client.get("/legal/dpa/").get_data(as_text=True)
    assert text(dpa, "h1") == "Umowa powierzenia przetwarzania danych osobowych"
    assert "art. 28" in dpa and "Administrator" in dpa and "Podmiot przetwarzający" in dpa
    assert client.get("/legal/other/").status_code == 404 and client.get("/legal/terms/9/").status_code == 404


def test_sign_up_records_both_versions_with_time_and_who(app: Any, client: Any, mail_outbox: list) -> None:
    """Accepted at sign-up: one row per document (version 1), the owner, the time and the IP."""
    before = utcnow()
    resp = client.post("/signup/", data={**SIGNUP, "accept_terms": "y"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/signup/sent/")
    with app.app_context(), all_tenants():
        company_id = db.session.execute(select(Company.id)).scalar_one()
        db.session.remove()
    rows = _acceptances(app)
    assert [(r[1], r[2]) for r in rows] == [("terms", 1), ("dpa", 1)]
    assert {r[0] for r in rows} == {company_id}
    assert all(before - dt.timedelta(seconds=1) <= r[4] <= utcnow() for r in rows)
    assert all(r[5] == "127.0.0.1" for r in rows)
    from app.models.users import CrmUser

    with app.app_context():
        owner = db.session.execute(select(CrmUser).where(CrmUser.email == SIGNUP["email"])).scalar_one()
        assert {r[3] for r in rows} == {owner.id}
        db.session.remove()


# ---------------------------------------------------------------- a new version


def test_a_new_version_is_accepted_by_the_owner_at_the_next_sign_in(
    app: Any, make_company: Callable[..., dict], add_employee: Callable[..., dict]
) -> None:
    """Published: the signed-in owner keeps working; at the next sign-in the owner must accept, employees never."""
    info = make_company()
    add_employee(info["owner_id"], "ola@firma.pl")
    working = app.test_client()
    login(working, info["email"])
    assert working.get("/bases/").status_code == 200

    _publish_terms(_admin(app))
    assert working.get("/bases/").status_code == 200  # the sign-in that already passed the check

    employee = app.test_client()
    login(employee, "ola@firma.pl")
    assert employee.get("/bases/").status_code == 200

    owner = app.test_client()
    login(owner, info["email"])
    resp = owner.get("/bases/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/terms/accept/?next=/bases/"
    page = owner.get(resp.headers["Location"]).get_data(as_text=True)
    assert texts(page, "#terms-accept h3") == [f"Regulamin: {NEW_TERMS[0]} wersja 2"]
    assert "nowe zasady wysyłki e-maili" in text(page, "#pending-terms")
    # a form being sent is not lost: a POST is carried out, not sent to the acceptance page
    added = owner.post("/settings/employees/add", data={
        "first_name": "Marek", "last_name": "Zając", "email": "marek@firma.pl", "role": "Employee",
        "access": "password", "password": "Kawa#Rower7Morze+Dach"})
    assert added.status_code == 302 and added.headers["Location"].startswith("/settings/employees/")

    # not ticked: refused, nothing recorded
    documents = field_values(page, "documents", "#terms-accept-form")[0]
    refused = owner.post("/terms/accept/", data={"documents": documents, "next": "/bases/"})
    assert "Zaznacz pole, aby zaakceptować dokumenty." in refused.get_data(as_text=True)
    assert [(r[1], r[2]) for r in _acceptances(app)] == [("terms", 1), ("dpa", 1)]

    done = owner.post("/terms/accept/", data={"documents": documents, "accept": "y", "next": "/bases/"})
    assert done.status_code == 302 and done.headers["Location"] == "/bases/"
    rows = _acceptances(app)
    assert [(r[1], r[2], r[3]) for r in rows][-1] == ("terms", 2, info["owner_id"])
    assert owner.get("/bases/").status_code == 200
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.event == "terms_accepted")).scalar_one()
        assert event.company_id == info["company_id"] and event.details == "terms v2"
        db.session.remove()
    again = app.test_client()
    login(again, info["email"])
    assert again.get("/bases/").status_code == 200  # accepted once, for good
    log = again.get("/settings/security/").get_data(as_text=True)
    assert "Zaakceptowano regulamin i umowę powierzenia" in log and "Regulamin, wersja 2" in log


def test_accepting_an_outdated_version_is_refused(app: Any, make_company: Callable[..., dict]) -> None:
    """The page was opened before yet another version came out: the acceptance is refused, nothing recorded."""
    info = make_company()
    admin = _admin(app)
    _publish_terms(admin)
    owner = app.test_client()
    login(owner, info["email"])
    page = owner.get("/terms/accept/?next=/").get_data(as_text=True)
    documents = field_values(page, "documents", "#terms-accept-form")[0]
    admin.post("/admin/legal/terms/edit", data={"title": NEW_TERMS[0], "body": NEW_TERMS[1] + " Wersja 3."})
    admin.post("/admin/legal/terms/publish")
    resp = owner.post("/terms/accept/", data={"documents": documents, "accept": "y", "next": "/"})
    assert "Właśnie opublikowano nową wersję dokumentów." in resp.get_data(as_text=True)
    assert [(r[1], r[2]) for r in _acceptances(app)] == [("terms", 1), ("dpa", 1)]


def test_the_admin_draft_is_checked_and_an_unchanged_text_is_not_published(app: Any) -> None:
    """A too short text is refused; publishing without a draft or with the text in force is refused in Polish."""
    admin = _admin(app)
    short = admin.post("/admin/legal/dpa/edit", data={"title": "Umowa", "body": "Za krótko."})
    assert "Tekst jest za krótki (co najmniej 50 znaków)." in short.get_data(as_text=True)
    none = admin.post("/admin/legal/dpa/publish", follow_redirects=True)
    assert "Nie ma szkicu do opublikowania." in none.get_data(as_text=True)
    with app.app_context():
        current = db.session.execute(select(LegalDocument).where(LegalDocument.kind == "dpa")).scalar_one()
        title, body = current.title, current.body
        db.session.remove()
    assert admin.post("/admin/legal/dpa/edit", data={"title": title, "body": body}).status_code == 302
    same = admin.post("/admin/legal/dpa/publish", follow_redirects=True)
    assert "Szkic nie różni się od obowiązującej wersji" in same.get_data(as_text=True)
    with app.app_context():
        versions = db.session.execute(
            select(LegalDocument.version, LegalDocument.published_at.is_not(None))
            .where(LegalDocument.kind == "dpa").order_by(LegalDocument.version)).all()
        db.session.remove()
    assert [tuple(v) for v in versions] == [(1, True), (2, False)]
    listing = admin.get("/admin/legal/").get_data(as_text=True)
    assert "szkic" in text(listing, "#admin-legal-dpa")


def test_the_publication_is_audited_and_only_the_admin_edits(app: Any, make_company: Callable[..., dict]) -> None:
    """Publishing lands in the audit log; an owner cannot reach the editor."""
    info = make_company()
    owner = app.test_client()
    login(owner, info["email"])
    assert owner.get("/admin/legal/").status_code == 403
    assert owner.post("/admin/legal/terms/edit", data={"title": "x", "body": "y" * 60}).status_code == 403
    _publish_terms(_admin(app))
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.event == "legal_published")).scalar_one()
        assert event.details == "terms v2" and event.company_id is None
        db.session.remove()


def test_a_company_sees_only_its_own_acceptances(app: Any, make_company: Callable[..., dict]) -> None:
    """Tenant isolation: in one company's scope the other's acceptances do not exist."""
    first = make_company()
    second = make_company()
    with app.app_context():
        with tenant_scope(first["company_id"]):
            mine = db.session.execute(select(TermsAcceptance.company_id)).scalars().all()
        with tenant_scope(second["company_id"]):
            other_id = db.session.execute(select(TermsAcceptance.id)).scalars().first()
        with tenant_scope(first["company_id"]):
            assert db.session.get(TermsAcceptance, other_id) is None
        db.session.remove()
    assert mine == [first["company_id"], first["company_id"]]


def test_the_admin_sees_who_accepted_on_the_licence_page(app: Any, make_company: Callable[..., dict]) -> None:
    """The company's licence page of the admin lists the accepted versions with the owner's name."""
    info = make_company("Piekarnia", first_name="Zofia", last_name="Wiśniewska")
    make_company("Hurtownia", first_name="Adam", last_name="Obcy")
    page = _admin(app).get(f"/admin/licence/{info['company_id']}/").get_data(as_text=True)
    rows = texts(page, "#terms-accepted tbody tr")
    assert len(rows) == 2 and all("Zofia Wiśniewska" in r for r in rows) and not any("Obcy" in r for r in rows)
    assert "Regulamin" in rows[0] + rows[1] and "Umowa powierzenia" in rows[0] + rows[1]


def test_the_new_pages_are_polish(app: Any, make_company: Callable[..., dict], add_employee: Callable) -> None:
    """Price list, documents, acceptance, blocking pages and the admin's screens: no English leftovers."""
    from tests.integration.test_polish_pages import assert_polish

    info = make_company()
    add_employee(info["owner_id"], "ola@firma.pl")
    anonymous = app.test_client()
    for url in ("/cennik/", "/legal/terms/", "/legal/dpa/"):
        resp = anonymous.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.get_data(as_text=True), url)
    admin = _admin(app)
    for url in ("/admin/plans/", "/admin/plans/1/edit", "/admin/legal/", "/admin/legal/terms/edit",
                f"/admin/licence/{info['company_id']}/", f"/admin/companies/show/{info['company_id']}"):
        resp = admin.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.get_data(as_text=True), url)
    _publish_terms(admin)
    with app.app_context():
        db.session.get(Company, info["company_id"]).licence_valid_until = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    for email in (info["email"], "ola@firma.pl"):
        c = app.test_client()
        login(c, email)
        for url in ("/terms/accept/", "/licence/"):
            resp = c.get(url, follow_redirects=True)
            assert resp.status_code == 200, (email, url)
            assert_polish(resp.get_data(as_text=True), url)


def test_the_owner_sees_the_accepted_documents_in_the_company_data(app: Any, make_company: Callable[..., dict]) -> None:
    """"Dane firmy" lists the accepted versions with the person; another company's are not there."""
    info = make_company("Piekarnia", first_name="Zofia", last_name="Wiśniewska")
    make_company("Hurtownia", first_name="Adam", last_name="Obcy")
    owner = app.test_client()
    login(owner, info["email"])
    page = owner.get("/settings/company/").get_data(as_text=True)
    rows = texts(page, "#accepted-documents tbody tr")
    assert len(rows) == 2 and all("Zofia Wiśniewska" in r for r in rows)
    assert sorted(links(page, "#accepted-documents a")) == ["/legal/dpa/1/", "/legal/terms/1/"]
