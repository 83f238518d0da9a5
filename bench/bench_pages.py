"""Benchmark: p50 and SQL statements per page kind over HTTP (gunicorn, 2 sync workers), and the list under 20 clients.

    .venv/bin/python bench/bench_pages.py --db sqlite|postgresql [--contacts 310000] [--requests 100] [--keep]

Generates the contacts data set of bench/bench_contacts.py (bench/gen_contacts.py, seeded; about
32 % of the contacts in the measured company, the rest in 49 others) into a database migrated
with Alembic, serves it with gunicorn (2 sync workers, bench/invoices_wsgi.py, which reports the
SQL statement count of each request in ``X-Bench-SQL``) on a free 127.0.0.1 port, signs in as the
company's owner and times each request from the client (connect, request, full response):

- dashboard, contact list, search (name prefixes of the company's own contacts), contact page
  (random contacts of the company), the fragments these pages load after themselves (the
  dashboard's charts, a random section of a random client's card), tasks list, offers list,
  invoices list;
- 20 concurrent clients (threads, each with its own signed-in session) on the contact list:
  requests per second over the whole run.

Prints p50/p95 and the SQL count per kind with the floors of issue 15 (contact list and search
p50 <= 25 ms, contact page p50 <= 35 ms, >= 50 requests/s with 20 clients).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gen_contacts  # noqa: E402
from bench_contacts import make_app, migrate, open_database  # noqa: E402

WARMUP = 10
#: the sections of a client's card, each loaded by the card page as a fragment
CARD_SECTIONS = ("tasks", "offers", "orders", "invoices", "binders", "files", "notes")
FLOORS = {"contact list": 25.0, "search": 25.0, "contact page": 35.0}
CONCURRENT_CLIENTS = 20
CONCURRENT_FLOOR = 50.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"p50": statistics.median(ms), "p95": ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))],
            "max": ms[-1]}


def workload(app: Any, meta: dict, n: int, seed: int) -> list[tuple[str, list[str]]]:
    """(kind, [url]) per page kind; search terms and contact ids come from the company's own rows."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.contacts import ClientBase, Contact
    from app.security.tenancy import tenant_scope

    rnd = random.Random(seed)
    cid = meta["company_id"]
    with app.app_context(), tenant_scope(cid):
        ids = db.session.execute(select(Contact.id).where(Contact.company_id == cid)).scalars().all()
        picked = [rnd.choice(ids) for _ in range(n + WARMUP)]
        names = db.session.execute(select(Contact.name).where(Contact.id.in_(picked))).scalars().all()
        # the sections of a "Kontakty" base's contact (a mailing contact's card has campaigns and notes)
        clients = db.session.execute(
            select(Contact.id).join(ClientBase, ClientBase.id == Contact.base_id)
            .where(Contact.company_id == cid, ClientBase.kind == "contacts")).scalars().all()
        cards = [rnd.choice(clients) for _ in range(n + WARMUP)]
        db.session.remove()
    terms = []
    for _ in range(n + WARMUP):
        word = rnd.choice(rnd.choice(names).split())
        terms.append(word[: rnd.randint(3, max(3, min(7, len(word))))])
    total = n + WARMUP
    return [
        ("dashboard", ["/"] * total),
        ("contact list", ["/contacts/"] * total),
        ("search", [f"/contacts/?q={quote(t)}" for t in terms]),
        ("contact page", [f"/contacts/{i}" for i in picked]),
        # the fragments those two pages load after themselves (each its own request)
        ("dashboard charts", ["/dashboard/charts"] * total),
        ("card section", [f"/contacts/{i}/card/{rnd.choice(CARD_SECTIONS)}/fragment" for i in cards]),
        ("tasks list", ["/tasks/"] * total),
        ("offers list", ["/offers/"] * total),
        ("invoices list", ["/invoices/"] * total),
    ]


def _session(base: str, meta: dict) -> Any:
    import requests

    s = requests.Session()
    r = s.post(base + "/login/", data={"username": meta["email"], "password": meta["password"]},
               allow_redirects=False)
    assert r.status_code == 302, f"login failed: {r.status_code}"
    return s


def measure(base: str, meta: dict, kinds: list, log: Any) -> list[dict]:
    """Time every URL through gunicorn with one signed-in session."""
    s = _session(base, meta)
    results = []
    for kind, urls in kinds:
        ms: list[float] = []
        sql: list[int] = []
        for i, u in enumerate(urls):
            t = time.perf_counter()
            resp = s.get(base + u, allow_redirects=False)
            elapsed = (time.perf_counter() - t) * 1000
            assert resp.status_code == 200, (u, resp.status_code)
            if i >= WARMUP:
                ms.append(elapsed)
                sql.append(int(resp.headers["X-Bench-SQL"]))
        res = {"kind": kind, "n": len(ms), "http": _stats(ms), "sql": (min(sql), max(sql))}
        log(f"{kind:16s} n={res['n']:4d}  p50 {res['http']['p50']:6.1f}  p95 {res['http']['p95']:6.1f}  "
            f"max {res['http']['max']:6.1f} ms | SQL/request {res['sql'][0]}-{res['sql'][1]}")
        results.append(res)
    return results


