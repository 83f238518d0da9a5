"""The "Kosz" tab speaks Polish: what was deleted (with its name), its parts with plural forms, who and when."""

from __future__ import annotations

import html
import re
from typing import Any

from app.extensions import db
from app.models.users import CrmUser
from app.security.tenancy import tenant_scope
from app.services.contacts import bases
from app.services.contacts import contacts as contacts_svc
from tests.integration.contacts_data import assert_polish_page, make_base, make_contact
from tests.integration.sales_fixtures import offer_form, seed_sales


def rows(page: str) -> list[dict[str, str]]:
    """The trash table's rows as text per column (newest first)."""
    out = []
    for tr in re.findall(r'<tr class="trash-group">(.*?)</tr>', page, re.S):
        cells = {}
        for name in ("subject", "parts", "when", "who"):
            cell = re.search(rf'<td class="trash-{name}">(.*?)</td>', tr, re.S).group(1)
            cells[name] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
        out.append(cells)
    return out


def owner_name(app: Any, user_id: int) -> str:
    with app.app_context():
        name = str(db.session.get(CrmUser, user_id))
        db.session.remove()
    return name


def test_offer_deletion_reads_as_an_offer_with_its_items_and_pdf(app, owner_client):
    seed = seed_sales(app, owner_client.crm)
    resp = owner_client.post("/offers/add", data=offer_form(seed))
    offer_id = int(re.search(r"/offers/(\d+)", resp.headers["Location"]).group(1))
    number = re.search(r"OF/[\w/]+", owner_client.get(f"/offers/{offer_id}").text).group(0)
    assert owner_client.post(f"/offers/{offer_id}/delete").status_code == 302
    page = owner_client.get("/settings/trash/").text
    (row,) = rows(page)
    assert row["subject"] == f"1 oferta {number}"
    assert row["parts"] == "4 pozycje oferty, 1 wersja PDF, 1 załącznik"
    assert row["who"] == owner_name(app, owner_client.crm["owner_id"]) and row["who"] not in ("", "—")
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}", row["when"]), row["when"]
    for table in ("offer_item", "offer_version", "attachment"):
        assert table not in page
    assert_polish_page(page, "/settings/trash/")


def test_plural_forms_and_names_of_bases_and_contacts(app, owner_client):
    cid, uid = owner_client.crm["company_id"], owner_client.crm["owner_id"]
    base = make_base(app, cid, "Hurtownie")
    for name in ("Żółta Łódka", "Zielony Dom"):
        make_contact(app, cid, base, kind="company", name=name)
    other = make_base(app, cid, "Detal")
    ids = [make_contact(app, cid, other, kind="company", name=f"Sklep {i:02d}") for i in range(5)]
    single = make_contact(app, cid, other, kind="person", name="Anna Żak", first_name="Anna", last_name="Żak")
    with app.app_context(), tenant_scope(cid):
        bases.delete_base(cid, base, uid)
        contacts_svc.delete_contacts(cid, ids, uid)
        contacts_svc.delete_contacts(cid, [single], uid)
        db.session.remove()
    by_subject = {r["subject"]: r for r in rows(owner_client.get("/settings/trash/").text)}
    assert by_subject["1 baza klientów Hurtownie"]["parts"] == "2 kontakty"
    assert by_subject["5 kontaktów Sklep 00, Sklep 01, Sklep 02 i 2 więcej"]["parts"] == "—"
    assert by_subject["1 kontakt Anna Żak"]["parts"] == "—"
    assert {r["who"] for r in by_subject.values()} == {owner_name(app, uid)}
