"""Hostile input never ends in a 500: every route and every form of the app, fed with bad values.

Routes are discovered from ``app.url_map``; forms from the pages the app renders (their fields,
hidden inputs and selects) and query parameters from the views' source. Each form field, each
query parameter, each id in a URL and each uploaded file gets, one at a time, oversize numbers,
oversize text, a NUL byte, other C0 control characters and invalid UTF-8, signed in as the owner
of a company that has one of everything (and, for the public pages, signed out). Any 500 fails,
with the full list of failing requests; afterwards no text column may hold a control character.
"""

from __future__ import annotations

import inspect
import io
import logging
import re
import sys
import uuid
from html.parser import HTMLParser
from typing import Any, Callable
from urllib.parse import quote_from_bytes, urlencode, urlsplit

import pytest
from sqlalchemy import String, Text, select

from tests.helpers import STRONG_PASSWORD, login, make_nip
from tests.integration.sales_fixtures import offer_form, seed_sales

ID_PAYLOADS = [str(2**31), str(2**63), str(10**20), "-1", "²"]
TEXT_PAYLOADS: list[str | bytes] = ["x" * 100_000, "a\x00b", "a\x01\x1b\x7fb", b"\xff\xfe\xc3("]
ALL_PAYLOADS: list[str | bytes] = ID_PAYLOADS + TEXT_PAYLOADS
#: what each form field gets, one request each (10**20 and -1 behave as 2**63 and "²" there)
FIELD_PAYLOADS: list[str | bytes] = [str(2**31), str(2**63), "²", *TEXT_PAYLOADS]
#: a CSV with one cell of a million characters, a file of NUL bytes, a file that is not UTF-8
FILE_PAYLOADS = [
    ("big.csv", b"name;net_price\n" + b"x" * 1_000_000 + b";10\n"),
    ("nul.csv", b"name;net_price\nab\x00cd;10\n" + b"\x00" * 100),
    ("bad.csv", b"name;net_price\n\xff\xfe\xc3(;\x01\n"),
]
#: endpoints run last, in this order: they sign the client out or delete what the others use
LAST = ("delete", "active", "policy", "two_factor", "logout")
ADMIN = ("root@hostile.example.pl", "Platforma-Admin#2026-wrogie")
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
QUERY_NAME = re.compile(r"""(?:args\.get(?:list)?\(|args\[|_arg\()\s*["'](\w+)["']""")


