"""KSeF settings, "Sprawdź połączenie" and the whole sending path against the fake KSeF on 127.0.0.1."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import g, render_template_string
from flask_login import login_user
from sqlalchemy import select, text

from app.extensions import db
from app.integrations import ksef as ksef_api
from app.models.company import Company
from app.models.invoicing import Invoice, KsefOutbox, KsefSettings
from app.models.mixins import utcnow
from app.models.users import CrmUser
from app.security.tenancy import tenant_scope
from app.services.invoicing import ksef
from tests.fakes.ksef import FakeKsef, running_fake_ksef
from tests.helpers import csrf_token, login

NIP_A, TOKEN_A = "7352765225", "token-firmy-a-0001-tajny"
NIP_B, TOKEN_B = "5265877635", "token-firmy-b-0002-tajny"
FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "ksef_fa3_invoice.xml").read_bytes()
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------ fixtures

_APP: list[Any] = []


@pytest.fixture(autouse=True)
def _app_ref(app: Any) -> Iterator[None]:
    """The helpers below open their own app context (HTTP requests of a test client need their own)."""
    _APP[:] = [app]
    yield
    _APP.clear()


@contextlib.contextmanager
def appctx() -> Iterator[None]:
    """An app context with a fresh session, closed afterwards."""
    with _APP[0].app_context():
        try:
            yield
        finally:
            db.session.remove()


@pytest.fixture()
def fake(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKsef]:
    """The fake KSeF on a free port, knowing the tokens of companies A and B; the app points at it."""
    with running_fake_ksef(tokens={NIP_A: {TOKEN_A}, NIP_B: {TOKEN_B}}) as (running, url):
        monkeypatch.setitem(app.config, "KSEF_BASE_URL", url)
        monkeypatch.setitem(app.config, "KSEF_POLL_INTERVAL", 0.01)
        monkeypatch.setitem(app.config, "KSEF_POLL_TIMEOUT", 5)
        monkeypatch.setitem(app.config, "KSEF_CHECK_TIMEOUT", 2)
        monkeypatch.setitem(app.config, "KSEF_TIMEOUT", 5)
        running.base_url = url
        yield running


@pytest.fixture()
def pdf_calls(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, str | None]]:
    """Records ``invoices.store_pdf`` calls with the KSeF number the invoice had at that moment.

    A stand-in for the PDF service: the calls are recorded instead of rendering a PDF.
    """
    import app.services.invoicing as package

    name = "app.services.invoicing.invoices"
    try:
        from app.services.invoicing import invoices as module  # type: ignore[attr-defined]
    except ImportError:
        module = types.ModuleType(name)
        monkeypatch.setitem(sys.modules, name, module)
        monkeypatch.setattr(package, "invoices", module, raising=False)
    calls: list[tuple[int, int, str | None]] = []

    def store_pdf(company_id: int, invoice_id: int) -> None:  # runs inside the sender's app context
        calls.append((company_id, invoice_id, db.session.get(Invoice, invoice_id).ksef_number))

    monkeypatch.setattr(module, "store_pdf", store_pdf, raising=False)
    return calls


def company(make_company: Any, nip: str, token: str | None) -> dict:
    """A company with this NIP in "Dane firmy" and, when given, its KSeF token saved."""
    info = make_company(nip=nip)
    if token:
        with appctx(), tenant_scope(info["company_id"]):
            ksef.save_settings(info["company_id"], ksef.SettingsData("test", token, False))
    return info


def issued_invoice(company_id: int, nip: str, number: str, xml: bytes | None = None) -> int:
    """An issued invoice row with FA(3) bytes (seller NIP and number put into the fixture invoice)."""
    body = xml if xml is not None else FIXTURE.replace(b"<NIP>1111111111</NIP>", f"<NIP>{nip}</NIP>".encode()) \
        .replace(b"FV/1/02/2026", number.encode())
    with appctx(), tenant_scope(company_id):
        inv = Invoice(company_id=company_id, kind="vat", status="issued", number=number,
                      issue_date=dt.date(2026, 2, 1), seller_name="Sprzedawca", seller_nip=nip,
                      buyer_name="Kupujący Sp. z o.o.", buyer_nip=NIP_B, xml=body,
                      xml_sha256=hashlib.sha256(body).hexdigest())
        db.session.add(inv)
        db.session.commit()
        invoice_id = inv.id
    return invoice_id


def load(company_id: int, invoice_id: int) -> tuple[Invoice, KsefOutbox | None]:
    """Fresh invoice and its newest queue row."""
    with appctx(), tenant_scope(company_id):
        inv = db.session.get(Invoice, invoice_id)
        row = ksef.outbox_row(company_id, invoice_id)
        db.session.expunge_all()
    return inv, row


def enqueue(company_id: int, invoice_id: int) -> None:
    """Put an invoice in the queue through the service."""
    with appctx(), tenant_scope(company_id):
        ksef.enqueue(company_id, invoice_id)


def run_sender(minutes_ahead: float = 0) -> int:
    """One tick of the scheduler job (``now`` may be moved on to make back-off rows due)."""
    with appctx():
        return ksef.send_due(utcnow() + dt.timedelta(minutes=minutes_ahead))


def hashes_in_fake(fake: FakeKsef, xml_hex: str) -> list[Any]:
    """Every invoice the fake holds with this hash (accepted or not)."""
    import base64

    wanted = base64.b64encode(bytes.fromhex(xml_hex)).decode()
    return [i for i in fake.invoices if i.invoice_hash == wanted]


def owner_login(app: Any, info: dict) -> Any:
    """A client signed in as the company's owner."""
    c = app.test_client()
    assert login(c, info["email"]).status_code == 302
    return c


