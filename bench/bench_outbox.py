"""Benchmark: campaign outbox throughput to a local SMTP server, memory during the run, recipient-list build time.

    .venv/bin/python bench/bench_outbox.py --db sqlite|postgresql [--recipients 10000] [--list-contacts 300000]

1. Sending: a mailing base of ``--recipients`` contacts (each with an address and a consent), one
   campaign, throttling off (the mailbox's rate and daily cap 0). The real sender
   (``app/services/mailing/outbox.py``: claim with a lease, personalise, send, commit per message)
   sends to a local aiosmtpd on 127.0.0.1 (its own process) with implicit TLS and AUTH that counts
   what it accepts.
   Prints messages a second (the target is at least 100), p50/p95 of the time per batch and per
   message, and the process's RSS sampled every 0.2 s during the run (start, peak, end, and the
   spread over the second half, which should be flat).
2. Recipient list: a mailing base of ``--list-contacts`` contacts; times the recipient rule alone
   (``campaigns.choose``: the query, consent, suppression and de-duplication; p50/p95 over 5 runs)
   and the whole list build (``outbox.build_list``: the rule plus writing one outbox row per
   recipient, one transaction).

Every run uses a fresh database migrated with Alembic (a SQLite file in a temporary folder or a
throwaway PostgreSQL cluster from tests/pg.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_PER_SECOND = 100.0


def rss_mb() -> float:
    """This process's resident memory in MB (from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """Samples the RSS every ``interval`` seconds until stopped."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._stop_event.is_set():
            self.samples.append(rss_mb())
            time.sleep(self.interval)

    def stop(self) -> list[float]:
        """Stop and return the samples."""
        self._stop_event.set()
        self.join()
        return self.samples


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _serve_smtp(cert: str, key: str, port: int, count: Any, ready: Any) -> None:
    """The SMTP server process: implicit TLS, AUTH, counts accepted messages in ``count``."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with count.get_lock():
                count.value += 1
            return "250 OK"

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"biuro@hurtownia-zolw.pl" and data.password == b"haslo"
        return AuthResult(success=ok)

    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, ssl_context=ctx, authenticator=auth,
                     auth_required=True, auth_require_tls=False)
    ctl.start()
    ready.set()
    threading.Event().wait()


def start_smtp(folder: Path) -> tuple[Any, Any, int, str]:
    """aiosmtpd in its own process (it does not share the sender's CPU time); (process, counter, port, CA file)."""
    import multiprocessing
    import socket

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp = multiprocessing.get_context("spawn")
    count, ready = mp.Value("i", 0), mp.Event()
    proc = mp.Process(target=_serve_smtp, args=(str(cert), str(key), port, count, ready), daemon=True)
    proc.start()
    ready.wait(30)
    return proc, count, port, str(cert)


def make_app(url: str, ca_file: str) -> Any:
    """The app on a freshly migrated database."""
    os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-"))
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SERVER_NAME = None
        CRM_MAIL_CA_FILE = ca_file
        CAMPAIGN_BATCH_SIZE = 50

    from flask_migrate import upgrade

    from app import MIGRATIONS_DIR, create_app
    from app.extensions import appbuilder
    from app.security.sync import sync_roles

    app = create_app(Config)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="heads")
        sync_roles(appbuilder)
    return app


def make_company(app: Any, label: str, smtp_port: int) -> tuple[int, Any, int]:
    """A company (owner), an active mailbox on the local server without limits; (company id, owner, mailbox id)."""
    from app.extensions import db
    from app.models.mailing import Mailbox
    from app.security.tenancy import tenant_scope
    from app.services import secrets
    from app.services.accounts import companies as tenancy
    from tests.helpers import make_nip

    with app.app_context():
        owner = tenancy.register_company(tenancy.SignupData(
            company_name=f"Bench {label}", nip=make_nip(sum(map(ord, label))), first_name="Jan", last_name="Bench",
            email=f"bench-{label}@example.pl", password="Zielony-Słoń-Tańczy-42!"))
        cid = owner.company_id
        with tenant_scope(cid):
            box = Mailbox(company_id=cid, email="biuro@hurtownia-zolw.pl", sender_name="Hurtownia Żółw",
                          smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="ssl", imap_host="127.0.0.1",
                          imap_port=993, imap_security="ssl", login="biuro@hurtownia-zolw.pl",
                          password_encrypted=secrets.encrypt("haslo"), state="active", rate_per_minute=0, daily_cap=0)
            db.session.add(box)
            db.session.commit()
            box_id = box.id
        owner_id = owner.id
        db.session.remove()
    return cid, owner_id, box_id


