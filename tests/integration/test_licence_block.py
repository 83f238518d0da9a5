"""The licence block: the page per role, what the owner still reaches, the avatar, the three-day notice,
the platform admin's hand changes with the audit log, nothing deleted, and other companies untouched."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Callable

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models.company import Company
from app.models.security import AuditEvent
from tests.helpers import STRONG_PASSWORD, find, link, links, login, text, texts

ADMIN = ("admin@klientela.pl", STRONG_PASSWORD)
TODAY = dt.date.today()


def _set_end(app: Any, company_id: int, end: dt.date) -> None:
    with app.app_context():
        db.session.get(Company, company_id).licence_valid_until = end
        db.session.commit()
        db.session.remove()


def _end(app: Any, company_id: int) -> dt.date:
    with app.app_context():
        end = db.session.get(Company, company_id).licence_valid_until
        db.session.remove()
    return end


def _signed_in(app: Any, email: str) -> Any:
    c = app.test_client()
    assert login(c, email).status_code == 302
    return c


def _blocked_company(app: Any, make_company: Callable[..., dict], add_employee: Callable[..., dict]) -> dict:
    """A company whose licence ended yesterday, with its owner Jan Testowy and an employee."""
    info = make_company("Piekarnia Kłos Sp. z o.o.", first_name="Jan", last_name="Testowy")
    info["employee"] = add_employee(info["owner_id"], "ola@klos.pl", first_name="Ola", last_name="Nowak")
    _set_end(app, info["company_id"], TODAY - dt.timedelta(days=1))
    return info


def _admin(app: Any) -> Any:
    from app.cli import ensure_platform_admin

    with app.app_context():
        ensure_platform_admin(*ADMIN)
        db.session.remove()
    return _signed_in(app, ADMIN[0])


# ---------------------------------------------------------------- the blocking page per role


def test_every_page_of_a_blocked_company_leads_to_the_block_page_with_the_reason_and_date(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """Pages of the CRM send both roles to the block page; it says why and since when."""
    info = _blocked_company(app, make_company, add_employee)
    ended = (TODAY - dt.timedelta(days=1)).strftime("%d.%m.%Y")
    for email in (info["email"], "ola@klos.pl"):
        c = _signed_in(app, email)
        for url in ("/", "/bases/", "/tasks/", "/invoices/", "/settings/company/", "/notifications/"):
            resp = c.get(url)
            assert resp.status_code == 302 and resp.headers["Location"].endswith("/licence/"), (email, url)
        page = c.get("/licence/").get_data(as_text=True)
        assert text(page, "#licence-expired h3") == "Twoja licencja wygasła"
        reason = text(page, "#block-reason")
        assert "Piekarnia Kłos Sp. z o.o." in reason and f"była ważna do {ended}" in reason
        assert "automatycznie zablokowany" in reason
        assert "Nic nie zostało usunięte" in text(page, "#licence-expired")


def test_the_owner_sees_the_plans_and_pay_and_the_pages_still_open(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """The owner: both plans with prices, "Opłać" to the Payments tab, the profile link; no "ask the owner"."""
    info = _blocked_company(app, make_company, add_employee)
    page = _signed_in(app, info["email"]).get("/licence/").get_data(as_text=True)
    assert texts(page, "#owner-options .plan-name") == ["AppLarge", "AppLarge+"]
    assert texts(page, "#owner-options .plan-price") == ["99,00 zł", "199,00 zł"]
    assert text(page, "#pay-now") == "Opłać" and link(page, "#pay-now") == "/settings/payments/"
    assert links(page, "#owner-options .pay") == ["/settings/payments/?plan=applarge",
                                                   "/settings/payments/?plan=applarge_plus"]
    assert "/profile/" in links(page, "#blocked-links a")
    assert find(page, "#ask-owner") == []


def test_an_employee_is_told_to_ask_the_owner_by_name_and_sees_no_payment(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """The employee: the owner's name, no plans, no "Opłać"; the profile and the payment pages stay blocked."""
    info = _blocked_company(app, make_company, add_employee)
    c = _signed_in(app, "ola@klos.pl")
    page = c.get("/licence/").get_data(as_text=True)
    ask = text(page, "#ask-owner")
    assert ask.startswith("Poproś właściciela firmy, Jan Testowy, o opłacenie abonamentu")
    assert find(page, "#pay-now") == [] and find(page, "#plans") == [] and find(page, "#owner-options") == []
    for url in ("/profile/", "/settings/payments/", "/settings/export/", "/support/"):
        resp = c.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/licence/"), url
    assert info["employee"]["company_id"] == info["company_id"]


