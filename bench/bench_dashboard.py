"""Benchmark: the start page ("Pulpit") with its charts, for a company with a 300,000-contact mailing base.

    .venv/bin/python bench/bench_dashboard.py --db sqlite|postgresql [--contacts 1000000] [--requests 200]

Generates the contacts as bench/bench_contacts.py does (bench/gen_contacts.py, seeded: 1,000,000 contacts
across 50 companies), then adds to the measured company 20,000 offers, 50,000 tasks and 20,000 invoices
spread over three years among the owner and five employees. Signed in as the owner (the company's
numbers) and as an employee (their own), times ``GET /`` through ``app.test_client()`` (routing,
security, every query, the template), ``--requests`` times each after a warm-up, and counts the SQL
statements of one request. The charts never read the contact table; the page's only contact query is
the capped count of the "Kontakty" card.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gen_contacts  # noqa: E402
from bench_contacts import KeptPostgres, _stats, make_app, migrate  # noqa: E402

WARMUP = 10
EMPLOYEES = 5
PASSWORD = gen_contacts.PASSWORD


def add_activity(app: Any, meta: dict, seed: int, offers: int = 20_000, tasks: int = 50_000,
                 invoices: int = 20_000) -> dict:
    """Employees, offers, tasks (with assignees) and invoices of the measured company; returns an employee."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models.contacts import Contact
    from app.models.invoicing import Invoice
    from app.models.sales import OFFER_STATUSES, Offer
    from app.models.tasks import Task, task_assignee
    from app.models.users import CrmUser
    from app.security.tenancy import tenant_scope
    from app.services import clock
    from app.services.accounts import employees

    rnd = random.Random(seed)
    cid = meta["company_id"]
    today = clock.local_today()
    now = dt.datetime.now()
    with app.app_context(), tenant_scope(cid):
        owner = db.session.get(CrmUser, meta["owner_id"])
        people = [meta["owner_id"]]
        for n in range(EMPLOYEES):
            user = employees.add_employee(owner, employees.EmployeeData(
                first_name="Pracownik", last_name=f"Benchowy{n}", email=f"pracownik{n}@bench.pl", password=PASSWORD))
            people.append(user.id)
        contact_ids = list(db.session.execute(
            select(Contact.id).where(Contact.company_id == cid, Contact.base_id == meta["standard_base_id"]).limit(2000)
        ).scalars())
        db.session.remove()

        def day() -> dt.date:
            return today - dt.timedelta(days=rnd.randrange(3 * 365))

        offer_rows = []
        for n in range(1, offers + 1):
            issued = day()
            net = Decimal(rnd.randrange(10_000, 5_000_000)) / 100
            offer_rows.append(dict(
                id=n, company_id=cid, number=f"OF/{n}/B", seq_year=issued.year, seq_number=n, issue_date=issued,
                contact_id=rnd.choice(contact_ids), owner_id=rnd.choice(people), status=rnd.choice(OFFER_STATUSES),
                total_net=net, total_vat=net * Decimal("0.23"), total_gross=net * Decimal("1.23"),
                created_at=now, updated_at=now))
        task_rows, assignee_rows = [], []
        for n in range(1, tasks + 1):
            due = day() + dt.timedelta(days=30)
            done = rnd.random() < 0.7
            completed = dt.datetime.combine(due - dt.timedelta(days=rnd.randrange(5)), dt.time(10)) if done else None
            who = rnd.choice(people)
            task_rows.append(dict(id=n, company_id=cid, title=f"Zadanie {n}", due_date=due, priority="normal",
                                  status="done" if done else "todo", completed_at=completed, created_by_id=who,
                                  created_at=now, updated_at=now))
            assignee_rows.append(dict(task_id=n, user_id=who))
        invoice_rows = []
        for _n in range(invoices):
            issued = day()
            paid = issued + dt.timedelta(days=rnd.randrange(30)) if rnd.random() < 0.8 else None
            invoice_rows.append(dict(company_id=cid, kind="vat", status="issued", issue_date=issued,
                                     paid_at=paid if paid and paid <= today else None,
                                     created_by_id=rnd.choice(people), buyer_name="Klient", created_at=now,
                                     updated_at=now))
        with db.engine.begin() as conn:
            conn.execute(insert(Offer), offer_rows)
            conn.execute(insert(Task), task_rows)
            conn.execute(insert(task_assignee), assignee_rows)
            conn.execute(insert(Invoice), invoice_rows)
        db.session.remove()
    return {"email": "pracownik0@bench.pl", "password": PASSWORD}


