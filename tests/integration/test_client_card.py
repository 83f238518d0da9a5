"""The client's card: a page of every kind of related thing, "Show more", the notes timeline,
"Add" prefilled with the client, links back to the card from every page that names the client,
and isolation between companies."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D
from typing import Any

from sqlalchemy import event, select

from app.extensions import db
from app.models import Attachment, Binder, ContactNote, Invoice, Offer, Order, Task
from app.security.tenancy import all_tenants, tenant_scope
from tests.helpers import csrf_token, find, login, text, texts
from tests.integration.sales_fixtures import seed_sales

TODAY = dt.date(2026, 11, 20)


def _add_related(app: Any, company_id: int, contact_id: int, *, tasks: int = 1, offers: int = 1, orders: int = 1,
                 invoices: int = 1, binders: int = 1, files: int = 1, prefix: str = "") -> None:
    """Rows of every kind for one client, straight into the database (numbers count from 1)."""
    with app.app_context(), tenant_scope(company_id):
        for i in range(1, tasks + 1):
            db.session.add(Task(title=f"Zadanie nr {i}", contact_id=contact_id, due_date=TODAY))
        for i in range(1, offers + 1):
            db.session.add(Offer(number=f"{prefix}OF/{i}/2026", seq_year=2026, seq_number=i, issue_date=TODAY,
                                 contact_id=contact_id, total_gross=D("1230.00"), status="sent"))
        for i in range(1, orders + 1):
            db.session.add(Order(number=f"{prefix}ZL/{i}/2026", seq_year=2026, seq_number=i, issue_date=TODAY,
                                 contact_id=contact_id, total_gross=D("615.00")))
        for i in range(1, invoices + 1):
            db.session.add(Invoice(number=f"FV/{i}/11/2026", status="issued", issue_date=TODAY,
                                   buyer_contact_id=contact_id, buyer_name="Klient", total_gross=D("246.00")))
        made = [Binder(name=f"Segregator nr {i}", contact_id=contact_id) for i in range(1, binders + 1)]
        db.session.add_all(made)
        db.session.flush()
        for i in range(1, files + 1):
            db.session.add(Attachment(binder_id=made[0].id, filename=f"umowa-{i}.pdf", size=2048,
                                      mime="application/pdf", storage_key=f"card-test-{company_id}-{prefix}{i}"))
        db.session.commit()
        db.session.remove()


_PLACEHOLDER = re.compile(r'<section[^>]*data-card-fragment="([^"]+)"[^>]*>.*?</section>', re.S)


def _card(client: Any, url: str) -> str:
    """The card page as a browser ends up showing it: each section's fragment put in its place."""
    resp = client.get(url)
    assert resp.status_code == 200, url
    html = resp.get_data(as_text=True)

    def fragment(m: re.Match) -> str:
        got = client.get(m.group(1))
        assert got.status_code == 200, m.group(1)
        return got.get_data(as_text=True)

    return _PLACEHOLDER.sub(fragment, html)


def _signed_in(app: Any, info: dict) -> Any:
    c = app.test_client()
    assert login(c, info["email"]).status_code == 302
    return c


