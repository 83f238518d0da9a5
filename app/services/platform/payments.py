"""Subscription payments through PayU: "Opłać abonament", the plan change, PayU's notifications.

Paying: the owner picks a plan, a number of months (1-12) and a method (BLIK, szybki przelew,
karta). The payment is recorded (committed) before PayU is called, so every order PayU knows has
a row; then the order is created in grosze with a unique ``extOrderId`` and the owner goes to
PayU's ``redirectUri``. A failed call leaves the payment ``failed`` with the reason for the operator.

Notifications (:func:`handle_notification`) change something only with a valid
``OpenPayu-Signature`` over the raw body and the second key, for a known order whose amount and
currency match; everything else is logged and refused. Each status is taken once per payment
(``PaymentEvent``, a unique key) under a row lock on the payment, so a repeated, late, reordered
or concurrent notification never extends a licence twice. COMPLETED extends the licence by the
paid months from the later of today and the current end (the account is unblocked at once) and,
after its commit, the operator's subscription invoice is issued and e-mailed; CANCELED is recorded.

The plan: paying while on the free licence or after the licence ended starts the paid plan at
once; paying for another plan while a paid period runs sets ``Company.next_plan``, which
:func:`apply_plan_changes` (a daily job) makes the plan when the paid period for it begins.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.integrations import payu
from app.models.billing import TRIAL
from app.models.company import Company
from app.models.payments import PAYMENT_METHODS, Payment, PaymentEvent
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, FieldChecks, clock, inputs, unit_of_work
from app.services.platform import plans as plans_svc
from app.services.platform import subscription_invoices as invoices

log = logging.getLogger(__name__)

MAX_MONTHS = 12
#: the FAQ's words: BLIK, szybki przelew, karta kredytowa
METHOD_LABELS = {"blik": _l("BLIK"), "pbl": _l("Fast bank transfer"), "card": _l("Credit card")}
STATUS_LABELS = {
    "new": _l("Being prepared"), "pending": _l("Payment in progress"), "completed": _l("Payment received"),
    "canceled": _l("Payment cancelled"), "failed": _l("Payment not started"),
}
#: PayU statuses that mean "the buyer is paying"
IN_PROGRESS = {"NEW", "PENDING", "WAITING_FOR_CONFIRMATION"}


@dataclass(frozen=True)
class PayData:
    """What the owner asks to pay: plan code, months (text from the form) and method."""

    plan_code: Any
    months: Any
    method: Any


@dataclass(frozen=True)
class Outcome:
    """What a notification came to: the HTTP status for PayU and a word for the log."""

    http_status: int
    result: str


# ---------------------------------------------------------------------------------------------- config


def payu_config() -> payu.PayuConfig:
    """The platform's PayU configuration (from the environment, see README)."""
    return payu.PayuConfig.from_mapping(current_app.config)


def payments_enabled() -> bool:
    """True when PayU is configured: "Opłać abonament" is offered only then."""
    return payu_config().complete


def client() -> payu.PayuClient:
    """A PayU client for the platform's configuration."""
    return payu.PayuClient(payu_config())


# ---------------------------------------------------------------------------------------------- reading


def list_payments(company_id: int) -> list[Payment]:
    """The company's payments, newest first (the tenancy hook keeps them to the company)."""
    return list(db.session.execute(
        select(Payment).where(Payment.company_id == company_id).order_by(Payment.created_at.desc(), Payment.id.desc())
    ).scalars())


def get_payment(company_id: int, payment_id: int) -> Payment | None:
    """One payment of the company, or None (another company's id gives None)."""
    return db.session.execute(
        select(Payment).where(Payment.company_id == company_id, Payment.id == payment_id)
    ).scalar_one_or_none()


def company_of(company_id: int) -> Company:
    """The paying company."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise DomainError(_l("This company does not exist."))
    return company


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the last day of a shorter month)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def paid_period(current_end: dt.date, months: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days ``months`` paid months add: after the current end, or from today when it has passed."""
    if current_end >= today:
        return current_end + dt.timedelta(days=1), add_months(current_end, months)
    return today, add_months(today, months) - dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------- paying


