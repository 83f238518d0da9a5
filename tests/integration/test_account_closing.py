"""Closing a company account: the owner confirms with the password, 30 days of grace shown on every page
with "Anuluj zamknięcie konta", then the scheduler's job deletes the company's data (clock moved)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text

from app.extensions import db
from app.models import Attachment, Company
from app.scheduler import JOBS
from app.security.tenancy import tenant_scope
from app.services.platform import closing
from app.services.work.attachments import get_storage
from tests.helpers import STRONG_PASSWORD, find, login, texts
from tests.integration.contacts_data import make_base, make_contact, make_tag
from tests.integration.test_polish_pages import assert_polish


def _signed_in(app: Any, email: str) -> Any:
    c = app.test_client()
    assert login(c, email).status_code == 302
    return c


def _seed(app: Any, info: dict, name: str) -> str:
    """A base, a contact with a tag and a note, a task, a stored file; returns the file's storage key."""
    company_id = info["company_id"]
    base_id = make_base(app, company_id, f"Baza {name}")
    contact_id = make_contact(app, company_id, base_id, kind="person", name=name, first_name="Anna",
                              last_name=name)
    tag_id = make_tag(app, company_id, f"Tag {name}")
    with app.app_context(), tenant_scope(company_id):
        db.session.execute(text("INSERT INTO contact_tag (contact_id, tag_id) VALUES (:c, :t)"),
                           {"c": contact_id, "t": tag_id})
        key = f"{company_id}/attachments/closing/{contact_id}"
        get_storage().put(key, b"plik")
        db.session.add(Attachment(owner_type="contact", owner_id=contact_id, filename="plik.txt", size=4,
                                  mime="text/plain", storage_key=key))
        db.session.commit()
        db.session.remove()
    return key


def _company(app: Any, company_id: int) -> Company:
    with app.app_context():
        company = db.session.get(Company, company_id)
        db.session.expunge(company)
        db.session.remove()
    return company


def _count(app: Any, table: str, company_id: int) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}" WHERE company_id = :c'), {"c": company_id}).scalar_one()


def _close(c: Any, password: str = STRONG_PASSWORD, understood: bool = True) -> Any:
    data = {"current_password": password}
    if understood:
        data["understood"] = "y"
    return c.post("/settings/closing/", data=data)


def test_closing_needs_the_acknowledgement_and_the_password(app, make_company):
    a = make_company()
    c = _signed_in(app, a["email"])
    page = c.get("/settings/closing/").get_data(as_text=True)
    assert find(page, "#closing-form")
    assert_polish(page, "/settings/closing/")
    assert "30 dni" in page
    refused = _close(c, understood=False).get_data(as_text=True)
    assert "Zaznacz, że rozumiesz, co oznacza zamknięcie konta." in texts(refused, ".help-block.error")
    wrong = _close(c, password="Nie-To-Haslo-123!").get_data(as_text=True)
    assert texts(wrong, ".help-block.error") == ["Obecne hasło jest nieprawidłowe."]
    assert _company(app, a["company_id"]).delete_after is None


def test_owner_closes_sees_the_state_everywhere_and_cancels(app, make_company, add_employee, mail_outbox):
    a = make_company()
    emp = add_employee(a["owner_id"], "pracownik@firma1.pl")
    c = _signed_in(app, a["email"])
    assert _close(c).status_code == 302
    company = _company(app, a["company_id"])
    assert company.delete_after == dt.date.today() + dt.timedelta(days=30)
    # signing in again shows the state and the undo button on the start page
    c2 = _signed_in(app, a["email"])
    home = c2.get("/", follow_redirects=True).get_data(as_text=True)
    banner = texts(home, "#closing-banner")[0]
    assert "Konto firmy jest w trakcie zamykania" in banner
    assert company.delete_after.strftime("%d.%m.%Y") in banner
    assert texts(home, "#closing-banner-cancel") == ["Anuluj zamknięcie konta"]
    state = c2.get("/settings/closing/").get_data(as_text=True)
    assert_polish(state, "/settings/closing/ (closing)")
    assert texts(state, "#closing-state") == [f"Wszystkie dane firmy zostaną usunięte dnia {company.delete_after:%d.%m.%Y}."]
    # an employee sees the state but no button, and cannot reach the closing page
    ce = _signed_in(app, emp["email"])
    emp_home = ce.get("/", follow_redirects=True).get_data(as_text=True)
    assert find(emp_home, "#closing-banner") and not find(emp_home, "#closing-banner-cancel")
    assert ce.post("/settings/closing/cancel", data={}).status_code == 403
    assert _company(app, a["company_id"]).delete_after is not None
    from app.integrations.mail import drain

    assert drain()
    assert [m["To"] for m in mail_outbox] == [a["email"]]
    assert c2.post("/settings/closing/cancel", data={}).status_code == 302
    assert _company(app, a["company_id"]).delete_after is None
    assert not find(c2.get("/", follow_redirects=True).get_data(as_text=True), "#closing-banner")
    with app.app_context(), db.engine.connect() as conn:
        events = conn.execute(text("SELECT event FROM audit_event WHERE company_id = :c AND event LIKE 'account%' "
                                   "ORDER BY id"), {"c": a["company_id"]}).scalars().all()
    assert events == ["account_closing", "account_closing_cancelled"]


