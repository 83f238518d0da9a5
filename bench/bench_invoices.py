"""Benchmark: issuing an invoice, validating its XML, and the invoice list and search with 100,000 invoices.

    .venv/bin/python bench/bench_invoices.py --db sqlite|postgresql [--invoices 100000] [--requests 200] [--keep]

Generates (bench/gen_invoices.py, seeded) a company with 100,000 invoices (plus another company
with 10,000) into a database migrated with Alembic: a SQLite file under bench/out/ (git-ignored)
or a throwaway PostgreSQL cluster (tests/pg.py). Then:

- the list and the search over real HTTP: gunicorn (one sync worker, bench/invoices_wsgi.py) on a
  free 127.0.0.1 port, signed in as the company's owner; each request is timed by the client
  (connect, request, full response) and the server reports its SQL statement count in a header;
- in-process: p50 of "Wystaw" (``invoices.issue``: number + FA(3) XML + PDF stored) on fresh
  3-line drafts, and of ``fa3.validate`` (XSD) of the XML it produced.

Prints p50/p95/max per kind with the 100 ms p95 target. --keep keeps and reuses the database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gen_invoices  # noqa: E402
from bench_contacts import make_app, migrate, open_database  # noqa: E402

TARGET_MS = 100.0
ROW = re.compile(r'href="/invoices/\d+"')
WARMUP = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return {"p50": statistics.median(ms), "p95": p95, "max": ms[-1]}


def workload(app: Any, meta: dict, n: int, seed: int) -> list[tuple[str, list[str]]]:
    """(kind, [url]) for every measured kind; search terms come from the company's own invoices."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.invoicing import Invoice
    from app.security.tenancy import tenant_scope

    rnd = random.Random(seed)
    cid = meta["company_id"]
    with app.app_context(), tenant_scope(cid):
        rows = db.session.execute(select(Invoice.number, Invoice.buyer_name, Invoice.buyer_nip, Invoice.issue_date)
                                  .where(Invoice.company_id == cid, Invoice.number.is_not(None))).all()
        db.session.remove()
    total = n + WARMUP
    pick = [rnd.choice(rows) for _ in range(total)]
    months = sorted({r.issue_date.strftime("%Y-%m") for r in rows})

    def url(**args: Any) -> str:
        return "/invoices/?" + urlencode(args) if args else "/invoices/"

    def name_term(name: str) -> str:
        words = [w for w in name.replace(".", " ").split() if len(w) >= 3 and w.lower() not in ("sp.", "z", "o.o")]
        word = rnd.choice(words or [name])
        term = word[: rnd.randint(3, min(8, len(word)))] if len(word) > 3 else word
        return [term, term.lower(), term.upper()][rnd.randrange(3)]

    def nip_term(nip: str) -> str:
        return [nip, f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}", nip[:6]][rnd.randrange(3)]

    with_nip = [r for r in rows if r.buyer_nip]
    return [
        ("list: first page", [url() for _ in range(total)]),
        ("list: page 2-20", [url(page=rnd.randint(2, 20)) for _ in range(total)]),
        ("list: status filter", [url(status=rnd.choice(["overdue", "unpaid", "paid", "accepted", "draft"]))
                                 for _ in range(total)]),
        ("list: month filter", [url(month=rnd.choice(months)) for _ in range(total)]),
        ("search: number", [url(q=[r.number, r.number.rsplit("/", 2)[0], r.number.split("/")[0] + "/"
                                   + r.number.split("/")[1]][rnd.randrange(3)]) for r in pick]),
        ("search: buyer name", [url(q=name_term(r.buyer_name)) for r in pick]),
        ("search: NIP", [url(q=nip_term(rnd.choice(with_nip).buyer_nip)) for _ in range(total)]),
        ("search as you type (partial)", [url(q=name_term(r.buyer_name), partial=1) for r in pick]),
    ]


