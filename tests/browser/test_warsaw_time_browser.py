"""Warsaw time in a real browser: a reminder typed on the day clocks go forward is kept as typed,
stored as UTC; the profile shows the last sign-in in Warsaw time; phones are grouped; at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from app.extensions import db
from app.models.tasks import Task
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services.work import reminders
from tests.browser.conftest import shot


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_reminder_across_summer_time_and_last_sign_in(page, app, make_company):
    info = make_company("Zegarmistrz Sp. z o.o.")
    _sign_in(page, info["email"], info["password"])

    page.goto("/tasks/add")
    page.fill("#title", "Telefon po zmianie czasu")
    page.fill("#remind_at", "2027-03-28T03:30")
    # the deadline typed on the day clocks go forward is Warsaw wall time: kept and shown as typed
    page.fill("#due_date", "2027-03-28")
    page.fill("#due_time", "03:30")
    page.click("#save-task")
    page.wait_for_selector("#task-reminder")
    assert page.inner_text("#task-reminder").strip() == "28.03.2027 03:30"
    assert "28.03.2027 03:30" in page.inner_text("#task-details")
    task_id = int(page.url.rstrip("/").split("/")[-1])
    with app.app_context(), tenant_scope(info["company_id"]):
        stored = reminders.pending_reminder(info["company_id"], "task", task_id).remind_at
        task = db.session.get(Task, task_id)
        due = (task.due_date, task.due_time)
        db.session.remove()
    assert stored == dt.datetime(2027, 3, 28, 1, 30)
    assert due == (dt.date(2027, 3, 28), dt.time(3, 30))
    # the edit form shows the same deadline back, and so does the list
    page.goto(f"/tasks/{task_id}/edit")
    assert (page.input_value("#due_date"), page.input_value("#due_time")) == ("2027-03-28", "03:30")
    assert page.input_value("#remind_at") == "2027-03-28T03:30"
    page.goto("/tasks/all")
    assert "28.03.2027 03:30" in page.inner_text("body")

    # on the day clocks go back (31.10.2027, 02:00-03:00 happens twice) a deadline stays as typed too
    page.goto(f"/tasks/{task_id}/edit")
    page.fill("#due_date", "2027-10-31")
    page.fill("#due_time", "02:30")
    page.fill("#remind_at", "2027-10-31T01:30")
    page.click("#save-task")
    page.wait_for_selector("#task-reminder")
    assert "31.10.2027 02:30" in page.inner_text("#task-details")
    assert page.inner_text("#task-reminder").strip() == "31.10.2027 01:30"
    with app.app_context(), tenant_scope(info["company_id"]):
        stored = reminders.pending_reminder(info["company_id"], "task", task_id).remind_at
        db.session.remove()
    assert stored == dt.datetime(2027, 10, 30, 23, 30)  # summer time (UTC+2) still
    shot(page, "warsaw-time-task-1280")

    with app.app_context(), all_tenants():
        db.session.execute(update(CrmUser).where(CrmUser.id == info["owner_id"]).values(
            last_login=dt.datetime(2026, 10, 25, 0, 30), phone="+48600123456"))
        db.session.commit()
        db.session.remove()
    page.goto("/profile/")
    body = page.inner_text("body")
    assert "25.10.2026 02:30" in body and "+48 600 123 456" in body
    shot(page, "warsaw-time-profile-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert "25.10.2026 02:30" in page.inner_text("body")
    shot(page, "warsaw-time-profile-390")
    page.goto(f"/tasks/{task_id}")
    shot(page, "warsaw-time-task-390")
