"""Platform SMTP adapter: sends system e-mail (invitations, resets, reminders)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app


def mail_configured() -> bool:
    """True when the platform has an SMTP server configured."""
    return bool(current_app.config.get("MAIL_SERVER"))


def send_mail(
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Send one message through the platform's SMTP server (STARTTLS when configured).

    ``attachments`` are (file name, bytes, MIME type) triples.
    """
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg.get("MAIL_DEFAULT_SENDER", "Klientela <no-reply@localhost>")
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, data, mime in attachments or ():
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    host, port = cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT", 25))
    with smtplib.SMTP(host, port, timeout=20) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            ctx = ssl.create_default_context()
            if cfg.get("MAIL_TLS_INSECURE"):
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            smtp.starttls(context=ctx)
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD", ""))
        smtp.send_message(msg)