def fill_base(app: Any, company_id: int, name: str, n: int) -> int:
    """A mailing base with n contacts (address, consent, Polish names), inserted in batches; its id."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models.contacts import Contact
    from app.models.mixins import utcnow
    from app.security.tenancy import tenant_scope
    from app.services.contacts import bases

    first = ["Zofia", "Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Jędrzej", "Ewa", "Grzegorz"]
    with app.app_context(), tenant_scope(company_id):
        base_id = bases.create_base(company_id, name, "mailing").id
        now = utcnow()
        rows = []
        for i in range(n):
            fn, ln = first[i % len(first)], f"Kowalski{i % 997}"
            rows.append({"company_id": company_id, "base_id": base_id, "kind": "person", "name": f"{fn} {ln}",
                         "name_sort": f"{ln} {fn}".lower(), "first_name": fn, "last_name": ln,
                         "email": f"odbiorca{i}@firma{i % 50}.pl", "consent_given_at": now,
                         "consent_source": "Formularz", "created_at": now, "updated_at": now})
            if len(rows) == 5000:
                db.session.execute(insert(Contact), rows)
                rows = []
        if rows:
            db.session.execute(insert(Contact), rows)
        db.session.commit()
        db.session.remove()
    return base_id


def new_campaign(app: Any, company_id: int, owner_id: int, base_id: int, box_id: int) -> int:
    """A campaign to the base, scheduled for now; its id."""
    from app.extensions import db
    from app.models.users import CrmUser
    from app.security.tenancy import tenant_scope
    from app.services.mailing import campaigns

    body = ('<style>p { color: #333; }</style><p>Dzień dobry {imie},</p><p>nowe ceny w <b>Hurtowni Żółw</b>: '
            '<a href="https://example.pl/cennik">cennik</a></p><ul><li>płytki</li><li>kleje</li></ul>')
    with app.app_context(), tenant_scope(company_id):
        owner = db.session.get(CrmUser, owner_id)
        data = campaigns.CampaignData("Nowości dla {imie}", body, [base_id], [], box_id)
        campaign_id = campaigns.save_campaign(company_id, owner, None, data).id
        campaigns.schedule(company_id, campaign_id, None, "https://klientela.example.pl/m/u/{token}")
        db.session.remove()
    return campaign_id


def bench_sending(app: Any, smtp_port: int, count: Any, recipients: int) -> None:
    """Send a campaign of ``recipients`` messages with throttling off; print rate, latencies, memory."""
    from app.extensions import db
    from app.security.tenancy import tenant_scope
    from app.services.mailing import outbox

    cid, owner_id, box_id = make_company(app, "send", smtp_port)
    base_id = fill_base(app, cid, "Wysyłka", recipients)
    campaign_id = new_campaign(app, cid, owner_id, base_id, box_id)
    with app.app_context():
        t0 = time.perf_counter()
        outbox.start_due()
        build_s = time.perf_counter() - t0
        batch_s: list[float] = []
        sampler = Sampler()
        sampler.start()
        t1 = time.perf_counter()
        with tenant_scope(cid):
            while True:
                b0 = time.perf_counter()
                handled = outbox.drain_mailbox(cid, box_id, [campaign_id])
                if handled == 0:
                    break
                batch_s.append(time.perf_counter() - b0)
                db.session.remove()
            outbox._finish(cid, [campaign_id])
        send_s = time.perf_counter() - t1
        samples = sampler.stop()
        db.session.remove()
    rate = count.value / send_s
    per_msg = [b / 50 * 1000 for b in batch_s]
    half = samples[len(samples) // 2:]
    print(f"sending: {count.value} of {recipients} messages accepted by the SMTP server in {send_s:.1f} s "
          f"= {rate:,.0f} messages/s (target >= {TARGET_PER_SECOND:.0f}) "
          f"[{'OK' if rate >= TARGET_PER_SECOND else 'BELOW TARGET'}]")
    print(f"  list build for the {recipients} recipients: {build_s:.2f} s")
    print(f"  per batch of 50: p50 {percentile(batch_s, 50) * 1000:.0f} ms, p95 {percentile(batch_s, 95) * 1000:.0f} ms;"
          f" per message: p50 {percentile(per_msg, 50):.2f} ms, p95 {percentile(per_msg, 95):.2f} ms")
    print(f"  RSS (MB, {len(samples)} samples every 0.2 s): start {samples[0]:.0f}, peak {max(samples):.0f}, "
          f"end {samples[-1]:.0f}; second half {min(half):.0f}..{max(half):.0f}")


def bench_list(app: Any, smtp_port: int, contacts: int) -> None:
    """Time the recipient rule and the whole list build for a base of ``contacts`` contacts."""
    from app.extensions import db
    from app.security.tenancy import tenant_scope
    from app.services.mailing import campaigns, outbox

    cid, owner_id, box_id = make_company(app, "list", smtp_port)
    t0 = time.perf_counter()
    base_id = fill_base(app, cid, "Duża baza", contacts)
    print(f"list: generated {contacts:,} contacts in {time.perf_counter() - t0:.1f} s")
    campaign_id = new_campaign(app, cid, owner_id, base_id, box_id)
    runs = []
    with app.app_context(), tenant_scope(cid):
        for _ in range(5):
            t = time.perf_counter()
            chosen, found = campaigns.choose(cid, [base_id], [])
            runs.append(time.perf_counter() - t)
            db.session.remove()
        t = time.perf_counter()
        outbox.build_list(cid, campaign_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        build = time.perf_counter() - t
        db.session.remove()
    print(f"  recipient rule (query, consent, suppression, de-duplication) for {len(chosen):,} recipients: "
          f"p50 {percentile(runs, 50):.2f} s, p95 {percentile(runs, 95):.2f} s ({len(runs)} runs)")
    print(f"  whole list build (rule + {len(chosen):,} outbox rows, one transaction): {build:.2f} s; left out: "
          f"{found.excluded or 'nobody'}")


def main() -> None:
    """Parse arguments, start the SMTP server and the database, run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--list-contacts", type=int, default=300_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crm-bench-outbox-"))
    server, count, port, ca_file = start_smtp(folder)
    pg = None
    if args.db == "postgresql":
        from tests.pg import TempPostgres

        pg = TempPostgres()
        url = pg.start()
    else:
        url = f"sqlite:///{folder}/bench.db"
    try:
        app = make_app(url, ca_file)
        print(f"database: {args.db}")
        bench_sending(app, port, count, args.recipients)
        bench_list(app, port, args.list_contacts)
    finally:
        server.terminate()
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
