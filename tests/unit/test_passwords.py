"""The strong-password rules of the product FAQ, each refused with its own reason."""

import pytest

from app.services import DomainError
from app.services.accounts.passwords import check_password

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


@pytest.mark.parametrize(
    "password,reason",
    [
        # Polish and English dictionary words dressed up with digits and signs
        ("Samochód#2024", "dictionary"),
        ("Przepraszam1!", "dictionary"),
        ("Polska-2024!", "dictionary"),
        ("Password123!", "dictionary"),
        # the user's own data: login/e-mail, first name, company name
        ("jan.kowalski@firma.pl1A!", "name"),
        ("Xx-Serwis-Morze-42!", "name"),
        ("Janek#Morze7Kawa+Dach", "name"),
        # keyboard walks
        ("Zaq1-Słoń-Morze-42!", "keyboard"),
        ("1qaz2wsx#Las-Morze", "keyboard"),
        ("Asdfgh-Las-42!", "keyboard"),
        ("Słoń-Morze-987654!", "keyboard"),
    ],
)
def test_more_weak_passwords_refused_with_reason(app, password, reason):
    with app.test_request_context():
        from flask_babel import force_locale

        with pytest.raises(DomainError) as err:
            check_password(password, USER)
        with force_locale("en"):
            assert reason in str(err.value.message)


def test_every_refusal_is_polish(app):
    with app.test_request_context():
        with pytest.raises(DomainError) as err:
            check_password("Samochód#2024", USER)
        assert "słownika" in str(err.value)


@pytest.mark.parametrize(
    "password",
    ["Pochmurny#Żuraw7Leci+Nad", "Kawa#Rower7Morze+Dach", "X9#k2$Lm!4pQ-Tr8"],
)
def test_strong_passwords_accepted(app, password):
    with app.test_request_context():
        check_password(password, USER)


def test_strength_score_orders_passwords(app):
    from app.services.accounts.passwords import strength_score

    with app.test_request_context():
        assert strength_score("") == 0
        assert strength_score("haslo123") <= 1
        assert strength_score("Zielony-Słoń-Tańczy-42!", USER) >= 3
