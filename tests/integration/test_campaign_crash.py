"""Crash safety: the sending process is killed for real (SIGKILL) in the middle of a campaign and started
again; every recipient gets the message exactly once (counted in the real mailboxes)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.campaigns import CampaignRecipient
from app.security.tenancy import tenant_scope
from tests.integration.campaign_fixtures import setup_company

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2
#: the scheduler's job function, run in its own process as `flask crm scheduler` would run it
SENDER = """
from config import TestingConfig
from app import create_app, scheduler
app = create_app(TestingConfig)
scheduler.bind_app(app)
scheduler.send_campaigns()
"""

NAMES = ("Anna", "Beata", "Celina", "Dorota", "Ewa", "Felicja", "Grażyna", "Halina", "Irena", "Jolanta")


def _start_sender(app: Any, servers: Any) -> subprocess.Popen:
    env = dict(os.environ, TEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], CRM_MAIL_CA_FILE=servers.ca_file,
               CRM_CAMPAIGN_LEASE_SECONDS=str(LEASE_SECONDS), CRM_CAMPAIGN_BATCH_SIZE="50")
    return subprocess.Popen([sys.executable, "-c", SENDER], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _statuses(app: Any, company_id: int) -> Counter:
    with app.app_context(), tenant_scope(company_id):
        found = Counter(db.session.scalars(select(CampaignRecipient.status)))
        db.session.remove()
    return found


def test_killed_sender_restarts_without_duplicates_or_gaps(app: Any, owner_client: Any, mail_servers: Any) -> None:
    """SIGKILL while the SMTP server holds the 6th message; after a restart all 10 arrive, each once."""
    company_id = owner_client.crm["company_id"]
    setup = setup_company(app, mail_servers, company_id, names=NAMES)
    resp = owner_client.post("/emailing/new", data={
        "base_ids": [str(setup.base_id)], "mailbox_id": str(setup.mailbox_id), "subject": "Promocja dla {imie}",
        "body_html": "<p>Dzień dobry {imie}!</p>"})
    campaign_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert owner_client.post(f"/emailing/{campaign_id}/send", data={"send_at": ""}).status_code == 302

    # the server holds the RCPT of the 6th recipient until the sender is dead (the sender waits for it)
    blocked = setup.people[NAMES[5]].email
    handler = mail_servers._controllers[0].handler  # the STARTTLS listener the mailbox uses
    original = handler.handle_RCPT
    reached, release = threading.Event(), threading.Event()

    async def holding_rcpt(server: Any, session: Any, envelope: Any, address: str, options: list) -> str:
        if address.lower() == blocked and not release.is_set():
            reached.set()
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 60)
        return await original(server, session, envelope, address, options)

    handler.handle_RCPT = holding_rcpt
    first = _start_sender(app, mail_servers)
    try:
        assert reached.wait(90), first.stderr.read().decode() if first.poll() is not None else "sender stuck"
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        release.set()
        handler.handle_RCPT = original
        if first.poll() is None:
            first.kill()

    assert len(mail_servers.accepted) == 5
    before = _statuses(app, company_id)
    assert before == Counter({"sent": 5, "sending": 5})  # killed mid-campaign: five rows hold a lease

    time.sleep(LEASE_SECONDS + 1)  # the dead sender's lease runs out
    second = _start_sender(app, mail_servers)
    assert second.wait(120) == 0, second.stderr.read().decode()
    assert _statuses(app, company_id) == Counter({"sent": 10})

    per_recipient = {name: mail_servers.wait_for_messages(user, 1) for name, user in setup.people.items()}
    time.sleep(0.5)  # give a (wrong) second copy the time to arrive
    per_recipient = {name: mail_servers.messages(user) for name, user in setup.people.items()}
    assert {name: len(msgs) for name, msgs in per_recipient.items()} == {name: 1 for name in NAMES}
    assert {name: str(msgs[0]["Subject"]) for name, msgs in per_recipient.items()} == {
        name: f"Promocja dla {name}" for name in NAMES}
    assert len(mail_servers.accepted) == 10
    assert len({m["Message-ID"] for m in mail_servers.accepted}) == 10
