"""Unsubscribing by the link of a received campaign message: no login, one click (also RFC 8058 one-click
POST without a CSRF token), recorded with the contact's consent, honoured by later campaigns, and
confined to the company whose message carried the link."""

from __future__ import annotations

from typing import Any

from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from app.extensions import db
from app.models.campaigns import CampaignRecipient, MailSuppression
from app.models.contacts import Contact
from app.security.tenancy import all_tenants, tenant_scope
from app.services.mailing import campaigns as svc
from app.services.mailing import outbox
from tests.helpers import find, login, text
from tests.integration.campaign_fixtures import CONSENT, make_contact, setup_company


def _send_campaign(app: Any, client: Any, setup: Any, subject: str) -> int:
    resp = client.post("/emailing/new", data={"base_ids": [str(setup.base_id)], "mailbox_id": str(setup.mailbox_id),
                                              "subject": subject, "body_html": "<p>Cześć {imie}</p>"})
    campaign_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""}).status_code == 302
    with app.app_context():
        outbox.run(budget_seconds=30)
    return campaign_id


def _link(servers: Any, user: Any, subject: str) -> str:
    """The unsubscribe link (its path) of the message with this subject in the user's inbox."""
    messages = servers.wait_for_messages(user, 1)
    msg = next(m for m in messages if m["Subject"] == subject)
    return str(msg["List-Unsubscribe"]).strip("<>").replace("http://localhost", "")


def test_one_click_unsubscribe_is_honoured_by_later_campaigns(app: Any, owner_client: Any, mail_servers: Any,
                                                              monkeypatch: Any) -> None:
    """GET shows a button; the mail client's one-click POST (no CSRF token) unsubscribes; nothing more arrives."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia", "Łukasz"))
    first = _send_campaign(app, owner_client, setup, "Pierwsza")
    path = _link(mail_servers, setup.people["Zofia"], "Pierwsza")

    anonymous = app.test_client()
    page = anonymous.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert setup.people["Zofia"].email in text(html, "#unsubscribe p")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # as in production: the token alone must do
    resp = anonymous.post(path, data="List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200
    assert "nie otrzyma więcej wiadomości" in text(resp.get_data(as_text=True), "#unsubscribe-done")

    with app.app_context(), tenant_scope(company_id):
        contact = db.session.get(Contact, setup.contact_ids["Zofia"])
        assert contact.consent_withdrawn_at is not None and contact.consent_given_at is not None
        other = db.session.get(Contact, setup.contact_ids["Łukasz"])
        assert other.consent_withdrawn_at is None
        reasons = db.session.execute(select(MailSuppression.email, MailSuppression.reason)).all()
        assert reasons == [(setup.people["Zofia"].email, "unsubscribed")]
        row = db.session.scalars(select(CampaignRecipient).where(
            CampaignRecipient.campaign_id == first, CampaignRecipient.email == setup.people["Zofia"].email)).one()
        assert row.status == "unsubscribed" and row.sent_at is not None
        db.session.remove()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    card = owner_client.get(f"/contacts/{setup.contact_ids['Zofia']}").get_data(as_text=True)
    assert "wypisanie z kampanii" in text(card, "#consent-withdrawn")
    assert find(owner_client.get(f"/contacts/{setup.contact_ids['Łukasz']}").get_data(as_text=True),
                "#consent-withdrawn") == []
    report = owner_client.get(f"/emailing/{first}").get_data(as_text=True)
    assert text(report, "#report-table tr[data-kind=total] td:nth-of-type(4)") == "1"

    # a contact card shows the withdrawal; the next campaign leaves the address out and sends nothing to it
    second = _send_campaign(app, owner_client, setup, "Druga")
    assert len(mail_servers.messages(setup.people["Zofia"])) == 1
    assert len(mail_servers.wait_for_messages(setup.people["Łukasz"], 2)) == 2
    with app.app_context(), tenant_scope(company_id):
        campaign = svc.get_campaign(company_id, second)
        assert svc.campaign_audience(company_id, campaign).excluded == {"no_email": 1, "unsubscribed": 1}
        db.session.remove()


def test_invalid_or_tampered_token_changes_nothing(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """A changed token is refused with a Polish page (404) and records nothing."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia",))
    _send_campaign(app, owner_client, setup, "Pierwsza")
    path = _link(mail_servers, setup.people["Zofia"], "Pierwsza")
    bad = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    anonymous = app.test_client()
    assert anonymous.get(bad).status_code == 404
    resp = anonymous.post(bad)
    assert resp.status_code == 404
    assert text(resp.get_data(as_text=True), "#unsubscribe-error") == "Ten link do wypisania się jest nieprawidłowy."
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(MailSuppression)).all() == []
        db.session.remove()


def test_token_of_one_company_never_touches_another(app: Any, owner_client: Any, make_company: Any,
                                                    mail_servers: Any) -> None:
    """A's link unsubscribes the address in A only; a token naming A with B's recipient is not valid."""
    company_a = owner_client.crm["company_id"]
    setup_a = setup_company(app, mail_servers, company_a, names=("Zofia",))
    address = setup_a.people["Zofia"].email
    other = make_company("Firma B")
    company_b = other["company_id"]
    setup_b = setup_company(app, mail_servers, company_b, names=("Adam",))
    shared = make_contact(app, company_b, setup_b.base_id, kind="person", first_name="Zofia", last_name="W B",
                          email=address, **CONSENT)
    b_client = app.test_client()
    login(b_client, other["email"])
    _send_campaign(app, b_client, setup_b, "Od firmy B")
    with app.app_context(), tenant_scope(company_b):
        b_row = db.session.scalars(select(CampaignRecipient).where(CampaignRecipient.email == address)).one()
        b_row_id = b_row.id
        db.session.remove()

    _send_campaign(app, owner_client, setup_a, "Od firmy A")
    a_path = _link(mail_servers, setup_a.people["Zofia"], "Od firmy A")
    assert _link(mail_servers, setup_a.people["Zofia"], "Od firmy B") != a_path  # she got both companies' mail
    anonymous = app.test_client()
    assert anonymous.post(a_path).status_code == 200

    with app.app_context():
        forged = URLSafeSerializer(app.config["SECRET_KEY"], salt="campaign-unsubscribe").dumps([company_a, b_row_id])
    assert anonymous.post(f"/m/u/{forged}").status_code == 404
    with app.app_context(), tenant_scope(company_b):
        assert db.session.get(Contact, shared).consent_withdrawn_at is None
        assert db.session.scalars(select(MailSuppression)).all() == []
        assert db.session.get(CampaignRecipient, b_row_id).status == "sent"
        assert svc.audience(company_b, [setup_b.base_id], []).count == 2
        db.session.remove()
    with app.app_context(), tenant_scope(company_a):
        assert [s.email for s in db.session.scalars(select(MailSuppression))] == [address]
        assert svc.audience(company_a, [setup_a.base_id], []).count == 0
        db.session.remove()
