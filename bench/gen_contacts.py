"""Seeded generator of a large contact database for bench/bench_contacts.py.

1,000,000 contacts (by default) across 50 companies; company no. 1 ("the bench company") holds a
300,000-contact "Baza mailingowa" (30 % of all rows) and a standard "Kontakty" base (2 %); the
other 49 companies share the rest in 1-3 bases each. Rows are realistic Polish data (names with
diacritics, gendered surnames, companies with a valid NIP, +48 phones, cities, e-mails) from one
``random.Random(seed)``, so the same seed always gives the same database.

The schema comes from the Alembic migrations; rows go in with SQLAlchemy Core ``insert()`` in
batches, with ``company_id`` explicit and ``name_sort``/``city_norm`` computed by the same helpers
the contacts service uses. Secondary indexes of ``contact``/``contact_tag`` are dropped before the
load and re-created from their own stored DDL afterwards (same indexes, built once instead of row by
row), then ANALYZE (and VACUUM on PostgreSQL) runs.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any, Callable, Iterator

from sqlalchemy import insert, text

PASSWORD = "Zielony-Słoń-Tańczy-42!"
OWNER_EMAIL = "wlasciciel@bench-mailing.pl"
BATCH = 5_000
BLOCK = 1_000  # rows of one base generated together; blocks of all bases are interleaved

MALE = ["Jan", "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Marcin", "Łukasz", "Grzegorz",
        "Józef", "Adam", "Marek", "Zbigniew", "Jerzy", "Tadeusz", "Mateusz", "Dariusz", "Mariusz", "Wojciech",
        "Ryszard", "Jakub", "Kazimierz", "Robert", "Rafał", "Kamil", "Maciej", "Sławomir", "Bartłomiej", "Szymon"]
FEMALE = ["Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Krystyna", "Elżbieta",
          "Zofia", "Joanna", "Magdalena", "Monika", "Teresa", "Danuta", "Natalia", "Karolina", "Aleksandra",
          "Marta", "Beata", "Dorota", "Halina", "Jadwiga", "Alicja", "Grażyna", "Iwona", "Paulina", "Justyna",
          "Żaneta", "Urszula"]
#: the most common Polish surnames (masculine form), most frequent first
TOP_SURNAMES = [
    "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
    "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Wojciechowski", "Kwiatkowski",
    "Krawczyk", "Kaczmarek", "Piotrowski", "Grabowski", "Zając", "Pawłowski", "Michalski", "Król",
    "Wieczorek", "Jabłoński", "Wróbel", "Nowakowski", "Majewski", "Olszewski", "Stępień", "Malinowski",
    "Jaworski", "Adamczyk", "Dudek", "Nowicki", "Pawlak", "Górski", "Witkowski", "Walczak", "Sikora",
    "Baran", "Rutkowski", "Michalak", "Szewczyk", "Ostrowski", "Tomaszewski", "Pietrzak", "Marciniak",
    "Wróblewski", "Zalewski", "Jakubowski", "Jasiński", "Zawadzki", "Sadowski", "Bąk", "Chmielewski",
    "Włodarczyk", "Borkowski", "Czarnecki", "Sawicki", "Sokołowski", "Urbański", "Kubiak", "Maciejewski",
    "Szczepański", "Kucharski", "Wilk", "Kalinowski", "Lis", "Mazurek", "Wysocki", "Adamski", "Kaźmierczak",
    "Wasilewski", "Sobczak", "Czerwiński", "Andrzejewski", "Cieślak", "Głowacki", "Zakrzewski", "Kołodziej",
    "Sikorski", "Krajewski", "Gajewski", "Szymczak", "Szulc", "Baranowski", "Laskowski", "Brzeziński",
    "Makowski", "Ziółkowski", "Przybylski",
]
ROOTS = ["Grab", "Dęb", "Buk", "Wierzb", "Brzoz", "Jodł", "Sosn", "Kling", "Mrocz", "Gołęb", "Sroc", "Wilcz",
         "Lisz", "Niedźwiedz", "Żuraw", "Bocian", "Szczygł", "Czyż", "Krzyw", "Prost", "Mił", "Dobr", "Jasn",
         "Ciemn", "Kruk", "Kos", "Pstrąg", "Karp", "Szczuk", "Rybar", "Młynar", "Kowal", "Szewc", "Krawc",
         "Bednar", "Kołodz", "Garbar", "Cieśl", "Stolar", "Piekar", "Rzeźn", "Młot", "Kosz", "Sit", "Koł",
         "Wiatr", "Burz", "Grzmot", "Śnież", "Mróz", "Chmiel", "Żyt", "Owsi", "Jęczm", "Gryk", "Mak", "Len",
         "Konop", "Rzep", "Marchw", "Ogórk", "Pietrusz", "Jagod", "Malin", "Porzecz", "Śliw", "Grusz", "Wiśn",
         "Czereśn", "Orzech", "Kasztan", "Żołędź", "Pszczoł", "Miod", "Wosk", "Ryż", "Sołt", "Wójt", "Stróż",
         "Strzel"]
SUFFIXES = ["owski", "ewski", "iński", "yński", "ski", "czyk", "iak", "ak", "ek", "owicz", "ewicz", "uk"]
CITIES = [  # (name, postal prefix, weight)
    ("Warszawa", "00", 18), ("Kraków", "30", 8), ("Łódź", "90", 6), ("Wrocław", "50", 6), ("Poznań", "60", 5),
    ("Gdańsk", "80", 4), ("Szczecin", "70", 3), ("Bydgoszcz", "85", 3), ("Lublin", "20", 3),
    ("Białystok", "15", 2), ("Katowice", "40", 3), ("Gdynia", "81", 2), ("Częstochowa", "42", 2),
    ("Radom", "26", 2), ("Toruń", "87", 2), ("Sosnowiec", "41", 1), ("Rzeszów", "35", 2), ("Kielce", "25", 2),
    ("Gliwice", "44", 1), ("Olsztyn", "10", 1), ("Zabrze", "41", 1), ("Bielsko-Biała", "43", 1),
    ("Bytom", "41", 1), ("Zielona Góra", "65", 1), ("Rybnik", "44", 1), ("Ruda Śląska", "41", 1),
    ("Opole", "45", 1), ("Tychy", "43", 1), ("Gorzów Wielkopolski", "66", 1), ("Elbląg", "82", 1),
    ("Płock", "09", 1), ("Wałbrzych", "58", 1), ("Włocławek", "87", 1), ("Tarnów", "33", 1),
    ("Chorzów", "41", 1), ("Koszalin", "75", 1), ("Kalisz", "62", 1), ("Legnica", "59", 1),
    ("Grudziądz", "86", 1), ("Jaworzno", "43", 1), ("Słupsk", "76", 1), ("Jastrzębie-Zdrój", "44", 1),
    ("Nowy Sącz", "33", 1), ("Jelenia Góra", "58", 1), ("Siedlce", "08", 1), ("Mysłowice", "41", 1),
    ("Konin", "62", 1), ("Piła", "64", 1), ("Piotrków Trybunalski", "97", 1), ("Inowrocław", "88", 1),
    ("Ostrów Wielkopolski", "63", 1), ("Łomża", "18", 1), ("Żory", "44", 1), ("Świdnica", "58", 1),
    ("Zamość", "22", 1), ("Przemyśl", "37", 1), ("Żyrardów", "96", 1), ("Ełk", "19", 1), ("Łowicz", "99", 1),
    ("Głogów", "67", 1), ("Kętrzyn", "11", 1), ("Sopot", "81", 1), ("Zakopane", "34", 1),
]
STREETS = ["Marszałkowska", "Piotrkowska", "Świętokrzyska", "Żeromskiego", "Łąkowa", "Długa", "Gdańska",
           "Mickiewicza", "Słowackiego", "Kościuszki", "Polna", "Leśna", "Słoneczna", "Kwiatowa", "Ogrodowa",
           "Lipowa", "Brzozowa", "Szkolna", "Kolejowa", "Jana Pawła II", "Wojska Polskiego", "3 Maja",
           "Źródlana", "Wiśniowa", "Różana", "Młyńska", "Chopina", "Sienkiewicza", "Reymonta", "Konopnickiej"]
FIRM_PREFIX = ["PHU", "FHU", "P.P.H.U.", "Zakład", "Hurtownia", "Przedsiębiorstwo", "Biuro Rachunkowe",
               "Studio", "Piekarnia", "Auto-Serwis", "Kancelaria", "Usługi Remontowe", "Drukarnia", "Apteka",
               "Transport", "Gabinet", "Sklep", "Restauracja", "Pracownia", ""]
FIRM_CORE = ["Budex", "Transpol", "Agromex", "Elektro-Mont", "Polmet", "Drewnex", "Stalbud", "Mebloteka",
             "Ogrodnik", "Żuraw", "Sokół", "Orzeł", "Bałtyk", "Mazowsze", "Wisła", "Odra", "Tatry", "Karpaty",
             "Pomorze", "Śląsk", "Kujawy", "Podlasie", "Warmia", "Bieszczady", "Jantar", "Łania", "Źródło",
             "Gwiazda", "Słonecznik", "Kłos", "Wrzos", "Jaśmin", "Promyk", "Fenix", "Delta", "Omega",
             "Impuls", "Kompas", "Horyzont", "Zenit"]
LEGAL = ["Sp. z o.o.", "Sp. z o.o.", "S.A.", "s.c.", "Sp. j.", "Sp.k.", "", "", ""]
MAIL_DOMAINS = ["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl", "poczta.fm", "tlen.pl",
                "outlook.com", "vp.pl"]
CONSENT_SOURCES = ["Formularz zapisu na stronie", "Ankieta na targach", "Zgoda w sklepie internetowym",
                   "Rozmowa telefoniczna"]
CONSENT_TEXT = ("Wyrażam zgodę na otrzymywanie informacji handlowych drogą elektroniczną "
                "zgodnie z ustawą o świadczeniu usług drogą elektroniczną.")
TAGS = [("VIP", "#c62828"), ("Newsletter", "#1565c0"), ("Targi 2026", "#2e7d32"), ("Hurt", "#6a1b9a"),
        ("Do kontaktu", "#ef6c00"), ("Polecenie", "#00838f")]


def make_nip(rnd: random.Random) -> str:
    """A random NIP with a valid check digit."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rnd.randint(1, 9)] + [rnd.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def feminine(surname: str) -> str:
    """The feminine form of a masculine surname (Kowalski -> Kowalska)."""
    for masc, fem in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if surname.endswith(masc):
            return surname[: -len(masc)] + fem
    return surname


