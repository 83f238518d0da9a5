"""Contacts: add a company or a person, validation in Polish, mailing consent, search, paging, picker."""

from sqlalchemy import event, select

from app.extensions import db
from app.models.contacts import Contact
from app.security.tenancy import tenant_scope
from app.services.contacts import contacts as svc
from app.services.contacts import search as search_svc
from tests.helpers import find, link, make_nip, make_regon9, texts
from tests.integration.contacts_data import (
    CONSENT,
    assert_polish_page,
    bulk_contacts,
    make_base,
    make_contact,
)


def _names(html):
    return texts(html, "a.contact-link")


def test_add_contact_asks_company_or_person_then_saves_a_company(owner_client, app):
    c = owner_client
    b = make_base(app, c.crm["company_id"])
    chooser = c.get(f"/contacts/add/{b}").get_data(as_text=True)
    assert "Firma" in chooser and "Osoba" in chooser
    assert_polish_page(chooser, "chooser")
    form = c.get(f"/contacts/add/{b}?kind=company").get_data(as_text=True)
    for label in ("Nazwa firmy", "NIP", "REGON", "KRS", "Kod pocztowy", "Strona internetowa", "Opiekun klienta"):
        assert label in form
    assert 'name="pesel"' not in form and 'name="consent_text"' not in form
    assert_polish_page(form, "company form")
    nip, regon = make_nip(11), make_regon9(12)
    r = c.post(f"/contacts/add/{b}?kind=company", data={
        "name": "Hurtownia Żółw", "nip": nip, "regon": regon, "krs": "0000123456", "street": "ul. Długa 5",
        "postal_code": "90-001", "city": "Łódź", "email": "Biuro@Zolw.pl", "phone": "42 630 12 34",
        "website": "zolw.pl", "notes": "Stały klient", "owner_id": str(c.crm["owner_id"])})
    assert r.status_code == 302
    card = c.get(r.headers["Location"]).get_data(as_text=True)
    for text in ("Hurtownia Żółw", nip, regon, "90-001", "Łódź", "biuro@zolw.pl", "+48 42 630 12 34", "https://zolw.pl", "Stały klient"):
        assert text in card
    assert_polish_page(card, "card")


