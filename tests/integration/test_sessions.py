"""Server-side sessions: sign-out ends one session, the profile's "Aktywne sesje" list with "Wyloguj",
log out everywhere / password change / deactivation end them all, cleanup; password reset timing."""

from __future__ import annotations

import datetime as dt
import re
import threading
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from app.models.mixins import utcnow
from tests.helpers import STRONG_PASSWORD, csrf_token

COOKIE = "klientela_session"
CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/126.0.0.0 Safari/537.36")
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
EDGE_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68")
NEW_PASSWORD = "Pochmurny#Żuraw7Leci+Nad"


# ------------------------------------------------------------------ helpers


def _device(app, email, agent=CHROME_LINUX, ip="203.0.113.7", password=STRONG_PASSWORD):
    """A browser on its own device (User-Agent, IP) signed in through the real login form."""
    c = app.test_client()
    c.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": ip})
    data = {"username": email, "password": password}
    if app.config["WTF_CSRF_ENABLED"]:
        data["csrf_token"] = csrf_token(c.get("/login/").text)
    resp = c.post("/login/", data=data)
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    return c


def _signed_in(c) -> bool:
    resp = c.get("/profile/")
    if resp.status_code == 200:
        return True
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    return False


def _copy_cookie(app, source, agent=CHROME_LINUX):
    """Another browser that received a copy of ``source``'s session cookie."""
    thief = app.test_client()
    thief.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": "198.51.100.66"})
    thief.set_cookie(COOKIE, source.get_cookie(COOKIE).value)
    return thief


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _cell(row_html: str, cls: str) -> str:
    m = re.search(rf'<td class="{cls}">(.*?)</td>', row_html, re.S)
    assert m, cls
    return _text(m.group(1))


def _rows(c) -> list[dict]:
    """The rows of "Aktywne sesje" on the profile page of ``c``."""
    page = c.get("/profile/")
    assert page.status_code == 200
    section = page.text.split('<div class="crm-card" id="active-sessions">', 1)[1].split("</table>", 1)[0]
    assert _text(re.search(r"<h4>(.*?)</h4>", section, re.S).group(1)) == "Aktywne sesje"
    rows = []
    for m in re.finditer(r'<tr class="session-row[^"]*" data-session-id="(\d+)">(.*?)</tr>', section, re.S):
        html = m.group(2)
        rows.append({
            "id": int(m.group(1)),
            "device": _cell(html, "session-device").replace("Ta sesja", "").strip(),
            "current": "session-current" in html,
            "ip": _cell(html, "session-ip"),
            "last_seen": _cell(html, "session-last-seen"),
            "button": _text(re.search(r"<button[^>]*session-end[^>]*>(.*?)</button>", html, re.S).group(1)),
        })
    return rows


def _row(c, device) -> dict:
    found = [r for r in _rows(c) if r["device"] == device]
    assert len(found) == 1, _rows(c)
    return found[0]


def _end(c, session_id):
    return c.post(f"/profile/security/sessions/{session_id}/end")


def _session_rows(app, user_id):
    from sqlalchemy import select

    from app.extensions import db
    from app.models.security import UserSession

    with app.app_context():
        rows = list(db.session.execute(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        ).scalars())
        for r in rows:
            db.session.expunge(r)
        return rows


def _set_session(app, session_id, **values):
    from sqlalchemy import update

    from app.extensions import db
    from app.models.security import UserSession

    with app.app_context():
        db.session.execute(update(UserSession).where(UserSession.id == session_id).values(**values))
        db.session.commit()


def _events(app, company_id, event):
    from sqlalchemy import select

    from app.extensions import db
    from app.models.security import AuditEvent

    with app.app_context():
        rows = list(db.session.execute(
            select(AuditEvent).where(AuditEvent.company_id == company_id, AuditEvent.event == event)
        ).scalars())
        for r in rows:
            db.session.expunge(r)
        return rows


# ------------------------------------------------------------------ sign-out ends that one session