_ASCII = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def ascii_lower(text_: str) -> str:
    """Lower-case ASCII for e-mail local parts and domains."""
    return text_.translate(_ASCII).lower().replace(" ", "").replace(".", "").replace("-", "")


class Faker:
    """Polish contact data from one seeded random.Random."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.city_names = [c[0] for c in CITIES]
        self.city_weights = [c[2] for c in CITIES]
        self.postal = {c[0]: c[1] for c in CITIES}
        self.top_weights = [1.0 / (i + 1) ** 0.9 for i in range(len(TOP_SURNAMES))]

    def surname(self) -> str:
        """A masculine surname: common ones by Zipf weight, else a long tail of root+suffix."""
        r = self.rnd
        if r.random() < 0.4:
            return r.choices(TOP_SURNAMES, self.top_weights)[0]
        return r.choice(ROOTS) + r.choice(SUFFIXES)

    def city(self) -> tuple[str, str]:
        """(city, postal code)."""
        name = self.rnd.choices(self.city_names, self.city_weights)[0]
        return name, f"{self.postal[name]}-{self.rnd.randint(0, 999):03d}"

    def phone(self) -> str | None:
        """+48 and 9 digits (mobile or landline), or None for some contacts."""
        r = self.rnd
        if r.random() < 0.15:
            return None
        return f"+48{r.choice('5678')}{r.randint(0, 99_999_999):08d}"

    def person(self, n: int) -> dict[str, Any]:
        """A person's fields (name, e-mail)."""
        r = self.rnd
        male = r.random() < 0.5
        first = r.choice(MALE if male else FEMALE)
        last = self.surname()
        if not male:
            last = feminine(last)
        if r.random() < 0.03:  # a double-barrelled surname
            other = self.surname()
            last = f"{last}-{other if male else feminine(other)}"
        local = f"{ascii_lower(first)}.{ascii_lower(last)}"
        if r.random() < 0.7:
            local += str(n % 10_000)
        return {"kind": "person", "first_name": first, "last_name": last, "name": f"{first} {last}",
                "email": f"{local}@{r.choice(MAIL_DOMAINS)}", "nip": None,
                "position": r.choice([None, None, "Dyrektor", "Kierownik", "Specjalista", "Właściciel", "Księgowa"])}

    def company(self, n: int) -> dict[str, Any]:
        """A company's fields (name, NIP, e-mail, website)."""
        r = self.rnd
        core = r.choice(FIRM_CORE) if r.random() < 0.5 else self.surname()
        prefix = r.choice(FIRM_PREFIX)
        tail = r.choice(LEGAL)
        city = ""
        if r.random() < 0.2:
            city = r.choice(self.city_names)
        name = " ".join(p for p in (prefix, core, city, tail) if p)
        domain = f"{ascii_lower(core)}{n % 1000}.pl"
        return {"kind": "company", "first_name": None, "last_name": None, "name": name,
                "email": f"{r.choice(['biuro', 'kontakt', 'info', 'sekretariat'])}@{domain}",
                "nip": make_nip(r), "position": None, "website": f"https://www.{domain}"}