# ------------------------------------------------------------------------------------------ settings


def test_token_is_encrypted_never_shown_and_never_logged(app: Any, make_company: Any,
                                                         add_employee: Any, fake: FakeKsef,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    info = company(make_company, NIP_A, None)
    c = owner_login(app, info)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = c.get("/settings/ksef/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Token KSeF" in html and "Automatycznie wysyłaj wystawione faktury" in html
    resp = c.post("/settings/ksef/", data={"csrf_token": csrf_token(html, "#ksef-settings-form"),
                                           "environment": "test", "token": TOKEN_A, "auto_send": "y"})
    assert resp.status_code == 302
    after = c.get("/settings/ksef/").get_data(as_text=True)
    assert "Token zapisany" in after
    assert TOKEN_A not in after
    with appctx():
        raw = db.session.execute(text("SELECT token_encrypted, environment, auto_send FROM ksef_settings")).one()
        stored = bytes(raw[0])
        assert TOKEN_A.encode() not in stored and len(stored) > 50
        assert (raw[1], bool(raw[2])) == ("test", True)
        with tenant_scope(info["company_id"]):
            assert ksef._token(ksef.get_settings(info["company_id"])) == TOKEN_A
    # the check uses the token: still not in the logs or the audit log
    c.post("/settings/ksef/check", data={"csrf_token": csrf_token(after, "#ksef-check-form")})
    assert TOKEN_A not in caplog.text
    with appctx():
        audit = db.session.execute(text("SELECT * FROM audit_event")).all()
    assert TOKEN_A not in repr(audit)
    # saving again without a token keeps the saved one
    resp = c.post("/settings/ksef/", data={"csrf_token": csrf_token(after, "#ksef-settings-form"),
                                           "environment": "demo", "token": ""})
    assert resp.status_code == 302
    with appctx(), tenant_scope(info["company_id"]):
        settings = ksef.get_settings(info["company_id"])
        assert (settings.environment, settings.auto_send, ksef._token(settings)) == ("demo", False, TOKEN_A)
    # the tab is the owner's only
    manager = add_employee(info["owner_id"], "kierownik@firma.pl", role="Manager")
    m = app.test_client()
    login(m, manager["email"])
    assert m.get("/settings/ksef/").status_code in (302, 403, 404)
    assert "Token zapisany" not in m.get("/settings/ksef/", follow_redirects=True).get_data(as_text=True)


def test_bad_environment_is_refused_and_changes_nothing(app: Any, make_company: Any) -> None:
    info = company(make_company, NIP_A, TOKEN_A)
    c = owner_login(app, info)
    resp = c.post("/settings/ksef/", data={"environment": "mars", "token": "nowy-token"})
    assert resp.status_code == 200
    assert "Not a valid choice" not in resp.get_data(as_text=True)
    with appctx(), tenant_scope(info["company_id"]):
        assert ksef._token(ksef.get_settings(info["company_id"])) == TOKEN_A


def _check(app: Any, info: dict) -> str:
    """Press "Sprawdź połączenie" and return the page shown after it."""
    c = owner_login(app, info)
    return c.post("/settings/ksef/check", follow_redirects=True).get_data(as_text=True)


def test_check_connection_ok(app: Any, make_company: Any, fake: FakeKsef) -> None:
    info = company(make_company, NIP_A, TOKEN_A)
    html = _check(app, info)
    assert "Połączenie z KSeF działa" in html
    assert len(fake.access_tokens) == 1


def test_check_connection_unknown_token(app: Any, make_company: Any, fake: FakeKsef) -> None:
    info = company(make_company, NIP_A, "zupelnie-inny-token")
    html = _check(app, info)
    assert "KSeF nie przyjął tokenu" in html


def test_check_connection_unreachable(app: Any, make_company: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setitem(app.config, "KSEF_BASE_URL", f"http://127.0.0.1:{port}/v2")
    info = company(make_company, NIP_A, TOKEN_A)
    assert "Nie można teraz połączyć się z KSeF" in _check(app, info)


def test_check_connection_time_out_is_short(app: Any, make_company: Any, fake: FakeKsef,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "KSEF_CHECK_TIMEOUT", 0.5)
    fake.fail("timeout", path="/auth/challenge", sleep=3)
    info = company(make_company, NIP_A, TOKEN_A)
    started = time.monotonic()
    html = _check(app, info)
    assert "Nie można teraz połączyć się z KSeF" in html
    assert time.monotonic() - started < 2.5


def test_check_connection_rate_limited(app: Any, make_company: Any, fake: FakeKsef) -> None:
    fake.fail(status=429, retry_after=17, path="/auth/challenge")
    info = company(make_company, NIP_A, TOKEN_A)
    assert "spróbuj ponownie za 17 s" in _check(app, info)


def test_check_connection_without_nip(app: Any, make_company: Any, fake: FakeKsef) -> None:
    info = company(make_company, NIP_A, TOKEN_A)
    with appctx():
        db.session.execute(text("UPDATE company SET nip = NULL WHERE id = :id"), {"id": info["company_id"]})
        db.session.commit()
    assert "Podaj NIP firmy w „Dane firmy”" in _check(app, info)
    assert not fake.auth_ops


def test_check_connection_without_token(app: Any, make_company: Any, fake: FakeKsef) -> None:
    info = company(make_company, NIP_A, None)
    assert "Zapisz token KSeF firmy w zakładce „KSeF”" in _check(app, info)


# ------------------------------------------------------------------------------------------ sending


def _render_panel(app: Any, user_id: int, company_id: int, invoice_id: int) -> str:
    """The KSeF part of the invoice page as the owner sees it."""
    with app.test_request_context("/"):
        user = db.session.get(CrmUser, user_id)
        login_user(user)
        g.user = user
        g.company_id = company_id
        with tenant_scope(company_id):
            inv = db.session.get(Invoice, invoice_id)
            html = render_template_string("{% include 'invoices/_ksef.html' %}", invoice=inv)
        db.session.remove()
        return html


def test_send_accepted_with_upo_and_pdf(app: Any, make_company: Any, fake: FakeKsef,
                                        pdf_calls: list, monkeypatch: pytest.MonkeyPatch) -> None:
    info = company(make_company, NIP_A, TOKEN_A)
    invoice_id = issued_invoice(info["company_id"], NIP_A, "FV/7/02/2026")
    c = owner_login(app, info)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    panel = _render_panel(app, info["owner_id"], info["company_id"], invoice_id)
    assert "Niewysłana" in panel and "Wyślij do KSeF" in panel
    assert 'name="csrf_token"' in panel.split('id="ksef-send-form"')[1].split("</form>")[0]
    c.post(f"/invoices/ksef/send/{invoice_id}")  # no CSRF token: refused
    assert load(info["company_id"], invoice_id)[0].ksef_status == "none"
    token = csrf_token(c.get("/settings/ksef/").get_data(as_text=True), "#ksef-check-form")
    resp = c.post(f"/invoices/ksef/send/{invoice_id}", data={"csrf_token": token})
    assert resp.status_code == 302
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status) == ("queued", "queued")
    assert "W kolejce" in _render_panel(app, info["owner_id"], info["company_id"], invoice_id)
    assert not fake.invoices  # nothing was sent inside the request

    assert run_sender() == 1
    inv, row = load(info["company_id"], invoice_id)
    assert inv.ksef_status == "accepted" and row.status == "done"
    assert ksef_api.is_valid_ksef_number(inv.ksef_number)
    assert inv.ksef_number == fake.accepted_invoices(NIP_A)[0]["ksefNumber"]
    assert fake.invoices[0].xml == inv.xml  # the stored bytes, exactly
    assert inv.ksef_reference and inv.ksef_session_reference and inv.ksef_accepted_at
    assert inv.ksef_number.encode() in inv.upo_xml
    assert pdf_calls == [(info["company_id"], invoice_id, inv.ksef_number)]

    panel = _render_panel(app, info["owner_id"], info["company_id"], invoice_id)
    assert "Przyjęta" in panel and inv.ksef_number in panel and "Pobierz UPO (XML)" in panel
    assert "Wyślij do KSeF" not in panel
    upo = c.get(f"/invoices/ksef/upo/{invoice_id}")
    assert upo.status_code == 200 and upo.data == inv.upo_xml
    assert "attachment" in upo.headers["Content-Disposition"]

    # an accepted invoice cannot be sent again
    resp = c.post(f"/invoices/ksef/send/{invoice_id}", data={"csrf_token": token}, follow_redirects=True)
    assert "KSeF już przyjął tę fakturę" in resp.get_data(as_text=True)
    with appctx(), tenant_scope(info["company_id"]):
        assert len(db.session.execute(select(KsefOutbox)).scalars().all()) == 1
    assert run_sender(60) == 0
    assert len(fake.invoices) == 1


def test_enqueue_refuses_draft_proforma_cancelled(app: Any, make_company: Any) -> None:
    info = company(make_company, NIP_A, TOKEN_A)
    cid = info["company_id"]
    for field, value, message in [("status", "draft", "Najpierw wystaw fakturę"),
                                  ("kind", "proforma", "Proforma nie jest fakturą"),
                                  ("status", "cancelled", "Anulowana faktura")]:
        invoice_id = issued_invoice(cid, NIP_A, f"FV/{field}{value}/2026")
        with appctx(), tenant_scope(cid):
            setattr(db.session.get(Invoice, invoice_id), field, value)
            db.session.commit()
            with pytest.raises(ksef.DomainError) as err:
                ksef.enqueue(cid, invoice_id)
            assert message in str(err.value)
            assert db.session.get(Invoice, invoice_id).ksef_status == "none"


def _queued(make_company: Any) -> tuple[dict, int]:
    """Company A with one queued invoice."""
    info = company(make_company, NIP_A, TOKEN_A)
    invoice_id = issued_invoice(info["company_id"], NIP_A, "FV/9/02/2026")
    enqueue(info["company_id"], invoice_id)
    return info, invoice_id


def test_401_keeps_it_queued_with_a_polish_reason(app: Any, make_company: Any, fake: FakeKsef,
                                                   pdf_calls: list) -> None:
    info, invoice_id = _queued(make_company)
    fake.fail(status=401, path="/sessions/online", times=2)  # refused even after a token refresh
    before = utcnow()
    run_sender()
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status, row.attempts) == ("queued", "queued", 1)
    assert "KSeF nie przyjął tokenu" in row.last_error
    assert row.next_attempt_at >= before + dt.timedelta(seconds=30)
    assert "KSeF nie przyjął tokenu" in _render_panel(app, info["owner_id"], info["company_id"], invoice_id)
    run_sender(2)
    inv, _row = load(info["company_id"], invoice_id)
    assert inv.ksef_status == "accepted"


def test_429_honours_retry_after(app: Any, make_company: Any, fake: FakeKsef, pdf_calls: list) -> None:
    info, invoice_id = _queued(make_company)
    fake.fail(status=429, retry_after=600, path="/sessions/online")
    before = utcnow()
    run_sender()
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status) == ("queued", "queued")
    assert before + dt.timedelta(seconds=600) <= row.next_attempt_at <= utcnow() + dt.timedelta(seconds=601)
    assert "spróbuj ponownie za 600 s" in row.last_error
    assert run_sender(5) == 0  # not due before Retry-After
    run_sender(11)
    assert load(info["company_id"], invoice_id)[0].ksef_status == "accepted"


