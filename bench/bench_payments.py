"""Benchmark: PayU notifications and the "Płatności" tab.

    .venv/bin/python bench/bench_payments.py --db sqlite|postgresql [--payments 200]

A freshly migrated database (a SQLite file under bench/out/, or a throwaway PostgreSQL cluster from
tests/pg.py), one company, the local fake PayU (tests/fakes/payu.py) on a free port. ``--payments``
orders are created through the real pay form (OAuth + order creation over HTTP), then each gets its
signed COMPLETED notification through the app (Flask test client, in process). Timed per request:

- "pay": the "Opłać abonament" POST (record the payment, create PayU's order over HTTP);
- "notify COMPLETED": signature, row locks, the licence extension, then the operator's invoice
  (number, FA(3) XML validated, PDF printed and stored); e-mail off;
- "notify duplicate": the same COMPLETED again (the idempotent path);
- "Płatności page": the tab with the whole history listed.

Prints p50/p95/max in milliseconds per kind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_contacts import make_app, migrate  # noqa: E402

OPERATOR = {"CRM_OPERATOR_NAME": "Operator Klienteli Sp. z o.o.", "CRM_OPERATOR_NIP": "5260000005",
            "CRM_OPERATOR_STREET": "ul. Prosta 1", "CRM_OPERATOR_POSTAL_CODE": "00-850", "CRM_OPERATOR_CITY": "Warszawa"}


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return {"p50": statistics.median(ms), "p95": p95, "max": ms[-1]}


def _timed(fn: Callable[[], Any], into: list[float]) -> Any:
    started = time.perf_counter()
    result = fn()
    into.append((time.perf_counter() - started) * 1000)
    return result


def run(url: str, n: int) -> dict[str, dict[str, float]]:
    """Create ``n`` payments, notify each, and time every kind of request."""
    from app.integrations import payu
    from app.services.accounts import companies
    from app.services.platform import legal
    from tests.fakes.payu import running_fake_payu
    from tests.helpers import STRONG_PASSWORD, make_nip

    app = make_app(url)
    migrate(app)
    with app.app_context():
        companies.register_company(companies.SignupData(
            company_name="Bench Płatności Sp. z o.o.", nip=make_nip(4242), first_name="Jan", last_name="Bench",
            email="owner@bench-payments.pl", password=STRONG_PASSWORD,
            accepted_documents=tuple(d.id for d in legal.current_documents())))
    times: dict[str, list[float]] = {"pay": [], "notify COMPLETED": [], "notify duplicate": [], "Płatności page": []}
    with running_fake_payu(auto_notify=False) as (fake, fake_url):
        app.config.update({"PAYU_ENV": fake_url, "PAYU_POS_ID": fake.pos_id, "PAYU_CLIENT_ID": fake.client_id,
                           "PAYU_CLIENT_SECRET": fake.client_secret, "PAYU_SECOND_KEY": fake.second_key,
                           "MAIL_SERVER": "", "MAIL_FOLDER": "", **OPERATOR})
        client = app.test_client()
        resp = client.post("/login/", data={"username": "owner@bench-payments.pl", "password": STRONG_PASSWORD})
        assert resp.status_code == 302, resp.status_code
        for i in range(n):
            resp = _timed(lambda i=i: client.post("/settings/payments/pay", data={
                "pay-plan_code": "applarge" if i % 2 else "applarge_plus", "pay-months": str(1 + i % 12),
                "pay-method": ("blik", "pbl", "card")[i % 3]}), times["pay"])
            assert resp.status_code == 200, resp.status_code
        headers = {"Content-Type": "application/json"}
        for order_id in list(fake.orders):
            body = fake.notification_body(order_id, "COMPLETED")
            headers["OpenPayu-Signature"] = payu.signature_header(body, fake.second_key, "checkout")
            for kind in ("notify COMPLETED", "notify duplicate"):
                resp = _timed(lambda b=body, h=dict(headers): client.post("/payu/notify", data=b, headers=h),
                              times[kind])
                assert resp.status_code == 200, resp.status_code
        for _ in range(min(n, 50)):
            resp = _timed(lambda: client.get("/settings/payments/"), times["Płatności page"])
            assert resp.status_code == 200, resp.status_code
    return {kind: _stats(ms) for kind, ms in times.items()}


def main() -> None:
    """Parse the arguments, run on the chosen database, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--payments", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-inst-"))
    pg = None
    if args.db == "postgresql":
        from tests.pg import TempPostgres

        pg = TempPostgres()
        url = pg.start()
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{tempfile.mkdtemp(prefix='payments-', dir=OUT)}/bench.db"
    try:
        result = run(url, args.payments)
    finally:
        if pg is not None:
            pg.stop()
    print(f"{args.db}, {args.payments} payments")
    print(f"{'kind':<20} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, s in result.items():
        print(f"{kind:<20} {s['p50']:8.1f} {s['p95']:8.1f} {s['max']:8.1f}")


if __name__ == "__main__":
    main()