# --- discovery --------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: action, method, enctype and their fields with default values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": (a.get("method") or "get").lower(),
                          "enctype": a.get("enctype", ""), "fields": {}, "files": set()}
            self.forms.append(self._form)
            return
        form = self._form
        name = a.get("name")
        if form is None or not name:
            if tag == "option" and self._select is not None:
                self._options.append((a.get("value", ""), "selected" in a))
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                form["files"].add(name)
            elif kind in ("checkbox", "radio"):
                form["fields"].setdefault(name, [])
                if "checked" in a:
                    form["fields"][name].append(a.get("value", "on"))
            elif kind not in ("submit", "button", "reset", "image"):
                form["fields"].setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "textarea":
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            self._form["fields"].setdefault(self._select, []).extend(chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form["fields"].setdefault(self._textarea, []).append(self._text)
            self._textarea = None


def page_forms(html: str) -> list[dict]:
    """The forms of an HTML page."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def query_names(app: Any, endpoint: str) -> set[str]:
    """Query parameters a view reads: found in the source of its module."""
    view = app.view_functions[endpoint]
    module = sys.modules.get(getattr(inspect.unwrap(view), "__module__", ""), None)
    try:
        source = inspect.getsource(module) if module else ""
    except (OSError, TypeError):
        source = ""
    return set(QUERY_NAME.findall(source))


def plausible(name: str, value: str, n: int) -> str:
    """A value a user would type in a field, so that the other fields of a form pass their checks."""
    low = name.lower()
    if value:
        return value
    if "password" in low:
        return STRONG_PASSWORD
    if low in ("email", "to", "username"):
        return f"hostile{n}-{uuid.uuid4().hex[:6]}@example.pl"
    if low == "nip":
        return make_nip(50_000 + n)
    if "remind_at" in low:
        return "2031-05-04T10:00"
    if "date" in low or "valid_until" in low or "reminder_on" in low or low.endswith("_at"):
        return "2031-05-04"
    if "time" in low:
        return "10:00"
    if "color" in low:
        return "#123456"
    if low in ("phone",):
        return "600100200"
    if low == "postal_code":
        return "00-950"
    if any(k in low for k in ("price", "quantity", "discount")):
        return "1"
    if low.endswith("_id") or low.endswith("_ids") or low in ("csrf_token", "next", "regon", "pesel", "iban", "krs",
                                                                    "code", "website", "keep", "merge", "ids"):
        return value
    return "Test"


# --- requests ---------------------------------------------------------------------------------


def _enc(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def urlencoded(fields: dict[str, list[str | bytes]]) -> bytes:
    """An application/x-www-form-urlencoded body (values may be raw, non-UTF-8 bytes)."""
    return urlencode([(k, _enc(v)) for k, vs in fields.items() for v in vs]).encode()


def multipart(fields: dict[str, list[str | bytes]], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body built by hand (values may be raw, non-UTF-8 bytes)."""
    boundary = "----hostile" + uuid.uuid4().hex
    out = io.BytesIO()
    for k, vs in fields.items():
        for v in vs:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode())
            out.write(_enc(v) + b"\r\n")
    for k, (filename, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{filename}"\r\n'
                  "Content-Type: text/csv\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class _Errors(logging.Handler):
    """Keeps the logged errors (with their exception) of the current request."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Sweep:
    """Sends the requests and collects every 500."""

    def __init__(self, client: Any, who: str) -> None:
        self.client = client
        self.who = who
        self.failures: list[str] = []
        self.count = 0
        self.errors = _Errors()
        logging.getLogger().addHandler(self.errors)

    def close(self) -> None:
        """Stop collecting logged errors."""
        logging.getLogger().removeHandler(self.errors)

    def _check(self, resp: Any, what: str) -> Any:
        self.count += 1
        if resp.status_code >= 500:
            why = ""
            if self.errors.records and self.errors.records[-1].exc_info:
                err = self.errors.records[-1].exc_info[1]
                why = f" [{type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else ''}]"
            self.failures.append(f"{self.who}: {what[:160]} -> {resp.status_code}{why}")
        self.errors.records.clear()
        return resp

    def get(self, path: str, query: bytes = b"", label: str = "") -> Any:
        """GET a path (already percent-encoded) with a raw query string."""
        return self._check(self.client.get(path, query_string=query.decode("ascii")), f"GET {path[:80]}?{query[:60]!r} {label}")

    def post(self, path: str, fields: dict, files: dict | None = None, label: str = "") -> Any:
        """POST a form, multipart when it carries files."""
        if files:
            body, ctype = multipart(fields, files)
        else:
            body, ctype = urlencoded(fields), "application/x-www-form-urlencoded"
        return self._check(self.client.post(path, data=body, content_type=ctype), f"POST {path[:80]} {label}")


def _short(payload: str | bytes) -> str:
    text = repr(payload)
    return text if len(text) < 30 else text[:20] + f"...({len(payload)})"


def fuzz_form(sweep: Sweep, path: str, form: dict, n: int) -> None:
    """Each field of a form, one at a time, with every payload; each file field with every bad file."""
    base = {k: [plausible(k, v, n) for v in (vs or [""])] for k, vs in form["fields"].items()}
    send = sweep.post if form["method"] == "post" else None
    for name in sorted(base):
        for payload in FIELD_PAYLOADS:
            fields = dict(base)
            fields[name] = [payload]
            if send:
                send(path, fields, {k: ("", b"") for k in form["files"]} or None, label=f"{name}={_short(payload)}")
            else:
                sweep.get(path, urlencoded(fields), label=f"{name}={_short(payload)}")
    for fname in sorted(form["files"]):
        for filename, data in FILE_PAYLOADS:
            sweep.post(path, base, {fname: (filename, data)}, label=f"{fname}={filename}")
        sweep.post(path, base, {fname: ("a\x00b.csv", b"a;b\n")}, label=f"{fname} name with NUL")


def fill_path(rule: Any, ids: dict[str, Any], override: dict[str, str] | None = None) -> str | None:
    """The rule's path with seeded ids (or the overrides, raw and percent-encoded)."""
    override = override or {}
    path = rule.rule
    for arg in rule.arguments:
        if arg in override:
            value = override[arg]
        elif arg in ids:
            value = str(ids[arg])
        else:
            return None
        path = re.sub(r"<(?:[^:<>]+:)?" + arg + r">", quote_from_bytes(_enc(value), safe=""), path)
    return path


# --- the company with one of everything --------------------------------------------------------


def seed_everything(app: Any, client: Any, info: dict, add_employee: Callable[..., dict]) -> dict:
    """Base, mailing base, contacts, tag, category, task, binder with a file, products, offer, order..."""
    from app.extensions import db
    from app.models import ClientBase, Contact, Tag
    from app.models.binders import Attachment
    from app.models.contact_io import ImportJob
    from app.models.notifications import Notification
    from app.models.sales import Offer, OfferVersion, Order
    from app.models.tasks import Task, TaskCategory
    from app.models.users import CrmUser
    from app.security.tenancy import tenant_scope
    from app.services.mailing import mailboxes
    from app.services.work import notifications
    from tests.mailservers import free_port

    seed = seed_sales(app, info)
    emp = add_employee(info["owner_id"], "pracownik.hostile@example.pl")
    ok = [
        client.post("/settings/tags/add", data={"name": "VIP", "color": "#ff0000"}),
        client.post("/settings/task-categories/add", data={"name": "Telefon", "color": "#00ff00"}),
        client.post("/offers/add", data=offer_form(seed)),
    ]
    assert all(r.status_code == 302 for r in ok), [r.status_code for r in ok]
    with app.app_context(), tenant_scope(info["company_id"]):
        cat_id = db.session.execute(select(TaskCategory.id)).scalar_one()
    ok = [
        client.post("/tasks/add", data={"title": "Zadzwonić", "priority": "normal", "status": "todo",
                                        "category_id": str(cat_id), "contact_id": str(seed["client_id"]),
                                        "binder_id": str(seed["binder_id"]), "assignee_ids": str(info["owner_id"])}),
        client.post(f"/binders/{seed['binder_id']}/upload", data={"file": (io.BytesIO(b"hello"), "a.txt")},
                    content_type="multipart/form-data"),
    ]
    assert ok[0].status_code == 302 and ok[1].status_code == 302, [r.status_code for r in ok]
    with app.app_context(), tenant_scope(info["company_id"]):
        base_id = db.session.execute(select(ClientBase.id).where(ClientBase.kind == "contacts")).scalar_one()
    resp = client.post("/contacts/import/", data={"base_id": str(base_id), "encoding": "auto", "delimiter": "auto",
                                                  "file": (io.BytesIO("Nazwa;NIP\nAlfa;\n".encode()), "k.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302, resp.status_code
    with app.app_context(), tenant_scope(info["company_id"]):
        offer = db.session.execute(select(Offer)).scalar_one()
        assert client.post(f"/offers/{offer.id}/status", data={"status": "accepted"}).status_code == 302
        resp = client.post(f"/orders/from-offer/{offer.id}")
        assert resp.status_code == 302, resp.status_code
        person = Contact(base_id=base_id, kind="person", name="Anna Nowak", first_name="Anna", last_name="Nowak",
                         name_sort="nowak anna", employer_id=seed["client_id"])
        db.session.add(person)
        notifications.add_notification(info["company_id"], info["owner_id"], "Przypomnienie", url="/tasks/")
        db.session.commit()
        mailbox = mailboxes.create_mailbox(info["company_id"], db.session.get(CrmUser, info["owner_id"]), mailboxes.MailboxData(
            email="biuro@hostile.example.pl", sender_name="Biuro", smtp_host="127.0.0.1", smtp_port=free_port(),
            smtp_security="ssl", imap_host="127.0.0.1", imap_port=free_port(), imap_security="ssl",
            login="biuro@hostile.example.pl", password="Haslo-Skrzynki-1"))
        ids = {
            "base_id": base_id, "contact_id": seed["client_id"], "binder_id": seed["binder_id"],
            "tag_id": db.session.execute(select(Tag.id)).scalar_one(),
            "category_id": cat_id, "task_id": db.session.execute(select(Task.id)).scalar_one(),
            "product_id": seed["product_ids"][0], "offer_id": offer.id,
            "version": db.session.execute(select(OfferVersion.version)).scalars().first() or 1,
            "order_id": db.session.execute(select(Order.id)).scalar_one(),
            "attachment_id": db.session.execute(select(Attachment.id)).scalars().first(),
            "job_id": db.session.execute(select(ImportJob.id)).scalar_one(),
            "note_id": db.session.execute(select(Notification.id)).scalar_one(),
            "mailbox_id": mailbox.id,
            "user_id": emp["id"], "company_id": info["company_id"], "deletion_id": uuid.uuid4().hex,
            "token": "x", "locale": "pl", "name": "x", "pk": info["company_id"], "filename": "x",
        }
        db.session.remove()
    return ids


# --- the sweep --------------------------------------------------------------------------------


def _order(rule: Any) -> tuple[int, str]:
    for i, word in enumerate(LAST):
        if word in rule.endpoint.lower() or word in rule.rule:
            return (i + 1, rule.rule)
    return (0, rule.rule)


def _rules(app: Any) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules() if "static" not in r.endpoint), key=_order)


def _bad_segment_values(converter: Any) -> list[str | bytes]:
    if type(converter).__name__ in ("IntegerConverter", "BoundedIntConverter"):
        return [p for p in ID_PAYLOADS if p not in ("-1",)]
    return ["x" * 5000, "a\x00b", "a\x01b", b"\xff\xfe"]


def run_sweep(app: Any, sweep: Sweep, ids: dict, only: Callable[[Any], bool] = lambda rule: True) -> None:
    """Every route: hostile ids and strings in its path, hostile query parameters; then every form seen.

    Forms are fuzzed after the crawl, in route order, so the forms that delete or sign out come last.
    """
    forms: dict[tuple[str, str], dict] = {}
    rules = [r for r in _rules(app) if only(r)]
    for rule in rules:
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for arg in rule.arguments:
            for payload in _bad_segment_values(rule._converters[arg]):
                path = fill_path(rule, ids, {arg: payload})
                if path is None:
                    continue
                for method in methods:
                    if method == "GET":
                        sweep.get(path, label=f"<{arg}>={_short(payload)}")
                    else:
                        sweep.post(path, {"status": ["done"], "next": ["/"]}, label=f"<{arg}>={_short(payload)}")
        path = fill_path(rule, ids)
        if path is None or "GET" not in methods:
            continue
        names = query_names(app, rule.endpoint)
        if names:
            for payload in ALL_PAYLOADS:
                sweep.get(path, urlencoded({k: [payload] for k in names}), label=f"query={_short(payload)}")
        resp = sweep.get(path)
        if resp.status_code == 200 and resp.mimetype == "text/html":
            for form in page_forms(resp.get_data(as_text=True)):
                action = urlsplit(form["action"]).path or path
                if action.startswith("/"):
                    forms.setdefault((action, form["method"]), form)
    adapter = app.url_map.bind("localhost")
    order = {r.endpoint: i for i, r in enumerate(_rules(app))}
    for rule in rules:
        path = fill_path(rule, ids)
        if path is not None and "POST" in rule.methods and (path, "post") not in forms:
            # a POST route whose form no page showed: the fields its view reads
            fields = set(re.findall(r"""form\.get(?:list)?\(\s*["'](\w+)["']""", _view_source(app, rule.endpoint)))
            forms[(path, "post")] = {"method": "post", "fields": {k: [""] for k in fields}, "files": set()}

    def _rank(key: tuple[str, str]) -> tuple[int, str]:
        try:
            endpoint = adapter.match(key[0], method=key[1].upper())[0]
        except Exception:  # noqa: BLE001  (an action outside our routes: fuzzed first, it answers 404/405)
            return (-1, key[0])
        return (order.get(endpoint, -1), key[0])

    for n, key in enumerate(sorted(forms, key=_rank)):
        if "logout" not in key[0]:
            fuzz_form(sweep, key[0], forms[key], n)


def _view_source(app: Any, endpoint: str) -> str:
    try:
        return inspect.getsource(inspect.unwrap(app.view_functions[endpoint]))
    except (OSError, TypeError):
        return ""


def text_with_controls(app: Any) -> list[str]:
    """Every stored text value holding a NUL or another C0 control character (tab and newlines allowed)."""
    from flask_appbuilder import Model

    from app.extensions import db
    from app.security.tenancy import all_tenants

    found = []
    with app.app_context(), all_tenants():
        for table in Model.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (String, Text))]
            if not cols:
                continue
            for row in db.session.execute(select(*cols)).all():
                for col, value in zip(cols, row, strict=True):
                    if isinstance(value, str) and FORBIDDEN.search(value):
                        found.append(f"{table.name}.{col.name}={value[:40]!r}")
        db.session.remove()
    return found


