"""Campaigns end to end: the form, who gets it and who is left out, sending through the outbox to real
mailboxes (dovecot behind aiosmtpd with STARTTLS and AUTH), the headers and parts of what arrives,
SMTP refusals, limits, pause, the report and the client card."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.campaigns import Campaign, CampaignRecipient, MailSuppression
from app.models.mailing import Mailbox
from app.security.tenancy import all_tenants, tenant_scope
from app.services.mailing import campaigns as svc
from app.services.mailing import outbox
from tests.helpers import find, login, table_rows, text, texts
from tests.integration.campaign_fixtures import new_user, person, setup_company

BODY = ('<p>Dzień dobry {imie},</p><p>oferta dla <b>{firma}</b>: <a href="https://example.pl/oferta">zobacz</a></p>'
        '<ul><li>pierwszy</li><li>drugi</li></ul><script>alert(1)</script><p onclick="x()">koniec</p>')


def _new_campaign(client: Any, setup: Any, subject: str = "Nowości dla {imie} – żółta kartka", body: str = BODY,
                  **extra: Any) -> Any:
    data = {"base_ids": [str(setup.base_id)], "mailbox_id": str(setup.mailbox_id), "subject": subject,
            "body_html": body, **extra}
    return client.post("/emailing/new", data=data)


def _campaign_id(resp: Any) -> int:
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _send(app: Any) -> int:
    with app.app_context():
        return outbox.run(budget_seconds=30)


def _rows(app: Any, company_id: int, campaign_id: int) -> dict[str, CampaignRecipient]:
    with app.app_context(), tenant_scope(company_id):
        rows = db.session.scalars(select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id)).all()
        found = {r.email: r for r in rows}
        for r in rows:
            db.session.expunge(r)
        db.session.remove()
    return found


def test_campaign_end_to_end_messages_and_headers(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """Left-out contacts are counted per reason; the others get one message each with every header."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id)
    base = setup.base_id
    person(app, company_id, base, "Bez", "Zgody", "bez.zgody@firma.pl", consent=False)
    person(app, company_id, base, "Bez", "Adresu", None)
    person(app, company_id, base, "Zofia", "Duplikat", setup.people["Zofia"].email.upper())
    person(app, company_id, base, "Wypisana", "Wcześniej", "wypisana@firma.pl")
    with app.app_context(), tenant_scope(company_id):
        db.session.add(MailSuppression(company_id=company_id, email="wypisana@firma.pl", reason="unsubscribed"))
        db.session.commit()
        db.session.remove()

    campaign_id = _campaign_id(_new_campaign(owner_client, setup))
    page = owner_client.get(f"/emailing/{campaign_id}").get_data(as_text=True)
    assert text(page, "#audience-count") == "2 kontakty otrzymają wiadomość"
    reasons = {li.get("data-reason"): li.text_content().strip() for li in find(page, "#audience-excluded li")}
    assert reasons == {"no_email": "brak adresu e-mail: 2", "no_consent": "brak zarejestrowanej zgody: 1",
                       "unsubscribed": "wypisany: 1", "duplicate": "ten sam adres występuje ponownie: 1"}

    resp = owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""})
    assert resp.status_code == 302
    assert _send(app) == 2

    zofia = mail_servers.wait_for_messages(setup.people["Zofia"], 1)
    lukasz = mail_servers.wait_for_messages(setup.people["Łukasz"], 1)
    assert len(zofia) == 1 and len(lukasz) == 1
    msg = zofia[0]
    assert msg["Subject"] == "Nowości dla Zofia – żółta kartka"
    assert lukasz[0]["Subject"] == "Nowości dla Łukasz – żółta kartka"
    assert msg["From"].addresses[0].addr_spec == setup.sender.email
    assert msg["From"].addresses[0].display_name == "Hurtownia Żółw"
    assert msg["Message-ID"].endswith("@" + setup.sender.email.split("@")[1] + ">")
    assert msg["Date"] is not None
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = msg["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://localhost/m/u/")
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Dzień dobry Zofia," in plain and "Żabka Sp. z o.o." in plain
    assert "https://example.pl/oferta" in plain and link in plain
    assert "Dzień dobry Zofia," in html and "<b>Żabka Sp. z o.o.</b>" in html
    assert link in html and "<script" not in html and "onclick" not in html
    assert 'style="' in html and "<style>" in html  # CSS inlined, the style sheet kept

    rows = _rows(app, company_id, campaign_id)
    assert {r.status for r in rows.values()} == {"sent"}
    assert rows[setup.people["Zofia"].email].message_id == msg["Message-ID"]
    progress = owner_client.get(f"/emailing/{campaign_id}/progress").get_json()
    assert (progress["status"], progress["done"], progress["total"], progress["percent"]) == ("done", 2, 2, 100)
    page = owner_client.get(f"/emailing/{campaign_id}").get_data(as_text=True)
    assert table_rows(page, "#report-table")[0] == ["Wszyscy odbiorcy", "2", "0", "0", "0"]
    assert table_rows(page, "#report-table")[1] == ["Baza: Newsletter", "2", "0", "0", "0"]