def test_5xx_backs_off_exponentially_and_tells_the_owner_once(app: Any, make_company: Any,
                                                             fake: FakeKsef, pdf_calls: list, mail_outbox: list,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "KSEF_NOTIFY_AFTER_ATTEMPTS", 2)
    info, invoice_id = _queued(make_company)
    fake.fail(status=503, path="/sessions/online", times=4)
    delays = []
    for minutes in (0, 2, 5, 10):
        start = utcnow()
        run_sender(minutes)
        _inv, row = load(info["company_id"], invoice_id)
        delays.append(round((row.next_attempt_at - start).total_seconds() / 30))
        assert "Nie można teraz połączyć się z KSeF" in row.last_error
    assert delays == [1, 2, 4, 8]
    assert len(mail_outbox) == 1
    assert mail_outbox[0]["To"] == info["email"]
    assert "FV/9/02/2026" in mail_outbox[0]["Subject"]
    assert TOKEN_A not in mail_outbox[0].get_body().get_content()
    run_sender(30)
    assert load(info["company_id"], invoice_id)[0].ksef_status == "accepted"
    assert len(mail_outbox) == 1


def test_timeout_keeps_it_queued(app: Any, make_company: Any, fake: FakeKsef, pdf_calls: list,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "KSEF_TIMEOUT", 0.5)
    info, invoice_id = _queued(make_company)
    fake.fail("timeout", path="/sessions/online", sleep=2)
    run_sender()
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status, row.attempts) == ("queued", "queued", 1)
    assert "Nie można teraz połączyć się z KSeF" in row.last_error
    time.sleep(1.6)
    run_sender(2)
    assert load(info["company_id"], invoice_id)[0].ksef_status == "accepted"


