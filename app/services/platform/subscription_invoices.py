"""Subscription invoices: a VAT invoice from the platform operator for every COMPLETED payment.

The operator issues them through the invoice engine like any company: it is a company row of its
own (named by ``PlatformOperator``; nobody signs in to it, it is kept inactive so no licence job
looks at it), with the seller data from the configuration (``CRM_OPERATOR_*``, copied onto the row
before each invoice) and its own numbering series "Abonament" (``AB/{n}/{MM}/{YYYY}``). The buyer
is the paying company as its "Dane firmy" read at that moment. The invoice, its FA(3) XML and its
PDF are rows and files of the operator's tenant; the paying company reaches the PDF only through
its own payment (``Payment.invoice_id``), so another company's payment id is a 404.

The invoice is issued right after the payment's COMPLETED is committed and e-mailed to the
company's owners in the background; the job :func:`catch_up` issues and e-mails whatever a
failure left behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.invoicing import Invoice, InvoiceItem, InvoiceSeries
from app.models.payments import Payment, PlatformOperator
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, background, clock, unit_of_work
from app.services.invoicing import documents as docs
from app.services.invoicing import invoices as invoices_svc
from app.services.invoicing import totals as tot
from app.services.platform import plans as plans_svc

log = logging.getLogger(__name__)

SERIES_NAME = "Abonament"
SERIES_PATTERN = "AB/{n}/{MM}/{YYYY}"
VAT_RATE = "23"
#: invoice payment method of each PayU method
INVOICE_METHODS = {"blik": "blik", "card": "card", "pbl": "transfer"}
OPERATOR_FIELDS = ("name", "nip", "street", "postal_code", "city", "iban", "email")
MAIL_JOB = "subscription-invoice-mail"
#: the background mailer has had this long before the catch-up job mails an invoice itself
MAIL_GRACE = dt.timedelta(minutes=10)


# ---------------------------------------------------------------------------------------------- the operator


def operator_data() -> dict[str, str]:
    """The operator's seller data from the configuration (CRM_OPERATOR_NAME, _NIP, _STREET, ...)."""
    cfg = current_app.config
    return {f: str(cfg.get(f"CRM_OPERATOR_{f.upper()}") or "").strip() for f in OPERATOR_FIELDS}


def _operator_company() -> Company:
    """The operator's company row, created on first use and brought up to date with the configuration."""
    data = operator_data()
    if not data["name"] or not data["nip"]:
        raise DomainError(gettext("The platform operator's name and NIP are not configured."))
    with all_tenants():  # the operator is a platform record, not the company in scope
        link = db.session.execute(select(PlatformOperator)).scalars().first()
        company = db.session.get(Company, link.company_id) if link is not None else None
        if company is None:
            company = Company(name=data["name"], country="PL", active=False, plan="trial",
                              licence_valid_until=dt.date(9999, 12, 31), confirmed_at=clock.utc_now())
            db.session.add(company)
            db.session.flush()
            db.session.add(PlatformOperator(company_id=company.id))
        for field in OPERATOR_FIELDS:
            setattr(company, field, data[field] or None)
        company.name = data["name"]
        # its invoice PDFs are stored files: the plan with the most storage keeps them within the limit
        largest = max(plans_svc.all_plans(active_only=False), key=lambda p: p.max_storage_mb, default=None)
        if largest is not None:
            company.plan = largest.code
        db.session.flush()
    return company


def operator_company_id() -> int | None:
    """The id of the operator's company row, or None before the first subscription invoice."""
    with all_tenants():  # a platform record
        return db.session.execute(select(PlatformOperator.company_id)).scalars().first()


def _series(operator_id: int) -> InvoiceSeries:
    series = db.session.execute(
        select(InvoiceSeries).where(InvoiceSeries.company_id == operator_id, InvoiceSeries.name == SERIES_NAME)
    ).scalar_one_or_none()
    if series is None:
        series = InvoiceSeries(company_id=operator_id, name=SERIES_NAME, kind="vat", pattern=SERIES_PATTERN,
                               reset="monthly", is_default=True, active=True)
        db.session.add(series)
        db.session.flush()
    return series