def test_the_owner_still_reaches_the_profile_and_signs_out(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """Profile and its security page answer normally while blocked; signing out works."""
    info = _blocked_company(app, make_company, add_employee)
    c = _signed_in(app, info["email"])
    profile = c.get("/profile/")
    assert profile.status_code == 200 and "Jan Testowy" in text(profile.get_data(as_text=True), "#profile")
    assert c.get("/profile/security/password").status_code == 200
    out = c.post("/logout/")
    assert out.status_code == 302 and "/login" in out.headers["Location"]
    assert c.get("/profile/").headers["Location"].startswith("/login")


def test_the_payment_pages_are_not_blocked_for_the_owner(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """The owner's request to the payments, export and support pages is not sent to the block page.

    Those pages come with their own modules; until then the answer is the plain 404 of a missing page.
    """
    info = _blocked_company(app, make_company, add_employee)
    c = _signed_in(app, info["email"])
    for url in ("/settings/payments/", "/settings/export/", "/support/"):
        resp = c.get(url)
        assert "/licence/" not in (resp.headers.get("Location") or ""), url
        assert "Twoja licencja wygasła" not in resp.get_data(as_text=True), url


def test_the_avatar_in_the_top_bar_loads_while_blocked(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """The top bar's avatar image is served (an image, not a redirect) to both roles while blocked."""
    from app.models.users import CrmUser
    from app.services.accounts import employees

    info = _blocked_company(app, make_company, add_employee)
    buf = io.BytesIO()
    Image.new("RGB", (60, 60), (20, 120, 200)).save(buf, "PNG")
    with app.app_context():
        employees.set_avatar(db.session.get(CrmUser, info["owner_id"]), buf.getvalue())
        db.session.remove()
    c = _signed_in(app, info["email"])
    page = c.get("/licence/").get_data(as_text=True)
    src = find(page, "#user-menu img")[0].get("src")
    assert src == f"/media/avatar/{info['owner_id']}"
    image = c.get(src)
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    employee = _signed_in(app, "ola@klos.pl")
    assert employee.get(src).status_code == 200  # a colleague's avatar too
    assert find(employee.get("/licence/").get_data(as_text=True), "#user-menu .initials")[0].text_content() == "ON"


def test_the_api_of_a_blocked_company_answers_403_in_polish(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """A token request works, but the API itself answers 403 with the reason instead of a redirect."""
    _blocked_company(app, make_company, add_employee)
    c = app.test_client()
    token = c.post("/api/v1/auth/token", json={"username": "ola@klos.pl", "password": STRONG_PASSWORD})
    assert token.status_code == 200
    me = c.get("/api/v1/me/", headers={"Authorization": f"Bearer {token.json['access_token']}"})
    assert me.status_code == 403
    assert me.json == {"message": "Dostęp do konta jest zablokowany: licencja wygasła."}


def test_another_company_keeps_working_while_one_is_blocked(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """Blocking is per company: the other company's owner opens pages and sees no block."""
    _blocked_company(app, make_company, add_employee)
    other = make_company("Hurtownia Żółw")
    c = _signed_in(app, other["email"])
    assert c.get("/bases/").status_code == 200
    assert c.get("/licence/").headers["Location"].endswith("/")


# ---------------------------------------------------------------- the platform admin's hand changes


def _licence_form(admin: Any, company_id: int, **data: str) -> Any:
    return admin.post(f"/admin/licence/{company_id}/", data=data)


def test_the_admin_extends_a_blocked_licence_with_a_reason_and_nothing_was_lost(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """Extended by hand: the audit log has who, old and new day and the reason; the data is all there."""
    info = _blocked_company(app, make_company, add_employee)
    owner = _signed_in(app, info["email"])
    with app.app_context():
        from app.security.tenancy import tenant_scope
        from app.services.contacts import bases

        with tenant_scope(info["company_id"]):
            bases.create_base(info["company_id"], "Klienci hurtowi", "contacts")
        db.session.remove()
    assert owner.get("/bases/").headers["Location"].endswith("/licence/")

    admin = _admin(app)
    new_end = TODAY + dt.timedelta(days=30)
    resp = _licence_form(admin, info["company_id"], valid_until=new_end.isoformat(), reason="Reklamacja płatności PayU")
    assert resp.status_code == 302
    assert _end(app, info["company_id"]) == new_end
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.event == "licence_changed")).scalar_one()
        assert event.company_id == info["company_id"] and event.actor_id is not None
        assert event.details == (f"{(TODAY - dt.timedelta(days=1)).isoformat()} -> {new_end.isoformat()}: "
                                 "Reklamacja płatności PayU")
        db.session.remove()
    history = admin.get(f"/admin/licence/{info['company_id']}/").get_data(as_text=True)
    assert "Reklamacja płatności PayU" in text(history, "#licence-changes")
    bases_page = owner.get("/bases/")
    assert bases_page.status_code == 200 and "Klienci hurtowi" in bases_page.get_data(as_text=True)
    log = owner.get("/settings/security/").get_data(as_text=True)
    old = (TODAY - dt.timedelta(days=1)).strftime("%d.%m.%Y")
    assert "Licencja zmieniona przez administratora systemu" in log
    assert f"{old} → {new_end.strftime('%d.%m.%Y')}: Reklamacja płatności PayU" in log


def test_the_admin_shortens_a_licence_which_blocks_at_once(app: Any, make_company: Callable) -> None:
    """A last day before today blocks the company on its next page."""
    info = make_company()
    owner = _signed_in(app, info["email"])
    assert owner.get("/bases/").status_code == 200
    admin = _admin(app)
    yesterday = TODAY - dt.timedelta(days=1)
    assert _licence_form(admin, info["company_id"], valid_until=yesterday.isoformat(),
                         reason="Zwrot płatności na prośbę klienta").status_code == 302
    assert owner.get("/bases/").headers["Location"].endswith("/licence/")
    assert "Zmiana licencji" not in owner.get("/licence/").get_data(as_text=True)


def test_a_licence_change_without_a_reason_is_refused_in_polish(app: Any, make_company: Callable) -> None:
    """No reason (or a too short one) and no date: both messages at once, the licence and the log untouched."""
    info = make_company()
    before = _end(app, info["company_id"])
    admin = _admin(app)
    resp = _licence_form(admin, info["company_id"], valid_until="", reason=" ok ")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Podaj nowy ostatni dzień licencji." in page and "Podaj powód zmiany (co najmniej 5 znaków)." in page
    assert _end(app, info["company_id"]) == before
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(AuditEvent.event == "licence_changed")).first() is None
        db.session.remove()


def test_only_the_platform_admin_changes_licences(app: Any, make_company: Callable) -> None:
    """An owner posting to the admin's licence form is refused and the licence stays."""
    info = make_company()
    before = _end(app, info["company_id"])
    owner = _signed_in(app, info["email"])
    resp = _licence_form(owner, info["company_id"], valid_until=(TODAY + dt.timedelta(days=400)).isoformat(),
                         reason="Sam sobie przedłużam")
    assert resp.status_code == 403
    assert _end(app, info["company_id"]) == before


def test_the_company_page_of_the_admin_links_to_the_licence_change(app: Any, make_company: Callable) -> None:
    """"Zmień licencję" on the company account's page."""
    info = make_company()
    admin = _admin(app)
    page = admin.get(f"/admin/companies/show/{info['company_id']}").get_data(as_text=True)
    assert link(page, "#change-licence") == f"/admin/licence/{info['company_id']}/"


# ---------------------------------------------------------------- three days before the end


def test_the_owner_is_e_mailed_three_days_before_the_end_once(
    app: Any, make_company: Callable, add_employee: Callable, mail_outbox: list
) -> None:
    """The daily job mails the owner (not employees, not other companies) once per end date."""
    from app.scheduler import bind_app, warn_expiring_licences

    soon = make_company("Piekarnia Kłos Sp. z o.o.")
    add_employee(soon["owner_id"], "ola@klos.pl")
    later = make_company("Hurtownia Żółw")
    end = TODAY + dt.timedelta(days=3)
    _set_end(app, soon["company_id"], end)
    _set_end(app, later["company_id"], TODAY + dt.timedelta(days=4))
    bind_app(app)
    assert warn_expiring_licences() == 1
    assert [m["To"] for m in mail_outbox] == [soon["email"]]
    message = mail_outbox[0]
    assert message["Subject"] == f"Licencja Klienteli kończy się {end.strftime('%d.%m.%Y')}"
    body = message.get_content()
    assert "Piekarnia Kłos Sp. z o.o." in body and "zakładka Płatności" in body and "żadne dane nie zostaną" in body
    assert warn_expiring_licences() == 0  # the next day's run: already told
    assert len(mail_outbox) == 1
    # paid for a month, and again three days before the new end: told again
    _set_end(app, soon["company_id"], TODAY + dt.timedelta(days=2))
    assert warn_expiring_licences() == 1 and len(mail_outbox) == 2


def test_the_banner_shows_days_left_to_the_owner_only(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """Three days or fewer: the owner's banner with the days and the date; employees and later ends see none."""
    info = make_company()
    add_employee(info["owner_id"], "ola@firma.pl")
    end = TODAY + dt.timedelta(days=2)
    _set_end(app, info["company_id"], end)
    owner = _signed_in(app, info["email"])
    banner = text(owner.get("/bases/").get_data(as_text=True), "#licence-notice")
    assert f"Licencja Twojej firmy jest ważna jeszcze 3 dni, do {end.strftime('%d.%m.%Y')}" in banner
    assert link(owner.get("/bases/").get_data(as_text=True), "#licence-notice a") == "/settings/payments/"
    employee = _signed_in(app, "ola@firma.pl")
    assert find(employee.get("/bases/").get_data(as_text=True), "#licence-notice") == []
    _set_end(app, info["company_id"], TODAY + dt.timedelta(days=10))
    assert find(owner.get("/bases/").get_data(as_text=True), "#licence-notice") == []


def test_the_licence_form_needs_its_csrf_token(app: Any, make_company: Callable) -> None:
    """With CSRF protection on (as in production) a post without the form's token is refused; with it, it works."""
    from tests.helpers import csrf_token

    info = make_company()
    before = _end(app, info["company_id"])
    admin = _admin(app)
    new_end = (TODAY + dt.timedelta(days=60)).isoformat()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = _licence_form(admin, info["company_id"], valid_until=new_end, reason="Przedłużenie bez tokenu")
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/licence/{info['company_id']}/")
        page = admin.get(resp.headers["Location"]).get_data(as_text=True)
        assert "Formularz wygasł lub został wysłany z innej strony" in page
        assert _end(app, info["company_id"]) == before
        token = csrf_token(admin.get(f"/admin/licence/{info['company_id']}/").get_data(as_text=True), "#licence-form")
        resp = _licence_form(admin, info["company_id"], valid_until=new_end, reason="Przedłużenie z tokenem",
                             csrf_token=token)
        assert resp.status_code == 302 and _end(app, info["company_id"]).isoformat() == new_end
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_page_added_to_the_allow_list_opens_for_the_owner_only(
    app: Any, make_company: Callable, add_employee: Callable
) -> None:
    """Another module adds its page with licence.allow(): the blocked owner reaches it, the employee does not."""
    from app.security import licence

    info = _blocked_company(app, make_company, add_employee)
    owner = _signed_in(app, info["email"])
    assert owner.get("/settings/company/").headers["Location"].endswith("/licence/")
    licence.allow(endpoint="CompanySettingsView.index")
    try:
        assert owner.get("/settings/company/").status_code == 200
        employee = _signed_in(app, "ola@klos.pl")
        assert employee.get("/settings/company/").headers["Location"].endswith("/licence/")
    finally:
        licence.OWNER_ENDPOINTS.discard("CompanySettingsView.index")