def test_rejection_shows_polish_reason_then_fix_and_resend(app: Any, make_company: Any,
                                                           fake: FakeKsef, pdf_calls: list) -> None:
    info = company(make_company, NIP_A, TOKEN_A)
    good = FIXTURE.replace(b"<NIP>1111111111</NIP>", f"<NIP>{NIP_A}</NIP>".encode())
    bad = good.replace(b"<P_1>2026-02-01</P_1>", b"")
    invoice_id = issued_invoice(info["company_id"], NIP_A, "FV/1/02/2026", xml=bad)
    enqueue(info["company_id"], invoice_id)
    run_sender()
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status) == ("rejected", "failed")
    assert "Faktura nie jest zgodna ze strukturą FA(3)" in inv.ksef_error
    assert "[450]" in inv.ksef_error and "Błąd weryfikacji semantyki dokumentu faktury" in inv.ksef_error
    assert inv.ksef_number is None
    panel = _render_panel(app, info["owner_id"], info["company_id"], invoice_id)
    assert "Odrzucona" in panel and "Wyślij ponownie do KSeF" in panel and "FA(3)" in panel
    # the fix (the invoice edit path writes new XML), then "send again"
    with appctx(), tenant_scope(info["company_id"]):
        inv = db.session.get(Invoice, invoice_id)
        inv.xml, inv.xml_sha256 = good, hashlib.sha256(good).hexdigest()
        db.session.commit()
    enqueue(info["company_id"], invoice_id)
    run_sender()
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status) == ("accepted", "done")
    assert inv.ksef_error is None and ksef_api.is_valid_ksef_number(inv.ksef_number)


