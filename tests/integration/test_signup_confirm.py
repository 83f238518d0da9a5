"""Sign-up confirms the owner's e-mail address by a signed link; stale sign-ups expire; per-IP limit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Company, CrmUser
from app.models.mixins import utcnow
from tests.helpers import STRONG_PASSWORD, csrf_token, login, make_nip

NIP = "5260250274"
EMAIL = "zofia@zlotyklos.pl"
FORM = {
    "accept_terms": "y",
    "company_name": "Piekarnia Złoty Kłos Sp. z o.o.",
    "nip": "526-025-02-74",
    "first_name": "Zofia",
    "last_name": "Wiśniewska",
    "email": EMAIL,
    "password": STRONG_PASSWORD,
    "password_confirm": STRONG_PASSWORD,
}
LINK = re.compile(r"http://localhost(/signup/confirm/\S+)")


def sign_up(client, **changes):
    """Send the real sign-up form."""
    return client.post("/signup/", data={**FORM, **changes})


def confirm_path(message) -> str:
    """The confirmation link of a received e-mail, as a path."""
    m = LINK.search(message.get_content())
    assert m, message.get_content()
    return m.group(1)


def company_row(app, nip=NIP):
    with app.app_context():
        row = db.session.execute(select(Company).where(Company.nip == nip)).scalar_one_or_none()
        if row is not None:
            db.session.expunge(row)
        db.session.remove()
        return row


def count(app, model) -> int:
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(model)).scalar()
        db.session.remove()
        return n


def run_expiry_job(app) -> int:
    from app import scheduler

    scheduler.bind_app(app)
    try:
        return scheduler.expire_signups()
    finally:
        scheduler.bind_app(None)


def move_clock(monkeypatch, hours: float) -> None:
    """Move the services' clock (app/services/clock.py) forward."""
    from app.services import clock

    monkeypatch.setattr(clock, "utcnow", lambda: utcnow() + dt.timedelta(hours=hours))


def test_signup_asks_to_check_mailbox_and_does_not_sign_in(app, client, mail_outbox):
    resp = sign_up(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/signup/sent/")
    page = client.get("/signup/sent/")
    assert "Sprawdź skrzynkę pocztową" in page.text and "w ciągu 48 godz." in page.text
    assert f'value="{EMAIL}"' in page.text  # "send again" knows the address
    home = client.get("/")
    assert home.status_code == 302 and "/login/" in home.headers["Location"]
    assert len(mail_outbox) == 1
    msg = mail_outbox[0]
    assert msg["To"] == EMAIL and msg["Subject"] == "Potwierdź swoje konto w Klienteli"
    assert "Piekarnia Złoty Kłos" in msg.get_content() and "/signup/confirm/" in confirm_path(msg)
    company = company_row(app)
    assert company is not None and company.confirmed_at is None


def test_sign_in_refused_until_confirmed_with_a_way_to_resend(app, client, mail_outbox):
    sign_up(client)
    other = app.test_client()
    resp = login(other, EMAIL)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/signup/sent/")
    page = other.get("/signup/sent/")
    assert "Twoje konto nie jest jeszcze aktywne: potwierdź adres e-mail linkiem, który wysłaliśmy na " + EMAIL in page.text
    assert "Wyślij link ponownie" in page.text and f'value="{EMAIL}"' in page.text
    assert other.get("/").status_code == 302  # still not signed in
    # a wrong password tells nothing about the account
    wrong = other.post("/login/", data={"username": EMAIL, "password": "Zle-Haslo-123!"}, follow_redirects=True)
    assert "Nieprawidłowy e-mail lub hasło" in wrong.text and "nie jest jeszcze aktywne" not in wrong.text
    # send the link again: a second e-mail with a working link
    resent = other.post("/signup/sent/", data={"email": EMAIL.upper()}, follow_redirects=True)
    assert "wysłaliśmy link ponownie" in resent.text
    assert len(mail_outbox) == 2 and mail_outbox[1]["To"] == EMAIL
    # an address without a waiting sign-up gets the same answer and no e-mail
    same = other.post("/signup/sent/", data={"email": "ktos@inny.pl"}, follow_redirects=True)
    assert "wysłaliśmy link ponownie" in same.text and len(mail_outbox) == 2
    assert other.get(confirm_path(mail_outbox[1])).status_code == 302
    assert other.get("/").status_code == 200


def test_link_confirms_signs_in_and_starts_the_trial(app, client, mail_outbox):
    sign_up(client)
    path = confirm_path(mail_outbox[0])
    browser = app.test_client()  # the owner opens the link in the mail program's browser
    resp = browser.get(path)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    home = browser.get("/")
    assert home.status_code == 200
    assert "Twój adres e-mail jest potwierdzony" in home.text and "Licencja: zostało 14 dni" in home.text
    company = company_row(app)
    assert company.confirmed_at is not None
    assert company.licence_valid_until == dt.date.today() + dt.timedelta(days=13)
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.event).where(AuditEvent.company_id == company.id)
        ).scalars().all()
        db.session.remove()
    assert "signup_confirmed" in events and "login" in events
    # the link works once; afterwards the owner signs in with the password
    again = app.test_client().get(path, follow_redirects=True)
    assert "To konto jest już potwierdzone" in again.text
    fresh = app.test_client()
    assert login(fresh, EMAIL).headers["Location"].endswith("/")
    assert fresh.get("/").status_code == 200


