"""Contact rules: normalisation, sort keys, cursors, validation and the mailing-base picker rule."""

import datetime as dt

import pytest

from app.extensions import db
from app.security.tenancy import current_company_id, tenant_scope
from app.services import DomainError
from app.services.contacts import bases as bases_svc
from app.services.contacts import contacts as svc
from app.services.contacts import search as search_svc
from tests.helpers import make_nip, make_regon9

PESEL_OK = "44051401359"


def test_normalize_strips_polish_diacritics_case_and_punctuation():
    assert search_svc.normalize("  Łódzka  Spółdzielnia „Żółw” ") == "lodzka spoldzielnia zolw"
    assert search_svc.normalize("P.H.U. Źdźbło") == "p h u zdzblo"
    assert search_svc.normalize(None) == ""


def test_persons_sort_by_last_name_companies_by_name():
    assert svc.sort_key("person", "Jan Ślusarz", "Jan", "Ślusarz") == "slusarz jan"
    assert svc.sort_key("company", "Ąbc Sp. z o.o.") == "abc sp z o o"


def test_cursor_round_trip_and_broken_cursor_is_ignored():
    class Row:
        id = 42
        name_sort = "zolw: sp z o o"

    token = search_svc.encode_cursor(Row())
    assert search_svc.decode_cursor(token) == ("zolw: sp z o o", 42)
    assert search_svc.decode_cursor("!!!not-a-cursor") is None
    assert search_svc.decode_cursor("") is None


@pytest.fixture()
def co(app, make_company):
    info = make_company("Reguły")
    with app.app_context(), tenant_scope(info["company_id"]):
        info["base"] = bases_svc.create_base(info["company_id"], "Klienci", "contacts").id
        info["mailing"] = bases_svc.create_base(info["company_id"], "Newsletter", "mailing").id
        db.session.remove()
    return info


def _add(app, co, base_key="base", **kw):
    with app.app_context(), tenant_scope(co["company_id"]):
        try:
            return svc.create_contact(co["company_id"], co[base_key], svc.ContactData(**kw))
        finally:
            db.session.rollback()


@pytest.mark.parametrize("field,value,message", [
    ("nip", "1234567890", "NIP"),
    ("nip", "12345", "NIP"),
    ("regon", "123456789", "REGON"),
    ("postal_code", "1234", "00-000"),
    ("email", "jan@", "e-mail"),
    ("phone", "12", "telefon"),
    ("krs", "12345678901", "KRS"),
    ("website", "not a site", "www"),
])
def test_company_refusals_name_the_reason(app, co, field, value, message):
    with pytest.raises(DomainError) as err:
        _add(app, co, kind="company", name="Firma", **{field: value})
    assert err.value.field == field
    with app.test_request_context():
        assert message.lower() in str(err.value).lower()


def test_company_fields_are_normalised(app, co):
    nip = make_nip(5)
    regon = make_regon9(7)
    with app.app_context(), tenant_scope(co["company_id"]):
        c = svc.create_contact(co["company_id"], co["base"], svc.ContactData(
            kind="company", name=" Żółta Sp. z o.o. ", nip=f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}",
            regon=regon, krs="12345", postal_code="00950", city="Łódź", email="Biuro@Zolta.PL",
            phone="601 234 567", website="www.zolta.pl"))
        assert (c.name, c.nip, c.regon, c.krs) == ("Żółta Sp. z o.o.", nip, regon, "0000012345")
        assert (c.postal_code, c.city_norm, c.email, c.phone) == ("00-950", "lodz", "biuro@zolta.pl", "+48601234567")
        assert c.website == "https://www.zolta.pl"
        assert c.name_sort == "zolta sp z o o"
        db.session.remove()


def test_person_pesel_is_checksum_checked(app, co):
    with pytest.raises(DomainError) as err:
        _add(app, co, kind="person", first_name="Jan", last_name="Nowak", pesel="44051401358")
    assert err.value.field == "pesel"
    with app.app_context(), tenant_scope(co["company_id"]):
        p = svc.create_contact(co["company_id"], co["base"], svc.ContactData(
            kind="person", first_name="Jan", last_name="Nowak", pesel=PESEL_OK))
        assert (p.name, p.name_sort, p.pesel) == ("Jan Nowak", "nowak jan", PESEL_OK)
        db.session.remove()


def test_person_needs_first_and_last_name(app, co):
    with pytest.raises(DomainError) as err:
        _add(app, co, kind="person", first_name="Jan")
    assert err.value.field == "last_name"


def test_mailing_contact_needs_email_and_full_consent(app, co):
    with pytest.raises(DomainError) as err:
        _add(app, co, "mailing", kind="person", first_name="A", last_name="B")
    assert err.value.field == "email"
    with pytest.raises(DomainError) as err:
        _add(app, co, "mailing", kind="person", first_name="A", last_name="B", email="a@b.pl")
    assert err.value.field == "consent_given_at"
    with pytest.raises(DomainError) as err:
        _add(app, co, "mailing", kind="person", first_name="A", last_name="B", email="a@b.pl",
             consent_given_at="2026-01-01")
    assert err.value.field == "consent_source"
    with pytest.raises(DomainError) as err:
        _add(app, co, "mailing", kind="person", first_name="A", last_name="B", email="a@b.pl",
             consent_given_at="2026-01-01", consent_source="formularz")
    assert err.value.field == "consent_text"
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    with pytest.raises(DomainError) as err:
        _add(app, co, "mailing", kind="person", first_name="A", last_name="B", email="a@b.pl",
             consent_given_at=future, consent_source="formularz", consent_text="Zgoda")
    assert err.value.field == "consent_given_at"


def test_mailing_contact_is_never_pickable(app, co):
    with app.app_context(), tenant_scope(co["company_id"]):
        m = svc.create_contact(co["company_id"], co["mailing"], svc.ContactData(
            kind="person", first_name="Ala", last_name="Mailowa", email="ala@x.pl",
            consent_given_at="2026-01-01", consent_source="formularz", consent_text="Zgoda"))
        k = svc.create_contact(co["company_id"], co["base"], svc.ContactData(kind="company", name="Ala Firma"))
        assert svc.pickable_contact(co["company_id"], k.id).id == k.id
        with pytest.raises(DomainError) as err:
            svc.pickable_contact(co["company_id"], m.id)
        assert err.value.field == "contact_id"
        with app.test_request_context():
            assert str(err.value) == "Kontaktu z bazy mailingowej nie można używać w ofertach, fakturach ani zadaniach."
        for bad in (999999, "abc", None):
            with pytest.raises(DomainError):
                svc.pickable_contact(co["company_id"], bad)
        assert [c.id for c in svc.search_pickable(co["company_id"], "ala")] == [k.id]
        assert [c.id for c in svc.search_pickable(current_company_id(), "ala")] == [k.id]  # company from tenant_scope
        db.session.remove()


def test_base_kind_and_name_are_checked(app, co):
    with app.app_context(), tenant_scope(co["company_id"]):
        with pytest.raises(DomainError) as err:
            bases_svc.create_base(co["company_id"], "Inna", "other")
        assert err.value.field == "kind"
        with pytest.raises(DomainError) as err:
            bases_svc.create_base(co["company_id"], "Klienci", "contacts")
        assert err.value.field == "name"
        with pytest.raises(DomainError) as err:
            bases_svc.create_base(co["company_id"], "   ", "contacts")
        assert err.value.field == "name"
        db.session.remove()
