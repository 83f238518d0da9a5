"""Polish data rules: each refusal says why, in the user's language."""

import pytest

from app.services import DomainError
from app.services import validators as v


def test_nip_accepts_valid_with_separators_and_prefix():
    assert v.clean_nip("526-025-02-74") == "5260250274"
    assert v.clean_nip("PL 5260250274") == "5260250274"


@pytest.mark.parametrize("raw,field", [("", "nip"), ("123", "nip"), ("5260250275", "nip"), ("52602502x4", "nip")])
def test_nip_refused(raw, field):
    with pytest.raises(DomainError) as err:
        v.clean_nip(raw)
    assert err.value.field == field


def test_nip_wrong_checksum_message(app):
    with app.test_request_context():
        with pytest.raises(DomainError) as err:
            v.clean_nip("5260250275")
        assert "NIP" in str(err.value)


def test_regon_9_and_14():
    assert v.clean_regon("012345675") == "012345675"
    assert v.clean_regon("") is None
    with pytest.raises(DomainError):
        v.clean_regon("012345676")
    with pytest.raises(DomainError):
        v.clean_regon("1234")


def test_pesel():
    assert v.clean_pesel("44051401359") == "44051401359"
    with pytest.raises(DomainError):
        v.clean_pesel("44051401358")


def test_iban_bare_polish_number_gets_prefix():
    assert v.clean_iban("61 1090 1014 0000 0712 1981 2874") == "PL61109010140000071219812874"
    with pytest.raises(DomainError):
        v.clean_iban("PL61109010140000071219812875")


def test_postal_code():
    assert v.clean_postal_code("00001") == "00-001"
    assert v.clean_postal_code("31-042") == "31-042"
    with pytest.raises(DomainError):
        v.clean_postal_code("3104")


def test_phone_normalised():
    assert v.clean_phone("600 100 200") == "+48600100200"
    assert v.clean_phone("+48 (22) 123-45-67") == "+48221234567"
    assert v.clean_phone("0049 30 1234567") == "+49301234567"
    for bad in ("12345", "+48 600 100 20", "abc"):
        with pytest.raises(DomainError):
            v.clean_phone(bad)


def test_email_normalised():
    assert v.clean_email(" Jan.Kowalski@Example.PL ") == "jan.kowalski@example.pl"
    with pytest.raises(DomainError):
        v.clean_email("jan@")
    with pytest.raises(DomainError):
        v.clean_email("", required=True)
    assert v.clean_email("") is None


def test_database_url_uses_psycopg3():
    from config import database_url

    assert database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