def test_crash_after_accept_is_reconciled_not_sent_twice(app: Any, make_company: Any, fake: FakeKsef,
                                                         pdf_calls: list) -> None:
    info, invoice_id = _queued(make_company)
    fake.fail("crash_after_accept", path="/sessions/online/")
    run_sender()
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status) == ("queued", "queued")  # KSeF answered 500 after accepting
    assert len(fake.accepted_invoices(NIP_A)) == 1
    run_sender(2)
    inv, row = load(info["company_id"], invoice_id)
    assert inv.ksef_status == "accepted"
    assert len(hashes_in_fake(fake, inv.xml_sha256)) == 1
    assert [i["ksefNumber"] for i in fake.accepted_invoices(NIP_A)] == [inv.ksef_number]
    assert inv.upo_xml and pdf_calls[-1][2] == inv.ksef_number


SENDER = """
import os
from config import TestingConfig

class C(TestingConfig):
    SQLALCHEMY_DATABASE_URI = os.environ["T_DB"]
    KSEF_BASE_URL = os.environ["T_KSEF"]
    KSEF_POLL_INTERVAL = 0.05
    KSEF_POLL_TIMEOUT = 120

from app import create_app
from app.services.invoicing import ksef

app = create_app(C)
with app.app_context():
    ksef.send_due()
"""