def test_copied_cookie_dies_with_sign_out_while_other_device_stays(app, make_company):
    info = make_company()
    laptop = _device(app, info["email"], CHROME_LINUX)
    phone = _device(app, info["email"], FIREFOX_ANDROID, ip="203.0.113.9")
    thief = _copy_cookie(app, laptop)
    assert _signed_in(thief)  # the copy works while the session is open
    resp = laptop.post("/logout/")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert not _signed_in(laptop)
    assert not _signed_in(thief)
    assert _signed_in(phone)  # the other device is untouched
    assert [r["device"] for r in _rows(phone)] == ["Firefox na Android"]
    assert len(_events(app, info["company_id"], "logout")) == 1
    assert len(_events(app, info["company_id"], "login")) == 2
    ended = [r for r in _session_rows(app, info["owner_id"]) if r.ended_at is not None]
    assert len(ended) == 1


def test_session_token_is_not_stored_in_clear(app, make_company):
    info = make_company()
    c = _device(app, info["email"])
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    token = serializer.loads(c.get_cookie(COOKIE).value)["_user_id"]
    (row,) = _session_rows(app, info["owner_id"])
    assert len(token) >= 40 and token not in (row.token_hash, row.stamp)
    from app.extensions import db
    from app.models.users import CrmUser

    with app.app_context():
        assert token != db.session.get(CrmUser, info["owner_id"]).fs_uniquifier


# ------------------------------------------------------------------ the list in the profile


def test_profile_lists_devices_ip_last_activity_in_warsaw_time_and_marks_current(app, make_company):
    info = make_company()
    laptop = _device(app, info["email"], CHROME_LINUX, ip="203.0.113.7")
    _device(app, info["email"], FIREFOX_ANDROID, ip="198.51.100.23")
    _device(app, info["email"], EDGE_WINDOWS, ip="192.0.2.14")
    rows = _rows(laptop)
    assert sorted(r["device"] for r in rows) == ["Chrome na Linux", "Edge na Windows", "Firefox na Android"]
    assert [r["device"] for r in rows if r["current"]] == ["Chrome na Linux"]
    assert rows[0]["current"]  # the current session comes first
    assert {r["device"]: r["ip"] for r in rows} == {
        "Chrome na Linux": "203.0.113.7", "Firefox na Android": "198.51.100.23", "Edge na Windows": "192.0.2.14",
    }
    assert all(r["button"] == "Wyloguj" for r in rows)
    # last activity is shown in Warsaw time (stored as UTC)
    phone_id = _row(laptop, "Firefox na Android")["id"]
    seen = (utcnow() - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    _set_session(app, phone_id, last_seen_at=seen)
    warsaw = seen.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Europe/Warsaw")).strftime("%d.%m.%Y %H:%M")
    assert warsaw != seen.strftime("%d.%m.%Y %H:%M")
    assert _row(laptop, "Firefox na Android")["last_seen"] == warsaw
    page = laptop.get("/profile/").text
    assert "Ostatnia aktywność" in page and "Urządzenie" in page and "Adres IP" in page
    assert "None" not in page


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (CHROME_LINUX, "Chrome na Linux"),
        (FIREFOX_ANDROID, "Firefox na Android"),
        (SAFARI_IPHONE, "Safari na iOS"),
        (EDGE_WINDOWS, "Edge na Windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Safari/605.1.15", "Safari na macOS"),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 "
         "Safari/537.36", "Chrome na Linux"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 "
         "Safari/537.36 OPR/111.0", "Opera na Windows"),
        ("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Nieznana/1.0", "Nieznana przeglądarka na Linux"),
        ("", "Nieznane urządzenie"),
        (None, "Nieznane urządzenie"),
    ],
)
def test_device_names_are_readable_polish(app, agent, expected):
    from app.services.accounts.sessions import describe_device

    with app.test_request_context("/"):
        assert describe_device(agent) == expected


