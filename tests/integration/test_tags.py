"""Tags: the last settings tab, list/add/edit by clicking the name, tagging one by one and in bulk, filters."""

from tests.helpers import find, form_fields, link, texts
from tests.integration.contacts_data import (
    assert_polish_page,
    make_base,
    make_contact,
    make_tag,
)


def _names(html):
    return texts(html, "a.contact-link")


def test_tags_is_the_last_settings_tab(owner_client):
    html = owner_client.get("/settings/tags/").get_data(as_text=True)
    tabs = texts(html, "#settings-tabs li a")
    assert tabs[-1] == "Tagi" and tabs[0] == "Dane firmy"
    assert texts(html, "#settings-tabs li.active a") == ["Tagi"]
    assert "Dodaj nowy tag" in html
    assert_polish_page(html, "/settings/tags/")


def test_add_edit_by_clicking_the_name_and_delete_a_tag(owner_client, app):
    c = owner_client
    r = c.post("/settings/tags/add", data={"name": "VIP", "color": "#FF8800"})
    assert r.status_code == 302
    html = c.get("/settings/tags/").get_data(as_text=True)
    assert "VIP" in html and "#ff8800" in html
    edit_url = link(html, "a.tag-link")
    form = c.get(edit_url).get_data(as_text=True)
    assert form_fields(form, "#tag-form")["name"] == "VIP"
    assert_polish_page(form, edit_url)
    assert c.post(edit_url, data={"name": "Kluczowy", "color": "#00aa00"}).status_code == 302
    html = c.get("/settings/tags/").get_data(as_text=True)
    assert "Kluczowy" in html and "VIP" not in html
    tag_id = int(edit_url.split("/")[-2])
    assert c.post(f"/settings/tags/{tag_id}/delete").status_code == 302
    assert find(c.get("/settings/tags/").get_data(as_text=True), "a.tag-link") == []
    assert c.get(edit_url).status_code == 404


def test_tag_refusals(owner_client, app):
    c = owner_client
    make_tag(app, c.crm["company_id"], "VIP")
    assert "Tag o tej nazwie już istnieje." in c.post("/settings/tags/add", data={"name": "VIP", "color": "#000000"}).get_data(as_text=True)
    assert "Wybierz kolor w formacie #ff8800." in c.post("/settings/tags/add", data={"name": "X", "color": "red"}).get_data(as_text=True)
    assert c.post("/settings/tags/add", data={"name": "", "color": "#000000"}).status_code == 200
    assert c.get("/settings/tags/").get_data(as_text=True).count('class="tag-link"') == 1


def test_tag_one_contact_and_filter_lists_by_tag(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    vip = make_tag(app, cid, "VIP")
    hurt = make_tag(app, cid, "Hurt", "#0000ff")
    a = make_contact(app, cid, b, kind="company", name="Alfa")
    make_contact(app, cid, b, kind="company", name="Beta")
    assert c.post(f"/contacts/{a}/tags", data={"tag_ids": [str(vip), str(hurt)]}).status_code == 302
    card = c.get(f"/contacts/{a}").get_data(as_text=True)
    assert "VIP" in card and "Hurt" in card
    assert _names(c.get(f"/bases/{b}?tag={vip}").get_data(as_text=True)) == ["Alfa"]
    assert _names(c.get(f"/contacts/?tag={vip}&q=al").get_data(as_text=True)) == ["Alfa"]
    assert _names(c.get(f"/bases/{b}").get_data(as_text=True)) == ["Alfa", "Beta"]
    c.post(f"/contacts/{a}/tags", data={"tag_ids": [str(hurt)]})
    assert _names(c.get(f"/bases/{b}?tag={vip}").get_data(as_text=True)) == []
    assert c.post(f"/contacts/{a}/tags", data={"tag_ids": ["999999"]}).status_code == 302  # refused, flashed
    assert "Hurt" in c.get(f"/contacts/{a}").get_data(as_text=True)


def test_bulk_tag_and_untag_selected_contacts(owner_client, app, csrf_on):
    from tests.helpers import csrf_token

    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    vip = make_tag(app, cid, "VIP")
    ids = [make_contact(app, cid, b, kind="company", name=n) for n in ("Alfa", "Beta", "Gamma")]
    page = c.get(f"/bases/{b}").get_data(as_text=True)
    assert page.count('name="ids"') == 3 and 'id="bulk-tag-add"' in page
    token = csrf_token(page)
    data = {"action": "tag", "tag_id": str(vip), "ids": [str(ids[0]), str(ids[2])], "next": f"/bases/{b}"}
    c.post("/contacts/bulk", data=data)  # no CSRF token: nothing changes
    assert _names(c.get(f"/bases/{b}?tag={vip}").get_data(as_text=True)) == []
    r = c.post("/contacts/bulk", data={**data, "csrf_token": token}, follow_redirects=True)
    assert "Dodano tag do 2 kontaktów." in r.get_data(as_text=True)
    assert _names(c.get(f"/bases/{b}?tag={vip}").get_data(as_text=True)) == ["Alfa", "Gamma"]
    c.post("/contacts/bulk", data={**data, "csrf_token": token})  # again: idempotent
    c.post("/contacts/bulk", data={**data, "action": "untag", "ids": [str(ids[0])], "csrf_token": token})
    assert _names(c.get(f"/bases/{b}?tag={vip}").get_data(as_text=True)) == ["Gamma"]
    r = c.post("/contacts/bulk", data={**data, "ids": [], "csrf_token": token}, follow_redirects=True)
    assert "Zaznacz co najmniej jeden kontakt." in r.get_data(as_text=True)


def test_deleted_tag_disappears_from_contacts_and_filters(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    vip = make_tag(app, cid, "VIP")
    a = make_contact(app, cid, b, kind="company", name="Alfa")
    c.post(f"/contacts/{a}/tags", data={"tag_ids": [str(vip)]})
    c.post(f"/settings/tags/{vip}/delete", follow_redirects=True)
    assert "VIP" not in c.get(f"/contacts/{a}").get_data(as_text=True)
    listing = c.get(f"/bases/{b}?tag={vip}").get_data(as_text=True)
    assert _names(listing) == [] and "VIP" not in listing
    html = c.post("/contacts/bulk", data={"action": "tag", "tag_id": str(vip), "ids": [str(a)]}, follow_redirects=True).get_data(as_text=True)
    assert "Ten tag nie istnieje." in html