def _clean_pay(data: PayData) -> tuple[Any, int, str]:
    """The plan, months and method of a payment form; every wrong field refused at once."""
    checks = FieldChecks()
    plan = plans_svc.get_plan(str(data.plan_code or ""))
    if plan is None or not plan.active:
        checks.refuse(_l("Choose a plan."), "plan_code")
    months = inputs.to_id(str(data.months or ""))
    if months is None or not 1 <= months <= MAX_MONTHS:
        checks.refuse(_l("Choose from 1 to %(max)s months.", max=MAX_MONTHS), "months")
    if data.method not in PAYMENT_METHODS:
        checks.refuse(_l("Choose how you want to pay."), "method")
    checks.raise_if_any()
    assert plan is not None and months is not None
    return plan, months, str(data.method)


@unit_of_work
def record_payment(company_id: int, user: CrmUser, data: PayData) -> Payment:
    """Record a payment before PayU is asked (amount = the plan's monthly gross price x months)."""
    if not user.is_owner:
        raise DomainError(_l("Only the owner of the account pays for it."))
    plan, months, method = _clean_pay(data)
    # what the operator's invoice states (VAT on the net, see subscription_invoices.invoiceable)
    _net, amount = invoices.invoiceable((Decimal(plan.price_gross) * months).quantize(Decimal("0.01")))
    payment = Payment(
        company_id=company_id, ext_order_id=f"KL{company_id}-{uuid.uuid4().hex[:24]}", plan_code=plan.code,
        months=months, amount=amount, currency="PLN", method=method, status="new", created_by_id=user.id,
    )
    db.session.add(payment)
    return payment


@unit_of_work
def _mark_failed(company_id: int, payment_id: int, reason: str) -> None:
    payment = get_payment(company_id, payment_id)
    if payment is not None and payment.status == "new":
        payment.status = "failed"
        payment.error = reason[:300]


@unit_of_work
def _mark_created(company_id: int, payment_id: int, order_id: str) -> None:
    payment = db.session.execute(
        select(Payment).where(Payment.company_id == company_id, Payment.id == payment_id).with_for_update()
    ).scalar_one()
    if payment.payu_order_id is None:
        payment.payu_order_id = order_id
    if payment.status == "new":
        payment.status = "pending"


def start_payment(company_id: int, user: CrmUser, data: PayData, *, notify_url: str,
                  continue_url: Callable[[int], str], customer_ip: str) -> tuple[Payment, str]:
    """Record the payment, create PayU's order; returns the payment and PayU's ``redirectUri``."""
    if not payments_enabled():
        raise DomainError(_l("Online payments are not configured in this installation."))
    payment = record_payment(company_id, user, data)
    plan_name = plans_svc.plan_name(payment.plan_code)
    description = str(_l("Klientela subscription %(plan)s, %(months)s mo.", plan=plan_name, months=payment.months))
    try:
        order = client().create_order(
            ext_order_id=payment.ext_order_id, amount=payment.amount, description=description,
            buyer_email=user.email, notify_url=notify_url, continue_url=continue_url(payment.id),
            customer_ip=customer_ip or "127.0.0.1", method=payment.method, product_name=description,
        )
    except payu.PayuError as err:
        log.warning("PayU order for payment %s not created: %s (HTTP %s)", payment.id, err, err.status)
        _mark_failed(company_id, payment.id, f"{err} (HTTP {err.status})")
        raise DomainError(_l("PayU could not take the payment now. Try again in a few minutes.")) from err
    _mark_created(company_id, payment.id, order.order_id)
    return payment, order.redirect_uri


@unit_of_work
def change_plan(company_id: int, user: CrmUser, plan_code: Any) -> Company:
    """Choose the plan of the next paid period (``next_plan``); the current period keeps its plan."""
    if not user.is_owner:
        raise DomainError(_l("Only the owner of the account changes the plan."))
    plan = plans_svc.get_plan(str(plan_code or ""))
    if plan is None or not plan.active:
        raise DomainError(_l("Choose a plan."), "plan_code")
    company = db.session.execute(select(Company).where(Company.id == company_id).with_for_update()).scalar_one()
    company.next_plan = None if plan.code == company.plan else plan.code
    return company