def _gross_of(net: Decimal, rate: str) -> Decimal:
    return tot.compute_totals([docs.Line(name="x", quantity=Decimal(1), unit_price=net, rate=rate)]).gross


def invoiceable(target: Decimal, rate: str = VAT_RATE) -> tuple[Decimal, Decimal]:
    """(net, gross) of the one-line invoice whose gross is ``target``, or the nearest gross below it.

    The invoice engine computes VAT from the net (rounded per rate), so a few gross amounts cannot
    be reached (99,00 x 2 = 198,00 zł lies between 160,97 and 160,98 net): the company is then
    charged one grosz less, and the amount charged is always what the invoice states.
    """
    guess = (target / (1 + Decimal(rate) / 100)).quantize(Decimal("0.01"))
    best: tuple[Decimal, Decimal] | None = None
    for step in range(-3, 4):
        net = guess + Decimal(step) / 100
        gross = _gross_of(net, rate)
        if gross == target:
            return net, gross
        if gross < target and (best is None or gross > best[1]):
            best = (net, gross)
    if best is None:
        raise DomainError(gettext("The subscription price cannot be invoiced with VAT %(rate)s%%.", rate=rate))
    return best


# ---------------------------------------------------------------------------------------------- issuing


def _line_name(payment: Payment) -> str:
    with force_locale("pl"):
        return gettext("Klientela subscription, plan %(plan)s, %(months)s mo. (%(start)s - %(end)s)",
                       plan=plans_svc.plan_name(payment.plan_code), months=payment.months,
                       start=payment.period_start.strftime("%d.%m.%Y") if payment.period_start else "",
                       end=payment.period_end.strftime("%d.%m.%Y") if payment.period_end else "")


def _new_invoice(operator_id: int, payment: Payment, buyer: Company) -> Invoice:
    today = clock.local_today()
    series = _series(operator_id)
    invoice = Invoice(
        company_id=operator_id, kind="vat", status="draft", series_id=series.id, issue_date=today,
        sale_date=(payment.completed_at or clock.utc_now()).date(), buyer_name=buyer.name,
        buyer_nip=buyer.nip or None, buyer_street=buyer.street, buyer_postal_code=buyer.postal_code,
        buyer_city=buyer.city, buyer_country=buyer.country or "PL", currency="PLN",
        payment_method=INVOICE_METHODS.get(payment.method, "other"), due_date=today,
        notes=gettext("Paid online through PayU, order %(order)s.", order=payment.payu_order_id or ""),
    )
    invoice.items.append(InvoiceItem(company_id=operator_id, position=1, name=_line_name(payment)[:256],
                                     unit="usł.", quantity=Decimal(1), unit_net=invoiceable(payment.amount)[0],
                                     rate_code=VAT_RATE))
    db.session.add(invoice)
    db.session.flush()
    return invoice


@unit_of_work
def issue_for_payment(company_id: int, payment_id: int) -> bool:
    """Issue the operator's invoice of a completed payment once; False when there is nothing to issue."""
    with tenant_scope(company_id):
        payment = db.session.execute(
            select(Payment).where(Payment.company_id == company_id, Payment.id == payment_id).with_for_update()
        ).scalar_one_or_none()
        if payment is None or payment.status != "completed" or payment.invoice_id is not None:
            return False
        buyer = db.session.get(Company, company_id)
        assert buyer is not None
    operator = _operator_company()
    with tenant_scope(operator.id), force_locale("pl"):
        invoice = _new_invoice(operator.id, payment, buyer)
        invoices_svc.issue(operator.id, None, invoice.id)
        invoice.paid_amount, invoice.paid_at = invoice.total_gross, invoice.sale_date
        if invoice.total_gross != payment.amount:
            raise DomainError(gettext("The subscription invoice does not add up to the amount paid."))
        db.session.flush()
        invoice_id, number = invoice.id, invoice.number
    with tenant_scope(company_id):
        payment.invoice_id, payment.invoice_number = invoice_id, number
        db.session.flush()
    log.info("subscription invoice %s issued for payment %s of company %s", number, payment_id, company_id)
    return True


