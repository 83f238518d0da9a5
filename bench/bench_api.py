"""Benchmark: p50/p95 of a contacts list page and a contact search through the REST API, next to the same pages of the app.

    .venv/bin/python bench/bench_api.py --db sqlite|postgresql [--contacts 1000000] [--requests 100] [--keep]

Generates the contacts data set of bench/bench_contacts.py (bench/gen_contacts.py, seeded; about
32 % of the contacts in the measured company, the rest in 49 others) into a database migrated with
Alembic, serves it with gunicorn (2 sync workers, bench/invoices_wsgi.py, SQL count per request in
``X-Bench-SQL``) on a free 127.0.0.1 port, makes a personal API token for the company's owner and
times each request from the client (connect, request, full response), one kind after the other:

- UI: the contact list ``/contacts/`` and the search box ``/contacts/?q=<prefix>`` (signed-in session);
- API: ``GET /api/v1/contacts/`` (first page, 25 rows, FAB's COUNT included) and
  ``GET /api/v1/contacts/?q=(filters:!((col:name,opr:search,value:<prefix>)))`` (the app's search
  engine as a FAB filter), with the token.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gen_contacts  # noqa: E402
from bench_contacts import make_app, migrate, open_database  # noqa: E402
from bench_pages import WARMUP, _session, _stats, serve, workload  # noqa: E402


def make_token(app: Any, meta: dict) -> str:
    """A read-only personal API token of the measured company's owner (through the service)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.users import CrmUser
    from app.security.tenancy import tenant_scope
    from app.services.accounts import api_tokens

    with app.app_context(), tenant_scope(meta["company_id"]):
        owner = db.session.execute(select(CrmUser).where(CrmUser.email == meta["email"])).scalar_one()
        secret = api_tokens.create_token(meta["company_id"], owner, api_tokens.TokenData("bench", "read", 30)).secret
        db.session.remove()
    return secret


def api_kinds(ui_kinds: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """The UI's contact list and search, and the same through the API (same search terms)."""
    ui = dict(ui_kinds)
    terms = [u.split("?q=", 1)[1] for u in ui["search"]]
    return [
        ("UI contact list", ui["contact list"]),
        ("UI search", ui["search"]),
        ("API contact list", ["/api/v1/contacts/"] * len(ui["contact list"])),
        ("API search", [f"/api/v1/contacts/?q={quote(_rison_search(unquote(t)), safe='')}" for t in terms]),
    ]


def _rison_search(term: str) -> str:
    """The rison ``q`` of a contact search (the term quoted: ``'`` and ``!`` escaped with ``!``)."""
    quoted = term.replace("!", "!!").replace("'", "!'")
    return f"(filters:!((col:name,opr:search,value:'{quoted}')))"


def measure(base: str, meta: dict, token: str, kinds: list[tuple[str, list[str]]]) -> list[dict]:
    """Time every URL: UI kinds with a signed-in session, API kinds with the token."""
    import requests

    web = _session(base, meta)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    results = []
    for kind, urls in kinds:
        client = api if kind.startswith("API") else web
        ms: list[float] = []
        sql: list[int] = []
        rows: list[int] = []
        for i, u in enumerate(urls):
            t = time.perf_counter()
            resp = client.get(base + u, allow_redirects=False)
            elapsed = (time.perf_counter() - t) * 1000
            assert resp.status_code == 200, (u, resp.status_code, resp.text[:300])
            if i >= WARMUP:
                ms.append(elapsed)
                sql.append(int(resp.headers["X-Bench-SQL"]))
                if kind.startswith("API"):
                    rows.append(len(resp.json()["result"]))
        res = {"kind": kind, "n": len(ms), "http": _stats(ms), "sql": (min(sql), max(sql)),
               "rows": (min(rows), max(rows)) if rows else None}
        print(f"{kind:18s} n={res['n']:4d}  p50 {res['http']['p50']:7.1f}  p95 {res['http']['p95']:7.1f}  "
              f"max {res['http']['max']:7.1f} ms | SQL/request {res['sql'][0]}-{res['sql'][1]}"
              + (f" | rows {res['rows'][0]}-{res['rows'][1]}" if res["rows"] else ""))
        results.append(res)
    return results


def markdown(db_kind: str, contacts: int, results: list[dict]) -> str:
    """The results as a Markdown table for bench/README.md."""
    lines = ["| database | contacts | request | p50 ms | p95 ms | max ms | SQL per request |", "|---|---|---|---|---|---|---|"]
    for r in results:
        h = r["http"]
        sql = f"{r['sql'][0]}" if r["sql"][0] == r["sql"][1] else f"{r['sql'][0]}-{r['sql'][1]}"
        lines.append(f"| {db_kind} | {contacts:,} | {r['kind']} | {h['p50']:.1f} | **{h['p95']:.1f}** | {h['max']:.1f} | {sql} |")
    return "\n".join(lines)


def main() -> None:
    """Generate (or reuse) the database, serve it, measure, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100, help="measured requests per kind (after a warm-up)")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--keep", action="store_true", help="keep the database in bench/out/ and reuse it")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"pages-{args.db}-{args.contacts}-{args.companies}-{args.seed}"  # the data set of bench_pages.py
    meta_path = OUT / f"{tag}.json"
    inst = tempfile.mkdtemp(prefix="crm-bench-api-")
    os.environ["CRM_INSTANCE_DIR"] = inst
    url, reuse, pg = open_database(OUT, tag, args.db, args.keep)
    proc = None
    try:
        app = make_app(url)
        migrate(app)  # also brings a kept database up to the newest migration (the token table)
        if reuse:
            meta = json.loads(meta_path.read_text())
        else:
            print(f"generating {args.contacts:,} contacts, {args.companies} companies, seed {args.seed} ({args.db})")
            meta = gen_contacts.generate(app, args.contacts, args.companies, args.seed)
            meta_path.write_text(json.dumps(meta))
        kinds = api_kinds(workload(app, meta, args.requests, args.seed))
        token = make_token(app, meta)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
        proc, base = serve(url, inst)
        print(f"nproc {os.cpu_count()}, gunicorn -w 2 at {base}, {args.requests} requests per kind (+{WARMUP} warm-up)")
        results = measure(base, meta, token, kinds)
        print()
        print(markdown("SQLite" if args.db == "sqlite" else "PostgreSQL", args.contacts, results))
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