def test_permanent_refusal_fails_and_temporary_is_retried(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """A 5xx reply marks the recipient failed with the server's reason; a 4xx one waits for a retry."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia",))
    refused = new_user(mail_servers, "odmowa")
    mail_servers.refuse_recipient(refused.email)
    person(app, company_id, setup.base_id, "Odmowa", "Stała", refused.email)
    person(app, company_id, setup.base_id, "Nieznany", "Chwilowo", "nie-ma-takiej-skrzynki@firma.pl")
    campaign_id = _campaign_id(_new_campaign(owner_client, setup))
    owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""})
    _send(app)

    rows = _rows(app, company_id, campaign_id)
    assert rows[setup.people["Zofia"].email].status == "sent"
    failed = rows[refused.email]
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error.startswith("550 5.7.1")
    later = rows["nie-ma-takiej-skrzynki@firma.pl"]
    assert (later.status, later.attempts) == ("queued", 1)
    assert later.last_error.startswith("451")
    assert later.next_attempt_at > dt.datetime.utcnow() + dt.timedelta(seconds=30)
    _send(app)  # not due yet: nothing is tried again
    assert _rows(app, company_id, campaign_id)["nie-ma-takiej-skrzynki@firma.pl"].attempts == 1
    page = owner_client.get(f"/emailing/{campaign_id}?status=failed").get_data(as_text=True)
    assert texts(page, "#recipients-table .recipient-reason") == [failed.last_error]
    assert len(mail_servers.messages(setup.people["Zofia"])) == 1


def test_rate_limit_and_pause(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """A mailbox sends at most its rate a minute; a paused campaign sends nothing until resumed."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Anna", "Beata", "Celina", "Dorota"), rate=3)
    campaign_id = _campaign_id(_new_campaign(owner_client, setup))
    owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""})
    _send(app)
    statuses = sorted(r.status for r in _rows(app, company_id, campaign_id).values())
    assert statuses == ["queued", "sent", "sent", "sent"]

    assert owner_client.post(f"/emailing/{campaign_id}/pause").status_code == 302
    with app.app_context(), tenant_scope(company_id):
        box = db.session.get(Mailbox, setup.mailbox_id)
        box.rate_per_minute = 0
        db.session.commit()
        db.session.remove()
    _send(app)
    assert sorted(r.status for r in _rows(app, company_id, campaign_id).values()) == statuses
    owner_client.post(f"/emailing/{campaign_id}/resume")
    _send(app)
    assert {r.status for r in _rows(app, company_id, campaign_id).values()} == {"sent"}
    received = sum(len(mail_servers.messages(u)) for u in setup.people.values())
    assert received == 4


