"""Subscription payments: "Płatności" through the local fake PayU, signed notifications, invoices, isolation."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from typing import Any, Iterator

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import Company, Invoice, Payment, PaymentEvent
from app.security.tenancy import all_tenants
from app.services import background, clock
from app.services.platform import payments as svc
from app.services.platform import subscription_invoices
from tests.fakes.payu import FakePayu, running_fake_payu
from tests.helpers import field_values, link, login, selected_values, table_rows, texts, visible_text
from tests.integration.sales_fixtures import pdf_text

SECOND_KEY = "b6ca15b0d1020e8094d9b5f8d163db54"
OPERATOR = {"CRM_OPERATOR_NAME": "Operator Klienteli Sp. z o.o.", "CRM_OPERATOR_NIP": "5260000005",
            "CRM_OPERATOR_STREET": "ul. Prosta 1", "CRM_OPERATOR_POSTAL_CODE": "00-850",
            "CRM_OPERATOR_CITY": "Warszawa", "CRM_OPERATOR_IBAN": "PL61109010140000071219812874"}


@pytest.fixture()
def fake_payu(app: Any, monkeypatch: Any) -> Iterator[FakePayu]:
    """The fake PayU on a free port, the app configured for it; notifications are sent by the tests."""
    with running_fake_payu(auto_notify=False, second_key=SECOND_KEY) as (fake, url):
        for key, value in {"PAYU_ENV": url, "PAYU_POS_ID": fake.pos_id, "PAYU_CLIENT_ID": fake.client_id,
                           "PAYU_CLIENT_SECRET": fake.client_secret, "PAYU_SECOND_KEY": SECOND_KEY,
                           **OPERATOR}.items():
            monkeypatch.setitem(app.config, key, value)
        yield fake


def _company(app: Any, company_id: int) -> Company:
    with app.app_context():
        company = db.session.get(Company, company_id)
        db.session.expunge(company)
        return company


def _set_licence(app: Any, company_id: int, until: dt.date, plan: str = "trial") -> None:
    with app.app_context():
        company = db.session.get(Company, company_id)
        company.licence_valid_until, company.plan = until, plan
        db.session.commit()


def _pay(client: Any, plan: str = "applarge", months: int = 3, method: str = "blik") -> Any:
    return client.post("/settings/payments/pay", data={"pay-plan_code": plan, "pay-months": str(months),
                                                        "pay-method": method})


def _payu_page(resp: Any) -> str:
    """Where the answer to "Opłać abonament" sends the browser (PayU's redirectUri)."""
    assert resp.status_code == 200
    return link(resp.get_data(as_text=True), "#go-payu")


def _payments(app: Any) -> list[Payment]:
    with app.app_context(), all_tenants():
        rows = list(db.session.execute(select(Payment).order_by(Payment.id)).scalars())
        for row in rows:
            db.session.expunge(row)
        return rows


def _events(app: Any) -> list[tuple[int, str]]:
    with app.app_context(), all_tenants():
        return [tuple(r) for r in db.session.execute(select(PaymentEvent.payment_id, PaymentEvent.status))]


def _invoice_count(app: Any) -> int:
    with app.app_context(), all_tenants():
        return int(db.session.execute(select(func.count(Invoice.id))).scalar_one())


def _notify(client: Any, body: bytes, header: str | None) -> Any:
    headers = {"Content-Type": "application/json;charset=UTF-8"}
    if header is not None:
        headers["OpenPayu-Signature"] = header
    return client.post("/payu/notify", data=body, headers=headers)


def _signed(fake: FakePayu, order_id: str, status: str) -> tuple[bytes, str]:
    from app.integrations import payu

    body = fake.notification_body(order_id, status)
    return body, payu.signature_header(body, SECOND_KEY, "checkout")


def _wait_mail() -> None:
    for payment_id in list(k[1] for k in background._THREADS if k[0] == subscription_invoices.MAIL_JOB):
        background.wait(subscription_invoices.MAIL_JOB, payment_id, 30)


# ---------------------------------------------------------------------------------------------- paying


def test_pay_creates_a_payu_order_in_grosze_and_sends_the_owner_to_payu(app, owner_client, fake_payu):
    target = _payu_page(_pay(owner_client, "applarge_plus", 2, "blik"))
    [order] = fake_payu.orders.values()
    assert target.endswith(f"/pay/{order.order_id}") and target.startswith(app.config["PAYU_ENV"])
    [payment] = _payments(app)
    body = order.body
    assert body["totalAmount"] == "39800"  # 199,00 zł x 2 in grosze
    assert body["currencyCode"] == "PLN"
    assert body["extOrderId"] == payment.ext_order_id
    assert body["buyer"]["email"] == owner_client.crm["email"]
    assert body["payMethods"] == {"payMethod": {"type": "PBL", "value": "blik"}}
    assert body["notifyUrl"].endswith("/payu/notify")
    assert body["continueUrl"].endswith(f"/settings/payments/return/{payment.id}")
    assert (payment.status, payment.payu_order_id, payment.amount, payment.months) == (
        "pending", order.order_id, Decimal("398.00"), 2)

    # a second order reuses the cached OAuth token; a card payment asks for PayU's card form
    assert "/pay/" in _payu_page(_pay(owner_client, "applarge", 1, "card"))
    assert fake_payu.token_requests == 1
    second = [o for o in fake_payu.orders.values() if o.order_id != order.order_id][0]
    assert second.body["payMethods"] == {"payMethod": {"type": "PBL", "value": "c"}}
    assert second.body["totalAmount"] == "9900"
    assert second.body["extOrderId"] != body["extOrderId"]


def test_pay_form_refuses_bad_input_in_polish_and_records_nothing(app, owner_client, fake_payu):
    resp = _pay(owner_client, "platinum", 13, "cash")
    assert resp.status_code == 200
    assert texts(resp.get_data(as_text=True), ".help-block.error") == ["Nieprawidłowy wybór."] * 3
    resp = _pay(owner_client, "", "", "")
    assert texts(resp.get_data(as_text=True), ".help-block.error") == [
        "To pole jest wymagane.", "To pole jest wymagane.", "Wybierz sposób płatności."]
    assert fake_payu.orders == {}
    assert _payments(app) == []


def test_payu_unreachable_shows_a_message_and_marks_the_payment(app, owner_client, monkeypatch, fake_payu):
    monkeypatch.setitem(app.config, "PAYU_ENV", "http://127.0.0.1:9")
    resp = _pay(owner_client)
    assert resp.status_code == 200
    assert "PayU nie może teraz przyjąć płatności. Spróbuj ponownie za kilka minut." in resp.get_data(as_text=True)
    [payment] = _payments(app)
    assert payment.status == "failed"


# ---------------------------------------------------------------------------------------------- notifications


def test_blocked_owner_pays_and_three_completed_notifications_extend_once(app, client, make_company, fake_payu):
    info = make_company()
    today = clock.local_today()
    _set_licence(app, info["company_id"], today - dt.timedelta(days=5))
    login(client, info["email"])
    assert "/licence/" in client.get("/contacts/").headers["Location"]
    assert client.get("/settings/payments/").status_code == 200  # reachable while blocked
    assert "/pay/" in _payu_page(_pay(client, "applarge", 2, "pbl"))
    [order] = fake_payu.orders.values()
    assert "payMethods" not in order.body  # a fast transfer: PayU's page lists the banks

    body, header = _signed(fake_payu, order.order_id, "PENDING")
    assert _notify(client, body, header).status_code == 200
    body, header = _signed(fake_payu, order.order_id, "COMPLETED")
    for _ in range(3):
        assert _notify(client, body, header).status_code == 200
    again, again_header = _signed(fake_payu, order.order_id, "COMPLETED")  # a later copy with a new receipt time
    assert _notify(client, again, again_header).status_code == 200

    company = _company(app, info["company_id"])
    assert company.licence_valid_until == svc.add_months(today, 2) - dt.timedelta(days=1)
    assert company.plan == "applarge"
    [payment] = _payments(app)
    assert (payment.status, payment.period_start, payment.period_end) == ("completed", today, company.licence_valid_until)
    assert sorted(s for _, s in _events(app)) == ["COMPLETED", "PENDING"]
    assert _invoice_count(app) == 1
    assert client.get("/contacts/").status_code == 200  # unblocked at once

    status = client.get(f"/settings/payments/status/{payment.id}").get_json()
    assert status == {"status": "completed", "label": "Opłacona",
                      "paid_until": company.licence_valid_until.strftime("%d.%m.%Y")}


def _pending_order(app: Any, owner_client: Any, fake: FakePayu) -> tuple[str, Company]:
    assert "/pay/" in _payu_page(_pay(owner_client, "applarge", 1, "blik"))
    [order] = fake.orders.values()
    return order.order_id, _company(app, owner_client.crm["company_id"])


def test_forged_wrong_key_altered_and_wrong_amount_notifications_change_nothing(app, owner_client, fake_payu, caplog):
    from app.integrations import payu

    order_id, before = _pending_order(app, owner_client, fake_payu)
    body = fake_payu.notification_body(order_id, "COMPLETED")
    forged = "sender=checkout;signature=" + "0" * 64 + ";algorithm=SHA-256;content=DOCUMENT"
    wrong_key = payu.signature_header(body, "0123456789abcdef0123456789abcdef", "checkout")
    altered = body.replace(b'"COMPLETED"', b'"COMPLETED" ')
    doc = json.loads(body)
    doc["order"]["totalAmount"] = "100"
    cheap = json.dumps(doc).encode()
    valid = payu.signature_header(body, SECOND_KEY, "checkout")

    assert _notify(owner_client, body, None).status_code == 403
    assert _notify(owner_client, body, forged).status_code == 403
    assert _notify(owner_client, body, wrong_key).status_code == 403
    assert _notify(owner_client, altered, valid).status_code == 403
    assert _notify(owner_client, cheap, payu.signature_header(cheap, SECOND_KEY, "checkout")).status_code == 409
    other = json.loads(body)
    other["order"]["orderId"], other["order"]["extOrderId"] = "UNKNOWN123", "KL-nobody"
    unknown = json.dumps(other).encode()
    assert _notify(owner_client, unknown, payu.signature_header(unknown, SECOND_KEY, "checkout")).status_code == 404

    after = _company(app, before.id)
    assert (after.licence_valid_until, after.plan) == (before.licence_valid_until, before.plan)
    [payment] = _payments(app)
    assert payment.status == "pending"
    assert _events(app) == []
    assert _invoice_count(app) == 0
    logged = caplog.text
    assert "missing or wrong signature" in logged and "amount does not match" in logged and "unknown order" in logged


def test_md5_signature_is_accepted_like_payu_documents(app, owner_client, fake_payu):
    from app.integrations import payu

    order_id, before = _pending_order(app, owner_client, fake_payu)
    body = fake_payu.notification_body(order_id, "COMPLETED")
    assert _notify(owner_client, body, payu.signature_header(body, SECOND_KEY, "checkout", "MD5")).status_code == 200
    assert _company(app, before.id).licence_valid_until > before.licence_valid_until


def test_canceled_is_recorded_and_late_statuses_do_not_undo_it(app, owner_client, fake_payu):
    order_id, before = _pending_order(app, owner_client, fake_payu)
    for status in ("CANCELED", "PENDING", "CANCELED"):
        body, header = _signed(fake_payu, order_id, status)
        assert _notify(owner_client, body, header).status_code == 200
    [payment] = _payments(app)
    assert payment.status == "canceled" and payment.canceled_at is not None
    assert _company(app, before.id).licence_valid_until == before.licence_valid_until
    assert sorted(s for _, s in _events(app)) == ["CANCELED", "PENDING"]


def test_paying_during_a_paid_period_extends_from_its_end_and_changes_the_plan_at_the_boundary(
        app, owner_client, fake_payu):
    today = clock.local_today()
    end = today + dt.timedelta(days=10)
    _set_licence(app, owner_client.crm["company_id"], end, plan="applarge")
    assert "/pay/" in _payu_page(_pay(owner_client, "applarge_plus", 1, "card"))
    [order] = fake_payu.orders.values()
    body, header = _signed(fake_payu, order.order_id, "COMPLETED")
    assert _notify(owner_client, body, header).status_code == 200

    company = _company(app, owner_client.crm["company_id"])
    assert company.licence_valid_until == svc.add_months(end, 1)
    assert (company.plan, company.next_plan) == ("applarge", "applarge_plus")
    [payment] = _payments(app)
    assert payment.period_start == end + dt.timedelta(days=1)
    with app.app_context():
        assert svc.apply_plan_changes(end) == 0
        assert svc.apply_plan_changes(end + dt.timedelta(days=1)) == 1
    company = _company(app, owner_client.crm["company_id"])
    assert (company.plan, company.next_plan) == ("applarge_plus", None)


def test_plan_change_form_sets_the_next_plan_only(app, owner_client, fake_payu):
    _set_licence(app, owner_client.crm["company_id"], clock.local_today() + dt.timedelta(days=20), plan="applarge")
    resp = owner_client.post("/settings/payments/plan", data={"change-plan_code": "applarge_plus"})
    assert resp.status_code == 302
    company = _company(app, owner_client.crm["company_id"])
    assert (company.plan, company.next_plan) == ("applarge", "applarge_plus")
    page = owner_client.get("/settings/payments/")
    assert texts(page.data, "#next-plan") == ["AppLarge+"]
    assert selected_values(page.data, "pay-plan_code") == ["applarge_plus"]  # the next period's plan offered
    chosen = owner_client.get("/settings/payments/?plan=applarge")  # "Opłać" next to a plan of the price list
    assert selected_values(chosen.data, "pay-plan_code") == ["applarge"]


# ---------------------------------------------------------------------------------------------- invoices, isolation


def test_subscription_invoice_is_issued_by_the_operator_mailed_listed_and_isolated(
        app, make_company, fake_payu, mail_outbox, add_employee):
    a, b = make_company("Alfa Płatnik Sp. z o.o."), make_company("Beta Obca Sp. z o.o.")
    ca, cb = app.test_client(), app.test_client()
    login(ca, a["email"])
    login(cb, b["email"])
    assert "/pay/" in _payu_page(_pay(ca, "applarge", 1, "blik"))
    [order] = fake_payu.orders.values()
    body, header = _signed(fake_payu, order.order_id, "COMPLETED")
    assert _notify(ca, body, header).status_code == 200
    _wait_mail()

    [payment] = _payments(app)
    month = clock.local_today().strftime("%m/%Y")
    assert payment.invoice_number == f"AB/1/{month}"
    [mail] = mail_outbox
    assert mail["To"] == a["email"]
    assert payment.invoice_number in mail["Subject"]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"AB_1_{month.replace('/', '_')}.pdf"
    text = pdf_text(attachment.get_content())
    assert "Operator Klienteli Sp. z o.o." in text and "Alfa Płatnik Sp. z o.o." in text and "99,00" in text

    page = ca.get("/settings/payments/")
    assert payment.invoice_number in texts(page.data, "#payments-table .invoice-link")[0]
    pdf = ca.get(f"/settings/payments/invoice/{payment.id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # company B: none of A's payment pages, no row in its list
    for url in (f"/settings/payments/invoice/{payment.id}", f"/settings/payments/status/{payment.id}",
                f"/settings/payments/return/{payment.id}"):
        assert cb.get(url).status_code == 404, url
    page_b = cb.get("/settings/payments/")
    assert page_b.status_code == 200
    assert payment.invoice_number not in page_b.get_data(as_text=True)
    assert texts(page_b.get_data(as_text=True), "#empty-state p") == ["Nie ma jeszcze płatności."]

    # an employee of A does not open the tab
    emp = add_employee(a["owner_id"], "pracownik@alfa.pl")
    ce = app.test_client()
    login(ce, emp["email"])
    assert ce.get("/settings/payments/").status_code == 403
    assert ce.get(f"/settings/payments/invoice/{payment.id}").status_code == 403
    assert _pay(ce).status_code == 403


def test_two_concurrent_completed_notifications_extend_once(app, make_company, fake_payu, live_server):
    info = make_company()
    client = app.test_client()
    login(client, info["email"])
    before = _company(app, info["company_id"])
    assert "/pay/" in _payu_page(_pay(client, "applarge", 1, "blik"))
    [order] = fake_payu.orders.values()
    body, header = _signed(fake_payu, order.order_id, "COMPLETED")
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def send() -> None:
        barrier.wait()
        codes.append(requests.post(f"{live_server}/payu/notify", data=body, timeout=30,
                                   headers={"OpenPayu-Signature": header, "Content-Type": "application/json"}).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [200, 200]
    after = _company(app, info["company_id"])
    assert after.licence_valid_until == svc.add_months(before.licence_valid_until, 1)
    assert [s for _, s in _events(app)] == ["COMPLETED"]
    assert _invoice_count(app) == 1


def test_invoice_left_behind_by_a_failure_is_issued_and_mailed_by_the_job(app, owner_client, fake_payu, monkeypatch,
                                                                         mail_outbox):
    from app import scheduler

    monkeypatch.setitem(app.config, "CRM_OPERATOR_NIP", "")  # the operator is not configured yet
    order_id, before = _pending_order(app, owner_client, fake_payu)
    body, header = _signed(fake_payu, order_id, "COMPLETED")
    assert _notify(owner_client, body, header).status_code == 200
    [payment] = _payments(app)
    assert (payment.status, payment.invoice_id) == ("completed", None)  # paid and unblocked all the same
    assert _company(app, before.id).licence_valid_until > before.licence_valid_until
    assert mail_outbox == []

    monkeypatch.setitem(app.config, "CRM_OPERATOR_NIP", OPERATOR["CRM_OPERATOR_NIP"])
    scheduler.bind_app(app)
    try:
        assert scheduler.subscription_invoices_catch_up() == 2  # one issued, one e-mailed
        assert scheduler.subscription_invoices_catch_up() == 0  # nothing twice
    finally:
        scheduler.bind_app(None)
    [payment] = _payments(app)
    assert payment.invoice_number is not None and payment.invoice_mailed_at is not None
    [mail] = mail_outbox
    assert mail["To"] == owner_client.crm["email"]
    assert _invoice_count(app) == 1


def test_payment_pages_are_polish(app, owner_client, fake_payu):
    from tests.integration.test_polish_pages import assert_polish

    order_id, _before = _pending_order(app, owner_client, fake_payu)
    [payment] = _payments(app)
    for url in ("/settings/payments/", f"/settings/payments/return/{payment.id}",
                f"/settings/payments/return/{payment.id}?error=501"):
        resp = owner_client.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.get_data(as_text=True), url)
    redirect_page = _pay(owner_client)
    assert_polish(redirect_page.get_data(as_text=True), "/settings/payments/pay")
    body, header = _signed(fake_payu, order_id, "COMPLETED")
    assert _notify(owner_client, body, header).status_code == 200
    page = owner_client.get("/settings/payments/").get_data(as_text=True)
    assert_polish(page, "/settings/payments/ (paid)")
    assert "None" not in visible_text(page)
    rows = table_rows(page, "#payments-table")
    assert [r[5] for r in rows] == ["Płatność w toku", "Opłacona"]


def test_a_lost_notification_is_made_up_by_asking_payu_and_the_late_one_changes_nothing(app, owner_client, fake_payu):
    from app import scheduler

    order_id, before = _pending_order(app, owner_client, fake_payu)
    scheduler.bind_app(app)
    try:
        assert scheduler.reconcile_payments() == 0  # too early: the notification may still come
        fake_payu.orders[order_id].status = "COMPLETED"  # paid at PayU, the notification lost
        with app.app_context():
            later = clock.utc_now() + svc.RECONCILE_AFTER + dt.timedelta(minutes=1)
            assert svc.reconcile(later) == 1
            assert svc.reconcile(later) == 0
    finally:
        scheduler.bind_app(None)
    after = _company(app, before.id)
    assert after.licence_valid_until == svc.add_months(before.licence_valid_until, 1)
    body, header = _signed(fake_payu, order_id, "COMPLETED")
    assert _notify(owner_client, body, header).status_code == 200  # the late notification: nothing twice
    assert _company(app, before.id).licence_valid_until == after.licence_valid_until
    assert _invoice_count(app) == 1


def test_forms_need_the_csrf_token_but_payus_notification_does_not(app, owner_client, fake_payu, csrf_on):
    resp = _pay(owner_client)  # no token: the form comes back with a Polish message, nothing recorded
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/settings/payments/pay")
    back = owner_client.get(resp.headers["Location"], follow_redirects=True)
    assert "Formularz wygasł lub został wysłany z innej strony. Spróbuj ponownie." in texts(
        back.get_data(as_text=True), ".alert")[0]
    assert fake_payu.orders == {} and _payments(app) == []
    page = owner_client.get("/settings/payments/").get_data(as_text=True)
    [token] = field_values(page, "pay-csrf_token", "#pay-form")
    resp = owner_client.post("/settings/payments/pay", data={"pay-csrf_token": token, "pay-plan_code": "applarge",
                                                             "pay-months": "1", "pay-method": "blik"})
    assert "/pay/" in _payu_page(resp)
    [order] = fake_payu.orders.values()
    body, header = _signed(fake_payu, order.order_id, "COMPLETED")
    assert app.test_client().post("/payu/notify", data=body, headers={
        "OpenPayu-Signature": header, "Content-Type": "application/json"}).status_code == 200
    [payment] = _payments(app)
    assert payment.status == "completed"


# ---------------------------------------------------------------------------------------------- rules


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
    (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),
    (dt.date(2026, 12, 15), 12, dt.date(2027, 12, 15)),
])
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert svc.add_months(day, months) == expected


def test_paid_period_follows_the_current_end_or_starts_today():
    today = dt.date(2026, 11, 30)
    assert svc.paid_period(dt.date(2026, 12, 10), 1, today) == (dt.date(2026, 12, 11), dt.date(2027, 1, 10))
    assert svc.paid_period(today, 1, today) == (dt.date(2026, 12, 1), dt.date(2026, 12, 30))
    assert svc.paid_period(dt.date(2026, 11, 1), 2, today) == (today, dt.date(2027, 1, 29))


def test_every_plan_and_month_count_is_charged_what_its_invoice_states():
    from app.services.invoicing import documents as docs
    from app.services.invoicing import totals as tot

    for price in (Decimal("99.00"), Decimal("199.00")):
        for months in range(1, 13):
            target = price * months
            net, gross = subscription_invoices.invoiceable(target)
            line = docs.Line(name="x", quantity=Decimal(1), unit_price=net, rate="23")
            assert tot.compute_totals([line]).gross == gross
            assert target - Decimal("0.01") <= gross <= target, (price, months)