def concurrent(base: str, meta: dict, clients: int, per_client: int) -> dict:
    """``clients`` threads, each signed in, each GETting the contact list ``per_client`` times."""
    sessions = [_session(base, meta) for _ in range(clients)]
    for s in sessions:
        s.get(base + "/contacts/")
    errors: list[int] = []
    ms: list[float] = []
    lock = threading.Lock()

    def run(s: Any) -> None:
        for _ in range(per_client):
            t = time.perf_counter()
            r = s.get(base + "/contacts/", allow_redirects=False)
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                ms.append(elapsed)
                if r.status_code != 200:
                    errors.append(r.status_code)

    threads = [threading.Thread(target=run, args=(s,)) for s in sessions]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"requests": len(ms), "seconds": wall, "rps": len(ms) / wall, "errors": len(errors), **_stats(ms)}


def serve(url: str, inst: str) -> tuple[subprocess.Popen, str]:
    """Start gunicorn (2 sync workers) on a free port; return (process, base URL)."""
    import requests

    port = _free_port()
    env = dict(os.environ, BENCH_DATABASE_URL=url, CRM_INSTANCE_DIR=inst)
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
         "--chdir", str(ROOT / "bench"), "--log-level", "warning", "invoices_wsgi:app"],
        env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            requests.get(base + "/login/", timeout=60)
            return proc, base
        except (requests.ConnectionError, requests.Timeout):
            if proc.poll() is not None:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not answer")


def markdown(db_kind: str, results: list[dict], conc: dict) -> str:
    """The results as a Markdown table for bench/README.md."""
    lines = ["| database | page | p50 ms | p95 ms | max ms | SQL per request | floor (p50) |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        h = r["http"]
        sql = f"{r['sql'][0]}" if r["sql"][0] == r["sql"][1] else f"{r['sql'][0]}-{r['sql'][1]}"
        floor = f"{FLOORS[r['kind']]:.0f} ms" if r["kind"] in FLOORS else ""
        lines.append(f"| {db_kind} | {r['kind']} | **{h['p50']:.1f}** | {h['p95']:.1f} | {h['max']:.1f} | {sql} | {floor} |")
    lines.append(f"| {db_kind} | contact list, {CONCURRENT_CLIENTS} clients | {conc['p50']:.1f} | {conc['p95']:.1f} | "
                 f"{conc['max']:.1f} | | **{conc['rps']:.0f} req/s** (floor {CONCURRENT_FLOOR:.0f}) |")
    return "\n".join(lines)


def main() -> None:
    """Generate (or reuse) the database, serve it, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--contacts", type=int, default=310_000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100, help="measured requests per kind (after a warm-up)")
    parser.add_argument("--concurrent-requests", type=int, default=20, help="requests per concurrent client")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--keep", action="store_true", help="keep the database in bench/out/ and reuse it")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"pages-{args.db}-{args.contacts}-{args.companies}-{args.seed}"
    meta_path = OUT / f"{tag}.json"
    inst = tempfile.mkdtemp(prefix="crm-bench-pages-")
    os.environ["CRM_INSTANCE_DIR"] = inst
    url, reuse, pg = open_database(OUT, tag, args.db, args.keep)
    proc = None
    try:
        app = make_app(url)
        if reuse:
            meta = json.loads(meta_path.read_text())
        else:
            print(f"generating {args.contacts:,} contacts, {args.companies} companies, seed {args.seed} ({args.db})")
            migrate(app)
            meta = gen_contacts.generate(app, args.contacts, args.companies, args.seed)
            meta_path.write_text(json.dumps(meta))
        kinds = workload(app, meta, args.requests, args.seed)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
        proc, base = serve(url, inst)
        print(f"nproc {os.cpu_count()}, gunicorn -w 2 at {base}, {args.requests} requests per kind (+{WARMUP} warm-up)")
        results = measure(base, meta, kinds, print)
        conc = concurrent(base, meta, CONCURRENT_CLIENTS, args.concurrent_requests)
        print(f"contact list, {CONCURRENT_CLIENTS} clients: {conc['requests']} requests in {conc['seconds']:.1f} s = "
              f"{conc['rps']:.1f} req/s, p50 {conc['p50']:.1f} ms, errors {conc['errors']}")
        print()
        print(markdown("SQLite" if args.db == "sqlite" else "PostgreSQL", results, conc))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        if pg is not None:
            pg.stop(keep=args.keep)
        if not args.keep:
            (OUT / f"{tag}.db").unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
        shutil.rmtree(inst, ignore_errors=True)


if __name__ == "__main__":
    main()