def measure_http(base: str, meta: dict, kinds: list, log: Any) -> list[dict]:
    """Time every URL through gunicorn with one signed-in session."""
    import requests

    s = requests.Session()
    r = s.post(base + "/login/", data={"username": meta["email"], "password": meta["password"]},
               allow_redirects=False)
    assert r.status_code == 302, f"login failed: {r.status_code}"
    results = []
    for kind, urls in kinds:
        ms: list[float] = []
        sql: list[int] = []
        rows: list[int] = []
        for i, u in enumerate(urls):
            t = time.perf_counter()
            resp = s.get(base + u, allow_redirects=False)
            elapsed = (time.perf_counter() - t) * 1000
            assert resp.status_code == 200, (u, resp.status_code)
            if i >= WARMUP:
                ms.append(elapsed)
                sql.append(int(resp.headers["X-Bench-SQL"]))
                rows.append(len(ROW.findall(resp.text)))
        res = {"kind": kind, "n": len(ms), "http": _stats(ms), "sql": (min(sql), max(sql)),
               "rows": statistics.mean(rows), "empty": sum(1 for x in rows if x == 0)}
        ok = "ok" if res["http"]["p95"] < TARGET_MS else "MISSED"
        log(f"{kind:30s} n={res['n']:4d}  p50 {res['http']['p50']:6.1f}  p95 {res['http']['p95']:6.1f}  "
            f"max {res['http']['max']:6.1f} ms | SQL/request {res['sql'][0]}-{res['sql'][1]} | "
            f"rows {res['rows']:4.1f} (empty {res['empty']}) | "
            f"target {TARGET_MS:.0f} ms {ok}")
        results.append(res)
    return results


def measure_issue(app: Any, meta: dict, n: int, log: Any) -> dict:
    """p50 of issue() (number + XML + PDF) on fresh drafts and of fa3.validate on the XML produced."""
    import datetime as dt

    from sqlalchemy import select

    from app.extensions import db
    from app.models.contacts import Contact
    from app.models.users import CrmUser as User
    from app.security.tenancy import tenant_scope
    from app.services.invoicing import fa3
    from app.services.invoicing import invoices as svc

    cid = meta["company_id"]
    issue_ms: list[float] = []
    validate_ms: list[float] = []
    with app.app_context(), tenant_scope(cid), app.test_request_context():
        buyers = db.session.execute(select(Contact.id).where(
            Contact.company_id == cid, Contact.base_id == meta["standard_base_id"], Contact.nip.is_not(None))
            .limit(n + 3)).scalars().all()
        for i in range(n + 3):
            data = svc.InvoiceData(
                contact_id=buyers[i % len(buyers)], issue_date=dt.date.today(), sale_date=dt.date.today(),
                due_date=dt.date.today() + dt.timedelta(days=14), items=[
                    svc.LineData(name="Usługa serwisowa", quantity="2", unit_price="350,00", rate="23"),
                    svc.LineData(name="Części zamienne", unit="kpl.", quantity="1", unit_price="1299,99", rate="8"),
                    svc.LineData(name="Dojazd", unit="km", quantity="42", unit_price="1,50", rate="23")])
            user = db.session.get(User, meta["owner_id"])
            draft = svc.create_draft(cid, user, data)
            t = time.perf_counter()
            inv = svc.issue(cid, user, draft.id)
            t_issue = (time.perf_counter() - t) * 1000
            xml = inv.xml
            t = time.perf_counter()
            errors = fa3.validate(xml)
            t_val = (time.perf_counter() - t) * 1000
            assert not errors, errors
            if i >= 3:
                issue_ms.append(t_issue)
                validate_ms.append(t_val)
            db.session.remove()
    res = {"issue": _stats(issue_ms), "validate": _stats(validate_ms), "n": n}
    log(f"issue (number + XML + PDF)     n={n:4d}  p50 {res['issue']['p50']:6.1f}  p95 {res['issue']['p95']:6.1f}  "
        f"max {res['issue']['max']:6.1f} ms")
    log(f"validate FA(3) XML (XSD)       n={n:4d}  p50 {res['validate']['p50']:6.1f}  "
        f"p95 {res['validate']['p95']:6.1f}  max {res['validate']['max']:6.1f} ms")
    return res


