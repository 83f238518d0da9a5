"""Purchase invoices ("Faktury zakupowe"): invoices where the company is the buyer, fetched from KSeF.

The fetch runs only in the scheduler: daily for every company with a KSeF token, and on the next
tick after the owner pressed "Pobierz z KSeF" (:func:`request_fetch` only sets a flag). It is
incremental from ``KsefSettings.purchases_fetched_until`` and links the seller to a contact of a
"Kontakty" base of the same company by NIP.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.integrations import ksef as ksef_api
from app.models.contacts import ClientBase, Contact
from app.models.invoicing import KsefSettings, PurchaseInvoice
from app.models.mixins import utcnow
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, unit_of_work
from app.services.invoicing import ksef

log = logging.getLogger(__name__)

#: how far back the first fetch of a company looks
FIRST_FETCH_DAYS = 90
PAGE_SIZE = 50


@unit_of_work
def request_fetch(company_id: int) -> None:
    """"Pobierz z KSeF": ask the scheduler to fetch purchase invoices on its next tick."""
    settings = ksef.get_settings(company_id)
    if settings is None or not settings.token_encrypted:
        raise DomainError(_l('Save the company\'s KSeF token in the "KSeF" settings tab first.'))
    if settings.purchases_requested_at is None:
        settings.purchases_requested_at = utcnow()


def fetch_in_progress(company_id: int) -> bool:
    """True while a requested fetch waits for the scheduler."""
    settings = ksef.get_settings(company_id)
    return bool(settings and settings.purchases_requested_at)


def list_purchases(company_id: int, q: str = "", limit: int = 200) -> list[PurchaseInvoice]:
    """Purchase invoices of the company, newest first; ``q`` searches number, KSeF number, seller, NIP."""
    stmt = select(PurchaseInvoice).where(PurchaseInvoice.company_id == company_id)
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q.lower()}%"
        digits = "".join(ch for ch in q if ch.isdigit())
        conditions = [func.lower(PurchaseInvoice.invoice_number).like(like),
                      func.lower(PurchaseInvoice.seller_name).like(like),
                      func.lower(PurchaseInvoice.ksef_number).like(like)]
        if digits:
            conditions.append(PurchaseInvoice.seller_nip.like(f"%{digits}%"))
        stmt = stmt.where(or_(*conditions))
    stmt = stmt.order_by(PurchaseInvoice.issue_date.desc(), PurchaseInvoice.id.desc()).limit(limit)
    return list(db.session.execute(stmt).scalars())


def get_purchase(company_id: int, purchase_id: int) -> Optional[PurchaseInvoice]:
    """One purchase invoice of the company, or None (another company's id gives None)."""
    return db.session.execute(select(PurchaseInvoice).where(
        PurchaseInvoice.id == purchase_id, PurchaseInvoice.company_id == company_id)).scalar()


def _contact_by_nip(company_id: int, nip: str) -> Optional[int]:
    """Id of a contact with this NIP in a "Kontakty" base of the company (mailing bases never)."""
    if not nip:
        return None
    return db.session.execute(
        select(Contact.id).join(ClientBase, ClientBase.id == Contact.base_id)
        .where(Contact.company_id == company_id, Contact.nip == nip, ClientBase.kind == "contacts")
        .order_by(Contact.id).limit(1)).scalar()


def _money(value: Any) -> Decimal:
    """A KSeF amount (JSON number) as Decimal with two places."""
    try:
        return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0.00")


def fetch_company(company_id: int, now: Optional[dt.datetime] = None) -> int:
    """Fetch new purchase invoices of one company from KSeF (scheduler only); returns how many were added."""
    now = now or utcnow()
    with tenant_scope(company_id):
        settings = ksef.get_settings(company_id)
        if settings is None or not settings.token_encrypted:
            return 0
        start = settings.purchases_fetched_until or (now - dt.timedelta(days=FIRST_FETCH_DAYS))
        added = 0
        newest = start
        try:
            client = ksef.make_client(company_id)
            for meta in client.iter_purchase_invoices(start.replace(tzinfo=dt.timezone.utc),
                                                      now.replace(tzinfo=dt.timezone.utc), page_size=PAGE_SIZE):
                stored = ksef_api.parse_time(meta["permanentStorageDate"]).astimezone(dt.timezone.utc)
                newest = max(newest, stored.replace(tzinfo=None))
                number = meta.get("ksefNumber") or ""
                exists = db.session.execute(select(PurchaseInvoice.id).where(
                    PurchaseInvoice.company_id == company_id, PurchaseInvoice.ksef_number == number)).first()
                if not number or exists:
                    continue
                xml = client.download_invoice(number)
                seller = meta.get("seller") or {}
                nip = str(seller.get("nip") or "")[:20]
                db.session.add(PurchaseInvoice(
                    company_id=company_id, ksef_number=number,
                    invoice_number=str(meta.get("invoiceNumber") or "")[:256],
                    seller_nip=nip, seller_name=str(seller.get("name") or "")[:512],
                    seller_contact_id=_contact_by_nip(company_id, nip),
                    issue_date=dt.date.fromisoformat(str(meta.get("issueDate"))[:10]),
                    currency=str(meta.get("currency") or "PLN")[:3],
                    total_net=_money(meta.get("netAmount")), total_vat=_money(meta.get("vatAmount")),
                    total_gross=_money(meta.get("grossAmount")), xml=xml, fetched_at=now,
                ))
                db.session.flush()
                added += 1
        except (DomainError, ksef_api.KsefError) as err:
            db.session.rollback()
            _finish(company_id, None, ksef.explain(err))
            log.warning("purchase invoices of company %s not fetched: %s", company_id, type(err).__name__)
            return 0
        except Exception:
            db.session.rollback()
            log.exception("purchase invoices of company %s not fetched", company_id)
            _finish(company_id, None, str(ksef.explain(RuntimeError())))
            return 0
        settings.purchases_fetched_until = max(newest, start)
        settings.purchases_requested_at = None
        settings.purchases_error = None
        db.session.commit()
        log.info("fetched %s purchase invoices of company %s", added, company_id)
        return added


def _finish(company_id: int, fetched_until: Optional[dt.datetime], error: str) -> None:
    """Record a failed fetch: the request is cleared (the owner may press again), the error shown."""
    settings = ksef.get_settings(company_id)
    if settings is None:
        return
    settings.purchases_requested_at = None
    settings.purchases_error = error[:500]
    if fetched_until is not None:
        settings.purchases_fetched_until = fetched_until
    db.session.commit()


def _companies(requested_only: bool) -> list[int]:
    """Companies with a KSeF token (and, when asked, a pending "Pobierz z KSeF")."""
    with all_tenants():
        # the scheduler looks across companies only to list whom to fetch for; work runs per company
        stmt = select(KsefSettings.company_id).where(KsefSettings.token_encrypted.is_not(None))
        if requested_only:
            stmt = stmt.where(KsefSettings.purchases_requested_at.is_not(None))
        ids = list(db.session.execute(stmt.execution_options(all_tenants=True)).scalars())
        db.session.rollback()
    return ids


def fetch_requested(now: Optional[dt.datetime] = None) -> int:
    """Scheduler tick: fetch for companies that pressed "Pobierz z KSeF"; returns invoices added."""
    return sum(fetch_company(company_id, now) for company_id in _companies(requested_only=True))


def fetch_all(now: Optional[dt.datetime] = None) -> int:
    """Daily job: fetch for every company with a KSeF token; returns invoices added."""
    return sum(fetch_company(company_id, now) for company_id in _companies(requested_only=False))