def test_killed_sender_gives_one_ksef_number(app: Any, make_company: Any, fake: FakeKsef,
                                             pdf_calls: list) -> None:
    info, invoice_id = _queued(make_company)
    # the status poll after the send hangs, so the process is surely in the middle of the send
    fake.fail("timeout", path="-EE-", sleep=20)
    env = {**os.environ, "T_DB": app.config["SQLALCHEMY_DATABASE_URI"], "T_KSEF": fake.base_url}
    proc = subprocess.Popen([sys.executable, "-c", SENDER], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            _inv, row = load(info["company_id"], invoice_id)
            if row.invoice_reference:
                break
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            assert time.monotonic() < deadline, "the sender never recorded the send"
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status) == ("sending", "sending")
    assert len(hashes_in_fake(fake, inv.xml_sha256)) == 1
    assert run_sender() == 0  # the lease still holds
    run_sender(6)  # the lease ran out: reconcile, do not send again
    inv, row = load(info["company_id"], invoice_id)
    assert (inv.ksef_status, row.status) == ("accepted", "done")
    assert len(hashes_in_fake(fake, inv.xml_sha256)) == 1
    assert [i["ksefNumber"] for i in fake.accepted_invoices(NIP_A)] == [inv.ksef_number]
    assert inv.upo_xml


# ------------------------------------------------------------------------------------------ isolation


