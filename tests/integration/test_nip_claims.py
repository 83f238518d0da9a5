"""A company whose NIP another account holds claims it; the platform admin checks and decides."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Company, CrmUser, NipClaim
from app.models.mixins import utcnow
from tests.helpers import STRONG_PASSWORD, csrf_token, login, make_nip

NIP = "5260250274"
ADMIN = ("root@platforma.pl", "Platforma-Admin#2026")
CLAIMANT = "prezes@zlotyklos.pl"
CLAIM = {
    "nip": NIP,
    "company_name": "Piekarnia Złoty Kłos Sp. z o.o.",
    "first_name": "Zofia",
    "last_name": "Wiśniewska",
    "email": CLAIMANT,
    "phone": "+48 601 234 567",
    "explanation": "Jestem prezesem zarządu; odpis z KRS i pełnomocnictwo mogę przesłać.",
}
NEW_PASSWORD = "Pochmurny#Żuraw7Leci+Nad"


def platform_admin(app):
    from app.cli import ensure_platform_admin

    with app.app_context():
        ensure_platform_admin(*ADMIN)
        db.session.remove()
    c = app.test_client()
    assert login(c, ADMIN[0], ADMIN[1]).status_code == 302
    return c


def link_in(message, pattern: str) -> str:
    m = re.search(rf"http://localhost({pattern}\S+)", message.get_content())
    assert m, message.get_content()
    return m.group(1)


def mails_to(outbox, address):
    return [m for m in outbox if m["To"] == address]


def claim_row(app, **where):
    with app.app_context():
        row = db.session.execute(select(NipClaim).filter_by(**where)).scalars().first()
        if row is not None:
            db.session.expunge(row)
        db.session.remove()
        return row


def company_events(app, company_id):
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.event).where(AuditEvent.company_id == company_id)
        ).scalars().all()
        db.session.remove()
        return list(rows)


def file_confirmed_claim(app, client, outbox) -> int:
    """Send the claim form and click the e-mailed link; return the claim id."""
    assert client.post("/signup/claim/", data=CLAIM).headers["Location"].endswith("/signup/claim/sent/")
    path = link_in(mails_to(outbox, CLAIMANT)[-1], "/signup/claim/confirm/")
    page = client.get(path)
    assert page.status_code == 200 and "Zgłoszenie przyjęte" in page.text
    return claim_row(app, email=CLAIMANT).id


def test_claim_end_to_end_moves_the_nip(app, client, mail_outbox, make_company):
    squatter = make_company("Ktoś Obcy", nip=NIP, email="obcy@example.pl")
    admin = platform_admin(app)

    # the real company tries to sign up and is offered a claim
    signup = client.post("/signup/", data={
        "accept_terms": "y", "company_name": CLAIM["company_name"], "nip": "526-025-02-74", "first_name": "Zofia",
        "last_name": "Wiśniewska", "email": CLAIMANT, "password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD,
    })
    assert "Firma o tym numerze NIP ma już konto." in signup.text
    assert "Ta firma ma już konto? Zgłoś to" in signup.text
    href = re.search(r'id="claim-link" href="([^"]+)"', signup.text).group(1)
    assert href == f"/signup/claim/?nip={NIP}"
    form = client.get(href)
    assert f'value="{NIP}"' in form.text and "Dlaczego ten NIP należy do Ciebie?" in form.text

    # the claim is sent; until its e-mail is confirmed the admin cannot decide
    assert client.post("/signup/claim/", data=CLAIM).status_code == 302
    assert "Sprawdź skrzynkę pocztową" in client.get("/signup/claim/sent/").text
    claim = claim_row(app, email=CLAIMANT)
    assert claim.status == "unconfirmed" and claim.company_id == squatter["company_id"]
    early = admin.post(f"/admin/nip-claims/{claim.id}/approve", data={"checked": "y", "note": "KRS"},
                       follow_redirects=True)
    assert "To zgłoszenie nie czeka na decyzję." in early.text
    path = link_in(mails_to(mail_outbox, CLAIMANT)[0], "/signup/claim/confirm/")
    confirmed = client.get(path)
    assert "Twój adres e-mail jest potwierdzony. Administrator sprawdzi zgłoszenie" in confirmed.text
    assert claim_row(app, id=claim.id).status == "pending"
    to_admin = mails_to(mail_outbox, ADMIN[0])
    assert len(to_admin) == 1 and to_admin[0]["Subject"] == f"Nowe zgłoszenie NIP {NIP}"

    # the platform admin sees it, with the account that holds the NIP
    listing = admin.get("/admin/nip-claims/")
    assert listing.status_code == 200
    assert NIP in listing.text and "Zofia Wiśniewska" in listing.text and "Czeka na decyzję" in listing.text
    detail = admin.get(f"/admin/nip-claims/{claim.id}")
    assert "Ktoś Obcy" in detail.text and "obcy@example.pl" in detail.text and "+48 601 234 567" in detail.text

    # approving needs the admin's check: without it nothing changes
    refused = admin.post(f"/admin/nip-claims/{claim.id}/approve", data={"note": "Odpis KRS zgodny"})
    assert refused.status_code == 200 and "To pole jest wymagane." in refused.text
    with app.app_context():
        assert db.session.get(Company, squatter["company_id"]).nip == NIP
        db.session.remove()
    done = admin.post(f"/admin/nip-claims/{claim.id}/approve",
                      data={"checked": "y", "note": "Odpis KRS zgodny, telefon z rejestru potwierdził."},
                      follow_redirects=True)
    assert "NIP należy teraz do nowego konta Piekarnia Złoty Kłos Sp. z o.o.; obie strony dostały e-mail." in done.text

    claim = claim_row(app, id=claim.id)
    assert claim.status == "approved" and claim.proof == "admin_check" and claim.new_company_id
    with app.app_context():
        old = db.session.get(Company, squatter["company_id"])
        new = db.session.get(Company, claim.new_company_id)
        assert old.nip is None and old.nip_lost_at is not None
        assert new.nip == NIP and new.confirmed_at is not None
        assert new.licence_valid_until == dt.date.today() + dt.timedelta(days=13)
        owner = db.session.execute(select(CrmUser).where(CrmUser.email == CLAIMANT)).scalar_one()
        assert owner.company_id == new.id and owner.is_owner and owner.password is None
        db.session.remove()

    # both parties are e-mailed
    approved = [m for m in mails_to(mail_outbox, CLAIMANT) if "zatwierdzone" in m["Subject"]]
    assert len(approved) == 1
    told = mails_to(mail_outbox, "obcy@example.pl")
    assert len(told) == 1 and told[0]["Subject"] == "NIP firmy Ktoś Obcy został przeniesiony na inne konto"
    assert "Dane firmy" in told[0].get_content()

    # the claimant sets a password through the link and works in the new account
    invite = link_in(approved[0], "/invitation/")
    claimant = app.test_client()
    claimant.post(invite, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert login(claimant, CLAIMANT, NEW_PASSWORD).headers["Location"].endswith("/")
    # the account was not made by a sign-up: its owner accepts the terms at the first sign-in
    first = claimant.get("/")
    assert first.status_code == 302 and first.headers["Location"].startswith("/terms/accept/")
    terms = claimant.get(first.headers["Location"]).text
    documents = re.search(r'name="documents" type="hidden" value="([^"]+)"', terms).group(1)
    claimant.post("/terms/accept/", data={"documents": documents, "accept": "y", "next": "/"})
    home = claimant.get("/")
    assert "Piekarnia Złoty Kłos" in home.text and NIP in home.text and "Licencja: zostało 14 dni" in home.text

    # the old account is flagged for its owner to fix, and the step is in both audit logs
    old_owner = app.test_client()
    login(old_owner, "obcy@example.pl")
    page = old_owner.get("/")
    assert "NIP Twojej firmy został przeniesiony na inne konto" in page.text and "NIP: —" in page.text
    log = old_owner.get("/settings/security/")
    assert "NIP przeniesiony na inne konto po sprawdzonym zgłoszeniu" in log.text
    assert "nip_claim_approved" in company_events(app, squatter["company_id"])
    assert "nip_taken_over" in company_events(app, claim.new_company_id)
    assert "Konto założone dla potwierdzonego właściciela NIP" in claimant.get("/settings/security/").text
    fixed = old_owner.post("/settings/company/", data={"name": "Ktoś Obcy", "nip": make_nip(31)},
                           follow_redirects=True)
    assert "NIP Twojej firmy został przeniesiony" not in fixed.text
    with app.app_context():
        assert db.session.get(Company, squatter["company_id"]).nip_lost_at is None
        db.session.remove()


def test_claim_rejected_with_reason(app, client, mail_outbox, make_company):
    holder = make_company(nip=NIP)
    admin = platform_admin(app)
    claim_id = file_confirmed_claim(app, client, mail_outbox)
    empty = admin.post(f"/admin/nip-claims/{claim_id}/reject", data={"reason": ""})
    assert empty.status_code == 200 and "To pole jest wymagane." in empty.text
    assert claim_row(app, id=claim_id).status == "pending"
    admin.post(f"/admin/nip-claims/{claim_id}/reject", data={"reason": "Brak dokumentów potwierdzających."})
    assert claim_row(app, id=claim_id).status == "rejected"
    rejected = [m for m in mails_to(mail_outbox, CLAIMANT) if "odrzucone" in m["Subject"]]
    assert len(rejected) == 1 and "Brak dokumentów potwierdzających." in rejected[0].get_content()
    with app.app_context():
        assert db.session.get(Company, holder["company_id"]).nip == NIP
        assert db.session.execute(select(CrmUser).where(CrmUser.email == CLAIMANT)).first() is None
        db.session.remove()
    assert "nip_claim_rejected" in company_events(app, holder["company_id"])
    again = admin.post(f"/admin/nip-claims/{claim_id}/approve", data={"checked": "y", "note": "x"},
                       follow_redirects=True)
    assert "To zgłoszenie nie czeka na decyzję." in again.text


def test_claim_form_refusals_change_nothing(app, client, mail_outbox, make_company):
    make_company(nip=NIP, email="wlasciciel@firma.pl")
    free = make_nip(55)
    resp = client.post("/signup/claim/", data={**CLAIM, "nip": free})
    assert "Żadne konto nie używa tego NIP: możesz po prostu założyć konto." in resp.text
    resp = client.post("/signup/claim/", data={**CLAIM, "email": "wlasciciel@firma.pl"})
    assert "Ten adres e-mail jest już używany przez inne konto." in resp.text
    resp = client.post("/signup/claim/", data={**CLAIM, "nip": "5260250275"})
    assert "NIP ma nieprawidłową cyfrę kontrolną" in resp.text
    resp = client.post("/signup/claim/", data={**CLAIM, "explanation": ""})
    assert "To pole jest wymagane." in resp.text
    assert claim_row(app) is None and mail_outbox == []
    client.post("/signup/claim/", data=CLAIM)
    twice = client.post("/signup/claim/", data=CLAIM)
    assert "Ten NIP został już przez Ciebie zgłoszony." in twice.text
    assert len(mail_outbox) == 1


def test_tampered_claim_link_refused_and_unconfirmed_claim_expires(app, client, mail_outbox, make_company,
                                                                   monkeypatch):
    from app import scheduler
    from app.services import clock

    make_company(nip=NIP)
    client.post("/signup/claim/", data=CLAIM)
    path = link_in(mail_outbox[0], "/signup/claim/confirm/")
    bad = client.get(path[:-3] + "xyz", follow_redirects=True)
    assert "Ten link potwierdzający jest nieprawidłowy albo zgłoszenie wygasło." in bad.text
    signup_link = client.get(path.replace("/signup/claim/confirm/", "/signup/confirm/"), follow_redirects=True)
    assert "Ten link potwierdzający jest nieprawidłowy" in signup_link.text  # a claim link is no sign-up link
    assert claim_row(app, email=CLAIMANT).status == "unconfirmed"
    monkeypatch.setattr(clock, "utcnow", lambda: utcnow() + dt.timedelta(hours=49))
    scheduler.bind_app(app)
    try:
        scheduler.expire_signups()
    finally:
        scheduler.bind_app(None)
    assert claim_row(app, email=CLAIMANT) is None
    late = client.get(path, follow_redirects=True)
    assert "zgłoszenie wygasło" in late.text


def test_claims_screen_only_for_the_platform_admin(app, client, mail_outbox, make_company, csrf_on):
    holder = make_company(nip=NIP)
    page = client.get("/signup/claim/")
    client.post("/signup/claim/", data={**CLAIM, "csrf_token": csrf_token(page.text)})
    claim = claim_row(app, email=CLAIMANT)
    anonymous = app.test_client()
    assert "/login/" in anonymous.get("/admin/nip-claims/").headers["Location"]
    owner = app.test_client()
    page = owner.get("/login/")
    owner.post("/login/", data={"username": holder["email"], "password": STRONG_PASSWORD,
                                "csrf_token": csrf_token(page.text)})
    for url in ("/admin/nip-claims/", f"/admin/nip-claims/{claim.id}"):
        resp = owner.get(url, follow_redirects=True)
        assert resp.status_code == 403 and "Zgłoszenia NIP" not in resp.text and CLAIMANT not in resp.text
    home = owner.get("/")
    resp = owner.post(f"/admin/nip-claims/{claim.id}/approve",
                      data={"checked": "y", "note": "x", "csrf_token": csrf_token(home.text)})
    assert resp.status_code == 403
    assert claim_row(app, id=claim.id).status == "unconfirmed"
    admin = app.test_client()
    page = admin.get("/login/")
    from app.cli import ensure_platform_admin

    with app.app_context():
        ensure_platform_admin(*ADMIN)
        db.session.remove()
    admin.post("/login/", data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": csrf_token(page.text)})
    no_token = admin.post(f"/admin/nip-claims/{claim.id}/reject", data={"reason": "x"})
    assert no_token.status_code == 302  # CSRF refused: back with a message
    assert claim_row(app, id=claim.id).status == "unconfirmed"
    assert admin.get("/admin/nip-claims/999999").status_code == 404


def test_admin_claim_pages_are_polish(app, client, mail_outbox, make_company):
    from tests.integration.test_polish_pages import assert_polish

    make_company(nip=NIP)
    admin = platform_admin(app)
    claim_id = file_confirmed_claim(app, client, mail_outbox)
    for url in ("/admin/nip-claims/", f"/admin/nip-claims/{claim_id}", "/admin/companies/list/"):
        resp = admin.get(url)
        assert resp.status_code == 200, url
        assert_polish(resp.text, url)