def markdown(db_kind: str, results: list[dict], issue: dict | None) -> str:
    """The results as a Markdown table for bench/README.md."""
    lines = ["| database | kind | p50 ms | p95 ms | max ms | SQL per request | rows/page | target p95 |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        h = r["http"]
        sql = f"{r['sql'][0]}" if r["sql"][0] == r["sql"][1] else f"{r['sql'][0]}-{r['sql'][1]}"
        lines.append(f"| {db_kind} | {r['kind']} | {h['p50']:.1f} | **{h['p95']:.1f}** | {h['max']:.1f} | {sql} | "
                     f"{r['rows']:.1f} | {TARGET_MS:.0f} ms |")
    if issue:
        for key, label in (("issue", "issue one invoice (number + XML + PDF), in-process"),
                           ("validate", "validate its FA(3) XML (XSD), in-process")):
            s = issue[key]
            lines.append(f"| {db_kind} | {label} | **{s['p50']:.1f}** | {s['p95']:.1f} | {s['max']:.1f} | | | |")
    return "\n".join(lines)


def serve(url: str, inst: str) -> tuple[subprocess.Popen, str]:
    """Start gunicorn (one sync worker) on a free port; return (process, base URL)."""
    port = _free_port()
    env = dict(os.environ, BENCH_DATABASE_URL=url, CRM_INSTANCE_DIR=inst)
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT / "bench"),
         "--log-level", "warning", "invoices_wsgi:app"], env=env, start_new_session=True)
    import requests

    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(base + "/login/", timeout=2)
            return proc, base
        except requests.ConnectionError:
            if proc.poll() is not None:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer")


def main() -> None:
    """Generate (or reuse) the database, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per kind (after a warm-up)")
    parser.add_argument("--issues", type=int, default=30, help="measured issues (after 3 warm-up)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--keep", action="store_true", help="keep the database in bench/out/ and reuse it")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"invoices-{args.db}-{args.invoices}-{args.seed}"
    meta_path = OUT / f"{tag}.json"
    inst = tempfile.mkdtemp(prefix="crm-bench-inst-")
    os.environ["CRM_INSTANCE_DIR"] = inst
    url, reuse, pg = open_database(OUT, tag, args.db, args.keep)
    server = None
    try:
        app = make_app(url)
        if reuse:
            meta = json.loads(meta_path.read_text())
            print(f"reusing {tag} ({meta['invoices']:,} invoices)")
        else:
            print(f"generating {args.invoices:,} invoices, seed {args.seed} ({args.db})")
            meta_path.unlink(missing_ok=True)
            migrate(app)
            meta = gen_invoices.generate(app, args.invoices, args.seed)
            meta_path.write_text(json.dumps(meta))
        kinds = workload(app, meta, args.requests, args.seed)
        server, base = serve(url, inst)
        print(f"nproc {os.cpu_count()}, gunicorn -w 1 at {base}, {args.requests} requests per kind (+{WARMUP} warm-up)")
        results = measure_http(base, meta, kinds, print)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server = None
        issue = measure_issue(app, meta, args.issues, print) if args.issues else None
        print()
        print(markdown("SQLite" if args.db == "sqlite" else "PostgreSQL", results, issue))
        missed = [r["kind"] for r in results if r["http"]["p95"] >= TARGET_MS]
        print("\nall targets met" if not missed else f"\ntargets missed: {', '.join(missed)}")
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if pg is not None:
            pg.stop(keep=args.keep)
        if not args.keep:
            (OUT / f"{tag}.db").unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
        shutil.rmtree(inst, ignore_errors=True)


if __name__ == "__main__":
    main()
