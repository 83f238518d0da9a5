"""Orders: from an accepted offer (lines copied) or from scratch, own number series, status, PDF,
binder, soft delete and tenant isolation."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Offer, Order
from app.models.binders import Attachment
from app.security.tenancy import tenant_scope
from tests.helpers import login
from tests.integration.sales_fixtures import offer_form, pdf_text, seed_sales


@pytest.fixture()
def seed(app, owner_client):
    return seed_sales(app, owner_client.crm)


def _offer(client, seed) -> int:
    resp = client.post("/offers/add", data=offer_form(seed))
    assert resp.status_code == 302
    return int(re.search(r"/offers/(\d+)", resp.headers["Location"]).group(1))


def _order_from(client, offer_id) -> int:
    resp = client.post(f"/orders/from-offer/{offer_id}")
    assert resp.status_code == 302
    m = re.search(r"/orders/(\d+)$", resp.headers["Location"])
    assert m, resp.headers["Location"]
    return int(m.group(1))


def order_form(seed, **over):
    data = offer_form(seed, **over)
    data.pop("template")
    data.pop("valid_until")
    data.pop("reminder_on")
    data["due_date"] = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    return data


def test_order_only_from_accepted_offer_copies_lines_and_files_pdf_in_binder(app, owner_client, seed):
    offer_id = _offer(owner_client, seed)
    resp = owner_client.post(f"/orders/from-offer/{offer_id}", follow_redirects=True)
    assert "zaakceptowan" in resp.get_data(as_text=True)  # refused: still a draft
    owner_client.post(f"/offers/{offer_id}/status", data={"status": "accepted"})
    order_id = _order_from(owner_client, offer_id)
    year = dt.date.today().year
    with app.app_context(), tenant_scope(seed["company_id"]):
        order = db.session.get(Order, order_id)
        offer = db.session.get(Offer, offer_id)
        assert order.number == f"ZL/1/{year}" and order.status == "new" and order.offer_id == offer_id
        assert [(i.name, i.net, i.vat_rate) for i in order.items] == [(i.name, i.net, i.vat_rate) for i in offer.items]
        assert order.total_gross == offer.total_gross == D("8940.64")
        att = db.session.get(Attachment, order.attachment_id)
        assert att.binder_id == seed["binder_id"] and att.owner_type == "sales_order"
    text = pdf_text(owner_client.get(f"/orders/{order_id}/pdf").data).replace("\u00a0", " ")
    assert "Zlecenie" in text and f"ZL/1/{year}" in text and "8 940,64" in text and "Szkolenie żółtodziobów" in text
    assert f"ZL_1_{year}_v1.pdf" in owner_client.get(f"/binders/{seed['binder_id']}").get_data(as_text=True)
    page = owner_client.get(f"/offers/{offer_id}").get_data(as_text=True)
    assert f"ZL/1/{year}" in page


def test_order_from_scratch_status_flow_and_edit_lock(app, owner_client, seed):
    resp = owner_client.post("/orders/add", data=order_form(seed, binder_id=""))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    order_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    resp = owner_client.post(f"/orders/{order_id}/edit", data=order_form(seed, item_quantity=["2", "2", "3", "120,5"]))
    assert resp.status_code == 302
    for status in ("in_progress", "done"):
        owner_client.post(f"/orders/{order_id}/status", data={"status": status})
    owner_client.post(f"/orders/{order_id}/status", data={"status": "bogus"})
    with app.app_context(), tenant_scope(seed["company_id"]):
        order = db.session.get(Order, order_id)
        assert order.status == "done" and order.total_gross == D("13922.14") and order.version == 2
        assert len(db.session.execute(select(Attachment)).scalars().all()) == 2
    resp = owner_client.post(f"/orders/{order_id}/edit", data=order_form(seed))
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.get(Order, order_id).version == 2


def test_order_refuses_mailing_contact(app, owner_client, seed):
    resp = owner_client.post("/orders/add", data=order_form(seed, contact_id=str(seed["mailing_contact_id"])))
    assert resp.status_code == 200
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.execute(select(Order)).first() is None


def test_order_series_is_separate_from_offers(app, owner_client, seed):
    _offer(owner_client, seed)
    _offer(owner_client, seed)
    resp = owner_client.post("/orders/add", data=order_form(seed))
    order_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.get(Order, order_id).number == f"ZL/1/{dt.date.today().year}"


def test_soft_delete_and_isolation_of_orders(app, owner_client, seed, make_company):
    resp = owner_client.post("/orders/add", data=order_form(seed))
    order_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    other = make_company("Intruz")
    c = app.test_client()
    login(c, other["email"])
    for url in (f"/orders/{order_id}", f"/orders/{order_id}/edit", f"/orders/{order_id}/pdf"):
        assert c.get(url).status_code == 404, url
    for url in (f"/orders/{order_id}/delete", f"/orders/{order_id}/status"):
        assert c.post(url, data={"status": "done"}).status_code == 404, url
    assert "ZL/1/" in owner_client.get("/orders/").get_data(as_text=True)
    assert "ZL/1/" not in c.get("/orders/").get_data(as_text=True)
    assert "ZL/1/" not in c.get("/orders/?q=ZL").get_data(as_text=True)
    with app.app_context(), tenant_scope(seed["company_id"]):
        order = db.session.get(Order, order_id)
        assert order.status == "new" and order.deleted_at is None
    assert owner_client.get(f"/orders/{order_id}/pdf").status_code == 200
    assert owner_client.post(f"/orders/{order_id}/delete").status_code == 302
    assert owner_client.get(f"/orders/{order_id}").status_code == 404
    assert owner_client.get(f"/orders/{order_id}/pdf").status_code == 404
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert db.session.execute(select(Attachment)).first() is None


def test_sales_pages_are_polish_with_data(app, owner_client, seed):
    from tests.integration.test_polish_pages import assert_polish

    offer_id = _offer(owner_client, seed)
    owner_client.post(f"/offers/{offer_id}/status", data={"status": "accepted"})
    order_id = _order_from(owner_client, offer_id)
    for url in ("/offers/", "/offers/add", f"/offers/{offer_id}", f"/offers/{offer_id}/send", "/offers/products/",
                "/offers/products/add", f"/offers/products/{seed['product_ids'][0]}/edit", "/orders/", "/orders/add",
                f"/orders/{order_id}", f"/orders/{order_id}/edit", "/offers/?q=zzz", "/orders/?status=done",
                f"/offers/add?binder_id={seed['binder_id']}"):
        resp = owner_client.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.get_data(as_text=True), url)
    page = owner_client.get(f"/offers/add?binder_id={seed['binder_id']}").get_data(as_text=True)
    assert 'value="Źródło Wód Gęślą Jaźń Sp. z o.o."' in page


def test_second_order_from_the_same_offer_is_refused(app, owner_client, seed):
    offer_id = _offer(owner_client, seed)
    assert 'id="make-order"' not in owner_client.get(f"/offers/{offer_id}").get_data(as_text=True)
    owner_client.post(f"/offers/{offer_id}/status", data={"status": "accepted"})
    assert 'id="make-order"' in owner_client.get(f"/offers/{offer_id}").get_data(as_text=True)
    _order_from(owner_client, offer_id)
    assert 'id="make-order"' not in owner_client.get(f"/offers/{offer_id}").get_data(as_text=True)
    resp = owner_client.post(f"/orders/from-offer/{offer_id}", follow_redirects=True)
    assert "utworzono już zlecenie ZL/1/" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(seed["company_id"]):
        assert len(db.session.execute(select(Order)).scalars().all()) == 1


def test_order_without_binder_appears_in_its_clients_binder(app, owner_client, seed):
    resp = owner_client.post("/orders/add", data=order_form(seed, binder_id=""))
    assert resp.status_code == 302
    page = owner_client.get(f"/binders/{seed['binder_id']}").get_data(as_text=True)
    assert f"ZL/1/{dt.date.today().year}" in page


def test_order_pdf_attachment_download_is_isolated(app, owner_client, seed, make_company):
    resp = owner_client.post("/orders/add", data=order_form(seed))
    order_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(seed["company_id"]):
        att_id = db.session.get(Order, order_id).attachment_id
    assert owner_client.get(f"/attachments/{att_id}/download").status_code == 200
    other = make_company("Intruz")
    c = app.test_client()
    login(c, other["email"])
    assert c.get(f"/attachments/{att_id}/download").status_code == 404