def sql_count(app: Any, client: Any) -> int:
    """SQL statements of one ``GET /``."""
    from sqlalchemy import event

    from app.extensions import db

    seen: list[str] = []

    def count(*_args: Any) -> None:
        seen.append("x")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def service_ms(app: Any, email: str, requests: int) -> dict:
    """``dashboard.charts`` alone (the four chart queries and their shaping), as the page calls it."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.users import CrmUser
    from app.security.tenancy import tenant_scope
    from app.services import dashboard

    with app.app_context():
        user = db.session.execute(select(CrmUser).where(CrmUser.email == email)).scalar_one()
        company_id = user.company_id
        ms = []
        with tenant_scope(company_id):
            for i in range(WARMUP + requests):
                t = time.perf_counter()
                dashboard.charts(company_id, user)
                if i >= WARMUP:
                    ms.append((time.perf_counter() - t) * 1000)
        db.session.remove()
    return _stats(ms)


def measure(app: Any, who: str, email: str, password: str, requests: int) -> dict:
    """Time ``GET /`` for one signed-in user; p50/p95/max and the SQL count."""
    from tests.helpers import login

    client = app.test_client()
    assert login(client, email, password).status_code == 302
    ms = []
    for i in range(WARMUP + requests):
        t = time.perf_counter()
        resp = client.get("/")
        elapsed = (time.perf_counter() - t) * 1000
        assert resp.status_code == 200 and b"chart-offer-status" in resp.data
        if i >= WARMUP:
            ms.append(elapsed)
    res = {"who": who, "n": requests, "http": _stats(ms), "sql": sql_count(app, client),
           "charts": service_ms(app, email, requests)}
    h, c = res["http"], res["charts"]
    print(f"{who:10s} n={requests}  HTTP p50 {h['p50']:6.1f}  p95 {h['p95']:6.1f}  max {h['max']:6.1f} ms  "
          f"SQL {res['sql']} | charts alone p50 {c['p50']:6.1f}  p95 {c['p95']:6.1f} ms")
    return res


def main() -> None:
    """Generate the database, add the activity, measure, print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"dashboard-{args.db}-{args.contacts}-{args.seed}"
    pg = None
    path = OUT / f"{tag}.db"
    if args.db == "sqlite":
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        pg = KeptPostgres(OUT / f"pg-{tag}")
        if pg.pg._as_root:
            os.makedirs(pg.pg.dir, exist_ok=True)
        url = pg.start()
    try:
        app = make_app(url)
        migrate(app)
        t = time.perf_counter()
        meta = gen_contacts.generate(app, args.contacts, args.companies, args.seed, log=lambda _m: None)
        print(f"{meta['contacts']:,} contacts in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        emp = add_activity(app, meta, args.seed)
        print(f"offers, tasks, invoices in {time.perf_counter() - t:.0f} s")
        results = [measure(app, "owner", meta["email"], meta["password"], args.requests),
                   measure(app, "employee", emp["email"], emp["password"], args.requests)]
        kind = "SQLite" if args.db == "sqlite" else "PostgreSQL"
        print("\n| database | user | HTTP p50 | HTTP p95 | HTTP max | SQL per page | charts alone p50 / p95 |"
              "\n|---|---|---|---|---|---|---|")
        for r in results:
            h, c = r["http"], r["charts"]
            print(f"| {kind} | {r['who']} | {h['p50']:.1f} | **{h['p95']:.1f}** | {h['max']:.1f} | {r['sql']} | "
                  f"{c['p50']:.1f} / {c['p95']:.1f} |")
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if pg is not None:
            pg.stop(keep=False)
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