@pytest.fixture()
def company(app: Any, make_company: Callable[..., dict], add_employee: Callable[..., dict]) -> tuple[Any, dict]:
    """A signed-in owner of a company with one of everything, and the ids of those things."""
    info = make_company()
    client = app.test_client()
    assert login(client, info["email"]).status_code == 302
    return client, seed_everything(app, client, info, add_employee)


def test_no_route_and_no_form_answers_500_to_hostile_input(app: Any, company: tuple[Any, dict]) -> None:
    """Signed in and signed out, every route and form refuses hostile input without a server error."""
    client, ids = company
    owner = Sweep(client, "owner")
    run_sweep(app, owner, ids)
    anonymous = Sweep(app.test_client(), "anonymous")
    run_sweep(app, anonymous, ids)
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)
    admin_client = app.test_client()
    assert login(admin_client, ADMIN[0], ADMIN[1]).status_code == 302
    admin = Sweep(admin_client, "platform admin")
    run_sweep(app, admin, ids, only=lambda rule: rule.endpoint.startswith("Admin"))
    sweeps = (owner, anonymous, admin)
    for sweep in sweeps:
        sweep.close()
    failures = [f for sweep in sweeps for f in sweep.failures]
    assert owner.count > 1000 and admin.count > 100
    total = sum(sweep.count for sweep in sweeps)
    assert not failures, f"{len(failures)} of {total} requests ended in a 500:\n" + "\n".join(failures)
    assert text_with_controls(app) == []