def test_person_works_for_a_company_of_the_same_base(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    other = make_base(app, cid, "Inna")
    firm = make_contact(app, cid, b, kind="company", name="Stolarnia Dąb")
    foreign_firm = make_contact(app, cid, other, kind="company", name="Obca Firma")
    offered = [i["label"] for i in c.get(f"/contacts/api/employers/{b}?q=").get_json()]
    assert "Stolarnia Dąb" in offered and "Obca Firma" not in offered
    html = c.post(f"/contacts/add/{b}?kind=person", data={
        "first_name": "Jan", "last_name": "Kowalski", "employer_id": str(foreign_firm)}).get_data(as_text=True)
    assert "Wybierz firmę z tej samej bazy klientów." in html
    r = c.post(f"/contacts/add/{b}?kind=person", data={
        "first_name": "Jan", "last_name": "Kowalski", "position": "Prezes", "employer_id": str(firm),
        "pesel": "44051401359", "email": "jan@dab.pl"})
    assert r.status_code == 302
    card = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Stolarnia Dąb" in card and "Prezes" in card
    assert "Jan Kowalski" in c.get(f"/contacts/{firm}").get_data(as_text=True)  # people of the company


def test_refusals_are_polish_and_change_nothing(owner_client, app):
    c = owner_client
    b = make_base(app, c.crm["company_id"])
    cases = [
        ({"name": "X", "nip": "1234567891"}, "NIP"),
        ({"name": "X", "regon": "123456789"}, "REGON"),
        ({"name": "X", "postal_code": "90001x"}, "00-000"),
        ({"name": "X", "email": "zly@"}, "e-mail"),
        ({"name": "X", "phone": "123"}, "telefon"),
        ({"name": ""}, "Nazwa firmy"),
        ({"name": "X", "owner_id": "999999"}, "aktywnego pracownika"),
        ({"name": "X", "owner_id": "abc"}, "z listy"),
    ]
    for data, message in cases:
        resp = c.post(f"/contacts/add/{b}?kind=company", data=data)
        assert resp.status_code == 200, data
        html = resp.get_data(as_text=True)
        assert message.lower() in html.lower(), (data, message)
    assert c.post(f"/contacts/add/{b}?kind=person", data={"first_name": "A", "last_name": "B", "pesel": "12345678901"}).status_code == 200
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        assert db.session.execute(select(Contact)).first() is None


def test_only_active_employees_can_be_account_managers(owner_client, app, add_employee):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    emp = add_employee(c.crm["owner_id"], "ewa@firma.pl", first_name="Ewa", last_name="Aktywna")
    gone = add_employee(c.crm["owner_id"], "olek@firma.pl", first_name="Olek", last_name="Odszedł")
    from app.models.users import CrmUser

    with app.app_context():
        db.session.get(CrmUser, gone["id"]).active = False
        db.session.commit()
        db.session.remove()
    form = c.get(f"/contacts/add/{b}?kind=company").get_data(as_text=True)
    assert "Ewa Aktywna" in form and "Odszedł" not in form
    html = c.post(f"/contacts/add/{b}?kind=company", data={"name": "F", "owner_id": str(gone["id"])}).get_data(as_text=True)
    assert "Wybierz aktywnego pracownika swojej firmy." in html
    r = c.post(f"/contacts/add/{b}?kind=company", data={"name": "F", "owner_id": str(emp["id"])})
    assert r.status_code == 302
    assert "Ewa Aktywna" in c.get(r.headers["Location"]).get_data(as_text=True)


def test_mailing_base_contact_needs_email_and_consent(owner_client, app):
    c = owner_client
    m = make_base(app, c.crm["company_id"], "Newsletter", "mailing")
    form = c.get(f"/contacts/add/{m}?kind=person").get_data(as_text=True)
    assert "Zgoda marketingowa" in form and 'name="consent_text"' in form
    html = c.post(f"/contacts/add/{m}?kind=person", data={"first_name": "A", "last_name": "B"}).get_data(as_text=True)
    assert "Adres e-mail jest wymagany." in html
    html = c.post(f"/contacts/add/{m}?kind=person", data={"first_name": "A", "last_name": "B", "email": "a@b.pl"}).get_data(as_text=True)
    assert "wymaga daty zgody marketingowej" in html
    html = c.post(f"/contacts/add/{m}?kind=person", data={"first_name": "A", "last_name": "B", "email": "a@b.pl",
                                                           "consent_given_at": "wczoraj"}).get_data(as_text=True)
    assert "Podaj datę wyrażenia zgody." in html
    r = c.post(f"/contacts/add/{m}?kind=person", data={"first_name": "A", "last_name": "B", "email": "a@b.pl", **CONSENT})
    assert r.status_code == 302
    card = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "15.01.2026" in card and CONSENT["consent_source"] in card and CONSENT["consent_text"] in card


def test_mailing_contacts_never_reach_pickers(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    m = make_base(app, cid, "Newsletter", "mailing")
    ok = make_contact(app, cid, b, kind="company", name="Kowal Firma")
    bad = make_contact(app, cid, m, kind="person", first_name="Kowal", last_name="Mailowy", email="k@m.pl", **CONSENT)
    items = c.get("/contacts/api/pick?q=kowal").get_json()
    assert [i["id"] for i in items] == [ok]
    assert items[0]["base"] == "Klienci"
    assert [i["id"] for i in c.get("/contacts/api/pick?q=").get_json()] == [ok]
    with app.app_context(), tenant_scope(cid):
        assert svc.pickable_contact(cid, ok).id == ok
        try:
            svc.pickable_contact(cid, bad)
            raise AssertionError("a mailing contact was pickable")
        except svc.DomainError:
            pass
        db.session.remove()


def test_edit_contact_keeps_kind_and_validates(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    firm = make_contact(app, cid, b, kind="company", name="Stara Nazwa")
    form = c.get(f"/contacts/{firm}/edit").get_data(as_text=True)
    assert 'value="Stara Nazwa"' in form
    assert c.post(f"/contacts/{firm}/edit", data={"name": "Nowa", "nip": "111"}).status_code == 200
    r = c.post(f"/contacts/{firm}/edit", data={"name": "Nowa Nazwa", "city": "Gdańsk"})
    assert r.status_code == 302
    assert "Nowa Nazwa" in c.get(f"/contacts/{firm}").get_data(as_text=True)
    assert _names(c.get(f"/bases/{b}?q=gdansk").get_data(as_text=True)) == ["Nowa Nazwa"]


def test_search_by_name_email_nip_phone_and_city_in_base_and_across(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b1 = make_base(app, cid, "Pierwsza")
    b2 = make_base(app, cid, "Druga")
    nip = make_nip(77)
    make_contact(app, cid, b1, kind="company", name="Żółta Łódka", nip=nip, city="Kraków")
    make_contact(app, cid, b1, kind="person", first_name="Anna", last_name="Nowak", email="anna@nowak.pl", phone="601 222 333")
    make_contact(app, cid, b2, kind="company", name="Zielony Dom", city="Zakopane", email="biuro@zielony.pl")
    def in_b1(q):
        return _names(c.get(f"/bases/{b1}?q={q}").get_data(as_text=True))
    def everywhere(q):
        return _names(c.get(f"/contacts/?q={q}").get_data(as_text=True))
    assert in_b1("zolta") == ["Żółta Łódka"]          # diacritics-insensitive
    assert in_b1("ŻÓŁ") == ["Żółta Łódka"]
    assert in_b1("nowak") == ["Anna Nowak"]            # persons by last name
    assert in_b1("anna@") == ["Anna Nowak"]
    assert in_b1(nip[:5]) == ["Żółta Łódka"]
    assert in_b1("601222") == ["Anna Nowak"]
    assert in_b1("+48 601") == ["Anna Nowak"]
    assert in_b1("krak") == ["Żółta Łódka"]
    assert in_b1("zielony") == []                      # other base
    assert everywhere("zielony") == ["Zielony Dom"]
    assert everywhere("z") == ["Zielony Dom", "Żółta Łódka"]
    assert everywhere("brak-takiego") == []
    html = c.get("/contacts/?q=brak-takiego").get_data(as_text=True)
    assert "Żaden kontakt nie pasuje do wyszukiwania." in html
    assert_polish_page(html, "/contacts/")


def test_as_you_type_partial_returns_only_the_results(owner_client, app):
    c = owner_client
    b = make_base(app, c.crm["company_id"])
    make_contact(app, c.crm["company_id"], b, kind="company", name="Alfa")
    html = c.get(f"/bases/{b}?q=alf&partial=1").get_data(as_text=True)
    assert "<html" not in html and _names(html) == ["Alfa"] and "1 kontakt" in html


def test_keyset_paging_next_previous_and_sorting(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    bulk_contacts(app, cid, b, 120)
    first = c.get(f"/bases/{b}").get_data(as_text=True)
    names = _names(first)
    assert names[0] == "Firma 0000" and names[-1] == "Firma 0049" and len(names) == 50
    assert "120 kontaktów" in first and find(first, "#prev-page") == []
    nxt = link(first, "#next-page")
    second = c.get(f"/bases/{b}{nxt}").get_data(as_text=True)
    assert _names(second)[0] == "Firma 0050"
    nxt = link(second, "#next-page")
    third = c.get(f"/bases/{b}{nxt}").get_data(as_text=True)
    assert _names(third)[0] == "Firma 0100" and len(_names(third)) == 20 and find(third, "#next-page") == []
    prev = link(third, "#prev-page")
    back = c.get(f"/bases/{b}{prev}").get_data(as_text=True)
    assert _names(back) == _names(second)
    desc = _names(c.get(f"/bases/{b}?sort=-name").get_data(as_text=True))
    assert desc[0] == "Firma 0119"
    assert c.get(f"/bases/{b}?after=%%%broken&sort=nonsense").status_code == 200


def test_count_is_capped(app, make_company):
    info = make_company()
    cid = info["company_id"]
    b = make_base(app, cid)
    bulk_contacts(app, cid, b, 30)
    with app.app_context(), tenant_scope(cid):
        assert search_svc.count_contacts(cid, b, cap=100) == (30, False)
        assert search_svc.count_contacts(cid, b, cap=10) == (10, True)
        page = search_svc.list_contacts(cid, base_id=b, limit=10)
        assert len(page.items) == 10 and page.has_next and not page.has_prev
        db.session.remove()


def test_delete_contact_goes_to_trash(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    x = make_contact(app, cid, b, kind="company", name="Kasowana")
    assert c.get(f"/contacts/{x}/delete").status_code == 405
    assert c.post(f"/contacts/{x}/delete").status_code == 302
    assert c.get(f"/contacts/{x}").status_code == 404
    assert _names(c.get(f"/bases/{b}").get_data(as_text=True)) == []
    assert c.get("/contacts/api/pick?q=kas").get_json() == []
    with app.app_context(), tenant_scope(cid):
        row = db.session.execute(select(Contact).execution_options(include_deleted=True)).scalar_one()
        assert row.deleted_at is not None and row.deletion_id
        db.session.remove()


def test_bulk_delete_selected(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    ids = [make_contact(app, cid, b, kind="company", name=n) for n in ("A1", "A2", "A3")]
    r = c.post("/contacts/bulk", data={"action": "delete", "ids": [str(ids[0]), str(ids[1])], "next": f"/bases/{b}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/bases/{b}")
    assert _names(c.get(f"/bases/{b}").get_data(as_text=True)) == ["A3"]
    r = c.post("/contacts/bulk", data={"action": "delete", "ids": [], "next": "https://evil.example/"})
    assert "evil" not in r.headers["Location"]


def test_search_finds_substrings_from_three_characters_on_every_database(owner_client, app, make_company):
    """Substring search (SQLite: FTS5 trigram table, PostgreSQL: pg_trgm) for 3+ characters, same results."""
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid, "Klienci")
    nip = make_nip(78)
    zolw = make_contact(app, cid, b, kind="company", name="Przedsiębiorstwo Żółw", nip=nip, city="Gdańsk",
                        email="biuro@zolw-handel.pl", phone="601 222 333")
    make_contact(app, cid, b, kind="person", first_name="Anna", last_name="Kowalska", city="Sopot")
    other = make_company("Obca")
    ob = make_base(app, other["company_id"], "Obcy")
    make_contact(app, other["company_id"], ob, kind="company", name="Obcy Żółw", city="Gdańsk")

    def everywhere(q):
        return _names(c.get(f"/contacts/?q={q}").get_data(as_text=True))
    assert everywhere("SIĘBIO") == ["Przedsiębiorstwo Żółw"]  # inside a word, diacritics ignored
    assert everywhere("zolw") == ["Przedsiębiorstwo Żółw"]    # not the other company's "Obcy Żółw"
    assert everywhere("ańsk") == ["Przedsiębiorstwo Żółw"]    # city
    assert everywhere("valsk") == []                           # typo: nothing
    assert everywhere("walsk") == ["Anna Kowalska"]
    assert everywhere("handel.pl") == ["Przedsiębiorstwo Żółw"]  # e-mail
    assert everywhere(nip[3:8]) == ["Przedsiębiorstwo Żółw"]  # NIP digits from the middle
    assert everywhere("222 333") == ["Przedsiębiorstwo Żółw"]  # phone digits from the middle
    assert everywhere("ow") == []                              # 1-2 characters: "starts with"
    assert everywhere("ko") == ["Anna Kowalska"]
    # the index follows edits and the trash
    with app.app_context(), tenant_scope(cid):
        svc.update_contact(cid, zolw, svc.ContactData(name="Zielony Dom", nip=nip, city="Gdańsk"))
        db.session.remove()
    assert everywhere("siębio") == [] and everywhere("elony") == ["Zielony Dom"]
    with app.app_context(), tenant_scope(cid):
        svc.delete_contacts(cid, [zolw], c.crm["owner_id"])
        db.session.remove()
    assert everywhere("elony") == []


def test_saving_a_contact_reads_it_from_the_database_once(owner_client, app):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    firm = make_contact(app, cid, b, kind="company", name="Alfa")
    loads: list[str] = []

    def count(_conn, _cur, statement, _params, _ctx, _many):
        if "FROM contact" in statement and "WHERE contact.id = " in statement:
            loads.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = c.post(f"/contacts/{firm}/edit", data={"name": "Beta"})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert resp.status_code == 302
    assert len(loads) == 1, loads
    with app.app_context(), tenant_scope(cid):
        assert db.session.get(Contact, firm).name == "Beta"
        db.session.remove()


def test_the_list_parses_the_search_text_once_per_request(owner_client, app, monkeypatch):
    c = owner_client
    cid = c.crm["company_id"]
    b = make_base(app, cid)
    make_contact(app, cid, b, kind="company", name="Zielony Dom", city="Gdańsk")
    calls: list[str | None] = []
    parse = search_svc.parse_query

    def counting(q):
        calls.append(q)
        return parse(q)

    monkeypatch.setattr(search_svc, "parse_query", counting)
    for url in (f"/bases/{b}?q=ziel", "/contacts/?q=gd", "/contacts/?q=58"):
        calls.clear()
        assert c.get(url).status_code == 200
        assert len(calls) == 1, (url, calls)
    assert "Zielony Dom" in c.get("/contacts/?q=ziel").get_data(as_text=True)