def test_card_shows_every_kind_of_related_item_with_links_and_prefilled_add(app, make_company):
    info = make_company()
    seed = seed_sales(app, info)
    cid = seed["client_id"]
    _add_related(app, info["company_id"], cid)
    c = _signed_in(app, info)
    html = _card(c, f"/contacts/{cid}")

    assert texts(html, "#card-tasks tbody a") == ["Zadanie nr 1"]
    assert texts(html, "#card-offers tbody a") == ["OF/1/2026"]
    assert texts(html, "#card-orders tbody a") == ["ZL/1/2026"]
    assert texts(html, "#card-invoices tbody a") == ["FV/1/11/2026"]
    # the binder of the seed and the one added here, newest first
    assert texts(html, "#card-binders tbody a") == ["Segregator nr 1", "Inwestycja Gdańsk"]
    assert texts(html, "#card-files tbody td:first-child a") == ["umowa-1.pdf"]
    assert "Wysłana" in text(html, "#card-offers tbody")
    assert "1230,00" in text(html, "#card-offers tbody").replace("\u00a0", "").replace(" ", "")
    # no mailing section for a client of a "Kontakty" base
    assert not find(html, "#card-campaigns")
    # "Dodaj" of every section opens the form with this client
    adds = {a.get("id"): a.get("href") for a in find(html, ".card-section-head a.btn-add")}
    assert adds == {
        "add-tasks": f"/tasks/add?contact_id={cid}", "add-offers": f"/offers/add?contact_id={cid}",
        "add-orders": f"/orders/add?contact_id={cid}", "add-invoices": f"/invoices/add?contact_id={cid}",
        "add-binders": f"/binders/add?contact_id={cid}",
    }
    name = "Źródło Wód Gęślą Jaźń Sp. z o.o."
    for url, field in ((f"/orders/add?contact_id={cid}", "contact_label"), (f"/offers/add?contact_id={cid}", "contact_label"),
                       (f"/invoices/add?contact_id={cid}", "contact_label")):
        form = c.get(url).get_data(as_text=True)
        assert find(form, f"input[name={field}]")[0].get("value") == name, url
    task_form = c.get(f"/tasks/add?contact_id={cid}").get_data(as_text=True)
    assert find(task_form, "input[name=contact_id]")[0].get("value") == str(cid)
    assert find(task_form, "#contact_id_search")[0].get("value") == name
    binder_form = c.get(f"/binders/add?contact_id={cid}").get_data(as_text=True)
    assert find(binder_form, "input[name=contact_id]")[0].get("value") == str(cid)
    assert find(binder_form, "#contact_id_search")[0].get("value") == name


def test_empty_sections_say_so_in_polish(owner_client, app):
    seed = seed_sales(app, owner_client.crm)
    html = _card(owner_client, f"/contacts/{seed['client_id']}")
    assert text(html, "#empty-tasks") == "Ten klient nie ma jeszcze zadań."
    assert text(html, "#empty-invoices") == "Ten klient nie ma jeszcze faktur."
    assert text(html, "#empty-notes") == "Brak notatek."
    assert "None" not in text(html, "#card-sections")


def test_thirty_tasks_show_ten_and_show_more_pages_through_all(app, make_company):
    info = make_company()
    seed = seed_sales(app, info)
    cid = seed["client_id"]
    _add_related(app, info["company_id"], cid, tasks=30, offers=0, orders=0, invoices=0, binders=0, files=0)
    c = _signed_in(app, info)
    html = _card(c, f"/contacts/{cid}")
    assert texts(html, "#card-tasks tbody a") == [f"Zadanie nr {i}" for i in range(30, 20, -1)]
    more = find(html, "#more-tasks")[0]
    assert more.text.strip() == "Pokaż więcej"
    assert more.get("href") == f"/contacts/{cid}/card/tasks?page=2"

    seen = texts(html, "#card-tasks tbody a")
    url = more.get("href")
    while url:
        resp = c.get(url + "&partial=1")
        assert resp.status_code == 200
        seen += [m for m in re.findall(r">(Zadanie nr \d+)<", resp.get_data(as_text=True))]
        url = resp.headers["X-Card-Next"]
    assert seen == [f"Zadanie nr {i}" for i in range(30, 0, -1)]

    # without JavaScript the link opens a page of that section with its own "Show more"
    page2 = c.get(f"/contacts/{cid}/card/tasks?page=2").get_data(as_text=True)
    assert texts(page2, "#card-tasks tbody a") == [f"Zadanie nr {i}" for i in range(20, 10, -1)]
    assert find(page2, "#more-tasks")[0].get("href") == f"/contacts/{cid}/card/tasks?page=3"
    page3 = c.get(f"/contacts/{cid}/card/tasks?page=3").get_data(as_text=True)
    assert len(find(page3, "#card-tasks tbody tr")) == 10 and not find(page3, "#more-tasks")
    # an unknown section or nonsense page number never breaks
    assert c.get(f"/contacts/{cid}/card/passwords").status_code == 404
    assert c.get(f"/contacts/{cid}/card/tasks?page=abc").status_code == 200


