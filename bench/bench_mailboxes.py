"""Benchmark: company mailboxes against local mail servers (dovecot + aiosmtpd of tests/mailservers.py).

    .venv/bin/python bench/bench_mailboxes.py [--verifications 20] [--mailboxes 20] [--requests 100]

- verification: the whole check of the yellow triangle (SMTP login over TLS, the test message,
  IMAP login, the message found) for fresh mailboxes, run one after another, p50/p95 in ms;
- the "Mailing" settings tab with ``--mailboxes`` mailboxes of the company, and an offer's
  "Wyślij e-mailem" form (the active mailboxes in its select): p50/p95 in ms and SQL statements
  per request, through the app's test client (no HTTP server).

SQLite file database migrated with Alembic, a fresh company; the mail servers run on free ports.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_contacts import make_app, migrate  # noqa: E402


def _stats(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return f"p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms"


def _company(app: Any) -> dict:
    from app.extensions import db
    from app.services.accounts import companies
    from tests.helpers import STRONG_PASSWORD, make_nip

    with app.app_context():
        owner = companies.register_company(companies.SignupData(
            company_name="Bench Sp. z o.o.", nip=make_nip(4242), first_name="Jan", last_name="Testowy",
            email="owner@bench-mail.pl", password=STRONG_PASSWORD))
        info = {"company_id": owner.company_id, "owner_id": owner.id, "email": "owner@bench-mail.pl"}
        db.session.remove()
    return info


def bench_verification(app: Any, servers: Any, info: dict, n: int) -> list[float]:
    """Milliseconds of one verification (start to active), for ``n`` fresh mailboxes."""
    from tests.mailservers import active_mailbox

    out = []
    for _ in range(n):
        user = servers.add_user()
        t0 = time.perf_counter()
        active_mailbox(app, info["company_id"], info["owner_id"], servers, user)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_pages(app: Any, info: dict, seed_offer: int | None, requests: int) -> dict[str, tuple[list[float], int]]:
    """(milliseconds, SQL statements of the last request) per page."""
    from sqlalchemy import event

    from app.extensions import db
    from tests.helpers import login

    client = app.test_client()
    login(client, info["email"])
    pages = {"Mailing tab": "/settings/mailing/"}
    if seed_offer:
        pages["offer send form"] = f"/offers/{seed_offer}/send"
    counter = {"n": 0}

    def count(*_a: Any) -> None:
        counter["n"] += 1

    out = {}
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, url in pages.items():
            for _ in range(5):
                assert client.get(url).status_code == 200, url
            ms = []
            for _ in range(requests):
                counter["n"] = 0
                t0 = time.perf_counter()
                resp = client.get(url)
                ms.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200
            out[name] = (ms, counter["n"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return out


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--verifications", type=int, default=20)
    parser.add_argument("--mailboxes", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    from tests.integration.sales_fixtures import offer_form, seed_sales
    from tests.mailservers import MailServers

    app = make_app(f"sqlite:///{tempfile.mkdtemp(prefix='crm-bench-mail-')}/bench.db")
    migrate(app)
    servers = MailServers().start()
    try:
        app.config["CRM_MAIL_CA_FILE"] = servers.ca_file
        info = _company(app)
        times = bench_verification(app, servers, info, args.verifications)
        print(f"verification ({args.verifications} mailboxes, SMTPS + IMAPS): {_stats(times)}")
        bench_verification(app, servers, info, max(0, args.mailboxes - args.verifications))
        seed = seed_sales(app, {**info, "password": ""})
        from tests.helpers import login

        client = app.test_client()
        login(client, info["email"])
        resp = client.post("/offers/add", data=offer_form(seed))
        offer_id = int(resp.headers["Location"].rstrip("/").split("/")[-1]) if resp.status_code == 302 else None
        for name, (ms, sql) in bench_pages(app, info, offer_id, args.requests).items():
            print(f"{name} ({max(args.mailboxes, args.verifications)} mailboxes): {_stats(ms)}   SQL {sql}")
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
