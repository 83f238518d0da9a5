"""Settings tab "Mailing": the FAQ path to an active mailbox against real SMTP/IMAP servers, each
verification failure, editing, secrecy of the password, roles, CSRF, bad input and isolation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.mailing import Mailbox
from app.models.security import AuditEvent
from app.security.tenancy import all_tenants, tenant_scope
from app.services import background
from app.services.mailing import transport, verification
from tests.helpers import csrf_token, find, login, option_values, text, texts
from tests.mailservers import HOST, MailServers, MailUser, free_port

BASE = "/settings/mailing"


def mailbox_form(servers: MailServers, user: MailUser, **over: Any) -> dict[str, Any]:
    """The "Dodaj nowy adres" form for a user of the test servers (implicit TLS on both)."""
    data = {
        "provider": "", "email": user.email, "sender_name": "Biuro Łódź", "smtp_host": HOST,
        "smtp_port": str(servers.smtps_port), "smtp_security": "ssl", "imap_host": HOST,
        "imap_port": str(servers.imaps_port), "imap_security": "ssl", "login": user.email,
        "password": user.password, "rate_per_minute": "30", "daily_cap": "500",
    }
    data.update(over)
    return data


def add_mailbox(client: Any, servers: MailServers, user: MailUser, **over: Any) -> int:
    """Add a mailbox through the form; its id."""
    resp = client.post(f"{BASE}/add", data=mailbox_form(servers, user, **over))
    assert resp.status_code == 302, resp.text[:3000]
    email = over.get("email", user.email)
    with client.application.app_context(), all_tenants():
        box_id = db.session.scalars(select(Mailbox.id).where(Mailbox.email == email).order_by(Mailbox.id.desc())).first()
        db.session.remove()
    return box_id


def verify(client: Any, mailbox_id: int, timeout: float = 60) -> Any:
    """Click the yellow triangle, wait for the verification to end; the verification page."""
    resp = client.post(f"{BASE}/{mailbox_id}/verify")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{BASE}/{mailbox_id}/verification")
    background.wait(verification.JOB_KIND, mailbox_id, timeout)
    return client.get(f"{BASE}/{mailbox_id}/verification")


def stored(app: Any, company_id: int, mailbox_id: int) -> Mailbox:
    """The mailbox row as saved (detached)."""
    with app.app_context(), tenant_scope(company_id):
        box = db.session.get(Mailbox, mailbox_id)
        db.session.expunge(box)
        db.session.remove()
    return box


def test_faq_path_gear_mailing_add_inactive_triangle_verify_active(app: Any, owner_client: Any, mail_servers: MailServers) -> None:
    user = mail_servers.add_user()
    settings = owner_client.get("/settings/", follow_redirects=True)
    assert "Mailing" in texts(settings.text, "#settings-tabs a")
    listing = owner_client.get(f"{BASE}/")
    assert listing.status_code == 200
    assert text(listing.text, "#add-mailbox") == "Dodaj nowy adres"
    form_page = owner_client.get(f"{BASE}/add")
    assert option_values(form_page.text, "provider") == ["", "wp", "onet", "o2", "gmail"]
    assert "dostęp do serwerów SMTP oraz IMAP" in text(form_page.text, "#mailbox-faq-note")
    assert "Gmail wymaga hasła aplikacji" in text(form_page.text, "#mailbox-faq-note")

    box_id = add_mailbox(owner_client, mail_servers, user)
    listing = owner_client.get(f"{BASE}/")
    row = f"#mailbox-{box_id}"
    assert find(listing.text, f"{row} .mailbox-verify .fa-triangle-exclamation")
    assert "Nieaktywne" in text(listing.text, f"{row} .mailbox-state")

    page = verify(owner_client, box_id)
    assert "aktywna do wysyłek" in text(page.text, "#verify-result")
    assert [li.get("class") for li in find(page.text, "#verify-steps li")] == ["verify-step step-done"] * 5
    box = stored(app, owner_client.crm["company_id"], box_id)
    assert box.state == "active" and box.verified_at is not None and box.last_error is None
    received = mail_servers.messages(user)
    assert len(received) == 1 and box.verify_token in received[0]["Subject"]
    assert received[0]["X-Klientela-Verification"] == box.verify_token
    listing = owner_client.get(f"{BASE}/")
    assert not find(listing.text, f"{row} .mailbox-verify")
    assert text(listing.text, f"{row} .mailbox-state") == "Aktywne do wysyłek"
    progress = owner_client.get(f"{BASE}/{box_id}/progress").get_json()
    assert progress["state"] == "active" and progress["finished"] is True


def test_verification_over_starttls(app: Any, owner_client: Any, mail_servers: MailServers) -> None:
    user = mail_servers.add_user()
    box_id = add_mailbox(owner_client, mail_servers, user, smtp_port=str(mail_servers.smtp_port),
                         smtp_security="starttls", imap_port=str(mail_servers.imap_port), imap_security="starttls")
    verify(owner_client, box_id)
    assert stored(app, owner_client.crm["company_id"], box_id).state == "active"
    assert len(mail_servers.messages(user)) == 1


def test_password_with_polish_letters_logs_in_to_smtp_and_imap(app: Any, owner_client: Any, mail_servers: MailServers) -> None:
    user = mail_servers.add_user(f"zolw-{free_port()}@skrzynki-testowe.pl", "Żółw-Gęś-42")
    box_id = add_mailbox(owner_client, mail_servers, user)
    verify(owner_client, box_id)
    assert stored(app, owner_client.crm["company_id"], box_id).state == "active"


def _silent_port() -> tuple[Any, int]:
    """A port that accepts connections but never answers (a server that hangs)."""
    import socket

    sock = socket.socket()
    sock.bind((HOST, 0))
    sock.listen(5)
    return sock, sock.getsockname()[1]


FAILURES = {
    # kind: (form changes, error code, a phrase of the Polish message)
    "unknown host": ({"smtp_host": "nonexistent.invalid"}, transport.UNKNOWN_HOST, "Nazwa serwera jest nieznana"),
    "connection refused": ({"smtp_port": "closed"}, transport.CONNECTION_REFUSED, "Serwer odrzucił połączenie"),
    "timed out": ({"smtp_port": "silent"}, transport.TIMED_OUT, "Serwer nie odpowiedział w czasie"),
    "untrusted certificate": ({"untrusted": True}, transport.TLS_ERROR, "certyfikat serwera nie jest zaufany"),
    "SSL on the STARTTLS port": ({"smtp_port": "starttls-port"}, transport.TLS_ERROR, "ustawienie zabezpieczeń nie pasuje do portu"),
    "wrong password": ({"password": "wrong"}, transport.SMTP_LOGIN_REFUSED, "Serwer SMTP odrzucił login lub hasło"),
    "SMTP login refused": ({"refuse_login": True}, transport.SMTP_LOGIN_REFUSED, "Serwer SMTP odrzucił login lub hasło"),
    "sending refused": ({"refuse_sender": True}, transport.SENDING_REFUSED, "odmówił wysłania wiadomości"),
    "IMAP login refused": ({"imap_password": True}, transport.IMAP_LOGIN_REFUSED, "Serwer IMAP odrzucił login lub hasło"),
    "IMAP off": ({"imap_port": "closed"}, transport.IMAP_UNAVAILABLE, "Serwer IMAP jest niedostępny"),
    "message not found in time": ({"swallow": True}, transport.NOT_FOUND, "nie dotarła do skrzynki w czasie"),
}


def _prepare(kind: str, servers: MailServers, user: MailUser, monkeypatch: Any, app: Any) -> dict[str, Any]:
    """The form values (and server rules) that make verification fail in the given way."""
    change = dict(FAILURES[kind][0])
    over: dict[str, Any] = {}
    for field in ("smtp_port", "imap_port"):
        value = change.pop(field, None)
        if value == "closed":
            over[field] = str(free_port())
        elif value == "silent":
            sock, port = _silent_port()
            monkeypatch.setitem(app.config, "CRM_MAIL_TIMEOUT", 1.0)
            over[field] = str(port)
            app.extensions.setdefault("test_sockets", []).append(sock)
        elif value == "starttls-port":
            over[field] = str(servers.smtp_port)
    if change.pop("untrusted", False):
        monkeypatch.setitem(app.config, "CRM_MAIL_CA_FILE", "")
    if change.pop("refuse_login", False):
        servers.refuse_login(user.email)
    if change.pop("refuse_sender", False):
        servers.refuse_sender(user.email)
    if change.pop("imap_password", False):
        servers.accept_smtp_login(user.email, "Tylko-SMTP-1")
        over["password"] = "Tylko-SMTP-1"
    if change.pop("swallow", False):
        servers.swallow(user.email)
        monkeypatch.setitem(app.config, "CRM_MAILBOX_VERIFY_TIMEOUT", 1.5)
    over.update(change)
    return over


@pytest.mark.parametrize("kind", list(FAILURES))
def test_each_failure_has_its_own_polish_message_and_the_mailbox_stays_inactive(
    app: Any, owner_client: Any, mail_servers: MailServers, monkeypatch: Any, kind: str
) -> None:
    _change, code, phrase = FAILURES[kind]
    user = mail_servers.add_user()
    try:
        box_id = add_mailbox(owner_client, mail_servers, user, **_prepare(kind, mail_servers, user, monkeypatch, app))
        page = verify(owner_client, box_id)
    finally:
        for sock in app.extensions.pop("test_sockets", []):
            sock.close()
    box = stored(app, owner_client.crm["company_id"], box_id)
    assert (box.state, box.last_error, box.verified_at) == ("failed", code, None)
    assert phrase in text(page.text, "#verify-result")
    assert "Skrzynka pozostaje nieaktywna" in text(page.text, "#verify-result")
    assert find(page.text, "#verify-steps li.step-failed")
    listing = owner_client.get(f"{BASE}/")
    assert find(listing.text, f"#mailbox-{box_id} .mailbox-verify .fa-triangle-exclamation")
    assert phrase in text(listing.text, f"#mailbox-{box_id} .mailbox-error")


def test_failure_messages_differ_per_kind() -> None:
    from app.services.mailing.mailboxes import ERROR_MESSAGES

    codes = {code for _c, code, _p in FAILURES.values()}
    assert len({str(ERROR_MESSAGES[c]._args[0]) for c in codes}) == len(codes)


def test_edit_keeps_password_when_empty_and_changes_make_the_mailbox_inactive(
    app: Any, owner_client: Any, mail_servers: MailServers
) -> None:
    user = mail_servers.add_user()
    company_id = owner_client.crm["company_id"]
    box_id = add_mailbox(owner_client, mail_servers, user)
    verify(owner_client, box_id)
    edit_page = owner_client.get(f"{BASE}/{box_id}/edit")
    assert user.password not in edit_page.text
    assert [i.get("value") for i in find(edit_page.text, "input[name=password]")] in ([None], [""])

    # only the sender name: still active, password kept
    resp = owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user, password="", sender_name="Sprzedaż"))
    assert resp.status_code == 302
    box = stored(app, company_id, box_id)
    assert (box.state, box.sender_name) == ("active", "Sprzedaż")
    with app.app_context():
        assert transport.mailbox_password(box) == user.password

    # a new password: inactive again (yellow triangle)
    resp = owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user, password="Inne-Haslo-9"))
    assert resp.status_code == 302
    box = stored(app, company_id, box_id)
    assert (box.state, box.verified_at) == ("unverified", None)
    assert find(owner_client.get(f"{BASE}/").text, f"#mailbox-{box_id} .mailbox-verify")

    # back to the right password and verified; then a changed server makes it inactive again
    owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user))
    verify(owner_client, box_id)
    assert stored(app, company_id, box_id).state == "active"
    owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(
        mail_servers, user, password="", smtp_port=str(mail_servers.smtp_port), smtp_security="starttls"))
    assert stored(app, company_id, box_id).state == "unverified"
    owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user, password="", login="inny@skrzynki-testowe.pl"))
    assert stored(app, company_id, box_id).login == "inny@skrzynki-testowe.pl"


def test_password_is_encrypted_and_never_in_pages_logs_or_audit(
    app: Any, owner_client: Any, mail_servers: MailServers, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    user = mail_servers.add_user()
    box_id = add_mailbox(owner_client, mail_servers, user)
    verify(owner_client, box_id)
    wrong = "Zle-Haslo-Tajne-77"
    owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user, password=wrong))
    verify(owner_client, box_id)
    owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user, password="x" * 501))
    company_id = owner_client.crm["company_id"]
    box = stored(app, company_id, box_id)
    assert box.last_error == transport.SMTP_LOGIN_REFUSED
    for secret in (user.password, wrong):
        assert secret not in box.password_encrypted
        assert secret not in caplog.text
        for url in (f"{BASE}/", f"{BASE}/{box_id}/edit", f"{BASE}/{box_id}/verification", f"{BASE}/{box_id}/progress"):
            assert secret not in owner_client.get(url).text, url
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.company_id == company_id)).all()
        events = [r.event for r in rows]
        details = " ".join(r.details or "" for r in rows)
        db.session.remove()
    assert events.count("mailbox_added") == 1 and events.count("mailbox_changed") == 1
    assert "password" in details
    assert user.password not in details and wrong not in details
    audit_page = owner_client.get("/settings/security/")
    assert user.password not in audit_page.text and wrong not in audit_page.text
    assert f"{user.email}: Hasło" in audit_page.text and "Zmieniono skrzynkę pocztową" in audit_page.text


def test_bad_input_gets_polish_messages_and_saves_nothing(app: Any, owner_client: Any, mail_servers: MailServers) -> None:
    user = mail_servers.add_user()
    resp = owner_client.post(f"{BASE}/add", data=mailbox_form(
        mail_servers, user, email="nie-adres", smtp_host="zły host", smtp_port="abc", smtp_security="tls9",
        imap_host="", imap_port="70000", imap_security="", login="", password="", rate_per_minute="-1",
        daily_cap="²"))
    assert resp.status_code == 200
    errors = texts(resp.text, ".help-block.error")
    assert "Adres e-mail jest nieprawidłowy." in errors
    assert "Wybierz SSL/TLS lub STARTTLS." in errors
    assert "Podaj hasło skrzynki." in errors
    assert len(errors) == 11
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(Mailbox)).first() is None
        db.session.remove()
    add_mailbox(owner_client, mail_servers, user)
    again = owner_client.post(f"{BASE}/add", data=mailbox_form(mail_servers, user, email=user.email.upper()))
    assert "Ten adres jest już na liście." in texts(again.text, ".help-block.error")


def test_delete_moves_the_mailbox_to_the_trash(app: Any, owner_client: Any, mail_servers: MailServers) -> None:
    user = mail_servers.add_user()
    box_id = add_mailbox(owner_client, mail_servers, user)
    resp = owner_client.post(f"{BASE}/{box_id}/delete", follow_redirects=True)
    assert resp.status_code == 200 and "przeniesiono do kosza" in resp.text
    assert user.email not in owner_client.get(f"{BASE}/").text
    assert owner_client.get(f"{BASE}/{box_id}/edit").status_code == 404
    with app.app_context(), tenant_scope(owner_client.crm["company_id"]):
        row = db.session.scalars(select(Mailbox).execution_options(include_deleted=True)).one()
        assert row.deleted_at is not None
        db.session.remove()
    trash_page = owner_client.get("/settings/trash/").text
    assert texts(trash_page, ".trash-names") == [user.email]
    assert text(trash_page, ".trash-subject") == f"1 skrzynka pocztowa {user.email}"


def test_manager_may_use_the_tab_and_an_employee_may_not(
    app: Any, make_company: Any, add_employee: Any, mail_servers: MailServers
) -> None:
    info = make_company()
    manager = add_employee(info["owner_id"], "kierownik@firma.pl", role="Manager")
    employee = add_employee(info["owner_id"], "pracownik@firma.pl")
    user = mail_servers.add_user()
    m = app.test_client()
    login(m, manager["email"])
    box_id = add_mailbox(m, mail_servers, user)
    e = app.test_client()
    login(e, employee["email"])
    assert "Mailing" not in texts(e.get("/settings/avatar/").text, "#settings-tabs a")
    for url in (f"{BASE}/", f"{BASE}/add", f"{BASE}/{box_id}/edit", f"{BASE}/{box_id}/verification"):
        assert e.get(url).status_code == 403, url
    for url in (f"{BASE}/{box_id}/verify", f"{BASE}/{box_id}/delete", f"{BASE}/{box_id}/edit"):
        assert e.post(url, data=mailbox_form(mail_servers, user, password="x")).status_code == 403, url
    assert stored(app, info["company_id"], box_id).state == "unverified"


CSRF_REFUSED = "Formularz wygasł lub został wysłany z innej strony."


def test_csrf_is_required_on_every_mailbox_form(app: Any, owner_client: Any, mail_servers: MailServers, csrf_on: None) -> None:
    user = mail_servers.add_user()
    resp = owner_client.post(f"{BASE}/add", data=mailbox_form(mail_servers, user), follow_redirects=True)
    assert CSRF_REFUSED in resp.text
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(Mailbox)).first() is None
        db.session.remove()
    token = csrf_token(owner_client.get(f"{BASE}/add").text, "#mailbox-form")
    resp = owner_client.post(f"{BASE}/add", data={**mailbox_form(mail_servers, user), "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{BASE}/")
    with app.app_context(), all_tenants():
        box_id = db.session.scalars(select(Mailbox.id)).one()
        db.session.remove()
    for action in ("verify", "delete"):
        assert CSRF_REFUSED in owner_client.post(f"{BASE}/{box_id}/{action}", follow_redirects=True).text
    edit = owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user, sender_name="Zmiana"),
                             follow_redirects=True)
    assert CSRF_REFUSED in edit.text
    box = stored(app, owner_client.crm["company_id"], box_id)
    assert (box.state, box.sender_name, box.deleted_at, box.verify_token) == ("unverified", "Biuro Łódź", None, None)
    assert mail_servers.messages(user) == []


def test_another_company_cannot_see_edit_verify_or_delete_a_mailbox(
    app: Any, owner_client: Any, make_company: Any, mail_servers: MailServers
) -> None:
    user = mail_servers.add_user()
    box_id = add_mailbox(owner_client, mail_servers, user)
    assert user.email in owner_client.get(f"{BASE}/").text
    other = make_company("Intruz")
    b = app.test_client()
    login(b, other["email"])
    assert user.email not in b.get(f"{BASE}/").text
    for url in (f"{BASE}/{box_id}/edit", f"{BASE}/{box_id}/verification", f"{BASE}/{box_id}/progress"):
        assert b.get(url).status_code == 404, url
    for url in (f"{BASE}/{box_id}/edit", f"{BASE}/{box_id}/verify", f"{BASE}/{box_id}/delete"):
        assert b.post(url, data=mailbox_form(mail_servers, user, sender_name="Przejęte")).status_code == 404, url
    box = stored(app, owner_client.crm["company_id"], box_id)
    assert (box.state, box.sender_name, box.deleted_at, box.verify_token) == ("unverified", "Biuro Łódź", None, None)
    assert mail_servers.messages(user) == []
    # B's own mailbox with the same address is B's alone
    b_box = add_mailbox(b, mail_servers, user)
    assert b_box != box_id
    assert user.email in b.get(f"{BASE}/").text


def test_mailing_pages_are_polish(app: Any, owner_client: Any, mail_servers: MailServers) -> None:
    from tests.integration.test_polish_pages import assert_polish

    empty = owner_client.get(f"{BASE}/")
    assert_polish(empty.text, f"{BASE}/ (empty)")
    user = mail_servers.add_user()
    box_id = add_mailbox(owner_client, mail_servers, user, password="Zle-Haslo-1")
    verify(owner_client, box_id)
    for url in (f"{BASE}/", f"{BASE}/add", f"{BASE}/{box_id}/edit", f"{BASE}/{box_id}/verification"):
        resp = owner_client.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.text, url)


def test_a_mailbox_changed_during_its_verification_is_not_made_active(
    app: Any, owner_client: Any, mail_servers: MailServers
) -> None:
    from app.models.users import CrmUser

    user = mail_servers.add_user()
    company_id = owner_client.crm["company_id"]
    box_id = add_mailbox(owner_client, mail_servers, user)
    with app.app_context(), tenant_scope(company_id):
        verification.start_verification(company_id, db.session.get(CrmUser, owner_client.crm["owner_id"]), box_id)
        db.session.remove()
    # a second click while it runs is refused
    again = owner_client.post(f"{BASE}/{box_id}/verify", follow_redirects=True)
    assert "Weryfikacja tej skrzynki już trwa." in again.text
    # the password is changed before the verification gets to its end
    changed = owner_client.post(f"{BASE}/{box_id}/edit", data=mailbox_form(mail_servers, user, password="Nowe-Haslo-2"))
    assert changed.status_code == 302
    with app.app_context():
        assert verification.run_verification(company_id, box_id) is None  # nothing left to run: the mailbox changed
        db.session.remove()
    box = stored(app, company_id, box_id)
    assert (box.state, box.verified_at) == ("unverified", None)
    assert mail_servers.messages(user) == []


def test_a_verification_left_running_by_a_crash_can_be_started_again(
    app: Any, owner_client: Any, mail_servers: MailServers
) -> None:
    import datetime as dt

    user = mail_servers.add_user()
    company_id = owner_client.crm["company_id"]
    box_id = add_mailbox(owner_client, mail_servers, user)
    with app.app_context(), tenant_scope(company_id):
        box = db.session.get(Mailbox, box_id)
        box.state, box.verify_token, box.verify_step = "verifying", "stary-token", "search"
        box.verify_started_at = dt.datetime(2020, 1, 1)
        db.session.commit()
        db.session.remove()
    listing = owner_client.get(f"{BASE}/")
    assert find(listing.text, f"#mailbox-{box_id} .mailbox-verify")
    page = verify(owner_client, box_id)
    assert "aktywna do wysyłek" in text(page.text, "#verify-result")
    assert stored(app, company_id, box_id).state == "active"


def test_the_plans_mailbox_limit_refuses_one_more_and_names_the_plan_that_lifts_it(
    app: Any, owner_client: Any, mail_servers: MailServers
) -> None:
    """AppLarge (the trial's limits) set to one mailbox: the second is refused, nothing saved; trash frees a place."""
    from app.models.billing import Plan

    with app.app_context():
        plan = db.session.execute(db.select(Plan).where(Plan.code == "applarge")).scalar_one()
        plan.max_mailboxes = 1
        db.session.commit()
        db.session.remove()
    first, second = mail_servers.add_user(), mail_servers.add_user()
    first_id = add_mailbox(owner_client, mail_servers, first)
    resp = owner_client.post(f"{BASE}/add", data=mailbox_form(mail_servers, second))
    assert resp.status_code == 200
    assert "Osiągnięto limit „Konta mailingowe”: najwyżej 1" in resp.text
    assert "AppLarge+" in resp.text
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(Mailbox.email).where(Mailbox.deleted_at.is_(None))).all() == [first.email]
        db.session.remove()
    resp = owner_client.post(f"{BASE}/{first_id}/delete")
    assert resp.status_code == 302
    add_mailbox(owner_client, mail_servers, second)  # the one in the trash does not count
