"""Real mail servers for tests on 127.0.0.1: dovecot (IMAP, IMAPS, LMTP) and aiosmtpd delivering into it.

``MailServers.start()`` creates a temporary folder with a self-signed certificate (``ca_file``,
valid for 127.0.0.1 and localhost), starts Debian's dovecot unprivileged there (as ``nobody``
through ``runuser`` when run as root, as the current user otherwise) and two SMTP listeners:
``smtp_port`` (STARTTLS, AUTH LOGIN/PLAIN after TLS) and ``smtps_port`` (implicit TLS, AUTH
LOGIN/PLAIN). Every message the SMTP server accepts is delivered to dovecot over LMTP, so it can
be found over IMAP. All ports are free ports chosen at start.

Tests add fresh users with ``add_user()`` and can make the SMTP server refuse a login
(``refuse_login``) or accept a password the IMAP server refuses (``accept_smtp_login``), a sender (``refuse_sender``) or a recipient (``refuse_recipient``), or accept
a recipient's messages without delivering them (``swallow``); ``reset()`` undoes those.
"""

from __future__ import annotations

import asyncio
import email
import grp
import itertools
import os
import pwd
import secrets
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient

HOST = "127.0.0.1"
DOVECOT = "/usr/sbin/dovecot"
#: users written before dovecot starts (handed out one per add_user() call)
POOL_SIZE = 300

DOVECOT_CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    port = {lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port}")


@dataclass
class MailUser:
    """A mailbox on the test servers: its address (also its login) and password."""

    email: str
    password: str


@dataclass
class _Rules:
    """What the SMTP server refuses or swallows (lower-case addresses and logins)."""

    refused_logins: set[str] = field(default_factory=set)
    refused_senders: set[str] = field(default_factory=set)
    refused_recipients: set[str] = field(default_factory=set)
    swallowed: set[str] = field(default_factory=set)
    #: extra passwords the SMTP server (not the IMAP server) accepts, by login
    smtp_passwords: dict[str, str] = field(default_factory=dict)


class _Handler:
    """aiosmtpd handler: applies the rules and delivers accepted messages over LMTP."""

    def __init__(self, servers: MailServers) -> None:
        self.servers = servers

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, mail_options: list) -> str:  # noqa: N802
        if address.lower() in self.servers.rules.refused_senders:
            return "553 5.7.1 Sender address rejected: not owned by user"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list) -> str:  # noqa: N802
        if address.lower() in self.servers.rules.refused_recipients:
            return "550 5.7.1 Recipient address rejected: access denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        targets = [r for r in envelope.rcpt_tos if r.lower() not in self.servers.rules.swallowed]
        content = envelope.original_content or envelope.content
        self.servers.accepted.append(email.message_from_bytes(content, policy=email_policy.default))
        if targets:
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(None, self.servers.deliver, envelope.mail_from, targets, content)
            except (smtplib.SMTPException, OSError) as exc:
                return f"451 4.3.0 Delivery failed: {exc}"
        return "250 2.0.0 OK queued"


