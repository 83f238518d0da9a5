"""Warsaw time on every page (summer time included), Polish file sizes and phone numbers."""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select, update

from app.extensions import db
from app.models import Company, Contact, Task
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services.work import reminders
from tests.helpers import STRONG_PASSWORD, login, text
from tests.integration.contacts_data import make_base, make_contact
from tests.integration.tasks_fixtures import make_contacts

ADMIN = ("root@platforma.pl", "Platforma-Admin#2026")


def _set_last_login(app, user_id: int, moment: dt.datetime, count: int) -> None:
    """Freeze a known UTC sign-in moment in the user's row."""
    with app.app_context(), all_tenants():
        db.session.execute(update(CrmUser).where(CrmUser.id == user_id).values(last_login=moment, login_count=count))
        db.session.commit()
        db.session.remove()


def test_profile_and_employees_list_show_last_sign_in_in_warsaw_time(app, owner_client, add_employee):
    c = owner_client
    worker = add_employee(c.crm["owner_id"], "anna@firma.pl", first_name="Anna", last_name="Zimowa")
    _set_last_login(app, c.crm["owner_id"], dt.datetime(2026, 7, 15, 12, 5), 7)  # summer: UTC+2
    _set_last_login(app, worker["id"], dt.datetime(2026, 1, 15, 12, 5), 3)  # winter: UTC+1

    profile = c.get("/profile/").get_data(as_text=True)
    assert "15.07.2026 14:05" in profile and "15.07.2026 12:05" not in profile
    employees = c.get("/settings/employees/").get_data(as_text=True)
    assert "15.07.2026 14:05" in employees and "15.01.2026 13:05" in employees
    assert "15.01.2026 12:05" not in employees
    worker_page = c.get(f"/settings/employees/{worker['id']}").get_data(as_text=True)
    assert "15.01.2026 13:05" in worker_page


def test_admin_company_created_in_warsaw_time(app, make_company):
    info = make_company("Letnia Sp. z o.o.")
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)
        with all_tenants():
            db.session.execute(update(Company).where(Company.id == info["company_id"]).values(
                created_at=dt.datetime(2026, 3, 29, 1, 30), confirmed_at=dt.datetime(2026, 10, 25, 1, 30)))
            db.session.commit()
        db.session.remove()
    admin = app.test_client()
    assert login(admin, *ADMIN).status_code == 302
    listing = admin.get("/admin/companies/list/").get_data(as_text=True)
    assert "29.03.2026 03:30" in listing and "29.03.2026 01:30" not in listing
    assert "25.10.2026 02:30" in listing
    shown = admin.get(f"/admin/companies/show/{info['company_id']}").get_data(as_text=True)
    assert "29.03.2026 03:30" in shown and "25.10.2026 02:30" in shown


def _add_task(client, **kw) -> int:
    data = {"title": "Telefon do klienta", "priority": "normal", "status": "todo"}
    data.update(kw)
    resp = client.post("/tasks/add", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def test_typed_reminder_is_stored_as_utc_across_the_summer_time_change(app, owner_client):
    c = owner_client
    company_id = c.crm["company_id"]
    # 28 March 2027: clocks jump from 02:00 to 03:00; 03:30 in Warsaw is 01:30 UTC
    spring = _add_task(c, title="Po zmianie czasu", remind_at="2027-03-28T03:30",
                       due_date="2027-03-28", due_time="03:30")
    # 15 January 2027: winter time, UTC+1
    winter = _add_task(c, title="Zimą", remind_at="2027-01-15T09:00")
    with app.app_context(), tenant_scope(company_id):
        assert reminders.pending_reminder(company_id, "task", spring).remind_at == dt.datetime(2027, 3, 28, 1, 30)
        assert reminders.pending_reminder(company_id, "task", winter).remind_at == dt.datetime(2027, 1, 15, 8, 0)
        task = db.session.execute(select(Task).where(Task.id == spring)).scalar_one()
        # the deadline is a Warsaw calendar date and wall-clock time, kept as typed
        assert (task.due_date, task.due_time) == (dt.date(2027, 3, 28), dt.time(3, 30))
        task.created_at = dt.datetime(2026, 10, 25, 1, 30)  # the repeated hour of the autumn change
        db.session.commit()
        db.session.remove()

    page = c.get(f"/tasks/{spring}").get_data(as_text=True)
    assert text(page, "#task-reminder") == "28.03.2027 03:30"
    assert "25.10.2026 02:30" in page and "25.10.2026 01:30" not in page
    form = c.get(f"/tasks/{spring}/edit").get_data(as_text=True)
    assert 'value="2027-03-28T03:30"' in form
    assert text(c.get(f"/tasks/{winter}").get_data(as_text=True), "#task-reminder") == "15.01.2027 09:00"


def test_file_sizes_in_polish_on_the_binder_page_and_in_the_limit_message(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    resp = c.post("/binders/add", data={"name": "Umowy", "contact_id": ids["contact"]})
    bid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    pdf = b"%PDF-1.4\n" + b"0" * (1536 - 16) + b"\n%%EOF\n"
    assert len(pdf) == 1536
    page = c.post(f"/binders/{bid}/upload", data={"file": (io.BytesIO(pdf), "umowa.pdf")},
                  content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "1,5 KB" in page and "1.5 KB" not in page
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        refused = c.post(f"/binders/{bid}/upload", data={"file": (io.BytesIO(pdf), "duza.pdf")},
                         content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    finally:
        app.config.pop("ATTACHMENT_MAX_BYTES")
    assert "Plik jest za duży (maksymalnie 1,0 KB)." in refused
    assert "duza.pdf" not in refused


def test_phone_numbers_grouped_on_lists_cards_and_profile(app, owner_client, add_employee):
    c = owner_client
    company_id = c.crm["company_id"]
    base = make_base(app, company_id, "Klienci")
    mobile = make_contact(app, company_id, base, kind="company", name="Komórka Sp. z o.o.", phone="600123456")
    make_contact(app, company_id, base, kind="company", name="Stacjonarny S.A.", phone="+48 22 123 45 67")
    make_contact(app, company_id, base, kind="company", name="Berlin GmbH", phone="+49301234567")

    listing = c.get(f"/bases/{base}").get_data(as_text=True)
    assert "+48 600 123 456" in listing and "+48 22 123 45 67" in listing and "+49301234567" in listing
    assert "+48600123456" not in listing and "+48221234567" not in listing
    card = c.get(f"/contacts/{mobile}").get_data(as_text=True)
    assert "+48 600 123 456" in card
    with app.app_context(), tenant_scope(company_id):
        stored = db.session.execute(select(Contact.phone).where(Contact.id == mobile)).scalar_one()
        db.session.remove()
    assert stored == "+48600123456"  # stored as cleaned, grouped only on display
    worker = add_employee(c.crm["owner_id"], "ewa@firma.pl", first_name="Ewa", last_name="Telefoniczna")
    with app.app_context(), all_tenants():
        db.session.execute(update(CrmUser).where(CrmUser.id == worker["id"]).values(phone="+48221234567"))
        db.session.commit()
        db.session.remove()
    worker_client = app.test_client()
    assert login(worker_client, "ewa@firma.pl", STRONG_PASSWORD).status_code == 302
    assert "+48 22 123 45 67" in worker_client.get("/profile/").get_data(as_text=True)
