"""Contact list in a real browser: "select all" offers every contact matching the filter and the
bulk action confirms with the count; the people-import result is green, the trash reads Polish."""

from __future__ import annotations

import os
import tempfile

from sqlalchemy import select

from app.extensions import db
from app.models import Contact, contact_tag
from app.security.tenancy import tenant_scope
from tests.browser.conftest import shot
from tests.integration.contacts_data import bulk_contacts, make_base, make_tag


def sign_in(page, info) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", info["email"])
    page.fill("input[name=password]", info["password"])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")


def tagged_count(app, cid, tag_id) -> int:
    with app.app_context(), tenant_scope(cid):
        n = len(db.session.execute(
            select(Contact.id).join(contact_tag, contact_tag.c.contact_id == Contact.id)
            .where(contact_tag.c.tag_id == tag_id)).all())
        db.session.remove()
    return n


def test_select_all_matching_confirms_with_the_count_and_tags_them_all(app, page, make_company):
    info = make_company("Zaznaczanie Sp. z o.o.")
    cid = info["company_id"]
    base_id = make_base(app, cid, "Hurtownie")
    bulk_contacts(app, cid, base_id, 120, "Alfa")
    bulk_contacts(app, cid, base_id, 30, "Beta")
    vip = make_tag(app, cid, "VIP")
    sign_in(page, info)
    page.goto(f"/bases/{base_id}")
    page.fill("#contact-search", "Alfa")
    page.wait_for_selector("#contact-count:has-text('120')")
    dialogs: list[str] = []

    def answer(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss() if len(dialogs) == 1 else dialog.accept()

    page.on("dialog", answer)
    # nothing ticked: the action is refused in the page
    page.click("#bulk-tag-add")
    assert dialogs == ["Zaznacz co najmniej jeden kontakt."]
    assert not page.is_visible("#select-matching")
    page.check("#select-all")
    assert page.is_visible("#select-matching") and not page.is_visible("#select-matching-note")
    assert "Zaznaczono wszystkie 50 kontaktów na tej stronie." in page.inner_text("#select-matching")
    page.click("#select-matching-btn")
    assert "Zaznaczono wszystkie 120 kontaktów pasujących do filtra." in page.inner_text("#select-matching")
    assert not page.is_visible("#select-matching-btn") and page.is_visible("#select-clear")
    shot(page, "contacts_select_all_matching")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "contacts_select_all_matching_phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        page.click("#bulk-tag-add")
    assert dialogs[1] == "Dodać tag „VIP” do zaznaczonych kontaktów (120)?"
    assert "Dodano tag do 120 kontaktów." in page.inner_text("body")
    assert tagged_count(app, cid, vip) == 120
    # a few ticked rows: the confirmation says how many
    page.goto(f"/bases/{base_id}?q=Beta")
    checks = page.locator("#contact-results .row-check")
    checks.nth(0).check()
    checks.nth(1).check()
    checks.nth(2).check()
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.remove_listener("dialog", answer)
    page.click("#bulk-delete")
    assert dialogs[-1] == "Przenieść zaznaczone kontakty (3) do kosza?"


def test_people_import_into_a_mailing_base_is_green_and_the_trash_reads_polish(app, page, make_company):
    info = make_company("Newsletter Sp. z o.o.")
    make_base(app, info["company_id"], "Newsletter", "mailing")
    path = os.path.join(tempfile.mkdtemp(), "ludzie.csv")
    with open(path, "wb") as fh:
        fh.write("Imię;Nazwisko;E-mail\nAnna;Żak;anna@x.pl\nJan;Łoś;jan@x.pl\n".encode())
    sign_in(page, info)
    page.goto("/contacts/import/")
    page.set_input_files("input[name=file]", path)
    page.click("#upload-submit")
    page.wait_for_selector("#preview-table")
    assert page.is_checked("input[name=default_kind][value=person]")
    page.fill("input[name=consent_source]", "Formularz na www")
    page.fill("textarea[name=consent_text]", "Zgadzam się.")
    page.click("#start-import")
    page.wait_for_selector("#import-result", timeout=30000)
    assert "alert-success" in page.get_attribute("#import-result", "class")
    assert "wszystkie wiersze zostały zaimportowane" in page.inner_text("#import-result")
    shot(page, "contact_import_people_green")
