"""Payments of invoices: paid / partly paid, unpaid and overdue lists, the client's balance, the daily reminder."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.invoicing import PAYMENT_METHODS, Invoice, InvoicePayment
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, clock, unit_of_work
from app.services import validators as v
from app.services.accounts import employees
from app.services.sales import pricing

ZERO = Decimal("0.00")


@dataclass
class PaymentData:
    """The "Zapłata" form."""

    amount: Any
    paid_on: dt.date | None = None
    method: Any = "transfer"
    note: Any = None


def payable(invoice: Invoice) -> bool:
    """Whether payments can be recorded: an issued VAT invoice (or correction) with something left to pay."""
    return invoice.status == "issued" and invoice.kind != "proforma" and invoice.balance > 0


@unit_of_work
def add_payment(company_id: int, user: Any, invoice_id: int, data: PaymentData) -> InvoicePayment:
    """Record a full or partial payment; the invoice is paid once its payments reach the gross total."""
    invoice = db.session.execute(
        select(Invoice).where(Invoice.company_id == company_id, Invoice.id == invoice_id).with_for_update()
    ).scalar_one_or_none()
    if invoice is None:
        raise DomainError(_l("This invoice does not exist."))
    if invoice.status != "issued" or invoice.kind == "proforma":
        raise DomainError(_l("Payments are recorded for issued invoices only."))
    amount = pricing.parse_decimal(data.amount, "amount", _l("Amount"), 2, minimum=Decimal("0.01"))
    if invoice.balance <= 0:
        raise DomainError(_l("This invoice is already paid."), "amount")
    if amount > invoice.balance:
        raise DomainError(_l("The amount is more than the %(left)s %(currency)s left to pay.",
                             left=pricing.format_money(invoice.balance), currency=invoice.currency), "amount")
    paid_on = data.paid_on or clock.local_today()
    if paid_on > clock.local_today():
        raise DomainError(_l("The payment date cannot be in the future."), "paid_on")
    if data.method not in PAYMENT_METHODS:
        raise DomainError(_l("Choose a payment method."), "method")
    payment = InvoicePayment(company_id=company_id, invoice_id=invoice.id, amount=amount, paid_on=paid_on,
                             method=data.method, note=v.clean_text(data.note, "note", _l("Note"), 200),
                             created_by_id=getattr(user, "id", None))
    db.session.add(payment)
    invoice.paid_amount = invoice.paid_amount + amount
    if invoice.balance <= 0:
        invoice.paid_at = paid_on
    return payment


def unpaid_clause(today: dt.date | None = None, overdue_only: bool = False) -> Any:
    """SQL condition: issued invoices (not proformas) with something left to pay (and past due)."""
    cond = and_(Invoice.status == "issued", Invoice.kind != "proforma", Invoice.total_gross > Invoice.paid_amount)
    if overdue_only:
        cond = and_(cond, Invoice.due_date.is_not(None), Invoice.due_date < (today or clock.local_today()))
    return cond


@dataclass
class UnpaidSummary:
    """Unpaid invoices and the sums left to pay per currency (all and overdue)."""

    invoices: list[Invoice]
    left: dict[str, Decimal]
    overdue: dict[str, Decimal]


def unpaid(company_id: int, overdue_only: bool = False, contact_id: int | None = None,
           today: dt.date | None = None, limit: int = 500) -> UnpaidSummary:
    """Unpaid (or only overdue) invoices of the company, oldest due first, with totals per currency."""
    today = today or clock.local_today()
    stmt = select(Invoice).where(Invoice.company_id == company_id, unpaid_clause(today, overdue_only))
    if contact_id is not None:
        stmt = stmt.where(Invoice.buyer_contact_id == contact_id)
    rows = list(db.session.execute(stmt.order_by(Invoice.due_date, Invoice.id).limit(limit)).scalars())
    left: dict[str, Decimal] = defaultdict(lambda: ZERO)
    late: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for inv in rows:
        left[inv.currency] += inv.balance
        if inv.due_date is not None and inv.due_date < today:
            late[inv.currency] += inv.balance
    return UnpaidSummary(rows, dict(left), dict(late))


def is_overdue(invoice: Invoice, today: dt.date | None = None) -> bool:
    """Issued, unpaid and past its due date."""
    return (invoice.status == "issued" and invoice.kind != "proforma" and invoice.balance > 0
            and invoice.due_date is not None and invoice.due_date < (today or clock.local_today()))


def contact_balance(company_id: int, contact_id: int) -> UnpaidSummary:
    """What a client still owes (the contact page's box)."""
    return unpaid(company_id, contact_id=contact_id)


def _reminder_text(rows: list[Invoice], today: dt.date) -> tuple[str, str]:
    with force_locale("pl"):
        subject = gettext("Overdue invoices: %(n)s", n=len(rows))
        lines = [gettext("These invoices are past their due date and not paid:"), ""]
        for inv in rows:
            assert inv.due_date is not None  # only invoices with a due date are overdue
            lines.append(gettext("%(number)s · %(buyer)s · %(left)s %(currency)s left · due %(due)s (%(days)s days ago)",
                                 number=inv.number, buyer=inv.buyer_name, left=pricing.format_money(inv.balance),
                                 currency=inv.currency, due=inv.due_date.strftime("%d.%m.%Y"),
                                 days=(today - inv.due_date).days))
        lines += ["", gettext("Record payments on the invoice page (Invoices > Unpaid).")]
    return subject, "\n".join(lines)


def send_overdue_reminders(today: dt.date | None = None) -> int:
    """Scheduler job: e-mail each company's owners the list of its overdue invoices; return e-mails sent."""
    today = today or clock.local_today()
    with all_tenants():
        # the one cross-company read of the job: which companies have overdue invoices
        company_ids = sorted(set(db.session.execute(
            select(Invoice.company_id).where(unpaid_clause(today, overdue_only=True)).distinct()
        ).scalars()))
    if not mail_configured():
        return 0
    sent = 0
    for company_id in company_ids:
        with tenant_scope(company_id):
            rows = unpaid(company_id, overdue_only=True, today=today).invoices
            owners = [p for p in employees.active_people(company_id) if p.is_owner and p.email]
            if not rows or not owners:
                continue
            subject, body = _reminder_text(rows, today)
            for owner in owners:
                try:
                    send_mail(owner.email, subject, body)
                    sent += 1
                except OSError:
                    continue
    db.session.remove()
    return sent