# --- what a user sees -------------------------------------------------------------------------


def test_ids_beyond_the_database_range_are_404_on_both_databases(owner_client: Any) -> None:
    """``/bases/3000000000`` (over PostgreSQL's INTEGER) and ``/tasks/99999999999999999999`` are plain 404 pages."""
    for path in ("/bases/3000000000", "/tasks/99999999999999999999", "/contacts/9223372036854775808"):
        resp = owner_client.get(path)
        assert resp.status_code == 404, path
        assert "Strona nie istnieje lub nie masz do niej dostępu." in resp.get_data(as_text=True)


def test_a_nul_in_a_new_base_name_is_refused_in_polish_and_nothing_is_saved(app: Any, owner_client: Any) -> None:
    """"Dodaj nową bazę" with a NUL byte: the Polish message, no base, the same on SQLite and PostgreSQL."""
    from app.extensions import db
    from app.models import ClientBase
    from app.security.tenancy import all_tenants

    resp = owner_client.post("/bases/add", data={"name": "Klienci\x00VIP", "kind": "contacts"})
    assert resp.status_code == 400
    assert "niedozwolone znaki sterujące" in resp.get_data(as_text=True)
    with app.app_context(), all_tenants():
        assert db.session.execute(select(ClientBase)).first() is None


def test_a_nul_in_the_sign_up_form_is_refused_and_creates_no_company(app: Any, client: Any) -> None:
    """The public sign-up form with a NUL in the company name: the Polish message, no company."""
    from app.extensions import db
    from app.models.company import Company

    resp = client.post("/signup/", data={
        "company_name": "Firma\x00", "nip": make_nip(77), "first_name": "Jan", "last_name": "Kowalski",
        "email": "jan@wrogie.example.pl", "password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD,
    })
    assert resp.status_code == 400
    assert "niedozwolone znaki sterujące" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Company)).first() is None