def test_last_activity_written_at_most_once_a_minute(app, make_company):
    info = make_company()
    c = _device(app, info["email"], ip="203.0.113.7")
    (before,) = _session_rows(app, info["owner_id"])
    c.environ_base["REMOTE_ADDR"] = "203.0.113.99"
    for _ in range(3):
        assert _signed_in(c)
    (same,) = _session_rows(app, info["owner_id"])
    assert same.last_seen_at == before.last_seen_at and same.ip == "203.0.113.7"
    _set_session(app, before.id, last_seen_at=before.last_seen_at - dt.timedelta(minutes=2))
    assert _signed_in(c)
    (after,) = _session_rows(app, info["owner_id"])
    assert after.last_seen_at >= before.last_seen_at and after.ip == "203.0.113.99"


# ------------------------------------------------------------------ "Wyloguj" of one session


def test_wyloguj_in_the_list_ends_exactly_that_session(app, make_company):
    info = make_company()
    laptop = _device(app, info["email"], CHROME_LINUX)
    phone = _device(app, info["email"], FIREFOX_ANDROID)
    office = _device(app, info["email"], EDGE_WINDOWS)
    phone_copy = _copy_cookie(app, phone)
    phone_id = _row(laptop, "Firefox na Android")["id"]
    resp = _end(laptop, phone_id)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/profile/#active-sessions")
    page = laptop.get("/profile/").text
    assert "Sesja została zakończona" in page
    assert not _signed_in(phone) and not _signed_in(phone_copy)
    assert _signed_in(laptop) and _signed_in(office)
    assert sorted(r["device"] for r in _rows(laptop)) == ["Chrome na Linux", "Edge na Windows"]
    (ev,) = _events(app, info["company_id"], "session_ended")
    assert ev.user_id == info["owner_id"] and ev.details == "Firefox na Android"
    # an ended session cannot be ended again
    assert _end(laptop, phone_id).status_code == 404


def test_wyloguj_of_the_current_session_signs_out_here_only(app, make_company):
    info = make_company()
    laptop = _device(app, info["email"], CHROME_LINUX)
    phone = _device(app, info["email"], FIREFOX_ANDROID)
    current = _row(laptop, "Chrome na Linux")
    assert current["current"]
    resp = _end(laptop, current["id"])
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert not _signed_in(laptop)
    assert _signed_in(phone)


def test_wyloguj_needs_post_and_csrf(app, make_company, csrf_on):
    info = make_company()
    laptop = _device(app, info["email"], CHROME_LINUX)
    phone = _device(app, info["email"], FIREFOX_ANDROID)
    phone_id = _row(laptop, "Firefox na Android")["id"]
    assert laptop.get(f"/profile/security/sessions/{phone_id}/end").status_code == 405
    laptop.post(f"/profile/security/sessions/{phone_id}/end")  # no CSRF token
    assert _signed_in(phone)
    token = csrf_token(laptop.get("/profile/").text)
    laptop.post(f"/profile/security/sessions/{phone_id}/end", data={"csrf_token": token})
    assert not _signed_in(phone)


def test_nobody_else_sees_or_ends_a_session(app, owner_client, add_employee, make_company):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    colleague = add_employee(owner_client.crm["owner_id"], "ewa@firma.pl")
    anna_phone = _device(app, emp["email"], SAFARI_IPHONE, ip="192.0.2.200")
    anna_id = _row(anna_phone, "Safari na iOS")["id"]
    other = make_company()
    strangers = {
        "owner of the same company": owner_client,
        "colleague": _device(app, colleague["email"], CHROME_LINUX),
        "owner of another company": _device(app, other["email"], CHROME_LINUX),
    }
    for who, c in strangers.items():
        assert _end(c, anna_id).status_code == 404, who
        assert _signed_in(anna_phone), who
        profile = c.get("/profile/").text
        assert "Safari na iOS" not in profile and "192.0.2.200" not in profile, who
        assert f'data-session-id="{anna_id}"' not in profile, who
    # the owner's page of the employee shows no session list either
    page = owner_client.get(f"/settings/employees/{emp['id']}").text
    assert "Aktywne sesje" not in page and "Safari na iOS" not in page
    assert _end(owner_client, 999999).status_code == 404
    assert _events(app, owner_client.crm["company_id"], "session_ended") == []


