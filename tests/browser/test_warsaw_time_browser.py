"""Warsaw time in a real browser: a reminder typed on the day clocks go forward is kept as typed,
stored as UTC; the profile shows the last sign-in in Warsaw time; phones are grouped; at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from app.extensions import db
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
    page.click("#save-task")
    page.wait_for_selector("#task-reminder")
    assert page.inner_text("#task-reminder").strip() == "28.03.2027 03:30"
    task_id = int(page.url.rstrip("/").split("/")[-1])
    with app.app_context(), tenant_scope(info["company_id"]):
        stored = reminders.pending_reminder(info["company_id"], "task", task_id).remind_at
        db.session.remove()
    assert stored == dt.datetime(2027, 3, 28, 1, 30)
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
