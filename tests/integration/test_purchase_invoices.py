"""Purchase invoices fetched from the fake KSeF: incremental, seller linked by NIP, no KSeF call in a request."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.invoicing import PurchaseInvoice
from app.security.tenancy import tenant_scope
from app.services.contacts import bases, contacts
from app.services.invoicing import ksef, purchases
from app.services.platform.demo import DEMO_CONSENT
from tests.fakes.ksef import FakeKsef, running_fake_ksef
from tests.helpers import csrf_token, login

BUYER, BUYER_TOKEN = "5265877635", "token-kupujacego-0002"
OTHER, OTHER_TOKEN = "7352765225", "token-innej-firmy-0003"
SUPPLIER = "1111111111"
FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "ksef_fa3_invoice.xml").read_bytes()


@pytest.fixture()
def fake(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKsef]:
    """The fake KSeF on a free port; the app points at it."""
    with running_fake_ksef(tokens={BUYER: {BUYER_TOKEN}, OTHER: {OTHER_TOKEN}}) as (running, url):
        monkeypatch.setitem(app.config, "KSEF_BASE_URL", url)
        monkeypatch.setitem(app.config, "KSEF_POLL_INTERVAL", 0.01)
        yield running


@contextlib.contextmanager
def scope(app: Any, company_id: int) -> Iterator[None]:
    """App context + one company's scope, session closed afterwards."""
    with app.app_context(), tenant_scope(company_id):
        try:
            yield
        finally:
            db.session.remove()


def setup_company(app: Any, make_company: Any, nip: str, token: str) -> dict:
    """A company with its KSeF token saved."""
    info = make_company(nip=nip)
    with scope(app, info["company_id"]):
        ksef.save_settings(info["company_id"], ksef.SettingsData("test", token, False))
    return info


def supplier_invoice(number: str, buyer: str = BUYER) -> bytes:
    """An FA(3) invoice of the supplier to ``buyer``."""
    return FIXTURE.replace(b"FV/1/02/2026", number.encode()).replace(b"<NIP>5265877635</NIP>",
                                                                       f"<NIP>{buyer}</NIP>".encode())


def rows(app: Any, company_id: int) -> list[tuple[str, str, int | None]]:
    """(invoice number, seller NIP, linked contact id) of the company's purchase invoices."""
    with scope(app, company_id):
        return [(p.invoice_number, p.seller_nip, p.seller_contact_id) for p in db.session.execute(
            select(PurchaseInvoice).order_by(PurchaseInvoice.invoice_number)).scalars()]