# ------------------------------------------------------------------ every session at once


def test_own_sign_out_everywhere_ends_every_session(app, make_company):
    info = make_company()
    laptop = _device(app, info["email"], CHROME_LINUX)
    phone = _device(app, info["email"], FIREFOX_ANDROID)
    copy = _copy_cookie(app, phone)
    resp = laptop.post("/profile/security/logout-everywhere")
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert not any(_signed_in(c) for c in (laptop, phone, copy))
    again = _device(app, info["email"], EDGE_WINDOWS)
    assert [r["device"] for r in _rows(again)] == ["Edge na Windows"]


def test_owner_signs_employee_out_everywhere(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    laptop = _device(app, emp["email"], CHROME_LINUX)
    phone = _device(app, emp["email"], FIREFOX_ANDROID)
    resp = owner_client.post(f"/settings/employees/{emp['id']}/logout-everywhere")
    assert resp.status_code == 302
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _signed_in(owner_client)


def test_password_change_ends_other_sessions_and_keeps_this_one(app, make_company):
    info = make_company()
    laptop = _device(app, info["email"], CHROME_LINUX)
    phone = _device(app, info["email"], FIREFOX_ANDROID)
    before = _row(laptop, "Chrome na Linux")["id"]
    resp = laptop.post("/profile/security/password", data={
        "current_password": STRONG_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        "logout_others": "y",
    })
    assert resp.status_code == 302
    assert not _signed_in(phone)
    rows = _rows(laptop)
    assert [(r["id"], r["current"]) for r in rows] == [(before, True)]  # the same session goes on


def test_owner_password_for_employee_ends_their_sessions(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    phone = _device(app, emp["email"], FIREFOX_ANDROID)
    resp = owner_client.post(f"/settings/employees/{emp['id']}/password", data={
        "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "logout_others": "y",
    })
    assert resp.status_code == 302
    assert not _signed_in(phone)
    assert _signed_in(owner_client)


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "anna@firma.pl")
    laptop = _device(app, emp["email"], CHROME_LINUX)
    copy = _copy_cookie(app, laptop)
    owner_client.post(f"/settings/employees/{emp['id']}/active", data={"active": "0"})
    assert not _signed_in(laptop) and not _signed_in(copy)
    owner_client.post(f"/settings/employees/{emp['id']}/active", data={"active": "1"})
    assert not _signed_in(laptop) and not _signed_in(copy)
    assert _signed_in(_device(app, emp["email"], EDGE_WINDOWS))


def test_api_token_works_beside_browser_sessions(app, make_company):
    info = make_company()
    laptop = _device(app, info["email"])
    resp = app.test_client().post("/api/v1/auth/token", json={"username": info["email"], "password": STRONG_PASSWORD})
    token = resp.get_json()["access_token"]
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me/", headers=headers).get_json()["email"] == info["email"]
    laptop.post("/logout/")  # a plain browser sign-out leaves API tokens alone
    assert api.get("/api/v1/me/", headers=headers).status_code == 200
    # no browser session is recorded for API calls
    assert all(r.ended_at is not None for r in _session_rows(app, info["owner_id"]))


# ------------------------------------------------------------------ expiry and cleanup


def test_idle_session_expires_and_cleanup_removes_old_rows(app, make_company):
    from app import scheduler

    info = make_company()
    idle = _device(app, info["email"], CHROME_LINUX)
    ended = _device(app, info["email"], FIREFOX_ANDROID)
    fresh = _device(app, info["email"], EDGE_WINDOWS)
    ended.post("/logout/")
    idle_row, ended_row, fresh_row = _session_rows(app, info["owner_id"])
    days = app.config["SESSION_IDLE_DAYS"]
    _set_session(app, idle_row.id, last_seen_at=utcnow() - dt.timedelta(days=days, minutes=1))
    assert not _signed_in(idle)
    assert [r["device"] for r in _rows(fresh)] == ["Edge na Windows"]
    _set_session(app, ended_row.id, ended_at=utcnow() - dt.timedelta(days=2))
    spec = next(j for j in scheduler.JOBS if j.id == "session_purge")
    assert spec.func == "app.scheduler:purge_sessions" and spec.trigger == "cron"
    scheduler.bind_app(app)
    try:
        assert scheduler.purge_sessions() == 2
    finally:
        scheduler.bind_app(None)
    assert [r.id for r in _session_rows(app, info["owner_id"])] == [fresh_row.id]
    assert _signed_in(fresh)


# ------------------------------------------------------------------ password reset timing


@pytest.fixture()
def slow_smtp(app, monkeypatch):
    """A real SMTP server (aiosmtpd) that holds every message until the test releases it."""
    import socket
    from email import message_from_bytes
    from email import policy as email_policy

    from aiosmtpd.controller import Controller

    release = threading.Event()
    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            import asyncio

            while not release.is_set():
                await asyncio.sleep(0.02)
            received.append(message_from_bytes(envelope.content, policy=email_policy.default))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    for k, v in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False, "MAIL_USERNAME": None,
                 "MAIL_DEFAULT_SENDER": "Klientela <no-reply@klientela.test>"}.items():
        monkeypatch.setitem(app.config, k, v)
    yield received, release
    release.set()
    from app.integrations.mail import drain

    drain()
    ctl.stop()


