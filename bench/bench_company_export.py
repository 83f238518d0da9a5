"""Export of all of a company's data (the ZIP of app/services/platform/company_export.py) on generated data.

One company gets ``--contacts`` contacts (half people, half companies, Polish letters), a note and a
tag on every tenth, a task on every fifth, and ``--files`` stored files of 50 KB; a second company gets
the same amount (its rows must not slow the first one's export). The run times the whole background
job (``run_export``: every tenant table as CSV and XLSX, the files, storing the ZIP), reports the ZIP
size and the peak memory of the process, then times the RODO export (JSON and PDF) and the
anonymisation of one person. Each database is migrated fresh (a new SQLite file; with
``--postgresql`` a throwaway cluster).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIRST = ["Jan", "Anna", "Piotr", "Małgorzata", "Łukasz", "Żaneta", "Grzegorz", "Zofia", "Józef", "Elżbieta"]
LAST = ["Nowak", "Wiśniewska", "Wójcik", "Kowalczyk", "Dąbrowski", "Zieliński", "Król", "Głowacki", "Bąk"]
CITIES = ["Warszawa", "Kraków", "Łódź", "Gdańsk", "Poznań", "Wrocław", "Zielona Góra", "Białystok"]


def _fill(company_id: int, owner_id: int, contacts: int, files: int, seed: int) -> int:
    """Rows for one company straight into the tables (Core inserts, company_id explicit); a person's id."""
    from app.extensions import db
    from app.integrations.storage import new_key
    from app.models import Attachment, ClientBase, Contact, ContactNote, Tag, Task, contact_tag
    from app.services.contacts.contacts import sort_key
    from app.services.contacts.search import normalize
    from app.services.work.attachments import get_storage

    rnd = random.Random(seed)
    base = ClientBase(company_id=company_id, name="Klienci", kind="contacts")
    tag = Tag(company_id=company_id, name="Stały klient")
    db.session.add_all([base, tag])
    db.session.flush()
    rows = []
    for i in range(contacts):
        first, last, city = rnd.choice(FIRST), rnd.choice(LAST), rnd.choice(CITIES)
        person = i % 2 == 0
        name = f"{first} {last}" if person else f"{last} i Wspólnicy {i} Sp. z o.o."
        rows.append({"company_id": company_id, "base_id": base.id, "kind": "person" if person else "company",
                     "name": name, "name_sort": sort_key("person" if person else "company", name, first, last),
                     "first_name": first if person else None, "last_name": last if person else None,
                     "city": city, "city_norm": normalize(city), "email": f"k{i}@przyklad.pl",
                     "phone": f"+48600{i:06d}", "street": f"ul. Długa {i % 200 + 1}", "postal_code": "00-950"})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Contact), rows[start:start + 5000])
    ids = list(db.session.scalars(text("SELECT id FROM contact WHERE company_id = :c ORDER BY id"),
                                  {"c": company_id}))
    db.session.execute(insert(ContactNote), [{"company_id": company_id, "contact_id": cid, "author_id": owner_id,
                                              "text": "Dzwonił w sprawie rabatu; oddzwonić po 16:00."}
                                             for cid in ids[::10]])
    db.session.execute(insert(contact_tag), [{"contact_id": cid, "tag_id": tag.id} for cid in ids[::10]])
    db.session.execute(insert(Task), [{"company_id": company_id, "title": f"Zadzwonić do klienta {n}",
                                       "contact_id": cid, "status": "todo", "priority": "normal"}
                                      for n, cid in enumerate(ids[::5])])
    storage = get_storage()
    payload = bytes(rnd.getrandbits(8) for _ in range(50_000))
    for n in range(files):
        key = new_key(company_id)
        storage.put(key, payload)
        db.session.add(Attachment(company_id=company_id, owner_type="contact", owner_id=ids[n % len(ids)],
                                  filename=f"umowa-{n}.pdf", size=len(payload), mime="application/pdf",
                                  storage_key=key))
    db.session.commit()
    return ids[0]


