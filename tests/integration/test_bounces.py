"""Bounces: delivery reports (RFC 3464) arriving in the company mailbox's IMAP inbox (dovecot) are read by
the scheduler's job; a hard bounce marks the address and the recipient, later campaigns skip it."""

from __future__ import annotations

from typing import Any

from imapclient import IMAPClient
from sqlalchemy import select

from app.extensions import db
from app.models.campaigns import CampaignRecipient, MailSuppression
from app.security.tenancy import tenant_scope
from app.services.mailing import bounces
from app.services.mailing import campaigns as svc
from tests.helpers import text
from tests.integration.campaign_fixtures import setup_company
from tests.integration.test_unsubscribe import _send_campaign


def _dsn(to: str, failed: str, status: str, diagnostic: str, message_id: str) -> bytes:
    """A delivery status notification as Postfix writes it."""
    return f"""From: MAILER-DAEMON@mx.odbiorca.pl (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="GRANICA"

--GRANICA
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.odbiorca.pl.
I'm sorry to have to inform you that your message could not be delivered.

--GRANICA
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.odbiorca.pl
Arrival-Date: Mon, 30 Nov 2026 09:00:00 +0100

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: failed
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--GRANICA
Content-Type: text/rfc822-headers

Message-ID: {message_id}
From: biuro@hurtownia-zolw.pl
To: {failed}
Subject: Kampania

--GRANICA--
""".replace("\n", "\r\n").encode()


def _unseen(servers: Any, user: Any) -> int:
    with IMAPClient("127.0.0.1", port=servers.imaps_port, ssl=True, ssl_context=servers.client_tls()) as imap:
        imap.login(user.email, user.password)
        imap.select_folder("INBOX", readonly=True)
        return len(imap.search(["UNSEEN"]))


def test_hard_bounce_marks_address_and_later_campaigns_skip_it(app: Any, owner_client: Any,
                                                               mail_servers: Any) -> None:
    """5.1.1 marks the address and the row (with the diagnostic); 4.2.2 changes nothing; other mail stays unread."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=("Zofia", "Łukasz"))
    campaign_id = _send_campaign(app, owner_client, setup, "Kampania")
    with app.app_context(), tenant_scope(company_id):
        ids = {r.email: r.message_id for r in db.session.scalars(select(CampaignRecipient))}
        db.session.remove()
    zofia, lukasz = setup.people["Zofia"].email, setup.people["Łukasz"].email
    inbox = setup.sender.email
    mail_servers.deliver("", [inbox], _dsn(inbox, zofia, "5.1.1",
                                           "550 5.1.1 Recipient address rejected: User unknown", ids[zofia]))
    mail_servers.deliver("", [inbox], _dsn(inbox, lukasz, "4.2.2", "452 4.2.2 Mailbox full", ids[lukasz]))
    mail_servers.deliver("klient@firma.pl", [inbox], b"From: klient@firma.pl\r\nTo: " + inbox.encode()
                         + b"\r\nSubject: Pytanie\r\n\r\nCzy macie to w ofercie?\r\n")
    mail_servers.wait_for_messages(setup.sender, 3)

    with app.app_context():
        assert bounces.check_all() == 1
        assert bounces.check_all() == 0  # each report is read once
    assert _unseen(mail_servers, setup.sender) == 1  # the customer's question is left for people to read

    with app.app_context(), tenant_scope(company_id):
        rows = {r.email: r for r in db.session.scalars(select(CampaignRecipient))}
        assert rows[zofia].status == "bounced"
        assert rows[zofia].last_error == "5.1.1 smtp; 550 5.1.1 Recipient address rejected: User unknown"
        assert rows[lukasz].status == "sent"
        assert db.session.execute(select(MailSuppression.email, MailSuppression.reason)).all() == [(zofia, "bounced")]
        audience = svc.audience(company_id, [setup.base_id], [])
        assert (audience.count, audience.excluded) == (1, {"no_email": 1, "bounced": 1})
        db.session.remove()
    page = owner_client.get(f"/emailing/{campaign_id}").get_data(as_text=True)
    assert text(page, "#report-table tr[data-kind=total] td:nth-of-type(3)") == "1"
    assert text(page, "#report-table tr[data-kind=total] td:nth-of-type(1)") == "2"

    _send_campaign(app, owner_client, setup, "Następna")
    assert [m["Subject"] for m in mail_servers.messages(setup.people["Zofia"])] == ["Kampania"]
    assert [m["Subject"] for m in mail_servers.wait_for_messages(setup.people["Łukasz"], 2)] == ["Kampania",
                                                                                                 "Następna"]


def test_parse_reads_status_and_diagnostic() -> None:
    """The RFC 3464 fields are read per failed recipient, with the original Message-ID."""
    found = bounces.parse(_dsn("biuro@hurtownia-zolw.pl", "Ala@Odbiorca.pl", "5.7.1", "550 5.7.1 Blocked",
                               "<abc.klientela@hurtownia-zolw.pl>"))
    assert found == [bounces.Bounce("ala@odbiorca.pl", "5.7.1", "smtp; 550 5.7.1 Blocked",
                                    "<abc.klientela@hurtownia-zolw.pl>")]
    assert found[0].hard
    assert bounces.parse(b"From: a@b.pl\r\nSubject: zwykla\r\n\r\ntresc\r\n") == []