def test_card_sql_statements_do_not_grow_with_related_rows(app, make_company):
    info = make_company()
    seed = seed_sales(app, info)
    small, big = seed["client_id"], None
    with app.app_context(), tenant_scope(info["company_id"]):
        from app.models import Contact
        other = db.session.get(Contact, small)
        big_contact = Contact(base_id=other.base_id, kind="company", name="Duży klient", name_sort="duzy klient")
        db.session.add(big_contact)
        db.session.commit()
        big = big_contact.id
        db.session.remove()
    _add_related(app, info["company_id"], small)
    _add_related(app, info["company_id"], big, tasks=60, offers=40, orders=40, invoices=40, binders=30, files=40,
                 prefix="B")
    c = _signed_in(app, info)

    def statements(url: str) -> int:
        count = {"n": 0}

        def on_execute(*_a: Any) -> None:
            count["n"] += 1

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            _card(c, url)  # the page and every fragment it loads
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
        return count["n"]

    c.get(f"/contacts/{small}")  # warm-up (first request of the session)
    n_big, n_small = statements(f"/contacts/{big}"), statements(f"/contacts/{small}")
    assert n_big == n_small


def test_mailing_contact_has_campaign_history_section_and_notes_only(owner_client, app):
    seed = seed_sales(app, owner_client.crm)
    html = _card(owner_client, f"/contacts/{seed['mailing_contact_id']}")
    assert text(html, "#empty-campaigns") == "Brak wysyłek"
    assert [s.get("id") for s in find(html, ".card-section")] == ["card-campaigns", "card-notes"]
    assert owner_client.get(f"/contacts/{seed['mailing_contact_id']}/card/tasks").status_code == 404


def test_note_timeline_add_shows_who_and_when_newest_first(owner_client, app, csrf_on):
    seed = seed_sales(app, owner_client.crm)
    cid = seed["client_id"]
    url = f"/contacts/{cid}"
    html = _card(owner_client, url)
    token = csrf_token(html, "#note-form")
    before = dt.datetime.now(dt.timezone.utc)
    resp = owner_client.post(f"{url}/notes", data={"csrf_token": token, "text": "Telefon: prosi o ofertę na maj."})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{url}#card-notes")
    resp = owner_client.post(f"{url}/notes", data={"csrf_token": token, "text": "Spotkanie w Gdańsku."},
                             follow_redirects=True)
    assert "Notatka została dodana." in resp.get_data(as_text=True)
    html = _card(owner_client, url)
    assert texts(html, "#card-notes .note-text") == ["Spotkanie w Gdańsku.", "Telefon: prosi o ofertę na maj."]
    assert texts(html, "#card-notes .note-author") == ["Jan Testowya", "Jan Testowya"]
    when = dt.datetime.strptime(texts(html, "#card-notes .note-when")[0], "%d.%m.%Y %H:%M")
    from zoneinfo import ZoneInfo
    local_before = before.astimezone(ZoneInfo("Europe/Warsaw")).replace(tzinfo=None, second=0, microsecond=0)
    assert local_before <= when <= local_before + dt.timedelta(minutes=2)

    # an empty note is refused with a clear message and adds nothing
    resp = owner_client.post(f"{url}/notes", data={"csrf_token": token, "text": "   "}, follow_redirects=True)
    assert "Najpierw wpisz treść notatki." in resp.get_data(as_text=True)
    # without the CSRF token nothing is added
    resp = owner_client.post(f"{url}/notes", data={"text": "bez tokenu"}, follow_redirects=True)
    assert "Formularz wygasł" in resp.get_data(as_text=True)
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(ContactNote.text).order_by(ContactNote.id)).all() == [
            "Telefon: prosi o ofertę na maj.", "Spotkanie w Gdańsku."]


def test_note_goes_to_the_trash(owner_client, app):
    seed = seed_sales(app, owner_client.crm)
    url = f"/contacts/{seed['client_id']}"
    owner_client.post(f"{url}/notes", data={"text": "Do usunięcia"})
    with app.app_context(), all_tenants():
        note_id = db.session.scalar(select(ContactNote.id))
    assert owner_client.post(f"{url}/notes/{note_id}/delete").status_code == 302
    assert not find(_card(owner_client, url), "#card-notes .note-text")
    with app.app_context(), all_tenants():
        deleted = db.session.scalar(select(ContactNote).where(ContactNote.id == note_id)
                                    .execution_options(include_deleted=True))
        assert deleted.deleted_at is not None and deleted.deletion_id