def test_confirming_starts_the_trial_on_that_day(app, client, mail_outbox):
    """The trial counts from confirmation, not from the sign-up."""
    from app.services.accounts import signups

    sign_up(client)
    token = confirm_path(mail_outbox[0]).rsplit("/", 1)[1]
    later = dt.date.today() + dt.timedelta(days=1)
    with app.test_request_context():
        owner = signups.confirm(token, today=later)
        assert owner.company.licence_valid_until == later + dt.timedelta(days=13)
        db.session.remove()


def test_tampered_and_foreign_links_are_refused(app, client, mail_outbox, make_company):
    from itsdangerous import URLSafeTimedSerializer

    sign_up(client)
    path = confirm_path(mail_outbox[0])
    token = path.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    owner_id = None
    with app.app_context():
        owner_id = db.session.execute(select(CrmUser.id).where(CrmUser.email == EMAIL)).scalar_one()
        db.session.remove()
    forged_key = URLSafeTimedSerializer("another-secret", salt="crm-signup-confirm").dumps({"u": owner_id, "t": "x"})
    # a password-reset link of another (confirmed) account signed with our key, used here
    info = make_company()
    with app.test_request_context():
        from app.services.accounts import password_reset

        reset_token = password_reset.reset_token(db.session.get(CrmUser, info["owner_id"]))
        db.session.remove()
    for bad in (tampered, forged_key, reset_token, "nonsense"):
        c = app.test_client()
        resp = c.get(f"/signup/confirm/{bad}", follow_redirects=True)
        assert "Ten link potwierdzający jest nieprawidłowy" in resp.text, bad
        assert c.get("/").status_code == 302
    assert company_row(app).confirmed_at is None


def test_unconfirmed_signup_removed_after_48_hours_frees_nip_and_email(app, client, mail_outbox, make_company,
                                                                        monkeypatch):
    confirmed = make_company(nip=make_nip(77))  # an ordinary account, as old as the sign-up
    sign_up(client)
    old_path = confirm_path(mail_outbox[0])
    move_clock(monkeypatch, 47)
    assert run_expiry_job(app) == 0
    assert company_row(app) is not None
    move_clock(monkeypatch, 49)
    assert run_expiry_job(app) == 1
    assert company_row(app) is None
    with app.app_context():
        assert db.session.execute(select(CrmUser).where(CrmUser.email == EMAIL)).first() is None
        assert db.session.get(Company, confirmed["company_id"]) is not None  # confirmed accounts stay
        db.session.remove()
    move_clock(monkeypatch, 0)
    # the old link no longer works, even though ids may be reused by the next sign-up
    gone = app.test_client().get(old_path, follow_redirects=True)
    assert "rejestracja wygasła" in gone.text
    # the NIP and the e-mail are free again
    again = app.test_client()
    assert sign_up(again).headers["Location"].endswith("/signup/sent/")
    assert len(mail_outbox) == 2
    assert app.test_client().get(old_path, follow_redirects=True).status_code == 200
    assert company_row(app).confirmed_at is None  # the old link did not confirm the new sign-up
    assert app.test_client().get(confirm_path(mail_outbox[1])).status_code == 302
    assert company_row(app).confirmed_at is not None


