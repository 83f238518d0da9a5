"""The mailbox transport against the real test servers: SMTP (SSL and STARTTLS) and IMAP sessions."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from app.models.mailing import Mailbox
from app.services import secrets as secrets_at_rest
from app.services.mailing import transport
from tests.mailservers import HOST, MailServers, MailUser


def _mailbox(servers: MailServers, user: MailUser, smtp: str = "ssl", imap: str = "ssl") -> Mailbox:
    return Mailbox(
        email=user.email, sender_name="Biuro Łódź", login=user.email,
        password_encrypted=secrets_at_rest.encrypt(user.password),
        smtp_host=HOST, smtp_port=servers.smtps_port if smtp == "ssl" else servers.smtp_port, smtp_security=smtp,
        imap_host=HOST, imap_port=servers.imaps_port if imap == "ssl" else servers.imap_port, imap_security=imap,
    )


@pytest.mark.parametrize(("smtp", "imap"), [("ssl", "ssl"), ("starttls", "starttls")])
def test_message_sent_over_smtp_is_found_over_imap(ctx: Any, mail_servers: MailServers, smtp: str, imap: str) -> None:
    user = mail_servers.add_user()
    box = _mailbox(mail_servers, user, smtp, imap)
    msg = transport.new_message(box, user.email, "Zażółć gęślą jaźń", "Treść", [("oferta.pdf", b"%PDF-1.4", "application/pdf")])
    with transport.smtp_session(box, timeout=5) as smtp_conn:
        smtp_conn.send_message(msg)
    with transport.imap_session(box, timeout=5) as imap_conn:
        imap_conn.select_folder("INBOX", readonly=True)
        assert len(imap_conn.search("ALL")) == 1
    received = mail_servers.wait_for_messages(user)
    assert received[0]["Subject"] == "Zażółć gęślą jaźń"
    assert received[0]["Message-ID"].endswith("@skrzynki-testowe.pl>")
    assert str(received[0]["From"]) == f"Biuro Łódź <{user.email}>"
    assert [p.get_filename() for p in received[0].iter_attachments()] == ["oferta.pdf"]


def test_untrusted_certificate_is_refused(ctx: Any, mail_servers: MailServers, monkeypatch: Any) -> None:
    monkeypatch.setitem(ctx.config, "CRM_MAIL_CA_FILE", "")
    box = _mailbox(mail_servers, mail_servers.add_user())
    with pytest.raises(ssl.SSLCertVerificationError), transport.smtp_session(box, timeout=5):
        pass


def test_refusals_of_the_real_server_are_classified_for_retries(ctx: Any, mail_servers: MailServers) -> None:
    import smtplib

    user = mail_servers.add_user()
    box = _mailbox(mail_servers, user)
    refused = mail_servers.add_user()
    mail_servers.refuse_recipient(refused.email)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught, transport.smtp_session(box, timeout=5) as smtp:
        smtp.send_message(transport.new_message(box, refused.email, "Temat", "Treść"))
    assert transport.smtp_error_code(caught.value) == transport.RECIPIENT_REFUSED
    assert transport.is_temporary(caught.value) is False
    mail_servers.refuse_sender(user.email)
    with pytest.raises(smtplib.SMTPSenderRefused) as sender, transport.smtp_session(box, timeout=5) as smtp:
        smtp.send_message(transport.new_message(box, user.email, "Temat", "Treść"))
    assert transport.is_temporary(sender.value) is False
    assert transport.smtp_error_code(sender.value) == transport.SENDING_REFUSED
    assert transport.smtp_error_code(smtplib.SMTPDataError(451, b"4.3.0 try again later")) == transport.TEMPORARY_FAILURE
    assert transport.is_temporary(smtplib.SMTPResponseException(451, b"4.3.0 try again later")) is True
    assert transport.is_temporary(smtplib.SMTPRecipientsRefused({"a@b.pl": (450, b"mailbox busy")})) is True
    assert transport.is_temporary(ConnectionRefusedError()) is True
    with pytest.raises(smtplib.SMTPAuthenticationError) as login_refused:
        with transport.smtp_session(_mailbox(mail_servers, MailUser(user.email, "zle-haslo")), timeout=5):
            pass
    assert transport.smtp_error_code(login_refused.value) == transport.SMTP_LOGIN_REFUSED
    assert transport.is_temporary(login_refused.value) is False


def test_a_server_without_starttls_is_refused_not_used_in_clear(ctx: Any, mail_servers: MailServers) -> None:
    from aiosmtpd.controller import Controller

    from tests.mailservers import free_port

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(envelope.content)
            return "250 OK"

    port = free_port()
    plain = Controller(Handler(), hostname=HOST, port=port)
    plain.start()
    try:
        user = mail_servers.add_user()
        box = _mailbox(mail_servers, user, smtp="starttls")
        box.smtp_port = port
        with pytest.raises(transport.TlsNotOffered) as caught, transport.smtp_session(box, timeout=5) as smtp:
            smtp.send_message(transport.new_message(box, user.email, "Temat", "Treść"))
    finally:
        plain.stop()
    assert transport.smtp_error_code(caught.value) == transport.TLS_ERROR
    assert transport.is_temporary(caught.value) is False
    assert received == []
