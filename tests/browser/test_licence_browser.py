"""The licence block in a real browser: the owner's and the employee's blocking page, the avatar image."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from PIL import Image

from tests.browser.conftest import shot
from tests.helpers import STRONG_PASSWORD


def _context(browser: Any, live_server: str) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pl-PL", base_url=live_server)
    ctx.set_default_timeout(10000)
    return ctx


def _login(page: Any, email: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("form[name=login] button[type=submit]")
    page.wait_for_load_state()


def _expire(app: Any, company_id: int, owner_id: int) -> None:
    from app.extensions import db
    from app.models.company import Company
    from app.models.users import CrmUser
    from app.services.accounts import employees

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 140, 90)).save(buf, "PNG")
    with app.app_context():
        employees.set_avatar(db.session.get(CrmUser, owner_id), buf.getvalue())
        db.session.get(Company, company_id).licence_valid_until = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()


def test_blocking_page_for_the_owner_and_the_employee(app, browser, live_server, csrf_on, make_company, add_employee):
    """The owner sees why, the plans and "Opłać", and the avatar loads; the employee is told to ask the owner."""
    info = make_company("Piekarnia Kłos Sp. z o.o.", first_name="Jan", last_name="Testowy")
    add_employee(info["owner_id"], "ola@klos.pl", first_name="Ola", last_name="Nowak")
    _expire(app, info["company_id"], info["owner_id"])
    ended = (dt.date.today() - dt.timedelta(days=1)).strftime("%d.%m.%Y")

    owner_ctx, employee_ctx = _context(browser, live_server), _context(browser, live_server)
    try:
        owner = owner_ctx.new_page()
        _login(owner, info["email"])
        owner.goto("/bases/")
        owner.wait_for_url("**/licence/")
        assert "Twoja licencja wygasła" in owner.inner_text("#licence-expired h3")
        assert ended in owner.inner_text("#block-reason")
        assert owner.locator("#owner-options .plan-name").all_inner_texts() == ["AppLarge", "AppLarge+"]
        assert owner.get_attribute("#pay-now", "href") == "/settings/payments/"
        avatar_loaded = owner.evaluate(
            "() => { const i = document.querySelector('#user-menu img'); return i.complete && i.naturalWidth > 0; }")
        assert avatar_loaded, "the avatar in the top bar is a broken image"
        owner.click("#blocked-links a[href='/profile/']")
        owner.wait_for_url("**/profile/")
        assert "Jan Testowy" in owner.inner_text("#profile")
        shot(owner, "licence-01-owner-profile-while-blocked")
        owner.goto("/licence/")
        shot(owner, "licence-02-owner-block-page")

        employee = employee_ctx.new_page()
        _login(employee, "ola@klos.pl")
        employee.goto("/tasks/")
        employee.wait_for_url("**/licence/")
        assert "Poproś właściciela firmy, Jan Testowy" in employee.inner_text("#ask-owner")
        assert employee.locator("#pay-now").count() == 0 and employee.locator("#plans").count() == 0
        assert employee.inner_text("#user-menu .initials") == "ON"
        shot(employee, "licence-03-employee-block-page")
        employee.click("#user-menu")
        employee.click("#logout-button")
        employee.wait_for_url("**/login/**")
    finally:
        owner_ctx.close()
        employee_ctx.close()
