"""The strong-password rules of the product FAQ, each refused with its own reason."""

import pytest

from app.services import DomainError
from app.services.passwords import check_password

USER = ["Jan", "Kowalski", "jan.kowalski@firma.pl", "Budimex Serwis"]


@pytest.mark.parametrize(
    "password,reason",
    [
        ("Kr0t-ki!", "at least"),
        ("ZIELONY-SŁOŃ-42!", "lower-case"),
        ("zielony-słoń-42!", "upper-case"),
        ("Zielony-Słoń-Tańczy!", "digit"),
        ("ZielonySlonTanczy42", "special"),
        ("Kowalski-Słoń-42!", "name"),
        ("Budimex-Słoń-42!x", "name"),
        ("Qwerty-Słoń-42!", "keyboard"),
        ("Słoń-123456-Las!", "keyboard"),
        ("Qweasd-Słoń-9!", "keyboard"),
        ("Samochodowy1!", "dictionary"),
    ],
)
def test_weak_passwords_refused_with_reason(app, password, reason):
    with app.test_request_context():
        with pytest.raises(DomainError) as err:
            check_password(password, USER)
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("en"):
            assert reason in str(err.value.message)


def test_strong_polish_passphrase_accepted(app):
    with app.test_request_context():
        check_password("Zielony-Słoń-Tańczy-42!", USER)
        check_password("Rower#Morze7Kawa+Dach", USER)