def _rows_of_block(fk: Faker, normalize: Callable[[str], str], sort_key: Callable[..., str],
                   company_id: int, base_id: int, mailing: bool, count: int, first_id: int,
                   owner_id: int | None, now: dt.datetime) -> list[dict[str, Any]]:
    r = fk.rnd
    rows = []
    for i in range(count):
        ident = first_id + i
        person_share = 0.85 if mailing else 0.4
        data = fk.person(ident) if r.random() < person_share else fk.company(ident)
        city, postal = fk.city()
        created = now - dt.timedelta(minutes=r.randint(0, 3 * 365 * 24 * 60))
        row = {
            "id": ident, "company_id": company_id, "base_id": base_id, "kind": data["kind"],
            "name": data["name"], "name_sort": sort_key(data["kind"], data["name"], data["first_name"], data["last_name"]),
            "first_name": data["first_name"], "last_name": data["last_name"], "position": data["position"],
            "nip": data["nip"], "regon": None, "krs": None, "pesel": None,
            "street": f"ul. {r.choice(STREETS)} {r.randint(1, 150)}", "postal_code": postal,
            "city": city, "city_norm": normalize(city)[:100] or None, "email": data["email"],
            "phone": fk.phone(), "website": data.get("website"),
            "notes": "Klient z targów, prosi o kontakt po 15." if r.random() < 0.02 else None,
            "employer_id": None, "owner_id": owner_id if r.random() < 0.5 else None,
            "consent_given_at": created if mailing else None,
            "consent_source": r.choice(CONSENT_SOURCES) if mailing else None,
            "consent_text": CONSENT_TEXT if mailing else None,
            "deleted_at": None, "deletion_id": None, "deleted_by_id": None,
            "created_at": created, "updated_at": created,
        }
        rows.append(row)
    return rows