def run_once(url: str, contacts: int, files: int, label: str) -> dict:
    """Migrate a fresh database, generate two companies, time the export and the RODO actions."""
    os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-bench-"))
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        SERVER_NAME = None

    from flask_migrate import upgrade

    from app import MIGRATIONS_DIR, create_app
    from app.extensions import appbuilder, db
    from app.models import CompanyExport, CrmUser
    from app.security.sync import sync_roles
    from app.security.tenancy import tenant_scope
    from app.services.accounts import companies as tenancy
    from app.services.platform import company_export, rodo
    from tests.helpers import make_nip

    app = create_app(Config)
    with app.app_context(), app.test_request_context():
        upgrade(directory=MIGRATIONS_DIR, revision="heads")
        sync_roles(appbuilder)
        owners = [tenancy.register_company(tenancy.SignupData(
            company_name=f"Bench {label} {n}", nip=make_nip(n + 7), first_name="Jan", last_name="Bench",
            email=f"bench{n}-{abs(hash(label)) % 10**6}@example.pl", password="Zielony-Słoń-Tańczy-42!"))
            for n in range(2)]
        filled = time.perf_counter()
        person_id = 0
        for n, owner in enumerate(owners):
            with tenant_scope(owner.company_id):
                pid = _fill(owner.company_id, owner.id, contacts, files, 42 + n)
                person_id = person_id or pid
        filled = time.perf_counter() - filled
        owner = db.session.get(CrmUser, owners[0].id)
        cid = owner.company_id
        with tenant_scope(cid):
            export = company_export.request_export(cid, owner)
            t0 = time.perf_counter()
            company_export.run_export(export.id)
            t_export = time.perf_counter() - t0
            row = db.session.get(CompanyExport, export.id)
            size, status = row.size, row.status
            t0 = time.perf_counter()
            rodo.export_json(cid, person_id)
            t_json = time.perf_counter() - t0
            t0 = time.perf_counter()
            rodo.export_pdf(cid, person_id)
            t_pdf = time.perf_counter() - t0
            t0 = time.perf_counter()
            rodo.anonymise(cid, owner, person_id)
            t_anon = time.perf_counter() - t0
        db.session.remove()
        db.engine.dispose()
    return {"status": status, "zip_mb": (size or 0) / 1e6, "export_s": t_export, "json_s": t_json, "pdf_s": t_pdf,
            "anonymise_s": t_anon, "fill_s": filled,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    """Parse arguments, run each database in its own process, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--postgresql", action="store_true", help="also run against a throwaway PostgreSQL")
    parser.add_argument("--worker", nargs=2, metavar=("URL", "LABEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, label = args.worker
        print("RESULT " + json.dumps(run_once(url, args.contacts, args.files, label)))
        return
    tmp = tempfile.mkdtemp(prefix="crm-bench-export-")
    targets = [("sqlite", f"sqlite:///{tmp}/bench.db")]
    pg = None
    if args.postgresql:
        from tests.pg import TempPostgres

        pg = TempPostgres()
        targets.append(("postgresql", pg.start()))
    try:
        for kind, url in targets:
            proc = subprocess.run([sys.executable, __file__, "--contacts", str(args.contacts), "--files",
                                   str(args.files), "--worker", url, kind], capture_output=True, text=True, check=True)
            r = json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))[7:])
            assert r["status"] == "done", r
            print(f"{kind:10s} contacts={args.contacts} files={args.files} export={r['export_s']:.2f}s "
                  f"zip={r['zip_mb']:.1f}MB peak_rss={r['peak_rss_mb']:.0f}MB person_json={r['json_s'] * 1000:.0f}ms "
                  f"person_pdf={r['pdf_s'] * 1000:.0f}ms anonymise={r['anonymise_s'] * 1000:.0f}ms")
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