def test_send_later_means_warsaw_time(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """A typed time is Polish time; the campaign waits for it."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia",))
    campaign_id = _campaign_id(_new_campaign(owner_client, setup))
    owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": "2036-07-01T10:00"})
    with app.app_context(), tenant_scope(company_id):
        campaign = db.session.get(Campaign, campaign_id)
        assert (campaign.status, campaign.scheduled_at) == ("scheduled", dt.datetime(2036, 7, 1, 8, 0))
        db.session.remove()
    assert _send(app) == 0
    assert mail_servers.messages(setup.people["Zofia"]) == []
    resp = owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": "jutro rano"})
    assert resp.status_code == 302
    page = owner_client.get(f"/emailing/{campaign_id}").get_data(as_text=True)
    assert "Podaj datę i godzinę wysyłki" in page


def test_form_refuses_bad_input_with_polish_messages(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """Every wrong field is named at once; nothing is saved."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia",))
    with app.app_context(), tenant_scope(company_id):
        inactive = Mailbox(company_id=company_id, email="nowa@firma.pl", smtp_host="x", imap_host="x", login="x",
                           password_encrypted="x", state="unverified")
        db.session.add(inactive)
        db.session.commit()
        inactive_id = inactive.id
        db.session.remove()
    resp = owner_client.post("/emailing/new", data={"base_ids": [], "mailbox_id": str(inactive_id), "subject": "",
                                                    "body_html": "<script>x</script>"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    errors = texts(page, ".help-block.error")
    assert errors == ["Wybierz co najmniej jedną bazę mailingową.", "Wybierz aktywną skrzynkę (zweryfikowaną w "
                      "Ustawieniach, zakładka Mailing).", "Wpisz temat.", "Napisz treść wiadomości."]
    assert "<script>x" not in page
    with app.app_context(), tenant_scope(company_id):
        assert db.session.scalars(select(Campaign)).all() == []
        db.session.remove()
    assert setup.base_id


def test_card_shows_campaign_history(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """The mailing contact's card lists the campaigns sent to it, with the status."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia",))
    campaign_id = _campaign_id(_new_campaign(owner_client, setup, subject="Wiosenna promocja"))
    owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""})
    _send(app)
    page = owner_client.get(f"/contacts/{setup.contact_ids['Zofia']}/card/campaigns/fragment").get_data(as_text=True)
    rows = table_rows(page, "#card-campaigns table")
    assert len(rows) == 1 and rows[0][0] == "Wiosenna promocja" and rows[0][2] == "Wysłana"


def test_tags_narrow_the_audience_and_report_per_tag(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """With a tag only its contacts get the campaign; the report has a line for the tag."""
    from tests.integration.campaign_fixtures import make_tag, tag_contact

    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia", "Łukasz"))
    vip = make_tag(app, company_id, "VIP")
    tag_contact(app, company_id, setup.contact_ids["Zofia"], vip)
    campaign_id = _campaign_id(_new_campaign(owner_client, setup, tag_ids=[str(vip)]))
    owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""})
    assert _send(app) == 1
    assert len(mail_servers.messages(setup.people["Zofia"])) == 1
    assert mail_servers.messages(setup.people["Łukasz"]) == []
    page = owner_client.get(f"/emailing/{campaign_id}").get_data(as_text=True)
    assert table_rows(page, "#report-table")[-1] == ["Tag: VIP", "1", "0", "0", "0"]


def test_campaigns_of_another_company_are_invisible(app: Any, owner_client: Any, make_company: Any,
                                                     mail_servers: Any) -> None:
    """Company B's user gets 404 on A's campaign pages and actions, sees none in the list, cannot use A's base."""
    company_a = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_a, names=("Zofia",))
    campaign_id = _campaign_id(_new_campaign(owner_client, setup, subject="Tylko dla firmy A"))
    assert owner_client.get(f"/emailing/{campaign_id}").status_code == 200
    assert "Tylko dla firmy A" in owner_client.get("/emailing/").get_data(as_text=True)

    other = make_company("Firma B")
    b = app.test_client()
    login(b, other["email"])
    for url in (f"/emailing/{campaign_id}", f"/emailing/{campaign_id}/edit", f"/emailing/{campaign_id}/progress"):
        assert b.get(url).status_code == 404, url
    for action in ("send", "test", "pause", "resume", "cancel", "delete", "edit"):
        assert b.post(f"/emailing/{campaign_id}/{action}", data={"subject": "x"}).status_code == 404, action
    assert "Tylko dla firmy A" not in b.get("/emailing/").get_data(as_text=True)
    form = b.get("/emailing/new").get_data(as_text=True)
    assert str(setup.base_id) not in [o.get("value") for o in find(form, "select[name=base_ids] option")]
    resp = b.post("/emailing/new", data={"base_ids": [str(setup.base_id)], "subject": "Cudza baza",
                                         "body_html": "<p>treść</p>", "mailbox_id": str(setup.mailbox_id)})
    assert resp.status_code == 200
    assert "Wybierz bazy mailingowe z listy." in texts(resp.get_data(as_text=True), ".help-block.error")
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(Campaign.subject)).all() == ["Tylko dla firmy A"]
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "draft"
        db.session.remove()
    with app.app_context(), tenant_scope(other["company_id"]):
        assert svc.audience(other["company_id"], [setup.base_id], []).count == 0
        db.session.remove()


def test_send_test_to_me(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """"Wyślij test do mnie" sends one message with sample personal fields to the signed-in user, now."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia",))
    mail_servers.swallow(owner_client.crm["email"])
    campaign_id = _campaign_id(_new_campaign(owner_client, setup))
    resp = owner_client.post(f"/emailing/{campaign_id}/test", follow_redirects=True)
    assert f"Wiadomość testowa została wysłana na adres {owner_client.crm['email']}." in resp.get_data(as_text=True)
    assert [m["To"] for m in mail_servers.accepted] == [owner_client.crm["email"]]
    msg = mail_servers.accepted[0]
    assert msg["Subject"] == "Nowości dla Jan – żółta kartka"
    assert "To jest wiadomość testowa kampanii." in msg.get_body(("plain",)).get_content()
    assert msg["List-Unsubscribe"] is None
    assert mail_servers.messages(setup.people["Zofia"]) == []
    with app.app_context(), tenant_scope(company_id):
        assert db.session.get(Campaign, campaign_id).status == "draft"
        assert db.session.scalars(select(CampaignRecipient)).all() == []
        db.session.remove()


def test_uploaded_image_is_public_and_checked(app: Any, owner_client: Any) -> None:
    """An uploaded PNG gets a public address any mail client can load; other files are refused in Polish."""
    import io

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    resp = owner_client.post("/emailing/image", data={"file": (io.BytesIO(png), "logo.png")},
                             content_type="multipart/form-data")
    assert resp.status_code == 200
    url = resp.get_json()["url"]
    assert url.startswith("http://localhost/m/i/")
    public = app.test_client().get(url.replace("http://localhost", ""))
    assert (public.status_code, public.mimetype, public.data) == (200, "image/png", png)
    bad = owner_client.post("/emailing/image", data={"file": (io.BytesIO(b"<svg onload=x>"), "x.svg")},
                            content_type="multipart/form-data")
    assert (bad.status_code, bad.get_json()) == (400, {"error": "Do kampanii można wstawić tylko obrazki PNG, JPEG i GIF."})
    assert app.test_client().get("/m/i/nie-ma-takiego").status_code == 404


def _plan_limit(app: Any, **limits: Any) -> None:
    """Change the limits of AppLarge, whose limits the free licence has."""
    from app.models.billing import Plan

    with app.app_context():
        plan = db.session.execute(select(Plan).where(Plan.code == "applarge")).scalar_one()
        for key, value in limits.items():
            setattr(plan, key, value)
        db.session.commit()
        db.session.remove()


def test_the_plans_monthly_email_limit_refuses_a_campaign_that_would_pass_it(
    app: Any, owner_client: Any, mail_servers: Any
) -> None:
    """Three e-mails a month: a campaign to two goes, the next to two is refused naming the plan; nothing queued."""
    company_id = owner_client.crm["company_id"]
    _plan_limit(app, max_emails_month=3)
    setup = setup_company(app, mail_servers, company_id)
    first = _campaign_id(_new_campaign(owner_client, setup))
    assert owner_client.post(f"/emailing/{first}/send", data={"send_at": ""}).status_code == 302
    _send(app)
    assert {r.status for r in _rows(app, company_id, first).values()} == {"sent"}
    second = _campaign_id(_new_campaign(owner_client, setup, subject="Druga"))
    resp = owner_client.post(f"/emailing/{second}/send", data={"send_at": ""}, follow_redirects=True)
    assert "Osiągnięto limit „E-maile miesięcznie”: najwyżej 3" in resp.get_data(as_text=True)
    assert "AppLarge+" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(company_id):
        assert db.session.get(Campaign, second).status == "draft"
        db.session.remove()
    _send(app)
    assert _rows(app, company_id, second) == {}
    assert sum(len(mail_servers.messages(u)) for u in setup.people.values()) == 2


def test_a_company_whose_licence_ran_out_sends_nothing_until_it_is_extended(
    app: Any, owner_client: Any, mail_servers: Any
) -> None:
    """Sending stops with the licence: the rows wait queued, and go out once the licence is extended."""
    from app.models.company import Company

    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id)
    campaign_id = _campaign_id(_new_campaign(owner_client, setup))
    assert owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""}).status_code == 302

    def licence_until(day: dt.date) -> None:
        with app.app_context(), all_tenants():
            db.session.get(Company, company_id).licence_valid_until = day
            db.session.commit()
            db.session.remove()

    licence_until(dt.date.today() - dt.timedelta(days=1))
    _send(app)
    assert {r.status for r in _rows(app, company_id, campaign_id).values()} == {"queued"}
    assert sum(len(mail_servers.messages(u)) for u in setup.people.values()) == 0
    licence_until(dt.date.today() + dt.timedelta(days=30))
    _send(app)
    assert {r.status for r in _rows(app, company_id, campaign_id).values()} == {"sent"}
    assert sum(len(mail_servers.messages(u)) for u in setup.people.values()) == 2