def plan_bases(total: int, companies: int, rnd: random.Random) -> list[dict[str, Any]]:
    """How many contacts each base gets: company 1 = 30 % mailing + 2 % standard; others share the rest."""
    mailing = round(total * 0.3)
    own = round(total * 0.02)
    plan = [{"company": 1, "name": "Baza mailingowa Newsletter", "kind": "mailing", "count": mailing},
            {"company": 1, "name": "Kontakty", "kind": "contacts", "count": own}]
    rest = total - mailing - own
    weights = [rnd.uniform(0.3, 2.0) for _ in range(companies - 1)]
    scale = rest / sum(weights)
    counts = [int(w * scale) for w in weights]
    counts[-1] += rest - sum(counts)
    for c, n in enumerate(counts, start=2):
        k = rnd.choice([1, 2, 2, 3])
        parts = [n // k] * k
        parts[0] += n - sum(parts)
        for j, p in enumerate(parts):
            kind = "mailing" if j == 2 else "contacts"
            plan.append({"company": c, "name": ["Kontakty", "Klienci hurtowi", "Newsletter"][j], "kind": kind, "count": p})
    return plan


def _index_ddl(conn: Any, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX ...) of every secondary index of ``tables``, as stored by the DB."""
    names = ", ".join(f"'{t}'" for t in tables)
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(
            f"SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename IN ({names}) "
            "AND i.indexname NOT IN (SELECT conname FROM pg_constraint)"))
    else:
        rows = conn.execute(text(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({names}) AND sql IS NOT NULL"))
    return [(r[0], r[1]) for r in rows]


def generate(app: Any, total: int = 1_000_000, companies: int = 50, seed: int = 20261128,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Fill the migrated database of ``app``; return what the benchmark needs (ids, credentials)."""
    from app.extensions import db
    from app.models.company import Company
    from app.models.contacts import ClientBase, Contact, Tag, contact_tag
    from app.services.accounts import companies as tenancy
    from app.services.contacts.contacts import sort_key
    from app.services.contacts.search import normalize
    from app.services.platform import legal

    rnd = random.Random(seed)
    fk = Faker(rnd)
    now = dt.datetime(2026, 11, 28, 12, 0)
    t0 = time.perf_counter()
    with app.app_context():
        owner = tenancy.register_company(tenancy.SignupData(
            company_name="Mailing Bench Sp. z o.o.", nip=make_nip(random.Random(seed + 1)), first_name="Janina",
            last_name="Benchowska", email=OWNER_EMAIL, password=PASSWORD,
            accepted_documents=tuple(d.id for d in legal.current_documents())))  # as at a sign-up
        bench_cid, owner_id = owner.company_id, owner.id
        db.session.remove()
        engine = db.engine
        with engine.begin() as conn:
            company_ids = {1: bench_cid}
            nips = {make_nip(random.Random(seed + 1))}
            for c in range(2, companies + 1):
                nip = make_nip(rnd)
                while nip in nips:
                    nip = make_nip(rnd)
                nips.add(nip)
                city, postal = fk.city()
                res = conn.execute(insert(Company).values(
                    name=f"{rnd.choice(FIRM_PREFIX) or 'Firma'} {rnd.choice(FIRM_CORE)} {c} Sp. z o.o.", nip=nip,
                    city=city, postal_code=postal, country="PL", plan="standard", active=True,
                    licence_valid_until=dt.date(2027, 12, 31), created_at=now, updated_at=now))
                company_ids[c] = res.inserted_primary_key[0]
            plan = plan_bases(total, companies, rnd)
            for b in plan:
                res = conn.execute(insert(ClientBase).values(
                    company_id=company_ids[b["company"]], name=b["name"], kind=b["kind"], created_at=now, updated_at=now))
                b["id"] = res.inserted_primary_key[0]
            tag_ids = []
            for name, color in TAGS:
                res = conn.execute(insert(Tag).values(company_id=bench_cid, name=name, color=color,
                                                      created_at=now, updated_at=now))
                tag_ids.append(res.inserted_primary_key[0])
        # drop secondary indexes for the load; re-created from the same DDL below
        with engine.begin() as conn:
            ddl = _index_ddl(conn, ("contact", "contact_tag"))
            for name, _sql in ddl:
                conn.execute(text(f'DROP INDEX "{name}"'))
            # SQLite: the FTS5 trigram triggers (migration 0008) too; the table is rebuilt once below
            triggers = list(conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contact'"
            ))) if conn.dialect.name == "sqlite" else []
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        # blocks of BLOCK rows per base, interleaved as imports and typing of many tenants would be
        blocks: list[tuple[dict[str, Any], int]] = []
        for b in plan:
            full, part = divmod(b["count"], BLOCK)
            blocks += [(b, BLOCK)] * full + ([(b, part)] if part else [])
        rnd.shuffle(blocks)
        next_id = 1
        pending: list[dict[str, Any]] = []
        tags: list[dict[str, int]] = []
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA synchronous = OFF")
                conn.exec_driver_sql("PRAGMA cache_size = -262144")
            for b, count in blocks:
                cid = company_ids[b["company"]]
                rows = _rows_of_block(fk, normalize, sort_key, cid, b["id"], b["kind"] == "mailing", count, next_id,
                                      owner_id if cid == bench_cid else None, now)
                if cid == bench_cid:
                    for row in rows:
                        if rnd.random() < 0.1:
                            for t in rnd.sample(tag_ids, rnd.choice([1, 1, 2])):
                                tags.append({"contact_id": row["id"], "tag_id": t})
                next_id += count
                pending += rows
                if len(pending) >= BATCH:
                    conn.execute(insert(Contact), pending)
                    conn.commit()
                    pending = []
                    if next_id // BATCH % 40 == 0:
                        log(f"  {next_id - 1:>9,} contacts  {time.perf_counter() - t0:6.1f} s")
            if pending:
                conn.execute(insert(Contact), pending)
            for i in range(0, len(tags), BATCH):
                conn.execute(insert(contact_tag), tags[i:i + BATCH])
            conn.commit()
        t_load = time.perf_counter()
        log(f"  loaded {next_id - 1:,} contacts, {len(tags):,} tag links in {t_load - t0:.1f} s; building indexes")
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET maintenance_work_mem = '512MB'"))
                conn.execute(text("SELECT setval(pg_get_serial_sequence('contact', 'id'), (SELECT max(id) FROM contact))"))
            for name, sql in ddl:
                t = time.perf_counter()
                conn.execute(text(sql))
                log(f"    {name}: {time.perf_counter() - t:.1f} s")
            if triggers:
                t = time.perf_counter()
                conn.execute(text("INSERT INTO contact_fts(contact_fts) VALUES ('rebuild')"))
                for _name, sql in triggers:
                    conn.execute(text(sql))
                log(f"    contact_fts (trigram) rebuild: {time.perf_counter() - t:.1f} s")
        t_idx = time.perf_counter()
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        t_end = time.perf_counter()
        log(f"  indexes {t_idx - t_load:.1f} s, analyze {t_end - t_idx:.1f} s, total {t_end - t0:.1f} s")
        mailing = plan[0]
    return {"company_id": bench_cid, "owner_id": owner_id, "email": OWNER_EMAIL, "password": PASSWORD,
            "mailing_base_id": mailing["id"], "standard_base_id": plan[1]["id"], "contacts": next_id - 1,
            "seconds": {"load": t_load - t0, "indexes": t_idx - t_load, "analyze": t_end - t_idx, "total": t_end - t0}}


def iter_sample(rows: list[Any], n: int, rnd: random.Random) -> Iterator[Any]:
    """``n`` items drawn with replacement from ``rows`` (seeded)."""
    for _ in range(n):
        yield rnd.choice(rows)
