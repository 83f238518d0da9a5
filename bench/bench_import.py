"""Benchmark: import a generated 100,000-row CSV (Windows-1250 and UTF-8) with the real service.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--postgresql] [--seed 42]

Each run gets a fresh database (a SQLite file, and with --postgresql also a throwaway cluster
from tests/pg.py), migrated with Alembic; one company and one base; the file is uploaded as a
draft and run_import() runs synchronously. About 2 % of the rows are invalid (refused with a
reason) and about 1 % repeat an earlier NIP (skipped), so validation, the report and the
duplicate look-up are all exercised.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STREETS = ["Marszałkowska", "Piotrkowska", "Świętokrzyska", "Żeromskiego", "Łąkowa", "Długa", "Gdańska"]
CITIES = [("Warszawa", "00-950"), ("Łódź", "90-001"), ("Kraków", "30-001"), ("Gdańsk", "80-001"),
          ("Poznań", "60-001"), ("Wrocław", "50-001"), ("Białystok", "15-001"), ("Zielona Góra", "65-001")]
WORDS = ["Żółw", "Hurtownia", "Zakład", "Usługi", "Gęś", "Jaźń", "Budex", "Transport", "Piekarnia", "Ślusarz"]


def nip(rnd: random.Random) -> str:
    """A random NIP with a valid check digit."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rnd.randint(1, 9)] + [rnd.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def generate(rows: int, seed: int) -> str:
    """The CSV text: header + rows, `;`-separated, Polish letters everywhere."""
    rnd = random.Random(seed)
    out = ["Nazwa firmy;NIP;E-mail;Telefon;Ulica;Kod pocztowy;Miejscowość;Uwagi"]
    nips: list[str] = []
    for i in range(rows):
        city, code = rnd.choice(CITIES)
        n = nip(rnd)
        r = rnd.random()
        if r < 0.01 and nips:
            n = rnd.choice(nips)  # a duplicate of an earlier row
        elif r < 0.03:
            n = n[:-1] + str((int(n[-1]) + 1) % 10)  # a wrong check digit: refused
        nips.append(n)
        name = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {i} Sp. z o.o."
        out.append(";".join([
            name, n, f"biuro{i}@firma{i % 997}.pl", f"{rnd.randint(500, 899)} {rnd.randint(100, 999)} {rnd.randint(100, 999)}",
            f"ul. {rnd.choice(STREETS)} {rnd.randint(1, 200)}", code, city, "Klient z targów; wrzesień" if i % 50 == 0 else "",
        ]))
    return "\r\n".join(out) + "\r\n"


def run_once(url: str, content: bytes, label: str) -> dict:
    """Migrate a fresh DB at url, import content once, return timings and counters."""
    os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-"))
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SERVER_NAME = None

    from flask_migrate import upgrade

    from app import MIGRATIONS_DIR, create_app
    from app.extensions import appbuilder, db
    from app.security.sync import sync_roles
    from app.security.tenancy import tenant_scope
    from app.services.accounts import companies as tenancy
    from app.services.contacts import bases
    from app.services.contacts import contact_import as ci

    app = create_app(Config)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="heads")
        sync_roles(appbuilder)
        owner = tenancy.register_company(tenancy.SignupData(
            company_name=f"Bench {label}", nip=nip(random.Random(label)), first_name="Jan", last_name="Bench",
            email=f"bench-{abs(hash(label)) % 10**8}@example.pl", password="Zielony-Słoń-Tańczy-42!"))
        cid = owner.company_id
        with tenant_scope(cid):
            base = bases.create_base(cid, f"Import {label}", "contacts")
            t0 = time.perf_counter()
            job = ci.create_draft(cid, owner.id, base.id, content, "bench.csv")
            ci.queue(cid, job.id, job.mapping, ci.ImportOptions(duplicates="skip"))
            t1 = time.perf_counter()
            ci.run_import(job.id)
            t2 = time.perf_counter()
            job = ci.get_job(cid, job.id)
            result = {"status": job.status, "processed": job.processed, "inserted": job.inserted,
                      "skipped": job.skipped, "refused": job.refused, "encoding": job.encoding,
                      "upload_s": t1 - t0, "run_s": t2 - t1, "total_s": t2 - t0}
        db.session.remove()
        db.engine.dispose()
    return result


def main() -> None:
    """Parse arguments, generate the files, run the imports, print rows/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--postgresql", action="store_true", help="also run against a throwaway PostgreSQL")
    parser.add_argument("--worker", nargs=3, metavar=("URL", "FILE", "LABEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # one import in a fresh process (the app is built once per process)
        url, path, label = args.worker
        print("RESULT " + json.dumps(run_once(url, Path(path).read_bytes(), label)))
        return

    text = generate(args.rows, args.seed)
    files = {"Windows-1250": text.encode("cp1250"), "UTF-8": text.encode("utf-8")}
    print(f"generated {args.rows} rows (seed {args.seed}): "
          + ", ".join(f"{k} {len(v) / 1e6:.1f} MB" for k, v in files.items()))
    targets = []
    tmp = tempfile.mkdtemp(prefix="crm-bench-sqlite-")
    paths = {}
    for enc, data in files.items():
        paths[enc] = Path(tmp) / f"bench-{enc}.csv"
        paths[enc].write_bytes(data)
    for enc in files:
        targets.append(("sqlite", enc, f"sqlite:///{tmp}/bench-{enc}.db"))
    pg = None
    if args.postgresql:
        from tests.pg import TempPostgres

        pg = TempPostgres()
        url = pg.start()
        targets += [("postgresql", enc, url) for enc in files]
    try:
        for db_kind, enc, url in targets:
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", url, str(paths[enc]), f"{db_kind}-{enc}"],
                capture_output=True, text=True, check=True,
            )
            r = json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))[7:])
            assert r["status"] == "done", r
            print(f"{db_kind:10s} {enc:12s} rows={r['processed']} inserted={r['inserted']} skipped={r['skipped']} "
                  f"refused={r['refused']} upload+preview={r['upload_s']:.2f}s import={r['run_s']:.2f}s "
                  f"total={r['total_s']:.2f}s  {r['processed'] / r['total_s']:,.0f} rows/s")
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