def test_reset_request_for_a_real_account_does_not_wait_for_the_mail(app, make_company, slow_smtp):
    from app.integrations.mail import drain

    received, release = slow_smtp
    info = make_company()
    resp = app.test_client().post("/password-reset/", data={"email": info["email"]})
    # answered while the SMTP server is still holding the message: SMTP time is not in the answer
    assert resp.status_code == 302 and "/login/" in resp.headers["Location"]
    assert received == []
    release.set()
    assert drain()
    assert len(received) == 1 and received[0]["To"] == info["email"]


def test_reset_request_does_the_same_work_whether_or_not_the_account_exists(app, make_company, add_employee,
                                                                           mail_outbox, monkeypatch):
    """Known, unknown and deactivated addresses run the same steps (signing, message, audit, sender)."""
    from app.integrations import mail
    from app.services.accounts import password_reset as sec

    info = make_company()
    gone = add_employee(info["owner_id"], "byly@firma.pl")
    c = app.test_client()
    owner = app.test_client()
    owner.post("/login/", data={"username": info["email"], "password": STRONG_PASSWORD})
    owner.post(f"/settings/employees/{gone['id']}/active", data={"active": "0"})

    calls: list[tuple[str, object]] = []

    def spy(name, fn, arg=lambda *a, **k: None):
        def wrapper(*a, **k):
            calls.append((name, arg(*a, **k)))
            return fn(*a, **k)
        return wrapper

    monkeypatch.setattr(sec, "find_login_user", spy("find", sec.find_login_user))
    monkeypatch.setattr(sec, "reset_token", spy("sign link", sec.reset_token))
    monkeypatch.setattr(sec.audit, "record_now", spy("audit", sec.audit.record_now, lambda e, *a, **k: e))
    monkeypatch.setattr(sec, "send_later", spy("background send", sec.send_later, lambda to, *a: to))

    traces = {}
    for address in (info["email"], "nikt@nigdzie.pl", gone["email"]):
        calls.clear()
        resp = c.post("/password-reset/", data={"email": address}, follow_redirects=True)
        assert "adres należy do konta" in resp.text
        traces[address] = list(calls)
    assert mail.drain()

    steps = [name for name, _ in traces[info["email"]]]
    assert steps == ["find", "sign link", "audit", "background send"]
    for address, trace in traces.items():
        assert [name for name, _ in trace] == steps, address
        assert dict(trace)["audit"] == "password_reset_requested"
    assert dict(traces[info["email"]])["background send"] == info["email"]
    assert dict(traces["nikt@nigdzie.pl"])["background send"] is None
    assert dict(traces[gone["email"]])["background send"] is None
    # only the real, active account gets a message
    assert [m["To"] for m in mail_outbox] == [info["email"]]
