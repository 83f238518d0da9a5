"""A payment end to end over HTTP: the app served on 127.0.0.1, the fake PayU sending its own notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest
import requests

from app.services import clock
from app.services.platform import payments as svc
from tests.fakes.payu import FakePayu, running_fake_payu
from tests.helpers import STRONG_PASSWORD, link
from tests.integration.test_payments import OPERATOR, _company, _events, _invoice_count, _payments, _set_licence


def _configure(app: Any, monkeypatch: Any, fake: FakePayu, url: str, second_key: str | None = None) -> None:
    for key, value in {"PAYU_ENV": url, "PAYU_POS_ID": fake.pos_id, "PAYU_CLIENT_ID": fake.client_id,
                       "PAYU_CLIENT_SECRET": fake.client_secret, "PAYU_SECOND_KEY": second_key or fake.second_key,
                       **OPERATOR}.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture()
def fake_payu(app: Any, monkeypatch: Any) -> Iterator[FakePayu]:
    """The fake PayU notifying by itself: PENDING, the final status, one duplicate, one delayed copy."""
    with running_fake_payu(delayed_seconds=0.3, retry_delays=(0.05, 0.05)) as (fake, url):
        _configure(app, monkeypatch, fake, url)
        yield fake


def _signed_in(live_server: str, email: str) -> requests.Session:
    session = requests.Session()
    resp = session.post(f"{live_server}/login/", data={"username": email, "password": STRONG_PASSWORD},
                        allow_redirects=False, timeout=30)
    assert resp.status_code == 302
    return session


def _start(session: requests.Session, live_server: str, method: str = "blik") -> str:
    resp = session.post(f"{live_server}/settings/payments/pay", allow_redirects=False, timeout=30,
                        data={"pay-plan_code": "applarge", "pay-months": "1", "pay-method": method})
    assert resp.status_code == 200
    return link(resp.text, "#go-payu")


def test_blik_payment_through_the_fake_with_duplicate_and_delayed_notifications(app, make_company, live_server,
                                                                                 fake_payu):
    info = make_company()
    today = clock.local_today()
    _set_licence(app, info["company_id"], today - dt.timedelta(days=1))
    session = _signed_in(live_server, info["email"])
    pay_page = _start(session, live_server)

    # the buyer on PayU's page: a wrong BLIK code is refused, a right one pays
    wrong = requests.post(pay_page, data={"method": "blik", "blik_code": "12", "action": "pay"}, timeout=30,
                          allow_redirects=False)
    assert wrong.status_code == 422 and "Kod BLIK ma 6 cyfr." in wrong.text
    paid = requests.post(pay_page, data={"method": "blik", "blik_code": "777123", "action": "pay"}, timeout=30,
                         allow_redirects=False)
    assert paid.status_code == 302
    [payment] = _payments(app)
    assert paid.headers["Location"].endswith(f"/settings/payments/return/{payment.id}")
    fake_payu.wait_notifications()

    assert [(d.status, d.http_status) for d in fake_payu.deliveries] == [
        ("PENDING", 200), ("COMPLETED", 200), ("COMPLETED", 200), ("COMPLETED", 200)]
    company = _company(app, info["company_id"])
    assert company.licence_valid_until == svc.add_months(today, 1) - dt.timedelta(days=1)
    assert sorted(s for _, s in _events(app)) == ["COMPLETED", "PENDING"]
    assert _invoice_count(app) == 1
    assert session.get(f"{live_server}/contacts/", allow_redirects=False, timeout=30).status_code == 200


def test_failed_card_payment_is_recorded_as_cancelled(app, make_company, live_server, fake_payu):
    info = make_company()
    before = _company(app, info["company_id"])
    session = _signed_in(live_server, info["email"])
    pay_page = _start(session, live_server, "card")
    resp = requests.post(pay_page, data={"method": "card", "card_number": "4000 0000 0000 0002", "action": "pay"},
                         timeout=30, allow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("?error=501")
    fake_payu.wait_notifications()
    [payment] = _payments(app)
    assert payment.status == "canceled"
    assert _company(app, info["company_id"]).licence_valid_until == before.licence_valid_until
    page = session.get(resp.headers["Location"], timeout=30)
    assert "Płatność nie została zrealizowana." in page.text


def test_notifications_signed_with_another_key_are_refused_and_retried_by_payu(app, make_company, live_server,
                                                                              monkeypatch):
    with running_fake_payu(delayed_seconds=-1, retry_delays=(0.05, 0.05)) as (fake, url):
        _configure(app, monkeypatch, fake, url, second_key="ffffffffffffffffffffffffffffffff")
        info = make_company()
        before = _company(app, info["company_id"])
        session = _signed_in(live_server, info["email"])
        pay_page = _start(session, live_server, "pbl")
        resp = requests.post(pay_page, data={"method": "pbl", "bank": "m", "action": "pay"}, timeout=30,
                             allow_redirects=False)
        assert resp.status_code == 302
        fake.wait_notifications()
        # every notification tried three times (first + two retries), refused each time
        assert [(d.status, d.http_status) for d in fake.deliveries] == [("PENDING", 403)] * 3 + [("COMPLETED", 403)] * 6
    [payment] = _payments(app)
    assert payment.status == "pending"
    assert _company(app, info["company_id"]).licence_valid_until == before.licence_valid_until
    assert _events(app) == []
