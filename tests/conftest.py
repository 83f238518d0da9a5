"""Fixtures: one app per test run on SQLite (default) or on a PostgreSQL started here.

CRM_TEST_DB=postgresql runs the same tests against a throwaway PostgreSQL cluster.
Each test starts from an empty database (roles and permissions kept).
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import text

from tests.helpers import STRONG_PASSWORD, login, make_nip

KEEP_TABLES = {
    "alembic_version", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_role",
    "ab_permission_view_role",
}
#: platform tables the migrations seed (plans, first terms): emptied like the rest, then refilled
SEED_TABLES = ("plan", "legal_document")
_SEEDS: dict[str, list[dict]] = {}


def pytest_report_header(config: Any) -> str:
    return f"database: {os.environ.get('CRM_TEST_DB', 'sqlite')}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this run: a SQLite file, or a PostgreSQL cluster we start."""
    kind = os.environ.get("CRM_TEST_DB", "sqlite")
    if kind == "postgresql":
        from tests.pg import TempPostgres

        pg = TempPostgres()
        url = pg.start()
        try:
            yield url
        finally:
            pg.stop()
    else:
        tmp = tempfile.mkdtemp(prefix="crm-sqlite-")
        yield f"sqlite:///{tmp}/test.db"


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Any]:
    """The application, migrated with Alembic and with roles synced, as in production."""
    os.environ.setdefault("CRM_INSTANCE_DIR", tempfile.mkdtemp(prefix="crm-instance-"))
    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        WTF_CSRF_ENABLED = False
        SERVER_NAME = None

    from app import MIGRATIONS_DIR, create_app

    application = create_app(Config)
    with application.app_context():
        from flask_migrate import upgrade

        from app.extensions import appbuilder
        from app.security.sync import sync_roles

        upgrade(directory=MIGRATIONS_DIR, revision="heads")
        sync_roles(appbuilder)
        _remember_seeds()
    yield application


def _remember_seeds() -> None:
    """Keep the rows the migrations seeded, so every test starts with them."""
    from flask_appbuilder import Model

    from app.extensions import db

    with db.engine.connect() as conn:
        for name in SEED_TABLES:
            table = Model.metadata.tables[name]
            _SEEDS[name] = [dict(row._mapping) for row in conn.execute(table.select().order_by(table.c.id))]


def _wipe(app: Any) -> None:
    from flask_appbuilder import Model

    from app.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(Model.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(t.delete())
            for name in SEED_TABLES:
                if _SEEDS.get(name):
                    conn.execute(Model.metadata.tables[name].insert(), _SEEDS[name])
                    if conn.dialect.name == "postgresql":  # the ids were given: move the sequence past them
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                          f"(SELECT MAX(id) FROM \"{name}\"))"))


@pytest.fixture(autouse=True)
def _clean_db(request: Any) -> Iterator[None]:
    """Every test that uses the app starts from an empty database."""
    yield
    if "app" in request.fixturenames:
        _wipe(request.getfixturevalue("app"))


@pytest.fixture()
def ctx(app: Any) -> Iterator[Any]:
    """An app context with a clean session."""
    from app.extensions import db

    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture()
def client(app: Any) -> Any:
    """A test client (CSRF checks off; see csrf_on)."""
    return app.test_client()


@pytest.fixture()
def csrf_on(app: Any) -> Iterator[None]:
    """Turn CSRF protection on for one test."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture()
def make_company(app: Any) -> Callable[..., dict]:
    """Create a company through the sign-up service; returns ids and credentials.

    The owner accepted the documents in force, as at the sign-up (``accept_terms=False``: not).
    """
    counter = {"n": 0}

    def _make(name: str | None = None, **kw: Any) -> dict:
        from app.extensions import db
        from app.services.accounts import companies as tenancy
        from app.services.platform import legal

        counter["n"] += 1
        n = counter["n"]
        email = kw.pop("email", f"owner{n}@firma{n}.pl")
        with app.app_context():
            owner = tenancy.register_company(
                tenancy.SignupData(
                    company_name=name or f"Firma {n} Sp. z o.o.",
                    nip=kw.pop("nip", make_nip(1000 + n)),
                    first_name=kw.pop("first_name", "Jan"),
                    last_name=kw.pop("last_name", f"Testowy{chr(96 + n)}"),
                    email=email,
                    password=STRONG_PASSWORD,
                    # as at the sign-up: the terms and the data-processing agreement in force are accepted
                    accepted_documents=tuple(d.id for d in legal.current_documents())
                    if kw.pop("accept_terms", True) else (),
                )
            )
            info = {"owner_id": owner.id, "company_id": owner.company_id, "email": email, "password": STRONG_PASSWORD}
            db.session.remove()
        return info

    return _make


@pytest.fixture()
def add_employee(app: Any) -> Callable[..., dict]:
    """Add an employee to a company (by its owner's id) through the service."""

    def _add(owner_id: int, email: str, role: str = "Employee", **kw: Any) -> dict:
        from app.extensions import db
        from app.models.users import CrmUser
        from app.services.accounts import employees

        with app.app_context():
            owner = db.session.get(CrmUser, owner_id)
            user = employees.add_employee(
                owner,
                employees.EmployeeData(
                    first_name=kw.get("first_name", "Piotr"), last_name=kw.get("last_name", "Pracowity"),
                    email=email, role=role, password=STRONG_PASSWORD,
                ),
            )
            info = {"id": user.id, "email": email, "password": STRONG_PASSWORD, "company_id": user.company_id}
            db.session.remove()
        return info

    return _add


@pytest.fixture()
def owner_client(app: Any, make_company: Callable[..., dict]) -> Any:
    """A client signed in as the owner of a fresh company (company info in .crm)."""
    info = make_company()
    c = app.test_client()
    resp = login(c, info["email"])
    assert resp.status_code == 302
    c.crm = info
    return c


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[str]:
    """The app served over HTTP on 127.0.0.1 in a background thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def mail_outbox(app: Any, monkeypatch: Any) -> Iterator[list]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 as the platform's mail server.

    Yields the list of received messages (``email.message.EmailMessage``, newest last).
    """
    import socket
    from email import message_from_bytes
    from email import policy as email_policy

    from aiosmtpd.controller import Controller

    received: list = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(message_from_bytes(envelope.content, policy=email_policy.default))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", None)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Klientela <no-reply@klientela.test>")
    yield received
    ctl.stop()


@pytest.fixture(scope="session")
def mail_servers_session() -> Iterator[Any]:
    """Real mail servers for the whole run (tests/mailservers.py): dovecot + aiosmtpd, started once."""
    from tests.mailservers import MailServers

    servers = MailServers().start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture()
def mail_servers(app: Any, mail_servers_session: Any, monkeypatch: Any) -> Iterator[Any]:
    """The session's mail servers, their certificate trusted by the app; refusal rules reset after the test.

    Each test adds its own users (``mail_servers.add_user()``).
    """
    monkeypatch.setitem(app.config, "CRM_MAIL_CA_FILE", mail_servers_session.ca_file)
    mail_servers_session.reset()
    yield mail_servers_session
    mail_servers_session.reset()