def test_expiry_job_is_scheduled():
    from app.scheduler import JOBS

    spec = next(j for j in JOBS if j.id == "signup_expiry")
    assert spec.func == "app.scheduler:expire_signups" and spec.trigger == "interval"


def test_signup_rate_limited_per_ip_with_polish_429(app, mail_outbox, monkeypatch):
    limiter = app.appbuilder.sm.limiter
    monkeypatch.setitem(app.config, "SIGNUP_RATE_LIMIT", "3 per hour")
    limiter.enabled = True
    limiter.reset()
    try:
        c = app.test_client()
        codes = [
            sign_up(c, nip=make_nip(200 + i), email=f"firma{i}@example.pl").status_code for i in range(3)
        ]
        assert codes == [302, 302, 302]
        refused = sign_up(c, nip=make_nip(210), email="firma10@example.pl")
        assert refused.status_code == 429 and "Zbyt wiele prób" in refused.text
        assert count(app, Company) == 3
        assert c.get("/signup/").status_code == 200  # the form itself stays readable
        other_ip = app.test_client()
        other_ip.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        assert sign_up(other_ip, nip=make_nip(211), email="firma11@example.pl").status_code == 302
    finally:
        limiter.reset()
        limiter.enabled = False


def test_signup_refused_clearly_without_a_mail_server(app, client):
    resp = sign_up(client)
    assert resp.status_code == 200
    assert "Zakładanie konta jest teraz niedostępne: system nie może wysyłać e-maili" in resp.text
    assert count(app, Company) == 0 and count(app, CrmUser) == 0


def test_signup_and_resend_forms_need_csrf(app, client, mail_outbox, csrf_on):
    resp = client.post("/signup/", data={**FORM})
    assert resp.status_code == 302 and count(app, Company) == 0
    page = client.get("/signup/")
    ok = client.post("/signup/", data={**FORM, "csrf_token": csrf_token(page.text)})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/signup/sent/")
    client.post("/signup/sent/", data={"email": EMAIL})  # no token: nothing sent
    assert len(mail_outbox) == 1


@pytest.mark.parametrize("path", ["/signup/sent/", "/signup/claim/", "/signup/claim/sent/"])
def test_public_signup_pages_are_polish(client, path):
    from tests.integration.test_polish_pages import assert_polish

    resp = client.get(path)
    assert resp.status_code == 200
    assert_polish(resp.text, path)


def test_without_smtp_development_keeps_the_mail_in_a_folder_and_sign_up_still_works(app, client, tmp_path, monkeypatch, caplog):
    """``make run`` has no mail server: the link is saved as .eml and shown in the console."""
    import logging
    from email import message_from_bytes
    from email import policy as email_policy

    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path / "mail"))
    caplog.set_level(logging.WARNING, logger="app.integrations.mail")
    resp = sign_up(client)
    assert resp.status_code == 302 and "/signup/sent" in resp.headers["Location"]
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=email_policy.default)
    assert message["To"] == EMAIL
    path = confirm_path(message)
    assert any(path in r.getMessage() for r in caplog.records)  # the console shows the link too
    client.get(path)
    assert "Piekarnia" in client.get("/").get_data(as_text=True)
    assert company_row(app).confirmed_at is not None
