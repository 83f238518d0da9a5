"""Benchmark: contact lists and search of a company with a 300,000-contact mailing base.

    .venv/bin/python bench/bench_contacts.py --db sqlite|postgresql [--contacts 1000000] [--requests 200] [--keep]

Generates (bench/gen_contacts.py, seeded) 1,000,000 contacts across 50 companies into a database
migrated with Alembic: a SQLite file under bench/out/ (git-ignored) or a throwaway PostgreSQL
cluster (tests/pg.py). Then, signed in as the owner of the company with the mailing base, times
full HTTP requests through ``app.test_client()`` (server-side: routing, security, the queries,
the template) and the service call ``search.list_contacts`` alone, ``--requests`` times per kind
after a short warm-up, and prints p50/p95/max per kind with the targets (list 60 ms, search 80 ms).

--keep keeps the generated database (the SQLite file, or the stopped PostgreSQL cluster under
bench/out/) and reuses it on the next run with the same --contacts and --seed, so only the
measurement runs again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import gen_contacts  # noqa: E402

LIST_TARGET_MS = 60.0
SEARCH_TARGET_MS = 80.0
WARMUP = 20


# --------------------------------------------------------------------------- databases

class KeptPostgres:
    """A PostgreSQL cluster in a fixed folder (bench/out/pg-...), created once and restarted later."""

    def __init__(self, folder: Path) -> None:
        from tests.pg import TempPostgres, _free_port

        self.pg = TempPostgres()
        shutil.rmtree(self.pg.dir, ignore_errors=True)
        self.pg.dir = str(folder)
        self.pg.data = str(folder / "data")
        self.pg.port = _free_port()
        self.exists = (folder / "data" / "PG_VERSION").exists()

    def start(self) -> str:
        """Start the cluster (initdb first when it does not exist yet); return its URL."""
        pg = self.pg
        if not self.exists:
            os.makedirs(pg.dir, exist_ok=True)
            return pg.start()
        opts = (f"-p {pg.port} -k {pg.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        pg._run(f"{pg.bindir}/pg_ctl", "-D", pg.data, "-o", opts, "-w", "-l", os.path.join(pg.dir, "log"), "start")
        return f"postgresql+psycopg://crm@127.0.0.1:{pg.port}/klientela_test"

    def stop(self, keep: bool) -> None:
        """Stop the cluster; remove its folder unless kept."""
        pg = self.pg
        if keep:
            pg._run(f"{pg.bindir}/pg_ctl", "-D", pg.data, "-m", "fast", "stop")
        else:
            pg.stop()


def open_database(out: Path, tag: str, db: str, keep: bool) -> tuple[str, bool, KeptPostgres | None]:
    """The database of a bench data set: (URL, reuse, PostgreSQL cluster or None).

    ``reuse`` is True when ``keep`` is asked and both the database and its ``<tag>.json`` description
    are in ``out`` from an earlier run; otherwise a fresh SQLite file or cluster is made.
    """
    meta_path = out / f"{tag}.json"
    if db == "sqlite":
        path = out / f"{tag}.db"
        reuse = keep and path.exists() and meta_path.exists()
        if not reuse:
            path.unlink(missing_ok=True)
        return f"sqlite:///{path}", reuse, None
    pg = KeptPostgres(out / f"pg-{tag}")
    reuse = keep and pg.exists and meta_path.exists()
    if not reuse and pg.exists:
        shutil.rmtree(pg.pg.dir)
        pg = KeptPostgres(out / f"pg-{tag}")
    if pg.pg._as_root:
        os.makedirs(pg.pg.dir, exist_ok=True)
    return pg.start(), reuse, pg


def make_app(url: str) -> Any:
    """The application on ``url`` (as tests/conftest.py builds it)."""
    os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-inst-"))
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        WTF_CSRF_ENABLED = False
        SERVER_NAME = None

    from app import create_app

    return create_app(Config)


def migrate(app: Any) -> None:
    """Alembic upgrade to every head, then roles (as `flask crm init`)."""
    from flask_migrate import upgrade

    from app import MIGRATIONS_DIR
    from app.extensions import appbuilder
    from app.security.sync import sync_roles

    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="heads")
        sync_roles(appbuilder)


# --------------------------------------------------------------------------- workload

def _digits_variant(rnd: random.Random, national: str) -> str:
    """A phone number as people type it: full, spaced, with +48, or its first 6 digits."""
    choice = rnd.randrange(4)
    if choice == 0:
        return national
    if choice == 1:
        return f"{national[:3]} {national[3:6]} {national[6:]}"
    if choice == 2:
        return "+48 " + national
    return national[:6]


def make_terms(app: Any, meta: dict, n: int, seed: int) -> dict[str, list[str]]:
    """Search terms taken from the company's own data (seeded), ``n`` per kind."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.contacts import Contact
    from app.security.tenancy import tenant_scope
    from app.services.contacts.search import normalize

    rnd = random.Random(seed)
    with app.app_context(), tenant_scope(meta["company_id"]):
        rows = db.session.execute(
            select(Contact.kind, Contact.name, Contact.last_name, Contact.email, Contact.nip, Contact.phone,
                   Contact.city).where(Contact.company_id == meta["company_id"]).order_by(Contact.id)
        ).all()
        db.session.remove()
    with_nip = [r for r in rows if r.nip]
    with_phone = [r for r in rows if r.phone]
    terms: dict[str, list[str]] = {k: [] for k in ("name_prefix", "substring", "email", "nip", "phone", "city")}
    for _ in range(n):
        r = rnd.choice(rows)
        word = r.last_name if r.kind == "person" else r.name.split()[0]
        terms["name_prefix"].append(word[: rnd.randint(2, min(7, len(word)))])
        name = r.name.replace(" ", "")
        if len(name) > 5:
            size = rnd.randint(3, 6)
            start = rnd.randint(1, len(name) - size)
            terms["substring"].append(name[start:start + size])
        else:
            terms["substring"].append(name)
        e = r.email or "biuro@"
        local = e.split("@")[0]
        terms["email"].append(e if rnd.random() < 0.7 else local[: rnd.randint(min(4, len(local)), len(local))])
        nip = rnd.choice(with_nip).nip
        terms["nip"].append([nip, f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}", nip[:6]][rnd.randrange(3)])
        terms["phone"].append(_digits_variant(rnd, rnd.choice(with_phone).phone[3:]))
        city = r.city
        terms["city"].append([city, normalize(city), city[: max(3, len(city) // 2)]][rnd.randrange(3)])
    return terms


def make_cursors(app: Any, meta: dict, n: int, seed: int, base_id: int | None) -> list[str]:
    """Keyset cursors of random rows (what the "Next" link of a middle page carries)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.contacts import Contact
    from app.security.tenancy import tenant_scope
    from app.services.contacts.search import encode_cursor

    rnd = random.Random(seed)
    with app.app_context(), tenant_scope(meta["company_id"]):
        stmt = select(Contact.id, Contact.name_sort).where(Contact.company_id == meta["company_id"])
        if base_id is not None:
            stmt = stmt.where(Contact.base_id == base_id)
        rows = db.session.execute(stmt.order_by(Contact.id)).all()
        db.session.remove()
    # a middle page: not in the first or last 5 % of the ordered list
    rows = sorted(rows, key=lambda r: (r.name_sort, r.id))
    cut = len(rows) // 20
    rows = rows[cut:-cut] or rows
    return [encode_cursor(SimpleNamespace(id=r.id, name_sort=r.name_sort)) for r in gen_contacts.iter_sample(rows, n, rnd)]


def workload(app: Any, meta: dict, n: int, seed: int) -> list[tuple[str, float, list[tuple[str, dict]]]]:
    """(kind, target ms, [(url, list_contacts kwargs)]) for every measured kind."""
    mid = meta["mailing_base_id"]
    total = n + WARMUP
    terms = make_terms(app, meta, total, seed)
    base_cursors = make_cursors(app, meta, total, seed + 1, mid)
    all_cursors = make_cursors(app, meta, total, seed + 2, None)
    sorts = ["name", "-name"]
    kinds: list[tuple[str, float, list[tuple[str, dict]]]] = []

    def url(path: str, **args: Any) -> str:
        args = {k: v for k, v in args.items() if v not in (None, "")}
        return path + ("?" + urlencode(args) if args else "")

    kinds.append(("list: mailing base, first page", LIST_TARGET_MS, [
        (url(f"/bases/{mid}", sort=sorts[i % 2]), {"base_id": mid, "sort": sorts[i % 2]}) for i in range(total)]))
    kinds.append(("list: mailing base, middle page", LIST_TARGET_MS, [
        (url(f"/bases/{mid}", sort=sorts[i % 2], after=c), {"base_id": mid, "sort": sorts[i % 2], "after": c})
        for i, c in enumerate(base_cursors)]))
    kinds.append(("list: all contacts, first page", LIST_TARGET_MS, [
        (url("/contacts/", sort=sorts[i % 2]), {"sort": sorts[i % 2]}) for i in range(total)]))
    kinds.append(("list: all contacts, middle page", LIST_TARGET_MS, [
        (url("/contacts/", sort=sorts[i % 2], after=c), {"sort": sorts[i % 2], "after": c})
        for i, c in enumerate(all_cursors)]))
    labels = {"name_prefix": "name prefix", "substring": "name substring", "email": "e-mail",
              "nip": "NIP", "phone": "phone", "city": "city"}
    for key, label in labels.items():
        reqs = []
        for i, q in enumerate(terms[key]):
            # every other request searches inside the mailing base, the others across all bases
            if i % 2:
                reqs.append((url(f"/bases/{mid}", q=q), {"base_id": mid, "q": q}))
            else:
                reqs.append((url("/contacts/", q=q), {"q": q}))
        kinds.append((f"search: {label}", SEARCH_TARGET_MS, reqs))
    return kinds


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return {"p50": statistics.median(ms), "p95": p95, "max": ms[-1]}


def measure(app: Any, meta: dict, kinds: list, log: Callable[[str], None]) -> list[dict]:
    """Time each request through the test client and each service call alone."""
    from app.extensions import db
    from app.security.tenancy import tenant_scope
    from app.services.contacts import search as svc
    from tests.helpers import login

    client = app.test_client()
    resp = login(client, meta["email"], meta["password"])
    assert resp.status_code == 302, f"login failed: {resp.status_code}"
    cid = meta["company_id"]
    results = []
    for kind, target, reqs in kinds:
        http_ms: list[float] = []
        rows: list[int] = []
        for i, (u, _kw) in enumerate(reqs):
            t = time.perf_counter()
            r = client.get(u)
            elapsed = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, (u, r.status_code)
            if i >= WARMUP:
                http_ms.append(elapsed)
                rows.append(r.data.count(b'class="row-check"'))
        svc_ms: list[float] = []
        with app.app_context(), tenant_scope(cid):
            for i, (_u, kw) in enumerate(reqs):
                t = time.perf_counter()
                svc.list_contacts(cid, **kw)
                elapsed = (time.perf_counter() - t) * 1000
                db.session.remove()
                if i >= WARMUP:
                    svc_ms.append(elapsed)
        res = {"kind": kind, "target": target, "n": len(http_ms), "http": _stats(http_ms), "service": _stats(svc_ms),
               "rows": statistics.mean(rows), "empty": sum(1 for x in rows if x == 0)}
        ok = "ok" if res["http"]["p95"] < target else "MISSED"
        log(f"{kind:34s} n={res['n']:4d}  HTTP p50 {res['http']['p50']:6.1f}  p95 {res['http']['p95']:6.1f}  "
            f"max {res['http']['max']:6.1f} ms | service p50 {res['service']['p50']:6.1f}  p95 "
            f"{res['service']['p95']:6.1f}  max {res['service']['max']:6.1f} ms | rows {res['rows']:4.1f} "
            f"(empty {res['empty']}) | target {target:.0f} ms {ok}")
        results.append(res)
    return results


def markdown(db_kind: str, results: list[dict]) -> str:
    """The results as a Markdown table for bench/README.md."""
    lines = [f"| {db_kind} | kind | HTTP p50 | HTTP p95 | HTTP max | service p50 | service p95 | service max | rows/page | target p95 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        h, s = r["http"], r["service"]
        lines.append(f"| {db_kind} | {r['kind']} | {h['p50']:.1f} | **{h['p95']:.1f}** | {h['max']:.1f} | "
                     f"{s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} | {r['rows']:.1f} | {r['target']:.0f} ms |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def main() -> None:
    """Generate (or reuse) the database, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per kind (after a warm-up)")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--keep", action="store_true", help="keep the database in bench/out/ and reuse it")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"contacts-{args.db}-{args.contacts}-{args.companies}-{args.seed}"
    meta_path = OUT / f"{tag}.json"
    url, reuse, pg = open_database(OUT, tag, args.db, args.keep)
    try:
        app = make_app(url)
        if reuse:
            meta = json.loads(meta_path.read_text())
            print(f"reusing {tag} ({meta['contacts']:,} contacts)")
        else:
            print(f"generating {args.contacts:,} contacts, {args.companies} companies, seed {args.seed} ({args.db})")
            meta_path.unlink(missing_ok=True)
            migrate(app)
            meta = gen_contacts.generate(app, args.contacts, args.companies, args.seed)
            meta_path.write_text(json.dumps(meta))
        print(f"nproc {os.cpu_count()}, measuring {args.requests} requests per kind (+{WARMUP} warm-up)")
        results = measure(app, meta, workload(app, meta, args.requests, args.seed), print)
        print()
        print(markdown("SQLite" if args.db == "sqlite" else "PostgreSQL", results))
        missed = [r["kind"] for r in results if r["http"]["p95"] >= r["target"]]
        print("\nall targets met" if not missed else f"\ntargets missed: {', '.join(missed)}")
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if pg is not None:
            pg.stop(keep=args.keep)
        if not args.keep:
            (OUT / f"{tag}.db").unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
