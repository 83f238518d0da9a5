"""Duplicate finder and merge: groups by NIP / e-mail / similar name; a merge keeps tags and every
reference of both contacts (found generically in the metadata) and trashes the merged one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Contact, contact_tag
from app.security.tenancy import tenant_scope
from app.services import DomainError, trash
from app.services.contacts import duplicates as dup
from tests.helpers import csrf_token, login, make_nip
from tests.integration.contacts_data import make_base, make_contact, make_tag

NIP = make_nip(901)


@pytest.fixture()
def dups(app, make_company):
    a = make_company("Alfa")
    cid = a["company_id"]
    base = make_base(app, cid, "Klienci")
    other_base = make_base(app, cid, "Dostawcy")
    vip = make_tag(app, cid, "VIP")
    hurt = make_tag(app, cid, "Hurt")
    keep = make_contact(app, cid, base, kind="company", name="Żółw Sp. z o.o.", nip=NIP, city="Łódź")
    gone = make_contact(app, cid, other_base, kind="company", name="ZOLW spółka z ograniczoną odpowiedzialnością",
                        nip=NIP, email="biuro@zolw.pl", phone="600100200", notes="Stały klient")
    mail1 = make_contact(app, cid, base, kind="company", name="Alfa", email="kontakt@alfa.pl")
    mail2 = make_contact(app, cid, base, kind="company", name="Beta", email="KONTAKT@alfa.pl")
    person1 = make_contact(app, cid, base, kind="person", first_name="Jan", last_name="Kowalski")
    person2 = make_contact(app, cid, base, kind="person", first_name="Kowalski", last_name="Jan")
    worker = make_contact(app, cid, other_base, kind="person", first_name="Anna", last_name="Nowak", employer_id=gone)
    make_contact(app, cid, base, kind="company", name="Jedyna")
    from app.services.contacts import tags

    with app.app_context(), tenant_scope(cid):
        tags.set_contact_tags(cid, keep, [vip])
        tags.set_contact_tags(cid, gone, [vip, hurt])
        db.session.remove()
    return {"a": a, "cid": cid, "base": base, "keep": keep, "gone": gone, "mail1": mail1, "mail2": mail2, "person1": person1,
                "person2": person2, "worker": worker, "vip": vip, "hurt": hurt}


def test_name_key_ignores_case_diacritics_legal_form_and_order():
    assert dup.name_key("Żółw Sp. z o.o.") == dup.name_key("ZOLW spółka z ograniczoną odpowiedzialnością") == "zolw"
    assert dup.name_key("Jan Kowalski") == dup.name_key("kowalski  JAN")
    assert dup.name_key("Alfa") != dup.name_key("Beta")


def test_groups_by_nip_email_and_similar_name(app, dups):
    with app.app_context(), tenant_scope(dups["cid"]):
        groups = dup.find_groups(dups["cid"])
        found = {(g.reason, frozenset(c.id for c in g.contacts)) for g in groups}
        db.session.remove()
    assert ("nip", frozenset({dups["keep"], dups["gone"]})) in found
    assert ("email", frozenset({dups["mail1"], dups["mail2"]})) in found
    assert ("name", frozenset({dups["person1"], dups["person2"]})) in found
    # the name group of the two Żółw companies is the same set as the NIP group: shown once
    assert len(groups) == 3


def test_references_are_found_generically_in_the_metadata():
    refs = {(t.name, c.name) for t, c in dup.contact_references()}
    assert ("contact_tag", "contact_id") in refs
    assert ("contact", "employer_id") in refs


def test_merge_keeps_tags_of_both_repoints_employer_and_trashes_the_merged(app, dups):
    cid = dups["cid"]
    with app.app_context(), tenant_scope(cid):
        kept = dup.merge(cid, dups["keep"], [dups["gone"]], dups["a"]["owner_id"])
        assert kept.id == dups["keep"]
        db.session.expire_all()
        keep = db.session.get(Contact, dups["keep"])
        assert sorted(t.name for t in keep.tags) == ["Hurt", "VIP"]
        assert keep.name == "Żółw Sp. z o.o." and keep.city == "Łódź"  # kept values win
        assert keep.email == "biuro@zolw.pl" and keep.phone == "+48600100200"  # blanks filled
        assert keep.notes == "Stały klient"
        assert db.session.get(Contact, dups["worker"]).employer_id == dups["keep"]
        assert db.session.execute(select(Contact).where(Contact.id == dups["gone"])).scalar_one_or_none() is None
        gone = db.session.execute(
            select(Contact).where(Contact.id == dups["gone"]).execution_options(include_deleted=True)
        ).scalar_one()
        assert gone.deleted_at is not None and gone.deleted_by_id == dups["a"]["owner_id"]
        links = db.session.execute(select(contact_tag.c.contact_id, contact_tag.c.tag_id)).all()
        assert sorted(links) == sorted([(dups["keep"], dups["vip"]), (dups["keep"], dups["hurt"])])
        # the merged contact can come back from the trash
        assert trash.restore(gone.deletion_id, cid) == 1
        db.session.remove()


def test_merge_refuses_foreign_missing_and_mixed_kinds(app, dups, make_company):
    cid = dups["cid"]
    b = make_company("Beta")
    foreign_base = make_base(app, b["company_id"], "Obcy")
    foreign = make_contact(app, b["company_id"], foreign_base, kind="company", name="Obcy")
    mailing = make_base(app, cid, "Mailing", "mailing")
    with_mail = make_contact(app, cid, mailing, kind="company", name="Alfa", email="kontakt@alfa.pl",
                             consent_given_at="2026-01-15", consent_source="Formularz", consent_text="Zgoda")
    with app.app_context(), tenant_scope(cid):
        with pytest.raises(dup.ContactNotFound):
            dup.merge(cid, dups["keep"], [foreign], None)
        with pytest.raises(dup.ContactNotFound):
            dup.merge(cid, foreign, [dups["keep"]], None)
        with pytest.raises(DomainError):
            dup.merge(cid, dups["keep"], [dups["keep"]], None)
        with pytest.raises(DomainError):
            dup.merge(cid, dups["mail1"], [with_mail], None)
        assert db.session.get(Contact, dups["gone"]) is not None
        db.session.remove()


@pytest.fixture()
def dups_client(app, client, dups):
    login(client, dups["a"]["email"])
    return client


def test_duplicates_page_and_merge_form(app, dups_client, dups, csrf_on):
    client = dups_client
    page = client.get("/contacts/duplicates/")
    assert page.status_code == 200
    assert "Żółw Sp. z o.o." in page.text and 'name="keep"' in page.text
    from tests.integration.test_polish_pages import assert_polish

    assert_polish(page.text, "/contacts/duplicates/")
    form = {"keep": str(dups["mail2"]), "merge": [str(dups["mail1"]), str(dups["mail2"])], "kind": "contacts"}
    resp = client.post("/contacts/duplicates/merge", data=form)  # no CSRF token: nothing happens
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(dups["cid"]):
        assert db.session.get(Contact, dups["mail1"]) is not None
        db.session.remove()
    form["csrf_token"] = csrf_token(page.text)
    resp = client.post("/contacts/duplicates/merge", data=form)
    assert resp.status_code == 302
    with app.app_context(), tenant_scope(dups["cid"]):
        assert db.session.execute(select(Contact).where(Contact.id == dups["mail1"])).scalar_one_or_none() is None
        assert db.session.get(Contact, dups["mail2"]).name == "Beta"
        db.session.remove()


def test_other_company_cannot_merge_or_see_groups(app, client, dups, make_company):
    b = make_company("Beta")
    login(client, b["email"])
    page = client.get("/contacts/duplicates/")
    assert page.status_code == 200 and "Żółw" not in page.text
    resp = client.post("/contacts/duplicates/merge", data={"keep": dups["keep"], "merge": [dups["gone"]]})
    assert resp.status_code == 404
    assert client.get(f"/contacts/duplicates/?base_id={dups['base']}").status_code == 404
    with app.app_context(), tenant_scope(dups["cid"]):
        assert db.session.get(Contact, dups["gone"]) is not None
        db.session.remove()


def test_merge_repoints_tasks_offers_and_binders_of_the_merged_contact(app, dups):
    """A task, an offer and a binder of the merged contact belong to the kept contact afterwards."""
    from app.models import CrmUser
    from app.models.binders import Binder
    from app.models.sales import Offer
    from app.models.tasks import Task
    from app.services.sales import offers
    from app.services.work import tasks

    cid, owner_id = dups["cid"], dups["a"]["owner_id"]
    with app.test_request_context(), tenant_scope(cid):
        owner = db.session.get(CrmUser, owner_id)
        task = tasks.create_task(cid, owner, tasks.TaskData(title="Zadzwonić do Żółwia", contact_id=dups["gone"]))
        offer = offers.create_offer(cid, owner_id, offers.OfferData(
            contact_id=dups["gone"], items=[offers.ItemData(name="Wdrożenie", unit_price="1000")]))
        binder = Binder(name="Teczka Żółwia", contact_id=dups["gone"])
        db.session.add(binder)
        db.session.commit()
        ids = (task.id, offer.id, binder.id)
        dup.merge(cid, dups["keep"], [dups["gone"]], owner_id)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Task, ids[0]).contact_id == dups["keep"]
        assert db.session.get(Offer, ids[1]).contact_id == dups["keep"]
        assert db.session.get(Binder, ids[2]).contact_id == dups["keep"]
        db.session.remove()