# ---------------------------------------------------------------------------------------------- notifications


def _find_payment(order: payu.OrderInfo) -> Payment | None:
    """The payment a notification is about, by PayU's order id or our extOrderId (any company)."""
    with all_tenants():  # a notification names no company: the order ids are unique platform-wide
        payment = db.session.execute(
            select(Payment).where(Payment.payu_order_id == order.order_id)
        ).scalar_one_or_none()
        if payment is None and order.ext_order_id:
            payment = db.session.execute(
                select(Payment).where(Payment.ext_order_id == order.ext_order_id)
            ).scalar_one_or_none()
        return payment


def handle_notification(raw: bytes, signature: str | None) -> Outcome:
    """Verify and apply one PayU notification; nothing changes unless every check passes."""
    if not payu.verify_signature(raw, signature, payu_config().second_key):
        log.warning("PayU notification refused: missing or wrong signature (%s bytes)", len(raw))
        return Outcome(403, "bad_signature")
    try:
        order = payu.OrderInfo.from_json(json.loads(raw.decode("utf-8"))["order"])
    except (ValueError, KeyError, TypeError, payu.PayuError):
        log.warning("PayU notification refused: not a PayU order document")
        return Outcome(400, "malformed")
    payment = _find_payment(order)
    if payment is None:
        log.warning("PayU notification refused: unknown order %s (extOrderId %s)", order.order_id, order.ext_order_id)
        return Outcome(404, "unknown_order")
    company_id, payment_id = payment.company_id, payment.id
    db.session.rollback()  # end the look-up's read transaction; the unit below starts its own
    with tenant_scope(company_id):
        outcome = apply_status(company_id, payment_id, order)
        if outcome.result == "completed":
            deliver_invoice(company_id, payment_id)
    return outcome


