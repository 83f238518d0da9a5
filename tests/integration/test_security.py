"""Account security (issue 3): log out everywhere, tokens, lockout, throttling, 2FA, reset, audit, headers."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest

from app.models.mixins import utcnow
from tests.helpers import STRONG_PASSWORD, csrf_token, login

NEW_PASSWORD = "Pochmurny#Żuraw7Leci+Nad"


def _signed_in(app, email, password=STRONG_PASSWORD):
    c = app.test_client()
    data = {"username": email, "password": password}
    if app.config["WTF_CSRF_ENABLED"]:
        data["csrf_token"] = csrf_token(c.get("/login/").text)
    resp = c.post("/login/", data=data)
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"], resp.headers.get("Location")
    return c


def _is_signed_out(c) -> bool:
    resp = c.get("/profile/")
    return resp.status_code == 302 and "/login/" in resp.headers["Location"]


def _user(app, user_id):
    from app.extensions import db
    from app.models.users import CrmUser

    with app.app_context():
        u = db.session.get(CrmUser, user_id)
        db.session.expunge(u)
        return u


def _events(app, company_id, event=None):
    from sqlalchemy import select

    from app.extensions import db
    from app.models.security import AuditEvent

    with app.app_context():
        stmt = select(AuditEvent).where(AuditEvent.company_id == company_id)
        if event:
            stmt = stmt.where(AuditEvent.event == event)
        rows = list(db.session.execute(stmt).scalars())
        for r in rows:
            db.session.expunge(r)
        return rows


# ------------------------------------------------------------------ log out everywhere


def test_owner_signs_employee_out_of_every_device(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    phone, laptop = _signed_in(app, emp["email"]), _signed_in(app, emp["email"])
    assert phone.get("/profile/").status_code == 200
    page = owner_client.get(f"/settings/employees/{emp['id']}")
    assert "Wyloguj ze wszystkich miejsc" in page.text
    resp = owner_client.post(f"/settings/employees/{emp['id']}/logout-everywhere", follow_redirects=True)
    assert "został wylogowany ze wszystkich urządzeń" in resp.text
    assert _is_signed_out(phone) and _is_signed_out(laptop)
    assert owner_client.get("/profile/").status_code == 200  # the owner stays signed in
    ev = _events(app, owner_client.crm["company_id"], "logout_everywhere")
    assert ev and ev[0].user_id == emp["id"] and ev[0].actor_id == owner_client.crm["owner_id"]
    # the employee can sign in again with the same password
    _signed_in(app, emp["email"])


def test_plain_sign_out_is_recorded(app, make_company):
    info = make_company()
    c = _signed_in(app, info["email"])
    resp = c.post("/logout/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert _is_signed_out(c)
    assert _events(app, info["company_id"], "logout")


def test_user_signs_self_out_everywhere(app, make_company):
    info = make_company()
    a, b = _signed_in(app, info["email"]), _signed_in(app, info["email"])
    resp = a.post("/profile/security/logout-everywhere")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert _is_signed_out(a) and _is_signed_out(b)


def test_logout_everywhere_needs_post_and_csrf(app, owner_client, add_employee, csrf_on):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    other = _signed_in(app, emp["email"])
    url = f"/settings/employees/{emp['id']}/logout-everywhere"
    assert owner_client.get(url).status_code == 405
    owner_client.post(url)  # no CSRF token
    assert not _is_signed_out(other)
    token = csrf_token(owner_client.get(f"/settings/employees/{emp['id']}").text)
    owner_client.post(url, data={"csrf_token": token})
    assert _is_signed_out(other)


def test_other_company_owner_cannot_touch_employee(app, owner_client, add_employee, make_company):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    other = make_company("Obca Firma Sp. z o.o.")
    stranger = _signed_in(app, other["email"])
    session = _signed_in(app, emp["email"])
    for action in ("logout-everywhere", "unlock", "two-factor-reset", "password"):
        assert stranger.post(f"/settings/employees/{emp['id']}/{action}").status_code == 404
    assert not _is_signed_out(session)


def test_employee_cannot_use_owner_buttons(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    c = _signed_in(app, emp["email"])
    assert c.post(f"/settings/employees/{owner_client.crm['owner_id']}/logout-everywhere").status_code == 403
    assert c.get("/settings/security/").status_code == 403
    assert not _is_signed_out(owner_client)


# ------------------------------------------------------------------ API tokens


def _token(c, email, password=STRONG_PASSWORD, **kw):
    return c.post("/api/v1/auth/token", json={"username": email, "password": password, **kw})


def test_api_token_stops_working_after_logout_everywhere(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    c = app.test_client()
    resp = _token(c, emp["email"])
    assert resp.status_code == 200
    token = resp.json["access_token"]
    me = c.get("/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["email"] == "anna@firma.pl"
    assert "password" not in me.text and "scrypt" not in me.text and "pbkdf2" not in me.text
    owner_client.post(f"/settings/employees/{emp['id']}/logout-everywhere")
    again = c.get("/api/v1/me/", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401


def test_api_token_refused_for_wrong_password(app, owner_client):
    resp = _token(app.test_client(), owner_client.crm["email"], "Zle-Haslo-123!")
    assert resp.status_code == 401 and "hasło" in resp.json["message"]
    assert "access_token" not in resp.json


def test_me_without_token_is_refused(app, client):
    assert client.get("/api/v1/me/").status_code == 401
    assert client.get("/api/v1/me/", headers={"Authorization": "Bearer not-a-token"}).status_code == 422


def test_me_with_browser_session(app, owner_client):
    resp = owner_client.get("/api/v1/me/")
    assert resp.status_code == 200 and resp.json["email"] == owner_client.crm["email"]
    assert set(resp.json) == {"id", "first_name", "last_name", "email", "company", "two_factor"}


# ------------------------------------------------------------------ password change


def test_password_change_signs_out_other_devices_by_default(app, make_company):
    info = make_company()
    me, other = _signed_in(app, info["email"]), _signed_in(app, info["email"])
    page = me.get("/profile/security/password")
    assert 'name="logout_others"' in page.text and "checked" in page.text
    resp = me.post("/profile/security/password", data={
        "current_password": STRONG_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "logout_others": "y"})
    assert resp.status_code == 302
    assert _is_signed_out(other)
    assert me.get("/profile/").status_code == 200  # this device stays signed in
    assert login(app.test_client(), info["email"], STRONG_PASSWORD).headers["Location"].startswith("/login")
    _signed_in(app, info["email"], NEW_PASSWORD)
    u = _user(app, info["owner_id"])
    assert u.password_changed_at is not None and NEW_PASSWORD not in (u.password or "")


def test_password_change_without_logout_keeps_other_devices(app, make_company):
    info = make_company()
    me, other = _signed_in(app, info["email"]), _signed_in(app, info["email"])
    me.post("/profile/security/password", data={
        "current_password": STRONG_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert not _is_signed_out(other)


@pytest.mark.parametrize("password,reason", [
    ("Qwerty-Słoń-42!", "klawiszy"),
    ("Testowya-Słoń-42!", "imienia"),
    ("kawa-rower-42!", "wielką"),
])
def test_password_change_refuses_weak_with_polish_reason(app, make_company, password, reason):
    info = make_company()
    me = _signed_in(app, info["email"])
    resp = me.post("/profile/security/password", data={
        "current_password": STRONG_PASSWORD, "password": password, "password_confirm": password})
    assert resp.status_code == 200 and reason in resp.text
    _signed_in(app, info["email"])  # old password still works


def test_password_change_needs_current_password(app, make_company):
    info = make_company()
    me = _signed_in(app, info["email"])
    resp = me.post("/profile/security/password", data={
        "current_password": "Zle-Haslo-123!", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert "Obecne hasło jest nieprawidłowe" in resp.text


def test_owner_sets_employee_password_and_signs_them_out(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    session = _signed_in(app, emp["email"])
    resp = owner_client.post(f"/settings/employees/{emp['id']}/password", data={
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "logout_others": "y"})
    assert resp.status_code == 302
    assert _is_signed_out(session)
    _signed_in(app, emp["email"], NEW_PASSWORD)


def test_strength_endpoint_gives_polish_reason(app, client):
    weak = client.post("/password-strength/", json={"password": "qwerty123", "inputs": ["Jan"]})
    assert weak.json["ok"] is False and weak.json["message"]
    strong = client.post("/password-strength/", json={"password": STRONG_PASSWORD, "inputs": ["Jan"]})
    assert strong.json["ok"] is True and strong.json["score"] >= 3
    named = client.post("/password-strength/", json={"password": "Grabowska-Rower-42!", "inputs": ["Bożena Grabowska"]})
    assert named.json["ok"] is False and "imienia" in named.json["message"]


def test_signup_page_has_local_strength_meter(app, client):
    html = client.get("/signup/").text
    assert 'data-strength-url="/password-strength/"' in html
    assert '/static/js/password-meter.js' in html
    assert client.get("/static/js/password-meter.js").status_code == 200


# ------------------------------------------------------------------ lockout and throttling


def test_account_locked_after_repeated_failures(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    n = app.config["LOCKOUT_THRESHOLD"]
    c = app.test_client()
    for _ in range(n - 1):
        resp = login(c, emp["email"], "Zle-Haslo-123!")
        msg = c.get("/login/").text
        assert "Nieprawidłowy e-mail lub hasło." in msg
    login(c, emp["email"], "Zle-Haslo-123!")
    # the N+1th attempt is refused even with the right password
    resp = login(c, emp["email"])
    assert "/login/" in resp.headers["Location"]
    page = c.get("/login/").text
    assert "zablokowane" in page
    assert _is_signed_out(c)
    assert _events(app, emp["company_id"], "lockout")
    # the owner sees it and unlocks
    profile = owner_client.get(f"/settings/employees/{emp['id']}").text
    assert "Odblokuj konto" in profile
    owner_client.post(f"/settings/employees/{emp['id']}/unlock")
    _signed_in(app, emp["email"])
    assert _events(app, emp["company_id"], "unlock")


def test_lockout_ends_by_itself(app, make_company):
    from app.extensions import db
    from app.models.users import CrmUser

    info = make_company()
    c = app.test_client()
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        login(c, info["email"], "Zle-Haslo-123!")
    assert "/login/" in login(c, info["email"]).headers["Location"]
    with app.app_context():
        u = db.session.get(CrmUser, info["owner_id"])
        assert u.locked_until is not None
        u.locked_until = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    _signed_in(app, info["email"])


def test_login_throttled_with_429(app, client):
    limiter = app.appbuilder.sm.limiter
    limiter.enabled = True
    limiter.reset()
    try:
        codes = [login(client, f"nikt{i}@nigdzie.pl", "Zle-Haslo-123!").status_code for i in range(25)]
        assert codes[0] == 302
        assert 429 in codes
        resp = login(client, "nikt@nigdzie.pl", "x")
        assert resp.status_code == 429 and "Zbyt wiele prób" in resp.text
        tokens = [client.post("/api/v1/auth/token", json={"username": "a", "password": "b"}) for _ in range(15)]
        assert tokens[0].status_code == 401  # the token API has its own limit, not the login page's
        assert tokens[-1].status_code == 429 and "Zbyt wiele prób" in tokens[-1].json["message"]
    finally:
        limiter.reset()
        limiter.enabled = False


def test_unknown_login_failure_recorded_without_password(app, make_company, caplog):
    info = make_company()
    c = app.test_client()
    secret = "Tajne-Haslo-Xyz-9!"
    with caplog.at_level("DEBUG"):
        login(c, info["email"], secret)
    assert secret not in caplog.text
    ev = _events(app, info["company_id"], "login_failed")
    assert ev and ev[0].ip == "127.0.0.1" and secret not in (ev[0].details or "")


# ------------------------------------------------------------------ two-step sign-in


def _enable_2fa(c):
    page = c.get("/profile/security/two-factor")
    assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in page.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    resp = c.post("/profile/security/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert resp.status_code == 200, resp.status_code
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", resp.text)
    assert len(codes) == 10
    return secret, codes


def _code_at(secret, delta_steps):
    import time

    return pyotp.TOTP(secret).at(time.time() + 30 * delta_steps)


def test_totp_sign_in(app, make_company):
    info = make_company()
    me, other = _signed_in(app, info["email"]), _signed_in(app, info["email"])
    secret, codes = _enable_2fa(me)
    assert _is_signed_out(other)  # turning 2FA on ends other sessions
    assert me.get("/profile/").status_code == 200
    u = _user(app, info["owner_id"])
    assert u.totp_secret and secret not in u.totp_secret  # stored encrypted
    assert all(code not in (u.recovery_codes or "") for code in codes)

    c = app.test_client()
    resp = login(c, info["email"])
    assert resp.headers["Location"].endswith("/login/code/")
    assert _is_signed_out(c)  # the password alone does not sign in
    bad = c.post("/login/code/", data={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert bad.status_code == 200 and "Błędny kod" in bad.text
    assert _is_signed_out(c)
    ok = c.post("/login/code/", data={"code": _code_at(secret, 1)})
    assert ok.status_code == 302 and "/login" not in ok.headers["Location"]
    assert c.get("/profile/").status_code == 200

    # the same code cannot be used twice
    d = app.test_client()
    login(d, info["email"])
    assert d.post("/login/code/", data={"code": _code_at(secret, 1)}).status_code == 200
    assert _is_signed_out(d)

    # a recovery code works once
    e = app.test_client()
    login(e, info["email"])
    assert e.post("/login/code/", data={"code": codes[0].upper()}).status_code == 302
    f = app.test_client()
    login(f, info["email"])
    assert f.post("/login/code/", data={"code": codes[0]}).status_code == 200
    assert _is_signed_out(f)


def test_code_page_without_password_step_redirects(app, client):
    resp = client.get("/login/code/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]


def test_wrong_codes_lock_the_account(app, make_company):
    info = make_company()
    me = _signed_in(app, info["email"])
    secret, _ = _enable_2fa(me)
    c = app.test_client()
    login(c, info["email"])
    good = pyotp.TOTP(secret).now()
    wrong = "123456" if good != "123456" else "654321"
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        c.post("/login/code/", data={"code": wrong})
    resp = login(c, info["email"])
    assert "/login/" in resp.headers["Location"] and "zablokowane" in c.get("/login/").text


def test_totp_api_token_needs_code(app, make_company):
    info = make_company()
    secret, _ = _enable_2fa(_signed_in(app, info["email"]))
    c = app.test_client()
    assert _token(c, info["email"]).status_code == 401
    assert _token(c, info["email"], code=_code_at(secret, 1)).status_code == 200


def test_company_requires_2fa(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    c = _signed_in(app, emp["email"])
    page = owner_client.get("/settings/security/")
    assert "Bezpieczeństwo" in page.text and "require_2fa" in page.text
    owner_client.post("/settings/security/policy", data={"require_2fa": "y"})
    resp = c.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/profile/security/two-factor")
    _enable_2fa(c)
    assert c.get("/").status_code == 200
    # cannot turn it off while the company requires it
    c.post("/profile/security/two-factor/disable", data={"current_password": STRONG_PASSWORD})
    assert _user(app, emp["id"]).totp_secret
    # the owner (who must turn on 2FA too) resets the employee's lost phone
    assert owner_client.get("/settings/employees/").status_code == 302
    _enable_2fa(owner_client)
    owner_client.post(f"/settings/employees/{emp['id']}/two-factor-reset")
    assert not _user(app, emp["id"]).totp_secret
    assert _events(app, emp["company_id"], "company_2fa")


def test_own_2fa_turned_off_with_password(app, make_company):
    info = make_company()
    me = _signed_in(app, info["email"])
    _enable_2fa(me)
    me.post("/profile/security/two-factor/disable", data={"current_password": "Zle-Haslo-123!"})
    assert _user(app, info["owner_id"]).totp_secret
    me.post("/profile/security/two-factor/disable", data={"current_password": STRONG_PASSWORD})
    assert not _user(app, info["owner_id"]).totp_secret
    _signed_in(app, info["email"])


# ------------------------------------------------------------------ password reset by e-mail


@pytest.fixture()
def smtp_server(app, tmp_path, monkeypatch):
    """A real SMTP server on 127.0.0.1 with STARTTLS and AUTH (aiosmtpd); yields received messages."""
    import socket
    import ssl
    from email import message_from_bytes
    from email import policy as email_policy

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.content, policy=email_policy.default))
            return "250 OK"

    def auth(server, session, envelope, mechanism, data):
        ok = data.login == b"crm" and data.password == b"smtp-pass"
        return AuthResult(success=ok)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                     authenticator=auth, auth_required=True)
    ctl.start()
    for k, v in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": True, "MAIL_TLS_INSECURE": True,
                 "MAIL_USERNAME": "crm", "MAIL_PASSWORD": "smtp-pass",
                 "MAIL_DEFAULT_SENDER": "Klientela <no-reply@klientela.test>"}.items():
        monkeypatch.setitem(app.config, k, v)
    yield received
    ctl.stop()


def _sent(box: list) -> list:
    """The received messages once the background sender has handed over everything queued."""
    from app.integrations.mail import drain

    assert drain(), "the background mail sender did not finish"
    return box


def _reset_link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://[^\s]+/password-reset/[^\s]+", body).group(0)


def test_password_reset_link_works_once(app, make_company, smtp_server):
    info = make_company()
    other = _signed_in(app, info["email"])
    c = app.test_client()
    assert "Nie pamiętasz hasła?" in c.get("/login/").text
    resp = c.post("/password-reset/", data={"email": info["email"].upper()}, follow_redirects=True)
    assert "adres należy do konta" in resp.text
    assert len(_sent(smtp_server)) == 1 and smtp_server[0]["To"] == info["email"]
    assert "Resetowanie hasła" in smtp_server[0]["Subject"]
    link = _reset_link(smtp_server[0])
    path = link.split("localhost", 1)[-1]
    assert c.get(path).status_code == 200
    resp = c.post(path, data={"password": "qwerty12345!A", "password_confirm": "qwerty12345!A"})
    assert resp.status_code == 200 and "klawiszy" in resp.text  # weak password refused, link still valid
    resp = c.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    assert _is_signed_out(other)
    _signed_in(app, info["email"], NEW_PASSWORD)
    # used once: the link no longer works
    again = c.get(path, follow_redirects=True)
    assert "został już użyty" in again.text
    assert _events(app, info["company_id"], "password_reset")


def test_password_reset_link_expires(app, make_company, smtp_server, monkeypatch):
    import time as _time

    from itsdangerous import TimestampSigner

    info = make_company()
    c = app.test_client()
    c.post("/password-reset/", data={"email": info["email"]})
    path = _reset_link(_sent(smtp_server)[0]).split("localhost", 1)[-1]
    later = _time.time() + app.config["PASSWORD_RESET_MAX_AGE"] + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(later))
    resp = c.get(path, follow_redirects=True)
    assert "wygasł" in resp.text
    resp = c.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    _signed_in(app, info["email"])  # the old password still works


def test_password_reset_unknown_address_sends_nothing(app, client, smtp_server):
    resp = client.post("/password-reset/", data={"email": "nikt@nigdzie.pl"}, follow_redirects=True)
    assert "adres należy do konta" in resp.text
    assert _sent(smtp_server) == []


def test_forged_reset_link_refused(app, client):
    resp = client.get("/password-reset/abc.def.ghi", follow_redirects=True)
    assert "nieprawidłowy" in resp.text


# ------------------------------------------------------------------ audit log


def test_audit_log_records_and_filters(app, owner_client, add_employee, make_company):
    cid = owner_client.crm["company_id"]
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    login(app.test_client(), emp["email"], "Zle-Haslo-123!")
    _signed_in(app, emp["email"])
    owner_client.post(f"/settings/employees/{emp['id']}/edit", data={
        "first_name": "Anna", "last_name": "Nowak", "email": emp["email"], "role": "Manager"})
    owner_client.post(f"/settings/employees/{emp['id']}/active", data={"active": "0"})
    kinds = {e.event for e in _events(app, cid)}
    assert {"login", "login_failed", "employee_added", "role_changed", "employee_deactivated"} <= kinds
    page = owner_client.get("/settings/security/")
    assert page.status_code == 200
    # the labels are also options of the event filter: look for them in the log's rows
    table = page.text[page.text.index('id="audit-table"'):]
    for label in ("Logowanie", "Nieudane logowanie", "Dodanie pracownika", "Zmiana roli", "Dezaktywacja pracownika"):
        assert f"<td>{label}</td>" in table, label
    assert "127.0.0.1" in table and "None" not in page.text
    only = owner_client.get("/settings/security/?event=login_failed")
    assert 'class="audit-login_failed"' in only.text and "audit-role_changed" not in only.text
    by_user = owner_client.get(f"/settings/security/?user={owner_client.crm['owner_id']}&event=login")
    assert 'class="audit-login"' in by_user.text and "audit-login_failed" not in by_user.text
    today = dt.date.today()
    future = owner_client.get(f"/settings/security/?date_from={(today + dt.timedelta(days=2)).isoformat()}")
    assert "audit-login" not in future.text
    # another company sees none of it
    other = make_company("Obca Firma Sp. z o.o.")
    stranger = _signed_in(app, other["email"])
    text = stranger.get("/settings/security/").text
    assert "anna@firma.pl" not in text and "Anna" not in text


def test_audit_purge_old(app, make_company):
    from app.extensions import db
    from app.models.security import AuditEvent
    from app.services.accounts import audit

    info = make_company()
    with app.app_context():
        old = utcnow() - dt.timedelta(days=app.config["AUDIT_RETENTION_DAYS"] + 1)
        db.session.add(AuditEvent(company_id=info["company_id"], event="login", created_at=old))
        db.session.add(AuditEvent(company_id=None, event="login_failed", created_at=old))
        db.session.add(AuditEvent(company_id=info["company_id"], event="login", created_at=utcnow()))
        db.session.commit()
        assert audit.purge_old(utcnow()) == 2
        assert db.session.query(AuditEvent).count() == 1


# ------------------------------------------------------------------ headers and cookies


def test_security_headers_and_nonce_csp(app, owner_client):
    resp = owner_client.get("/settings/employees/")
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script[^>]*>", resp.text)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert "http:" not in csp and "https:" not in csp and "*" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "pbkdf2:" not in resp.text and "scrypt:" not in resp.text
    other = owner_client.get("/settings/employees/")
    assert re.search(r"'nonce-([^']+)'", other.headers["Content-Security-Policy"]).group(1) != nonce


def test_production_cookie_and_proxy_settings(monkeypatch):
    from config import BaseConfig, ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE
    assert BaseConfig.SESSION_COOKIE_HTTPONLY and BaseConfig.SESSION_COOKIE_SAMESITE == "Lax"
    assert ProductionConfig.SECURITY_HSTS and ProductionConfig.PROXY_FIX_COUNT >= 1
    assert BaseConfig.RATELIMIT_ENABLED


def test_hsts_and_proxy_fix(app, monkeypatch):
    from flask import Flask, request

    from app.security.web import install_web_security

    mini = Flask("mini")
    mini.config.update(SECRET_KEY="x", SECURITY_HSTS=True, PROXY_FIX_COUNT=1)
    install_web_security(mini)

    @mini.route("/ip")
    def ip():
        return f"{request.remote_addr} {request.scheme}"

    resp = mini.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert resp.text == "203.0.113.9 https"
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# ------------------------------------------------------------------ audit follow-up (strict review)


def test_audit_purge_runs_daily_in_the_scheduler(app, make_company):
    from app import scheduler
    from app.extensions import db
    from app.models.security import AuditEvent

    spec = next(j for j in scheduler.JOBS if j.id == "audit_purge")
    assert spec.trigger == "cron" and spec.func == "app.scheduler:purge_audit_log" and "hour" in spec.trigger_args
    info = make_company()
    with app.app_context():
        old = utcnow() - dt.timedelta(days=app.config["AUDIT_RETENTION_DAYS"] + 1)
        db.session.add(AuditEvent(company_id=info["company_id"], event="login", created_at=old))
        db.session.add(AuditEvent(company_id=info["company_id"], event="login", created_at=utcnow()))
        db.session.commit()
    scheduler.bind_app(app)
    try:
        assert scheduler.purge_audit_log() == 1
    finally:
        scheduler.bind_app(None)
    assert len(_events(app, info["company_id"], "login")) == 1


def test_reset_link_cannot_be_pointed_at_a_foreign_host(app, make_company, smtp_server, monkeypatch):
    info = make_company()
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["crm.example.pl"])
    c = app.test_client()
    resp = c.post("/password-reset/", data={"email": info["email"]}, headers={"Host": "evil.example"})
    assert resp.status_code == 400 and _sent(smtp_server) == []
    resp = c.post("/password-reset/", data={"email": info["email"]},
                  headers={"Host": "crm.example.pl", "X-Forwarded-Host": "evil.example"})
    assert len(_sent(smtp_server)) == 1
    assert _reset_link(smtp_server[0]).startswith("http://crm.example.pl/password-reset/")


def test_production_refuses_to_start_without_trusted_hosts():
    from flask import Flask

    from app.security.web import install_web_security
    from config import ProductionConfig

    assert ProductionConfig.SECURITY_REQUIRE_TRUSTED_HOSTS
    mini = Flask("mini")
    mini.config.update(SECRET_KEY="x", SECURITY_REQUIRE_TRUSTED_HOSTS=True, TRUSTED_HOSTS=None)
    with pytest.raises(RuntimeError, match="CRM_TRUSTED_HOSTS"):
        install_web_security(mini)
    ok = Flask("ok")
    ok.config.update(SECRET_KEY="x", SECURITY_REQUIRE_TRUSTED_HOSTS=True, TRUSTED_HOSTS=["crm.example.pl"])
    install_web_security(ok)


def test_guessing_the_current_password_locks_and_ends_every_session(app, make_company):
    info = make_company()
    me, other = _signed_in(app, info["email"]), _signed_in(app, info["email"])
    n = app.config["LOCKOUT_THRESHOLD"]
    for i in range(n):
        resp = me.post("/profile/security/password", data={
            "current_password": f"Zle-Haslo-{i}!", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert resp.status_code == 200
        assert ("Obecne hasło jest nieprawidłowe" in resp.text) == (i < n - 1)
    assert "zablokowane" in resp.text
    assert _is_signed_out(me) and _is_signed_out(other)
    assert "/login/" in login(app.test_client(), info["email"]).headers["Location"]  # locked
    kinds = [e.event for e in _events(app, info["company_id"])]
    assert kinds.count("password_check_failed") == n and "lockout" in kinds and "logout_everywhere" in kinds
    with app.test_request_context():
        from app.services.accounts.audit import EVENT_LABELS

        assert str(EVENT_LABELS["password_check_failed"]) == "Błędne obecne hasło"


def test_wrong_password_to_turn_off_2fa_counts_toward_lockout(app, make_company):
    info = make_company()
    me = _signed_in(app, info["email"])
    _enable_2fa(me)
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        me.post("/profile/security/two-factor/disable", data={"current_password": "Zle-Haslo-123!"})
    assert _user(app, info["owner_id"]).totp_secret
    assert _user(app, info["owner_id"]).locked_until is not None
    assert _is_signed_out(me)


def test_password_typed_as_login_is_not_stored(app, make_company):
    from sqlalchemy import select

    from app.extensions import db
    from app.models.security import AuditEvent

    make_company()
    c = app.test_client()
    login(c, "Tajne-Haslo-Xyz-9!", "x")
    login(c, "nikt@nigdzie.pl", "x")
    with app.app_context():
        rows = list(db.session.execute(select(AuditEvent).where(AuditEvent.company_id.is_(None))).scalars())
        details = [r.details for r in rows if r.event == "login_failed"]
    assert details.count(None) == 1 and "nikt@nigdzie.pl" in details
    assert not any("Tajne" in (d or "") for d in details)


def test_locked_account_gets_no_api_token(app, make_company):
    info = make_company()
    c = app.test_client()
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        assert _token(c, info["email"], "Zle-Haslo-123!").status_code == 401
    resp = _token(c, info["email"])
    assert resp.status_code == 401 and "access_token" not in resp.json and "zablokowane" in resp.json["message"]


def test_wrong_recovery_codes_lock_the_account(app, make_company):
    info = make_company()
    _enable_2fa(_signed_in(app, info["email"]))
    c = app.test_client()
    login(c, info["email"])
    for i in range(app.config["LOCKOUT_THRESHOLD"]):
        c.post("/login/code/", data={"code": f"aaaa{i}-bbbbb"})
    assert _is_signed_out(c)
    assert _user(app, info["owner_id"]).locked_until is not None
    assert len(_events(app, info["company_id"], "2fa_failed")) == app.config["LOCKOUT_THRESHOLD"]


def test_pending_second_step_expires_and_ends_with_logout_everywhere(app, make_company, monkeypatch):
    import time as _time

    info = make_company()
    me = _signed_in(app, info["email"])
    secret, _ = _enable_2fa(me)
    c = app.test_client()
    login(c, info["email"])
    assert c.get("/login/code/").status_code == 200
    me.post("/profile/security/logout-everywhere")  # rotates the session token: the pending step dies
    assert c.post("/login/code/", data={"code": _code_at(secret, 1)}).status_code == 302
    assert _is_signed_out(c)
    d = app.test_client()
    login(d, info["email"])
    later = _time.time() + app.config["TWO_FACTOR_PENDING_SECONDS"] + 5
    monkeypatch.setattr("app.services.accounts.signin.time.time", lambda: later)
    resp = d.post("/login/code/", data={"code": pyotp.TOTP(secret).at(later)})
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert _is_signed_out(d)


def test_security_headers_on_error_pages_and_static_files(app, client):
    for path, status in (("/no-such-page", 404), ("/logout/", 405), ("/static/js/password-meter.js", 200)):
        resp = client.get(path)
        assert resp.status_code == status, path
        csp = resp.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        assert "http" not in csp and "*" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff" and resp.headers["X-Frame-Options"] == "DENY"