def invoice_pdf(company_id: int, payment_id: int) -> tuple[str, bytes] | None:
    """(file name, PDF) of the subscription invoice of the company's own payment, or None."""
    payment = db.session.execute(
        select(Payment).where(Payment.company_id == company_id, Payment.id == payment_id)
    ).scalar_one_or_none()
    if payment is None or payment.invoice_id is None:
        return None
    operator_id = operator_company_id()
    if operator_id is None:
        return None
    with tenant_scope(operator_id):  # the invoice is the operator's; the payment proved it is this company's
        return invoices_svc.invoice_pdf(operator_id, payment.invoice_id)


# ---------------------------------------------------------------------------------------------- e-mail


def _owner_emails(company_id: int) -> list[str]:
    users = db.session.execute(
        select(CrmUser).where(CrmUser.company_id == company_id, CrmUser.active.is_(True))
    ).scalars()
    return sorted({u.email for u in users if u.is_owner and u.email})


def mail_invoice(payment_id: int) -> bool:
    """E-mail the subscription invoice (PDF attached) to the company's owners once; True when sent."""
    with all_tenants():  # the mailer runs outside a request: the payment says whose it is
        payment = db.session.get(Payment, payment_id)
        if payment is None or payment.invoice_id is None or payment.invoice_mailed_at is not None:
            return False
        company_id, number = payment.company_id, payment.invoice_number or ""
    with tenant_scope(company_id):
        found = invoice_pdf(company_id, payment_id)
        recipients = _owner_emails(company_id)
    if found is None or not recipients or not mail_configured():
        return False
    filename, pdf = found
    with force_locale("pl"):
        subject = gettext("Klientela: invoice %(number)s for your subscription", number=number)
        body = gettext(
            "Thank you for your payment. The invoice %(number)s for your Klientela subscription is attached.\n"
            "You will also find it in Settings, the Payments tab.", number=number)
    for to in recipients:
        send_mail(to, subject, body, attachments=[(filename, pdf, "application/pdf")])
    with tenant_scope(company_id):
        _mark_mailed(company_id, payment_id)
    return True


@unit_of_work
def _mark_mailed(company_id: int, payment_id: int) -> None:
    db.session.execute(
        update(Payment).where(Payment.company_id == company_id, Payment.id == payment_id,
                              Payment.invoice_mailed_at.is_(None)).values(invoice_mailed_at=clock.utc_now())
    )


def _mail_job(payment_id: int) -> None:
    try:
        mail_invoice(payment_id)
    except Exception:  # the catch-up job sends it later
        log.exception("subscription invoice of payment %s not e-mailed", payment_id)


def mail_later(company_id: int, payment_id: int) -> None:
    """E-mail the invoice in the background (the notification answers PayU without waiting for SMTP)."""
    background.start(MAIL_JOB, _mail_job, payment_id)


def catch_up(now: dt.datetime | None = None) -> tuple[int, int]:
    """Issue the invoices and send the e-mails a failure left behind; returns (issued, mailed)."""
    now = now or clock.utc_now()
    with all_tenants():  # a platform job over every company
        rows: list[Any] = list(db.session.execute(
            select(Payment.id, Payment.company_id, Payment.invoice_id, Payment.completed_at)
            .where(Payment.status == "completed", Payment.invoice_mailed_at.is_(None))
        ))
    issued = mailed = 0
    for payment_id, company_id, invoice_id, completed_at in rows:
        try:
            if invoice_id is None:
                issued += int(issue_for_payment(company_id, payment_id))
            elif completed_at is None or completed_at > now - MAIL_GRACE:
                continue
            mailed += int(mail_invoice(payment_id))
        except Exception:  # one payment must not stop the others
            log.exception("subscription invoice catch-up failed for payment %s", payment_id)
    return issued, mailed