def test_another_company_gets_404_on_the_card_and_cannot_add_or_delete_notes(app, make_company):
    a, b = make_company(), make_company()
    seed = seed_sales(app, a)
    cid = seed["client_id"]
    _add_related(app, a["company_id"], cid, tasks=12)
    owner_a = _signed_in(app, a)
    owner_a.post(f"/contacts/{cid}/notes", data={"text": "Poufne ustalenia"})
    with app.app_context(), all_tenants():
        note_id = db.session.scalar(select(ContactNote.id))
    intruder = _signed_in(app, b)
    assert intruder.get(f"/contacts/{cid}").status_code == 404
    assert intruder.get(f"/contacts/{cid}/card/tasks?page=2&partial=1").status_code == 404
    assert intruder.get(f"/contacts/{cid}/card/notes").status_code == 404
    assert intruder.get(f"/contacts/{cid}/card/tasks/fragment").status_code == 404
    assert intruder.get(f"/contacts/{cid}/card/notes/fragment").status_code == 404
    assert intruder.post(f"/contacts/{cid}/notes", data={"text": "Włamanie"}).status_code == 404
    assert intruder.post(f"/contacts/{cid}/notes/{note_id}/delete").status_code == 404
    # a note id of company A under a contact of company B: not found either
    seed_b = seed_sales(app, b, suffix=" B")
    assert intruder.post(f"/contacts/{seed_b['client_id']}/notes/{note_id}/delete").status_code == 404
    with app.app_context(), all_tenants():
        notes = db.session.scalars(select(ContactNote)).all()
        assert [(n.text, n.deleted_at) for n in notes] == [("Poufne ustalenia", None)]
    # company B's own card of its client shows nothing of company A
    html = _card(intruder, f"/contacts/{seed_b['client_id']}")
    assert not find(html, "#card-tasks tbody tr") and not find(html, "#card-notes .note-text")


def test_client_names_link_to_the_card_everywhere(app, make_company):
    info = make_company()
    seed = seed_sales(app, info)
    cid = seed["client_id"]
    _add_related(app, info["company_id"], cid)
    with app.app_context(), tenant_scope(info["company_id"]):
        task_id = db.session.scalar(select(Task.id))
        offer_id = db.session.scalar(select(Offer.id))
        order_id = db.session.scalar(select(Order.id))
        invoice_id = db.session.scalar(select(Invoice.id))
    c = _signed_in(app, info)
    card = f"/contacts/{cid}"
    pages = {
        "/tasks/all": "td a.client-link", f"/tasks/{task_id}": "#task-client a",
        "/offers/": "td a.client-link", f"/offers/{offer_id}": "#offer-client a",
        "/orders/": "td a.client-link", f"/orders/{order_id}": "#order-client a",
        "/invoices/": "td a.client-link", f"/invoices/{invoice_id}": "#invoice-buyer a",
        "/binders/": "td a.client-link", f"/binders/{seed['binder_id']}": "#binder-client a",
    }
    for url, css in pages.items():
        resp = c.get(url)
        assert resp.status_code == 200, url
        hrefs = [a.get("href") for a in find(resp.get_data(as_text=True), css)]
        assert hrefs and set(hrefs) == {card}, (url, hrefs)


def test_employee_sees_add_only_where_allowed(app, make_company, add_employee):
    info = make_company()
    seed = seed_sales(app, info)
    emp = add_employee(info["owner_id"], "pracownik@firma.pl")
    c = _signed_in(app, emp)
    html = _card(c, f"/contacts/{seed['client_id']}")
    adds = [a.get("id") for a in find(html, ".card-section-head a.btn-add")]
    assert adds == ["add-tasks", "add-offers", "add-orders", "add-binders"]
    assert find(html, "#card-invoices")  # the invoices themselves are shown
    assert c.get(f"/invoices/add?contact_id={seed['client_id']}").status_code == 403
