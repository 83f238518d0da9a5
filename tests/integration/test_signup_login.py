"""Sign-up ("Załóż konto"), login, logout: the first minutes of a new customer."""

import datetime as dt
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Company, CrmUser
from tests.helpers import STRONG_PASSWORD, csrf_token, login, make_nip

FORM = {
    "accept_terms": "y",
    "company_name": "Piekarnia Złoty Kłos Sp. z o.o.",
    "first_name": "Zofia",
    "last_name": "Wiśniewska",
    "email": "zofia@zlotyklos.pl",
    "password": STRONG_PASSWORD,
    "password_confirm": STRONG_PASSWORD,
}


def count(app, model):
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(model)).scalar()
        db.session.remove()
        return n


def test_signup_creates_company_with_14_day_licence_after_email_confirmation(app, client, mail_outbox):
    page = client.get("/signup/")
    assert page.status_code == 200 and "Załóż konto" in page.text
    resp = client.post("/signup/", data={**FORM, "nip": "526-025-02-74"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/signup/sent/")
    assert client.get("/").status_code == 302  # not signed in before the e-mail link
    link = re.search(r"http://localhost(/signup/confirm/\S+)", mail_outbox[0].get_content()).group(1)
    assert client.get(link).status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Piekarnia Złoty Kłos" in home.text
    assert "Licencja: zostało 14 dni" in home.text
    with app.app_context():
        company = db.session.execute(select(Company)).scalar_one()
        assert company.nip == "5260250274"
        assert company.licence_valid_until == dt.date.today() + dt.timedelta(days=13)
        owner = db.session.execute(select(CrmUser)).scalar_one()
        assert owner.is_owner and owner.company_id == company.id
        assert owner.password.startswith(("scrypt:", "pbkdf2:")) and STRONG_PASSWORD not in owner.password
        db.session.remove()


def test_signup_bad_nip_is_refused_in_polish_and_nothing_created(app, client):
    resp = client.post("/signup/", data={**FORM, "nip": "5260250275"})
    assert resp.status_code == 200
    assert "NIP ma nieprawidłową cyfrę kontrolną" in resp.text
    assert count(app, Company) == 0 and count(app, CrmUser) == 0


def test_signup_weak_password_and_mismatch_refused(app, client):
    resp = client.post("/signup/", data={**FORM, "nip": make_nip(5), "password": "Wisniewska-2024!", "password_confirm": "Wisniewska-2024!"})
    assert "Hasło nie może zawierać Twojego imienia, nazwiska, loginu, adresu e-mail ani nazwy firmy." in resp.text
    resp = client.post("/signup/", data={**FORM, "nip": make_nip(5), "password_confirm": "Inne-Hasło-99!x"})
    assert "Hasła nie są takie same" in resp.text
    assert count(app, Company) == 0


def test_signup_duplicate_email_or_nip_refused(app, client, make_company):
    info = make_company(nip="5260250274")
    resp = client.post("/signup/", data={**FORM, "nip": "5260250274"})
    assert "Firma o tym numerze NIP ma już konto" in resp.text
    resp = client.post("/signup/", data={**FORM, "nip": make_nip(9), "email": info["email"].upper()})
    assert "Ten adres e-mail jest już używany" in resp.text
    assert count(app, Company) == 1


def test_login_page_is_polish(client):
    page = client.get("/login/")
    assert "Zaloguj się" in page.text
    assert "Zarejestruj się" not in page.text and "Sign In" not in page.text


def test_wrong_password_is_refused_with_polish_message(client, make_company):
    info = make_company()
    resp = client.post("/login/", data={"username": info["email"], "password": "Zle-haslo-123!"}, follow_redirects=True)
    assert "Nieprawidłowy e-mail lub hasło" in resp.text
    assert client.get("/").status_code == 302


def test_logout_is_post_with_csrf_only(app, client, make_company, csrf_on):
    info = make_company()
    page = client.get("/login/")
    client.post("/login/", data={"username": info["email"], "password": STRONG_PASSWORD, "csrf_token": csrf_token(page.text)})
    home = client.get("/")
    assert home.status_code == 200
    assert client.get("/logout/").status_code == 405
    refused = client.post("/logout/")  # no token: refused, back to the page with a Polish message
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/logout/")
    assert client.get("/").status_code == 200  # still signed in
    client.post("/logout/", data={"csrf_token": csrf_token(home.text)})
    assert client.get("/").status_code == 302


def test_expired_licence_blocks_with_clear_message(app, client, make_company):
    info = make_company()
    with app.app_context():
        company = db.session.get(Company, info["company_id"])
        company.licence_valid_until = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    login(client, info["email"])
    resp = client.get("/settings/company/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/licence/")
    page = client.get("/licence/")
    assert "Twoja licencja wygasła" in page.text and "AppLarge" in page.text