def test_data_is_deleted_after_the_grace_period_only(app, make_company):
    a, b = make_company("Alfa Sp. z o.o."), make_company("Beta S.A.")
    key_a = _seed(app, a, "Nowak")
    key_b = _seed(app, b, "Kowalska")
    c = _signed_in(app, a["email"])
    assert _close(c).status_code == 302
    today = dt.date.today()
    with app.app_context():
        assert closing.purge_due(today + dt.timedelta(days=29)) == 0
        db.session.remove()
    assert _count(app, "contact", a["company_id"]) == 1
    with app.app_context():
        assert closing.purge_due(today + dt.timedelta(days=30)) == 1
        db.session.remove()
    for table in ("contact", "client_base", "tag", "attachment", "ab_user"):
        assert _count(app, table, a["company_id"]) == 0, table
        assert _count(app, table, b["company_id"]) >= 1, table
    with app.app_context(), db.engine.connect() as conn:
        links = conn.execute(text("SELECT count(*) FROM contact_tag")).scalar_one()
        events = conn.execute(text("SELECT event FROM audit_event WHERE company_id = :c"),
                              {"c": a["company_id"]}).scalars().all()
        row = conn.execute(text("SELECT name, nip, email, signup_email, purged_at FROM company WHERE id = :c"),
                           {"c": a["company_id"]}).one()
        storage = get_storage()
        assert not storage.exists(key_a)
        assert storage.exists(key_b)
    assert links == 1  # only B's
    assert events == ["account_data_deleted"]
    assert row[0] == f"Usunięte konto #{a['company_id']}" and row[1:4] == (None, None, None) and row[4] is not None
    assert urlsplit(login(app.test_client(), a["email"]).headers["Location"]).path == "/login/"  # no such user
    with app.app_context():
        assert closing.purge_due(today + dt.timedelta(days=31)) == 0  # done once
        db.session.remove()
    assert _signed_in(app, b["email"]).get("/", follow_redirects=True).status_code == 200


def test_the_scheduler_job_deletes_accounts_whose_grace_period_ended(app, make_company):
    from app import scheduler

    spec = next(j for j in JOBS if j.id == "closed_accounts")
    assert spec.func == "app.scheduler:purge_closed_accounts" and spec.trigger == "cron"
    a, b = make_company(), make_company()
    _seed(app, a, "Nowak")
    _seed(app, b, "Kowalska")
    for info in (a, b):
        assert _close(_signed_in(app, info["email"])).status_code == 302
    with app.app_context():  # A closed 30 days ago (the clock moved back by editing the date), B today
        db.session.get(Company, a["company_id"]).delete_after = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    scheduler.bind_app(app)
    try:
        assert scheduler.purge_closed_accounts() == 1
    finally:
        scheduler.bind_app(None)
    assert _count(app, "contact", a["company_id"]) == 0
    assert _count(app, "contact", b["company_id"]) == 1
    assert _company(app, b["company_id"]).purged_at is None


def test_closing_and_cancelling_need_the_csrf_token(app, make_company, monkeypatch):
    a = make_company()
    c = _signed_in(app, a["email"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    c.post("/settings/closing/", data={"understood": "y", "current_password": STRONG_PASSWORD})
    assert _company(app, a["company_id"]).delete_after is None
    page = c.get("/settings/closing/").get_data(as_text=True)
    token = find(page, '#closing-form input[name="csrf_token"]')[0].get("value")
    c.post("/settings/closing/", data={"understood": "y", "current_password": STRONG_PASSWORD, "csrf_token": token})
    assert _company(app, a["company_id"]).delete_after is not None
    c.post("/settings/closing/cancel", data={})
    assert _company(app, a["company_id"]).delete_after is not None