def test_other_company_gets_404_and_sees_no_queue(app: Any, make_company: Any, fake: FakeKsef,
                                                  pdf_calls: list) -> None:
    a = company(make_company, NIP_A, TOKEN_A)
    b = company(make_company, NIP_B, TOKEN_B)
    queued_id = issued_invoice(a["company_id"], NIP_A, "FV/20/02/2026")
    enqueue(a["company_id"], queued_id)
    accepted_id = issued_invoice(a["company_id"], NIP_A, "FV/21/02/2026")
    enqueue(a["company_id"], accepted_id)
    fake.fail(status=503, path="/sessions/online")  # the first row waits, the second goes through
    run_sender()
    assert load(a["company_id"], accepted_id)[0].upo_xml
    cb = owner_login(app, b)
    assert cb.post(f"/invoices/ksef/send/{queued_id}").status_code == 404
    assert cb.get(f"/invoices/ksef/upo/{accepted_id}").status_code == 404
    queue_b = cb.get("/invoices/ksef/queue").get_data(as_text=True)
    assert "FV/20/02/2026" not in queue_b and "Kolejka KSeF jest pusta" in queue_b
    ca = owner_login(app, a)
    assert "FV/20/02/2026" in ca.get("/invoices/ksef/queue").get_data(as_text=True)
    assert ca.get(f"/invoices/ksef/upo/{accepted_id}").status_code == 200


def test_each_company_sends_with_its_own_token(app: Any, make_company: Any, fake: FakeKsef,
                                               pdf_calls: list) -> None:
    a = company(make_company, NIP_A, TOKEN_A)
    b = company(make_company, NIP_B, "token-b-nieznany-w-ksef")
    ia = issued_invoice(a["company_id"], NIP_A, "FV/30/02/2026")
    ib = issued_invoice(b["company_id"], NIP_B, "FV/31/02/2026")
    enqueue(b["company_id"], ib)
    enqueue(a["company_id"], ia)
    assert run_sender() == 2
    inv_a, _ = load(a["company_id"], ia)
    inv_b, row_b = load(b["company_id"], ib)
    assert inv_a.ksef_status == "accepted"
    assert inv_b.ksef_status == "queued" and "KSeF nie przyjął tokenu" in row_b.last_error
    assert [i["ksefNumber"] for i in fake.accepted_invoices(NIP_A)] == [inv_a.ksef_number]
    assert fake.accepted_invoices(NIP_B) == []
    assert hashes_in_fake(fake, inv_b.xml_sha256) == []
    # B fixes its token: its invoice goes with B's token, A's stays with A
    with appctx(), tenant_scope(b["company_id"]):
        ksef.save_settings(b["company_id"], ksef.SettingsData("test", TOKEN_B, False))
    run_sender(2)
    inv_b, _ = load(b["company_id"], ib)
    assert inv_b.ksef_status == "accepted"
    assert [i["ksefNumber"] for i in fake.accepted_invoices(NIP_B)] == [inv_b.ksef_number]
    assert len(fake.accepted_invoices(NIP_A)) == 1


def test_employee_sees_no_send_button(app: Any, make_company: Any, add_employee: Any) -> None:
    info = company(make_company, NIP_A, TOKEN_A)
    invoice_id = issued_invoice(info["company_id"], NIP_A, "FV/40/02/2026")
    employee = add_employee(info["owner_id"], "pracownik@firma.pl")
    panel = _render_panel(app, employee["id"], info["company_id"], invoice_id)
    assert "Niewysłana" in panel and "Wyślij do KSeF" not in panel
    c = app.test_client()
    login(c, employee["email"])
    assert c.post(f"/invoices/ksef/send/{invoice_id}").status_code in (302, 403)
    assert load(info["company_id"], invoice_id)[0].ksef_status == "none"


def test_settings_model_keeps_company_scope(app: Any, make_company: Any) -> None:
    a = company(make_company, NIP_A, TOKEN_A)
    b = company(make_company, NIP_B, None)
    with appctx(), tenant_scope(b["company_id"]):
        assert ksef.get_settings(b["company_id"]) is None
        assert db.session.execute(select(KsefSettings)).scalars().all() == []
    with appctx(), tenant_scope(a["company_id"]):
        assert db.session.get(Company, a["company_id"]).nip == NIP_A
