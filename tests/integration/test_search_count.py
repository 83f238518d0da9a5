"""The "N contacts" of a substring search: only the company's live contacts, with the base and tag filters."""

from app.extensions import db
from app.security.tenancy import tenant_scope
from app.services.contacts import contacts as svc
from app.services.contacts import search as search_svc
from app.services.contacts import tags as tags_svc
from tests.helpers import texts
from tests.integration.contacts_data import make_base, make_contact, make_tag


def _count_label(client, url: str) -> str:
    return texts(client.get(url).get_data(as_text=True), "#contact-count")[0]


def test_search_count_counts_the_company_s_live_matches_in_the_base_and_tag_asked_for(owner_client, app, make_company):
    c = owner_client
    cid = c.crm["company_id"]
    main = make_base(app, cid, "Klienci")
    side = make_base(app, cid, "Hurt")
    in_main = [make_contact(app, cid, main, kind="company", name=f"Piekarnia Marchewka {i}") for i in range(3)]
    make_contact(app, cid, side, kind="company", name="Marchewkowe Pole")
    make_contact(app, cid, main, kind="company", name="Zupełnie Inna")
    trashed = make_contact(app, cid, main, kind="company", name="Marchewka w koszu")
    tag = make_tag(app, cid, "Stali")
    with app.app_context(), tenant_scope(cid):
        tags_svc.tag_contacts(cid, in_main[:2], tag)
        svc.delete_contacts(cid, [trashed], c.crm["owner_id"])
        db.session.remove()
    other = make_company("Obca")
    other_base = make_base(app, other["company_id"], "Obcy")
    for i in range(5):
        make_contact(app, other["company_id"], other_base, kind="company", name=f"Obca Marchewka {i}")

    assert _count_label(c, "/contacts/?q=archew") == "4 kontakty"
    assert _count_label(c, f"/bases/{main}?q=archew") == "3 kontakty"
    assert _count_label(c, f"/bases/{side}?q=archew") == "1 kontakt"
    assert _count_label(c, f"/contacts/?q=archew&tag={tag}") == "2 kontakty"
    assert _count_label(c, f"/bases/{side}?q=archew&tag={tag}") == "0 kontaktów"
    assert _count_label(c, "/contacts/?q=pietruszka") == "0 kontaktów"


def test_search_pages_forwards_backwards_and_descending_with_the_count_on_every_page(app, make_company):
    info = make_company()
    cid = info["company_id"]
    base = make_base(app, cid, "Klienci")
    names = [f"Ogrodnik {i:02d}" for i in range(12)]
    for name in reversed(names):
        make_contact(app, cid, base, kind="company", name=name)
    make_contact(app, cid, base, kind="company", name="Piekarz 01")
    with app.app_context(), tenant_scope(cid):
        query = search_svc.parse_query("grodnik")

        def page(**kw):
            got = search_svc.list_contacts(cid, q=query, limit=5, **kw)
            return [c.name for c in got.items], got.total, got.total_capped, got

        first, total, capped, p1 = page()
        assert (first, total, capped) == (names[:5], 12, False)
        second, total, _c, p2 = page(after=p1.next_cursor)
        assert (second, total) == (names[5:10], 12)
        third, total, _c, p3 = page(after=p2.next_cursor)
        assert (third, total, p3.has_next) == (names[10:], 12, False)
        back, total, _c, _p = page(before=p3.prev_cursor)
        assert (back, total) == (names[5:10], 12)
        down, total, _c, p4 = page(sort="-name")
        assert (down, total) == (names[::-1][:5], 12)
        assert page(sort="-name", after=p4.next_cursor)[0] == names[::-1][5:10]
        past_end = search_svc.encode_cursor(p3.items[-1])
        assert page(after=past_end)[:3] == ([], 12, False)
        db.session.remove()
