"""Bulk actions on the contact list: "select all N matching the filter", the count checked, large ones in the background."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import BulkJob, Contact, contact_tag
from app.security.tenancy import tenant_scope
from app.services.contacts import bulk as bulk_svc
from tests.helpers import login
from tests.integration.contacts_data import assert_polish_page, bulk_contacts, make_base, make_tag


def tagged(app: Any, cid: int, tag_id: int) -> list[str]:
    """Names of the contacts that carry the tag."""
    with app.app_context(), tenant_scope(cid):
        names = list(db.session.execute(
            select(Contact.name).join(contact_tag, contact_tag.c.contact_id == Contact.id)
            .where(contact_tag.c.tag_id == tag_id).order_by(Contact.name)
        ).scalars())
        db.session.remove()
    return names


def live_count(app: Any, cid: int) -> int:
    with app.app_context(), tenant_scope(cid):
        n = db.session.execute(select(func.count()).select_from(Contact)).scalar_one()
        db.session.remove()
    return n


def bulk_all(client: Any, base_id: int | str, q: str, expected: int | str, action: str, tag_id: Any = "",
             filter_tag: Any = "") -> Any:
    return client.post("/contacts/bulk", data={
        "scope": "all", "filter_base": str(base_id), "filter_q": q, "filter_tag": str(filter_tag),
        "expected": str(expected), "action": action, "tag_id": str(tag_id), "next": f"/bases/{base_id}",
    })


def test_select_all_matching_tags_exactly_the_filtered_rows(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Hurtownie")
    other = make_base(app, cid, "Detal")
    bulk_contacts(app, cid, base_id, 73, "Alfa")
    bulk_contacts(app, cid, base_id, 40, "Beta")
    bulk_contacts(app, cid, other, 20, "Alfa Detal")
    vip = make_tag(app, cid, "VIP")
    page = owner_client.get(f"/bases/{base_id}?q=Alfa").text
    # the page shows 50 rows and offers the 73 matching
    assert len(re.findall(r'class="row-check"', page)) == 50
    assert "Zaznacz wszystkie 73 kontakty pasujące do filtra" in page
    assert 'name="filter_q" value="Alfa"' in page and f'name="filter_base" value="{base_id}"' in page
    assert_polish_page(page, "list")
    resp = bulk_all(owner_client, base_id, "Alfa", 73, "tag", vip)
    assert resp.status_code == 302
    names = tagged(app, cid, vip)
    assert len(names) == 73 and all(n.startswith("Alfa 0") for n in names)
    flash = owner_client.get(resp.headers["Location"]).text
    assert "Dodano tag do 73 kontaktów." in flash
    # untag all matching the tag filter, then delete all matching: counts in the messages
    resp = bulk_all(owner_client, base_id, "", 73, "untag", vip, filter_tag=vip)
    assert tagged(app, cid, vip) == []
    resp = bulk_all(owner_client, base_id, "Beta", 40, "delete")
    assert "40 kontaktów przeniesiono do kosza." in owner_client.get(resp.headers["Location"]).text
    assert live_count(app, cid) == 73 + 20


def test_a_changed_list_or_a_broken_filter_changes_nothing(app, owner_client, make_company):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Hurtownie")
    bulk_contacts(app, cid, base_id, 30, "Alfa")
    vip = make_tag(app, cid, "VIP")
    resp = bulk_all(owner_client, base_id, "Alfa", 29, "tag", vip)
    page = owner_client.get(resp.headers["Location"]).text
    assert "Lista zmieniła się po zaznaczeniu: teraz pasujących kontaktów jest 30." in page
    assert tagged(app, cid, vip) == []
    resp = bulk_all(owner_client, base_id, "Alfa", 30, "tag", vip, filter_tag="abc")
    assert tagged(app, cid, vip) == []
    # another company's base or tag in the filter: refused, nothing changes
    other = make_company("Obca Sp. z o.o.")
    foreign_base = make_base(app, other["company_id"], "Obca")
    bulk_contacts(app, other["company_id"], foreign_base, 5, "Obca")
    foreign_tag = make_tag(app, other["company_id"], "Obcy")
    bulk_all(owner_client, foreign_base, "", 5, "delete")
    bulk_all(owner_client, base_id, "", 30, "tag", foreign_tag)
    assert live_count(app, other["company_id"]) == 5 and tagged(app, other["company_id"], foreign_tag) == []
    assert tagged(app, cid, vip) == [] and live_count(app, cid) == 30


def test_a_large_bulk_delete_runs_in_the_background_as_one_trash_entry(app, owner_client, make_company, monkeypatch):
    monkeypatch.setattr(bulk_svc, "BACKGROUND_FROM", 100)
    monkeypatch.setattr(bulk_svc, "BATCH_SIZE", 40)
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Hurtownie")
    bulk_contacts(app, cid, base_id, 150, "Alfa")
    bulk_contacts(app, cid, base_id, 10, "Beta")
    resp = bulk_all(owner_client, base_id, "Alfa", 150, "delete")
    assert resp.status_code == 302 and "/contacts/bulk/" in resp.headers["Location"]
    job_id = int(re.search(r"/contacts/bulk/(\d+)", resp.headers["Location"]).group(1))
    bulk_svc.wait(job_id)
    progress = owner_client.get(f"/contacts/bulk/{job_id}/progress").get_json()
    assert (progress["status"], progress["processed"], progress["changed"], progress["percent"]) == ("done", 150, 150, 100)
    page = owner_client.get(resp.headers["Location"]).text
    assert 'id="bulk-progress"' in page and "150 kontaktów przeniesiono do kosza." in page
    assert f'href="/bases/{base_id}"' in page
    assert_polish_page(page, "bulk job")
    assert live_count(app, cid) == 10
    trash = owner_client.get("/settings/trash/").text
    assert trash.count('class="trash-group"') == 1 and "150 kontaktów" in trash
    # another company sees nothing of the job
    other = make_company("Obca Sp. z o.o.")
    stranger = app.test_client()
    login(stranger, other["email"])
    assert stranger.get(f"/contacts/bulk/{job_id}").status_code == 404
    assert stranger.get(f"/contacts/bulk/{job_id}/progress").status_code == 404
    with app.app_context(), tenant_scope(other["company_id"]):
        assert db.session.execute(select(BulkJob)).first() is None
        db.session.remove()


def test_a_large_tagging_in_the_background_tags_exactly_n(app, owner_client, monkeypatch):
    monkeypatch.setattr(bulk_svc, "BACKGROUND_FROM", 100)
    monkeypatch.setattr(bulk_svc, "BATCH_SIZE", 30)
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Hurtownie")
    bulk_contacts(app, cid, base_id, 101, "Alfa")
    bulk_contacts(app, cid, base_id, 5, "Beta")
    vip = make_tag(app, cid, "VIP")
    resp = bulk_all(owner_client, base_id, "Alfa", 101, "tag", vip)
    job_id = int(re.search(r"/contacts/bulk/(\d+)", resp.headers["Location"]).group(1))
    bulk_svc.wait(job_id)
    assert len(tagged(app, cid, vip)) == 101
    assert "Dodano tag do 101 kontaktów." in owner_client.get(resp.headers["Location"]).text


def test_ticked_rows_still_work_with_counts(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Hurtownie")
    bulk_contacts(app, cid, base_id, 3, "Alfa")
    vip = make_tag(app, cid, "VIP")
    with app.app_context(), tenant_scope(cid):
        ids = [str(i) for i in db.session.execute(select(Contact.id).order_by(Contact.id)).scalars()][:2]
        db.session.remove()
    resp = owner_client.post("/contacts/bulk", data={"ids": ids, "action": "tag", "tag_id": str(vip),
                                                     "next": f"/bases/{base_id}"})
    assert "Dodano tag do 2 kontaktów." in owner_client.get(resp.headers["Location"]).text
    resp = owner_client.post("/contacts/bulk", data={"action": "tag", "tag_id": str(vip), "next": "/"})
    assert "Zaznacz co najmniej jeden kontakt." in owner_client.get(resp.headers["Location"]).text