def test_fetch_is_requested_then_done_by_the_scheduler(app: Any, make_company: Any, fake: FakeKsef) -> None:
    info = setup_company(app, make_company, BUYER, BUYER_TOKEN)
    cid = info["company_id"]
    with scope(app, cid):
        # a mailing-base contact with the same NIP (created first) is never linked
        mailing = bases.create_base(cid, "Newsletter", "mailing")
        contacts.create_contact(cid, mailing.id, contacts.ContactData(
            kind="company", name="Dostawca (mailing)", nip=SUPPLIER, email="biuro@dostawca.pl", **DEMO_CONSENT))
        base = bases.create_base(cid, "Dostawcy", "contacts")
        supplier = contacts.create_contact(cid, base.id, contacts.ContactData(kind="company", name="Dostawca S.A.",
                                                                               nip=SUPPLIER))
        supplier_id = supplier.id
    first = fake.seed_invoice(supplier_invoice("FZ/1/2026"), dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2))
    fake.seed_invoice(supplier_invoice("FZ/9/2026", buyer=OTHER), dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))  # someone else's purchase

    c = app.test_client()
    login(c, info["email"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = c.get("/invoices/purchases/").get_data(as_text=True)
        assert "Faktury zakupowe" in page and "Nie ma jeszcze faktur zakupowych" in page
        resp = c.post("/invoices/purchases/fetch", data={"csrf_token": csrf_token(page, "#purchase-fetch-form")},
                      follow_redirects=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    html = resp.get_data(as_text=True)
    assert "Pobieranie w toku" in html
    assert not fake.auth_ops  # nothing was asked of KSeF inside the request
    assert rows(app, cid) == []

    with app.app_context():
        assert purchases.fetch_requested() == 1
        db.session.remove()
    assert rows(app, cid) == [("FZ/1/2026", SUPPLIER, supplier_id)]
    html = c.get("/invoices/purchases/").get_data(as_text=True)
    assert "FZ/1/2026" in html and first in html and "Pobieranie w toku" not in html
    assert "FZ/9/2026" not in html
    with scope(app, cid):
        stored = db.session.execute(select(PurchaseInvoice)).scalar_one()
        assert stored.xml == supplier_invoice("FZ/1/2026")
        assert stored.issue_date == dt.date(2026, 2, 1) and stored.total_gross > 0
        fetched_until = ksef.get_settings(cid).purchases_fetched_until
    assert fetched_until is not None

    # incremental: the next run adds only what is new, from where the last one stopped
    fake.seed_invoice(supplier_invoice("FZ/2/2026"), dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=10))
    with app.app_context():
        assert purchases.fetch_requested() == 0  # nobody asked
        assert purchases.fetch_all() == 1
        assert purchases.fetch_all() == 0
        db.session.remove()
    assert [r[0] for r in rows(app, cid)] == ["FZ/1/2026", "FZ/2/2026"]
    queries = [r for r in fake.auth_ops.values()]
    assert queries  # the scheduler did authenticate
    with scope(app, cid):
        assert ksef.get_settings(cid).purchases_fetched_until > fetched_until

    # search by number, seller NIP and seller name
    assert "FZ/2/2026" in c.get("/invoices/purchases/?q=FZ/2").get_data(as_text=True)
    assert "FZ/1/2026" not in c.get("/invoices/purchases/?q=FZ/2").get_data(as_text=True)
    assert "FZ/1/2026" in c.get(f"/invoices/purchases/?q={SUPPLIER[:6]}").get_data(as_text=True)
    assert "Żadna faktura zakupowa nie pasuje" in c.get("/invoices/purchases/?q=nic-takiego").get_data(as_text=True)


def test_fetch_failure_is_shown_in_polish(app: Any, make_company: Any, fake: FakeKsef) -> None:
    info = setup_company(app, make_company, BUYER, "zly-token")
    with scope(app, info["company_id"]):
        purchases.request_fetch(info["company_id"])
    with app.app_context():
        assert purchases.fetch_requested() == 0
        db.session.remove()
    c = app.test_client()
    login(c, info["email"])
    html = c.get("/invoices/purchases/").get_data(as_text=True)
    assert "KSeF nie przyjął tokenu" in html and "Pobieranie w toku" not in html


def test_fetch_without_token_is_refused(app: Any, make_company: Any) -> None:
    info = make_company(nip=BUYER)
    c = app.test_client()
    login(c, info["email"])
    html = c.post("/invoices/purchases/fetch", follow_redirects=True).get_data(as_text=True)
    assert "Zapisz token KSeF firmy w zakładce „KSeF”" in html
    with scope(app, info["company_id"]):
        assert not purchases.fetch_in_progress(info["company_id"])


def test_purchase_invoices_are_isolated(app: Any, make_company: Any, fake: FakeKsef) -> None:
    buyer = setup_company(app, make_company, BUYER, BUYER_TOKEN)
    other = setup_company(app, make_company, OTHER, OTHER_TOKEN)
    fake.seed_invoice(supplier_invoice("FZ/5/2026"), dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=10))
    with app.app_context():
        assert purchases.fetch_all() == 1
        db.session.remove()
    with scope(app, buyer["company_id"]):
        purchase_id = db.session.execute(select(PurchaseInvoice.id)).scalar_one()
    assert rows(app, other["company_id"]) == []
    c = app.test_client()
    login(c, other["email"])
    assert "FZ/5/2026" not in c.get("/invoices/purchases/").get_data(as_text=True)
    assert "FZ/5/2026" not in c.get("/invoices/purchases/?q=FZ").get_data(as_text=True)
    assert c.get(f"/invoices/purchases/{purchase_id}/xml").status_code == 404
    owner = app.test_client()
    login(owner, buyer["email"])
    resp = owner.get(f"/invoices/purchases/{purchase_id}/xml")
    assert resp.status_code == 200 and resp.data == supplier_invoice("FZ/5/2026")
