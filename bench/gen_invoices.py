"""Seeded generator of a company with 100,000 invoices for bench/bench_invoices.py.

Contacts first (``gen_contacts.generate`` with 2 companies: the bench company gets a "Kontakty"
base of buyers and a mailing base), then invoices inserted with SQLAlchemy Core ``insert()`` in
batches (not through the UI or the services): issued VAT invoices numbered ``FV/{n}/{MM}/{YYYY}``
in the company's default series over three years, with 1-3 lines each, buyers drawn from the
company's "Kontakty" base (a few big clients get many invoices), the NIP copied from the buyer, a
stored FA(3)-sized XML blob, some paid, some overdue, some accepted by KSeF; about 1 % drafts and
cancelled. The other company gets 10 % as many invoices, so every query must filter by company.
Secondary indexes of ``invoice``/``invoice_item`` are dropped for the load and rebuilt from their
stored DDL, then ANALYZE (VACUUM ANALYZE on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

import gen_contacts
from sqlalchemy import insert, select, text

BATCH = 5_000
ITEMS = ["Usługa serwisowa", "Montaż instalacji", "Konsultacje techniczne", "Licencja oprogramowania",
         "Przegląd okresowy", "Dostawa materiałów budowlanych", "Szkolenie pracowników", "Transport towaru",
         "Projekt graficzny", "Abonament miesięczny", "Wynajem sprzętu", "Części zamienne"]
RATES = [("23", Decimal("0.23"), 80), ("8", Decimal("0.08"), 12), ("5", Decimal("0.05"), 5), ("zw", Decimal("0"), 3)]
XML_PAD = b"<Pozycja>" + b"x" * 200 + b"</Pozycja>"


def _money(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _xml(number: str, buyer: str, nip: str | None, gross: Decimal, lines: int) -> bytes:
    """A blob of the size of a real FA(3) file (3-4 KB); the list and the search never parse it."""
    head = (f'<?xml version="1.0" encoding="UTF-8"?><Faktura><Naglowek/><P_2>{number}</P_2>'
            f"<Nabywca>{buyer} {nip or ''}</Nabywca><P_15>{gross}</P_15>").encode()
    return head + XML_PAD * (10 + 2 * lines) + b"</Faktura>"


def generate(app: Any, invoices: int = 100_000, seed: int = 20261201,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Fill the migrated database of ``app``; return what the benchmark needs (ids, credentials)."""
    from app.extensions import db
    from app.models.contacts import Contact
    from app.models.invoicing import Invoice, InvoiceCounter, InvoiceItem, InvoiceSeries

    t0 = time.perf_counter()
    meta = gen_contacts.generate(app, 100_000, 2, seed, log=lambda _m: None)
    log(f"  contacts: {meta['contacts']:,} in {time.perf_counter() - t0:.1f} s")
    rnd = random.Random(seed)
    today = dt.date(2026, 11, 28)
    first_day = dt.date(2023, 12, 1)
    span = (today - first_day).days
    with app.app_context():
        engine = db.engine
    with engine.begin() as conn:
        cids = [meta["company_id"]] + [r[0] for r in conn.execute(text(
            "SELECT id FROM company WHERE id <> :c ORDER BY id"), {"c": meta["company_id"]})]
        plan = [(cids[0], invoices)] + [(c, invoices // 10) for c in cids[1:]]
        buyers: dict[int, list[Any]] = {}
        series_ids: dict[int, int] = {}
        for cid, _n in plan:
            base = conn.execute(text("SELECT id FROM client_base WHERE company_id = :c AND kind = 'contacts' "
                                     "ORDER BY id LIMIT 1"), {"c": cid}).scalar_one()
            buyers[cid] = list(conn.execute(select(
                Contact.id, Contact.name, Contact.nip, Contact.street, Contact.postal_code, Contact.city)
                .where(Contact.company_id == cid, Contact.base_id == base).order_by(Contact.id)))
            now = dt.datetime(2023, 12, 1, 8, 0)
            res = conn.execute(insert(InvoiceSeries).values(
                company_id=cid, name="FV", kind="vat", pattern="FV/{n}/{MM}/{YYYY}", reset="monthly",
                is_default=True, active=True, created_at=now, updated_at=now))
            series_ids[cid] = res.inserted_primary_key[0]
        ddl = gen_contacts._index_ddl(conn, ("invoice", "invoice_item"))
        for name, _sql in ddl:
            conn.execute(text(f'DROP INDEX "{name}"'))
    next_id, next_item = 1, 1
    counters: dict[tuple[int, str], int] = {}
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous = OFF")
            conn.exec_driver_sql("PRAGMA cache_size = -262144")
        for cid, count in plan:
            pool = buyers[cid]
            # a few big clients: Zipf-like weights over the buyers
            weights = [1.0 / (i + 1) ** 0.8 for i in range(len(pool))]
            days = sorted(first_day + dt.timedelta(days=rnd.randrange(span + 1)) for _ in range(count))
            inv_rows: list[dict] = []
            item_rows: list[dict] = []
            for day in days:
                b = rnd.choices(pool, weights)[0]
                status = "issued"
                roll = rnd.random()
                if day > today - dt.timedelta(days=20) and roll < 0.05:
                    status = "draft"
                elif roll < 0.005:
                    status = "cancelled"
                number = seq = period = None
                if status != "draft":
                    period = f"{day.year}-{day.month:02d}"
                    seq = counters[(cid, period)] = counters.get((cid, period), 0) + 1
                    number = f"FV/{seq}/{day.month:02d}/{day.year}"
                nets: dict[str, Decimal] = {}
                n_lines = rnd.choice([1, 1, 2, 2, 3])
                for pos in range(1, n_lines + 1):
                    code, _r, _w = rnd.choices(RATES, [r[2] for r in RATES])[0]
                    qty = Decimal(rnd.choice([1, 1, 2, 3, 5, 10]))
                    unit = Decimal(rnd.randint(2_000, 900_000)) / 100
                    net = _money(qty * unit)
                    nets[code] = nets.get(code, Decimal(0)) + net
                    item_rows.append({"id": next_item, "company_id": cid, "invoice_id": next_id, "position": pos,
                                      "before": False, "product_id": None, "name": rnd.choice(ITEMS), "unit": "szt.",
                                      "quantity": qty, "unit_net": unit, "discount": Decimal(0), "rate_code": code,
                                      "annex15": False, "net": net})
                    next_item += 1
                rate_of = {c: r for c, r, _w in RATES}
                total_net = sum(nets.values(), Decimal(0))
                total_vat = sum((_money(v * rate_of[c]) for c, v in nets.items()), Decimal(0))
                gross = total_net + total_vat
                due = day + dt.timedelta(days=rnd.choice([7, 14, 14, 30]))
                paid = Decimal(0)
                paid_at = None
                if status == "issued" and (due < today - dt.timedelta(days=60) or rnd.random() < 0.6):
                    if rnd.random() < 0.97:
                        paid, paid_at = gross, min(today, due - dt.timedelta(days=rnd.randint(0, 5)))
                issued_at = dt.datetime.combine(day, dt.time(9, 0)) + dt.timedelta(minutes=rnd.randrange(600))
                xml = _xml(number, b.name, b.nip, gross, n_lines) if status != "draft" else None
                accepted = status == "issued" and day < today - dt.timedelta(days=2)
                inv_rows.append({
                    "id": next_id, "company_id": cid, "kind": "vat", "status": status,
                    "series_id": series_ids[cid] if number else None, "number": number, "seq_period": period,
                    "seq_number": seq, "issue_date": day, "sale_date": day, "place_of_issue": "Warszawa",
                    "seller_name": "Mailing Bench Sp. z o.o.", "seller_nip": "5260250274", "seller_street": "ul. Długa 1",
                    "seller_postal_code": "00-001", "seller_city": "Warszawa", "bank_account": "61109010140000071219812874",
                    "buyer_contact_id": b.id, "buyer_name": b.name, "buyer_nip": b.nip, "buyer_street": b.street,
                    "buyer_postal_code": b.postal_code, "buyer_city": b.city, "buyer_country": "PL",
                    "currency": "PLN", "exchange_rate": None, "exchange_table": None, "exchange_date": None,
                    "payment_method": "transfer", "due_date": due, "notes": None, "exemption_basis":
                    "art. 43 ust. 1 pkt 37 ustawy o VAT" if "zw" in nets else None, "split_payment": False,
                    "total_net": total_net, "total_vat": total_vat, "total_gross": gross, "total_vat_pln": total_vat,
                    "paid_amount": paid, "paid_at": paid_at, "order_id": None, "offer_id": None, "binder_id": None,
                    "corrected_id": None, "correction_reason": None, "created_by_id": None,
                    "issued_at": issued_at if number else None,
                    "cancelled_at": issued_at if status == "cancelled" else None,
                    "xml": xml, "xml_sha256": hashlib.sha256(xml).hexdigest() if xml else None,
                    "ksef_status": "accepted" if accepted else "none",
                    "ksef_number": f"5260250274-{day:%Y%m%d}-{next_id:06X}00-{next_id % 97:02X}" if accepted else None,
                    "ksef_reference": None, "ksef_session_reference": None,
                    "ksef_accepted_at": issued_at if accepted else None, "ksef_error": None, "upo_xml": None,
                    "created_at": issued_at, "updated_at": issued_at,
                })
                next_id += 1
                if len(inv_rows) >= BATCH:
                    conn.execute(insert(Invoice), inv_rows)
                    conn.execute(insert(InvoiceItem), item_rows)
                    conn.commit()
                    inv_rows, item_rows = [], []
            if inv_rows:
                conn.execute(insert(Invoice), inv_rows)
                conn.execute(insert(InvoiceItem), item_rows)
            conn.commit()
        counter_rows = [{"company_id": c, "series_id": series_ids[c], "period": p, "last_number": n}
                        for (c, p), n in counters.items()]
        conn.execute(insert(InvoiceCounter), counter_rows)
        conn.commit()
    t_load = time.perf_counter()
    log(f"  loaded {next_id - 1:,} invoices, {next_item - 1:,} lines in {t_load - t0:.1f} s; building indexes")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET maintenance_work_mem = '512MB'"))
            for table in ("invoice", "invoice_item"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        for _name, sql in ddl:
            conn.execute(text(sql))
    t_idx = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    t_end = time.perf_counter()
    log(f"  indexes {t_idx - t_load:.1f} s, analyze {t_end - t_idx:.1f} s, total {t_end - t0:.1f} s")
    meta.update({"invoices": invoices, "other_invoices": sum(n for _c, n in plan[1:]),
                 "seconds": {"load": t_load - t0, "indexes": t_idx - t_load, "total": t_end - t0}})
    return meta
