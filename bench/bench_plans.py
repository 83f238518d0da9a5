"""Benchmark: the plan-limit checks and the pages of the licence block, price list and terms.

    .venv/bin/python bench/bench_plans.py [--postgresql] [--files 100000] [-n 300]

Builds a migrated throwaway database (SQLite file, or a PostgreSQL cluster of tests/pg.py) with 20
companies and ``--files`` attachment rows spread over them (a quarter in the measured company, a
fortieth of all in the trash), 9 people in the measured company. Then, in one process:

- ``check_limit(company, "storage_mb")`` (the sum of the company's files, logo and avatars: what
  every upload runs) and ``check_limit(company, "employees")``: p50/p95 over ``-n`` calls;
- over the Flask test client as the owner (SQL statements counted per request): the client bases
  list of a licensed company (the licence check and the terms check on every page), the blocking
  page of an expired company, the public "Cennik".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_contacts import make_app, migrate  # noqa: E402

PASSWORD = "Zielony-Słoń-Tańczy-42!"


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _seed(app: Any, files: int) -> dict:
    """20 companies, their files, 10 people in the first one; return the first company's ids."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models.binders import Attachment
    from app.models.mixins import utcnow
    from app.security.tenancy import all_tenants
    from app.services.accounts import companies, employees
    from app.services.platform import legal
    from tests.helpers import make_nip

    with app.app_context():
        docs = tuple(d.id for d in legal.current_documents())
        owners = []
        for n in range(20):
            owners.append(companies.register_company(companies.SignupData(
                company_name=f"Firma {n} Sp. z o.o.", nip=make_nip(500 + n), first_name="Jan",
                last_name=f"Właściciel{chr(97 + n)}", email=f"owner{n}@firma{n}.pl", password=PASSWORD,
                accepted_documents=docs)))
        ids = [o.company_id for o in owners]
        first = owners[0]
        for n in range(8):
            employees.add_employee(first, employees.EmployeeData(
                first_name="Ola", last_name=f"Pracownik{chr(97 + n)}", email=f"ola{n}@firma0.pl",
                role="Employee", password=PASSWORD))
        now = utcnow()
        rows = []
        for i in range(files):
            company_id = ids[0] if i % 4 == 0 else ids[1 + i % 19]
            rows.append({"company_id": company_id, "filename": f"plik{i}.pdf", "size": 50_000 + i % 7_000,
                         "mime": "application/pdf", "storage_key": f"{company_id}/attachments/{i:08d}",
                         "created_at": now, "updated_at": now, "deleted_at": now if i % 40 == 0 else None})
        with all_tenants():
            for start in range(0, len(rows), 5000):
                db.session.execute(insert(Attachment), rows[start:start + 5000])
            db.session.commit()
        expired = owners[1]
        from app.models.company import Company

        with all_tenants():
            db.session.get(Company, expired.company_id).licence_valid_until = dt.date.today() - dt.timedelta(days=1)
            db.session.commit()
        info = {"company_id": ids[0], "expired_email": "owner1@firma1.pl", "owner_email": "owner0@firma0.pl"}
        db.session.remove()
    return info


def _measure(app: Any, n: int, call: Callable[[], Any]) -> tuple[float, float, int, Any]:
    """p50 and p95 in ms, the median number of SQL statements, and the last result of ``n`` calls (10 warm-up)."""
    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        engine = db.engine
    current = {"n": 0}

    def _count(*_a: Any) -> None:
        current["n"] += 1

    event.listen(engine, "before_cursor_execute", _count)
    samples: list[float] = []
    counts: list[int] = []
    result = None
    try:
        for i in range(n + 10):
            current["n"] = 0
            start = time.perf_counter()
            result = call()
            took = (time.perf_counter() - start) * 1000
            if i >= 10:
                samples.append(took)
                counts.append(current["n"])
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    p50, p95 = _stats(samples)
    return p50, p95, int(statistics.median(counts)), result


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()

    pg = None
    if args.postgresql:
        from tests.pg import TempPostgres

        pg = TempPostgres()
        url = pg.start()
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='crm-bench-plans-')}/bench.db"
    try:
        app = make_app(url)
        migrate(app)
        info = _seed(app, args.files)
        from app.services.platform import plans
        from tests.helpers import login

        with app.app_context():
            storage = _measure(app, args.n, lambda: plans.check_storage(info["company_id"], 1000))
            people = _measure(app, args.n, lambda: plans.check_limit(info["company_id"], "employees"))
        owner = app.test_client()
        assert login(owner, info["owner_email"], PASSWORD).status_code == 302
        blocked = app.test_client()
        assert login(blocked, info["expired_email"], PASSWORD).status_code == 302
        anonymous = app.test_client()
        print(f"database: {'PostgreSQL' if pg else 'SQLite'}, attachments: {args.files:,}, calls/requests: {args.n}")
        print(f"{'what':<42} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5}")
        print(f"{'check_limit storage_mb (every upload)':<42} {storage[0]:>8.2f} {storage[1]:>8.2f} {storage[2]:>5}")
        print(f"{'check_limit employees':<42} {people[0]:>8.2f} {people[1]:>8.2f} {people[2]:>5}")
        for label, client, url in (("GET /bases/ (licensed owner)", owner, "/bases/"),
                                   ("GET /licence/ (blocked owner)", blocked, "/licence/"),
                                   ("GET /cennik/ (public)", anonymous, "/cennik/")):
            p50, p95, sql, resp = _measure(app, args.n, lambda c=client, u=url: c.get(u))
            assert resp.status_code == 200, (url, resp.status_code)
            print(f"{label:<42} {p50:>8.2f} {p95:>8.2f} {sql:>5}")
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    os.environ.setdefault("CRM_ENV", "testing")
    main()