def test_a_price_list_cell_of_a_million_characters_is_refused_in_polish(app: Any, owner_client: Any) -> None:
    """The price-list import with one huge cell: a Polish refusal, no product."""
    from app.extensions import db
    from app.models import Product
    from app.security.tenancy import all_tenants

    resp = owner_client.post(
        "/offers/products/import",
        data={"file": (io.BytesIO(b"nazwa;cena netto\n" + b"x" * 1_000_000 + b";10\n"), "cennik.csv")},
        content_type="multipart/form-data", follow_redirects=True,
    )
    assert resp.status_code == 200
    assert "komórek ma więcej niż" in resp.get_data(as_text=True)
    with app.app_context(), all_tenants():
        assert db.session.execute(select(Product)).first() is None


def test_an_unexpected_error_shows_a_reference_number_that_is_logged_with_the_traceback(
    owner_client: Any, monkeypatch: Any, caplog: Any
) -> None:
    """Any unexpected error: the Polish error page with "Numer zgłoszenia", and the same number in the log."""
    from app.services import dashboard

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dashboard, "summary", broken)
    with caplog.at_level(logging.ERROR):
        resp = owner_client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500
    found = re.search(r"Numer zgłoszenia: <strong>([0-9A-F]{8})</strong>", html)
    assert found, html[-2000:]
    records = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert records and records[0].exc_info and "disk on fire" in str(records[0].exc_info[1])