class _ImplicitTlsController(Controller):
    """The SMTPS listener: TLS from the first byte, so AUTH needs no STARTTLS (aiosmtpd cannot tell)."""

    def factory(self) -> Any:
        """Create the per-connection SMTP protocol without aiosmtpd's "AUTH without TLS" warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().factory()


class MailServers:
    """dovecot + aiosmtpd on free ports of 127.0.0.1, in a temporary folder."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="crm-mail-"))
        self.ca_file = str(self.dir / "cert.pem")
        self.rules = _Rules()
        #: every message the SMTP server accepted (delivered or swallowed), oldest first
        self.accepted: list[EmailMessage] = []
        self._controllers: list[Controller] = []
        self._counter = itertools.count(1)
        self._pool: list[MailUser] = []
        self._as_root = os.geteuid() == 0
        self._run_user = "nobody" if self._as_root else pwd.getpwuid(os.geteuid()).pw_name
        entry = pwd.getpwnam(self._run_user)
        self._uid, self._gid = entry.pw_uid, entry.pw_gid
        self._group = grp.getgrgid(self._gid).gr_name
        self.imap_port = self.imaps_port = self.lmtp_port = self.smtp_port = self.smtps_port = 0

    # --- start and stop -------------------------------------------------------------------
    def start(self) -> MailServers:
        """Start dovecot and both SMTP listeners; return self."""
        self._make_certificate()
        self._start_dovecot()
        self._start_smtp()
        return self

    def _make_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(self.dir / "key.pem"), "-out", self.ca_file],
            check=True, capture_output=True,
        )

    def _start_dovecot(self) -> None:
        d = self.dir
        self.imap_port, self.imaps_port, self.lmtp_port = free_port(), free_port(), free_port()
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir()
        (d / "passwd").write_text("")
        self._pool = [self._new_user() for _ in range(POOL_SIZE)]
        self._write_users(self._pool)
        (d / "dovecot.conf").write_text(DOVECOT_CONF.format(
            d=d, user=self._run_user, group=self._group,
            imap_port=self.imap_port, imaps_port=self.imaps_port, lmtp_port=self.lmtp_port,
        ))
        if self._as_root:
            for path in [d, *d.rglob("*")]:
                os.chown(path, self._uid, self._gid)
        cmd = [DOVECOT, "-c", str(d / "dovecot.conf")]
        if self._as_root:
            cmd = ["runuser", "-u", self._run_user, "--", *cmd]
        # dovecot forks into the background: its children must not hold a pipe of ours open
        with (d / "start.log").open("wb") as log:
            subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        for port in (self.imap_port, self.imaps_port, self.lmtp_port):
            _wait_for_port(port)

    def _server_tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.ca_file, str(self.dir / "key.pem"))
        return ctx

    def _start_smtp(self) -> None:
        handler = _Handler(self)
        self.smtp_port, self.smtps_port = free_port(), free_port()
        starttls = Controller(
            handler, hostname=HOST, port=self.smtp_port, server_hostname="mail.test",
            tls_context=self._server_tls(), require_starttls=True,
            authenticator=self._authenticate, auth_required=True, auth_require_tls=True,
        )
        implicit = _ImplicitTlsController(
            handler, hostname=HOST, port=self.smtps_port, server_hostname="mail.test",
            ssl_context=self._server_tls(),
            authenticator=self._authenticate, auth_required=True, auth_require_tls=False,
        )
        for ctl in (starttls, implicit):
            ctl.start()
            self._controllers.append(ctl)

    def stop(self) -> None:
        """Stop the SMTP listeners and dovecot; remove the folder."""
        for ctl in self._controllers:
            ctl.stop()
        self._controllers.clear()
        pid_file = self.dir / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and pid_file.exists():
                time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- SMTP side ------------------------------------------------------------------------
    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if login.lower() in self.rules.refused_logins:
            return AuthResult(success=False, handled=False)
        if password not in (self.password_of(login), self.rules.smtp_passwords.get(login.lower())):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True)

    def deliver(self, sender: str, recipients: list[str], content: bytes) -> None:
        """Hand one message to dovecot over LMTP (what the SMTP server does with accepted mail)."""
        with smtplib.LMTP(HOST, self.lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(sender, recipients, content)

    # --- users and rules ------------------------------------------------------------------
    def _write_users(self, users: list[MailUser]) -> None:
        with (self.dir / "passwd").open("a", encoding="utf-8") as fh:
            for user in users:
                home = self.dir / "mail" / user.email
                fh.write(f"{user.email}:{{PLAIN}}{user.password}:{self._uid}:{self._gid}::{home}\n")

    def _new_user(self, email_address: str | None = None, password: str | None = None) -> MailUser:
        n = next(self._counter)
        address = (email_address or f"skrzynka{n}-{secrets.token_hex(3)}@skrzynki-testowe.pl").lower()
        return MailUser(address, password or f"Haslo-{secrets.token_hex(6)}")

    def add_user(self, email_address: str | None = None, password: str | None = None) -> MailUser:
        """A fresh mailbox user (address = login) with a password.

        Without arguments it comes from the users written at start; a chosen address or password
        is written now, and the call waits until dovecot (which re-reads its user file at most
        once a second) lets it log in.
        """
        if email_address is None and password is None and self._pool:
            return self._pool.pop()
        user = self._new_user(email_address, password)
        self._write_users([user])
        deadline = time.monotonic() + 5
        while True:
            try:
                self.messages(user)
                return user
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def password_of(self, login: str) -> str | None:
        """The password of a user added with ``add_user`` (None for an unknown login)."""
        for line in (self.dir / "passwd").read_text(encoding="utf-8").splitlines():
            name, _, rest = line.partition(":")
            if name == login.lower():
                return rest.split(":", 1)[0].removeprefix("{PLAIN}")
        return None

    def refuse_login(self, login: str) -> None:
        """Make the SMTP server refuse this login (even with the right password)."""
        self.rules.refused_logins.add(login.lower())

    def refuse_sender(self, address: str) -> None:
        """Make the SMTP server refuse MAIL FROM this address (553)."""
        self.rules.refused_senders.add(address.lower())

    def refuse_recipient(self, address: str) -> None:
        """Make the SMTP server refuse RCPT TO this address (550)."""
        self.rules.refused_recipients.add(address.lower())

    def accept_smtp_login(self, login: str, password: str) -> None:
        """Make the SMTP server (only) accept this password for the login too; IMAP still refuses it."""
        self.rules.smtp_passwords[login.lower()] = password

    def swallow(self, address: str) -> None:
        """Accept messages to this address but never deliver them."""
        self.rules.swallowed.add(address.lower())

    def reset(self) -> None:
        """Forget every refusal rule and the list of accepted messages."""
        self.rules = _Rules()
        self.accepted.clear()

    # --- IMAP side ------------------------------------------------------------------------
    def client_tls(self) -> ssl.SSLContext:
        """A client TLS context that trusts the servers' certificate."""
        return ssl.create_default_context(cafile=self.ca_file)

    def messages(self, user: MailUser, folder: str = "INBOX") -> list[EmailMessage]:
        """Every message in a user's folder, read over IMAPS (oldest first)."""
        with IMAPClient(HOST, port=self.imaps_port, ssl=True, ssl_context=self.client_tls(), timeout=10) as client:
            if user.password.isascii():
                client.login(user.email, user.password)
            else:
                client.plain_login(user.email, user.password)
            client.select_folder(folder, readonly=True)
            ids = client.search("ALL")
            data = client.fetch(ids, ["RFC822"]) if ids else {}
            return [
                email.message_from_bytes(data[i][b"RFC822"], policy=email_policy.default)  # type: ignore[misc]
                for i in sorted(data)
            ]

    def wait_for_messages(self, user: MailUser, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The user's messages once at least ``count`` arrived (or what is there after ``timeout``)."""
        deadline = time.monotonic() + timeout
        found = self.messages(user)
        while len(found) < count and time.monotonic() < deadline:
            time.sleep(0.1)
            found = self.messages(user)
        return found


def active_mailbox(app: Any, company_id: int, owner_id: int, servers: MailServers, user: MailUser | None = None) -> tuple[int, MailUser]:
    """A mailbox of the company on the test servers, saved and verified through the services: (its id, its user)."""
    from app.extensions import db
    from app.models.users import CrmUser
    from app.security.tenancy import tenant_scope
    from app.services.mailing import mailboxes, verification

    user = user or servers.add_user()
    with app.app_context(), tenant_scope(company_id):
        owner = db.session.get(CrmUser, owner_id)
        box = mailboxes.create_mailbox(company_id, owner, mailboxes.MailboxData(
            email=user.email, sender_name="Biuro", smtp_host=HOST, smtp_port=servers.smtps_port, smtp_security="ssl",
            imap_host=HOST, imap_port=servers.imaps_port, imap_security="ssl", login=user.email, password=user.password))
        box_id = box.id
        verification.start_verification(company_id, owner, box_id)
        code = verification.run_verification(company_id, box_id)
        db.session.remove()
    assert code is None, code
    return box_id, user
