"""CSV reading rules of the import: encodings, separators, header guessing, row validation."""

import pytest

from app.services import DomainError
from app.services.contacts import contact_import as ci

TEXT = "Nazwa;NIP;E-mail\nŻółta Łódź Sp. z o.o.;5260250274;biuro@zolta.pl\n"


@pytest.mark.parametrize("raw,expected", [
    (TEXT.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8"),
    (TEXT.encode("cp1250"), "cp1250"),
])
def test_decode_detects_utf8_bom_and_windows_1250(raw, expected):
    text, enc = ci.decode(raw)
    assert enc == expected
    assert text.startswith("Nazwa;") and "Żółta Łódź" in text


def test_decode_refuses_windows_1250_declared_as_utf8():
    with pytest.raises(DomainError):
        ci.decode(TEXT.encode("cp1250"), "utf-8")


def test_sniff_delimiter():
    assert ci.sniff_delimiter("a;b;c\n1,2;3;4") == ";"
    assert ci.sniff_delimiter("a,b,c\n1;2,3,4") == ","
    assert ci.sniff_delimiter("a,b", ";") == ";"


def test_guess_mapping_understands_polish_headers():
    headers = ["Nazwa firmy", "NIP", "Adres e-mail", "Tel.", "Kod pocztowy", "Miejscowość", "Imię", "Nazwisko", "Coś"]
    assert ci.guess_mapping(headers) == {
        "0": "name", "1": "nip", "2": "email", "3": "phone", "4": "postal_code", "5": "city",
        "6": "first_name", "7": "last_name",
    }


def test_clean_row_normalises_values():
    row = ci.clean_row({"name": " ACME ", "nip": "PL 526-025-02-74", "phone": "600 100 200",
                        "postal_code": "00001", "email": "Biuro@ACME.PL", "city": "Łódź"}, "company", False)
    assert row["nip"] == "5260250274" and row["phone"] == "+48600100200"
    assert row["postal_code"] == "00-001" and row["email"] == "biuro@acme.pl"
    assert row["name"] == "ACME" and row["city_norm"] == "lodz"


def test_person_name_is_built_from_first_and_last_name():
    row = ci.clean_row({"first_name": "Jan", "last_name": "Kowalski", "kind": "Osoba"}, "company", False)
    assert row["kind"] == "person" and row["name"] == "Jan Kowalski"


@pytest.mark.parametrize("values,mailing,reason", [
    ({"name": "X", "nip": "123"}, False, "NIP must have 10 digits."),
    ({"name": "X", "email": "zly@"}, False, "E-mail address is not valid."),
    ({"name": ""}, False, "Company name is missing."),
    ({"name": "X", "kind": "Kot"}, False, "Unknown contact type"),
    ({"name": "X", "krs": "12345678901"}, False, "KRS number must have up to 10 digits."),
    ({"name": "X", "website": "nie adres"}, False, "Website address is not valid"),
    ({"name": "X", "notes": "n" * 5001}, False, "Notes is too long"),
    ({"name": "X", "email": "a@b.pl", "consent_given_at": "jutro"}, True, "Consent date is not a valid date"),
])
def test_clean_row_refuses(app, values, mailing, reason):
    """Each bad value is refused for its own reason (not because a mailing row lacks an e-mail)."""
    with app.app_context(), pytest.raises(ci.RowRefused) as err:
        ci.clean_row(values, "company", mailing)
    assert str(err.value.reason).startswith(reason)


def test_clean_row_uses_the_contact_form_rules_and_limits():
    """KRS, website and text lengths are checked exactly like the contact form does."""
    from app.services.contacts import contacts as contacts_svc

    row = ci.clean_row({"name": "X", "krs": "12345", "website": "www.firma.pl", "notes": "n" * 5000},
                       "company", False)
    assert row["krs"] == contacts_svc.clean_krs("12345") == "0000012345"
    assert row["website"] == contacts_svc.clean_website("www.firma.pl") == "https://www.firma.pl"
    assert len(row["notes"]) == contacts_svc.TEXT_LIMITS["notes"]


@pytest.mark.parametrize("raw,kind", [("OSOBA", "person"), ("Osoba fizyczna", "person"), ("firma", "company"),
                                      ("F", "company"), ("", "person")])
def test_kind_column_values(raw, kind):
    row = ci.clean_row({"kind": raw, "name": "X", "first_name": "Jan", "last_name": "Nowak"}, "person", False)
    assert row["kind"] == kind


def test_consent_date_formats_only_for_mailing_bases():
    row = ci.clean_row({"name": "X", "email": "a@b.pl", "consent_given_at": "15.01.2026"}, "company", True)
    assert row["consent_given_at"].isoformat() == "2026-01-15T00:00:00"
    assert ci.clean_row({"name": "X", "consent_given_at": "15.01.2026"}, "company", False)["consent_given_at"] is None


def test_mailing_row_needs_email():
    with pytest.raises(ci.RowRefused):
        ci.clean_row({"name": "X"}, "company", True)
