"""The "N contacts" of a substring search: only the company's live contacts, with the base and tag filters."""

from app.extensions import db
from app.security.tenancy import tenant_scope
from app.services.contacts import contacts as svc
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
