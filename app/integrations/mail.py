"""Platform SMTP adapter: sends system e-mail (invitations, resets, reminders)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from concurrent.futures import Future, ThreadPoolExecutor, wait
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app

log = logging.getLogger(__name__)
_EXECUTOR: ThreadPoolExecutor | None = None
_PENDING: set[Future] = set()


def mail_configured() -> bool:
    """True when the platform can send: an SMTP server, or (development) the mail folder."""
    return bool(current_app.config.get("MAIL_SERVER") or current_app.config.get("MAIL_FOLDER"))


def _save_to_folder(msg: EmailMessage, folder: str) -> Path:
    """Development without SMTP: keep the message as an .eml file and show it in the console."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{dt.datetime.now(dt.timezone.utc):%Y%m%d-%H%M%S-%f}.eml"
    path.write_bytes(bytes(msg))
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    log.warning("E-mail to %s saved as %s (no MAIL_SERVER)\nSubject: %s\n%s", msg["To"], path, msg["Subject"], text)
    return path


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
    if not cfg.get("MAIL_SERVER") and cfg.get("MAIL_FOLDER"):
        _save_to_folder(msg, cfg["MAIL_FOLDER"])
        return
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


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
    return _EXECUTOR


def _deliver(app: Flask, to: str | None, subject: str, body: str) -> bool:
    """Background side of ``send_later``: send (or, without a recipient, do nothing); never raise."""
    if to is None:
        return False
    with app.app_context():
        try:
            send_mail(to, subject, body)
        except Exception:
            log.exception("system e-mail to %s could not be sent", to)
            return False
    return True


def send_later(to: str | None, subject: str, body: str) -> Future:
    """Hand one message to a background sender and return at once (the request never waits on SMTP).

    ``to=None`` takes the same path and sends nothing: callers that must not reveal whether an
    address exists (password reset) answer in the same time either way. A failure is logged.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    future = _executor().submit(_deliver, app, to, subject, body)
    _PENDING.add(future)
    future.add_done_callback(_PENDING.discard)
    return future


def drain(timeout: float = 30.0) -> bool:
    """Wait until every message handed to ``send_later`` so far is sent; False on timeout."""
    _done, not_done = wait(list(_PENDING), timeout=timeout)
    return not not_done