def _lock_payment(company_id: int, payment_id: int) -> Payment:
    return db.session.execute(
        select(Payment).where(Payment.company_id == company_id, Payment.id == payment_id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _mismatch(payment: Payment, order: payu.OrderInfo) -> str:
    """Why a notification does not belong to this payment ("" when it does)."""
    if payment.payu_order_id is not None and payment.payu_order_id != order.order_id:
        return "order id"
    if order.ext_order_id and order.ext_order_id != payment.ext_order_id:
        return "extOrderId"
    if order.total_amount != payu.to_grosze(payment.amount) or order.currency != payment.currency:
        return "amount"
    return ""


@unit_of_work
def apply_status(company_id: int, payment_id: int, order: payu.OrderInfo) -> Outcome:
    """Apply one verified status to a payment, once: a status already taken changes nothing."""
    payment = _lock_payment(company_id, payment_id)
    wrong = _mismatch(payment, order)
    if wrong:
        log.warning("PayU notification refused for payment %s: %s does not match (order %s, %s %s)",
                    payment.id, wrong, order.order_id, order.total_amount, order.currency)
        return Outcome(409 if wrong == "amount" else 404, f"mismatch_{wrong.replace(' ', '_')}")
    taken = db.session.execute(
        select(PaymentEvent.id).where(PaymentEvent.payment_id == payment.id, PaymentEvent.status == order.status)
    ).first()
    if taken is not None:
        log.info("PayU notification for payment %s: %s again, nothing to do", payment.id, order.status)
        return Outcome(200, "duplicate")
    db.session.add(PaymentEvent(company_id=company_id, payment_id=payment.id, status=order.status))
    if payment.payu_order_id is None:
        payment.payu_order_id = order.order_id
    if order.status == "COMPLETED" and payment.status != "completed":
        _complete(payment)
        return Outcome(200, "completed")
    if order.status == "CANCELED" and payment.status not in ("completed", "canceled"):
        payment.status, payment.canceled_at = "canceled", clock.utc_now()
        log.info("PayU payment %s of company %s cancelled", payment.id, company_id)
        return Outcome(200, "canceled")
    if order.status in IN_PROGRESS and payment.status in ("new", "failed"):
        payment.status = "pending"
    return Outcome(200, "recorded")


def _complete(payment: Payment) -> None:
    """COMPLETED: extend the licence by the paid months, start or schedule the plan, unblock."""
    company = db.session.execute(
        select(Company).where(Company.id == payment.company_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    today = clock.local_today()
    start, end = paid_period(company.licence_valid_until, payment.months, today)
    was_running = company.licence_valid_until >= today and company.plan != TRIAL
    if not was_running:
        company.plan, company.next_plan = payment.plan_code, None
    elif payment.plan_code != company.plan:
        company.next_plan = payment.plan_code
    company.licence_valid_until = end
    payment.status, payment.completed_at = "completed", clock.utc_now()
    payment.period_start, payment.period_end = start, end
    log.info("PayU payment %s completed: company %s paid until %s", payment.id, company.id, end.isoformat())


# ---------------------------------------------------------------------------------------------- after COMPLETED


def deliver_invoice(company_id: int, payment_id: int) -> None:
    """Issue the subscription invoice of a completed payment and e-mail it; a failure is logged, retried later."""
    try:
        issued = invoices.issue_for_payment(company_id, payment_id)
    except Exception:  # the payment stays completed; the daily job issues the invoice again
        log.exception("subscription invoice of payment %s not issued", payment_id)
        return
    if issued:
        invoices.mail_later(company_id, payment_id)


def apply_plan_changes(today: dt.date | None = None) -> int:
    """Make ``next_plan`` the plan of companies whose paid period for it has begun; returns how many."""
    today = today or clock.local_today()
    changed = 0
    with all_tenants():  # a platform job over every company
        candidates = list(db.session.execute(
            select(Company.id).where(Company.next_plan.is_not(None))
        ).scalars())
    for company_id in candidates:
        with tenant_scope(company_id):
            if _apply_plan_change(company_id, today):
                changed += 1
    return changed


@unit_of_work
def _apply_plan_change(company_id: int, today: dt.date) -> bool:
    company = db.session.execute(select(Company).where(Company.id == company_id).with_for_update()).scalar_one()
    if not company.next_plan:
        return False
    started = db.session.execute(
        select(Payment.id).where(
            Payment.company_id == company_id, Payment.status == "completed",
            Payment.plan_code == company.next_plan, Payment.period_start <= today,
        )
    ).first()
    if started is None:
        return False
    company.plan, company.next_plan = company.next_plan, None
    return True


# ---------------------------------------------------------------------------------------------- reconciling


#: a payment waits this long for PayU's notification before the job asks PayU itself ...
RECONCILE_AFTER = dt.timedelta(minutes=20)
#: ... and is asked about no longer than this (PayU cancels an abandoned order long before)
RECONCILE_UNTIL = dt.timedelta(days=7)


def reconcile(now: dt.datetime | None = None) -> int:
    """Ask PayU about payments whose notification never came; apply what it says. Returns how many changed.

    A payment still ``new`` long after it was recorded never got an order (the call failed or the
    process stopped): it is marked failed, and a notification that still arrives for it is applied.
    """
    now = now or clock.utc_now()
    since = now - RECONCILE_AFTER
    with all_tenants():  # a platform job over every company's waiting payments
        rows = list(db.session.execute(
            select(Payment.id, Payment.company_id, Payment.status, Payment.payu_order_id)
            .where(Payment.status.in_(("new", "pending")), Payment.updated_at < since,
                   Payment.created_at > now - RECONCILE_UNTIL)
        ))
    changed = 0
    for payment_id, company_id, status, order_id in rows:
        with tenant_scope(company_id):
            if status == "new" or order_id is None:
                _mark_failed(company_id, payment_id, "no order at PayU after the wait")
                changed += 1
                continue
            try:
                order = client().retrieve_order(order_id)
            except payu.PayuError as err:
                log.warning("PayU order %s of payment %s not retrieved: %s", order_id, payment_id, err)
                continue
            outcome = apply_status(company_id, payment_id, order)
            if outcome.result in ("completed", "canceled"):
                changed += 1
            if outcome.result == "completed":
                deliver_invoice(company_id, payment_id)
    return changed
