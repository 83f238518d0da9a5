"""Account security in a real browser: "Wyloguj ze wszystkich miejsc", 2FA page, strength meter, CSP."""

from __future__ import annotations

from typing import Any

import pyotp

from tests.browser.conftest import shot
from tests.helpers import STRONG_PASSWORD


def _context(browser: Any, live_server: str) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pl-PL", base_url=live_server)
    ctx.set_default_timeout(10000)
    return ctx


def _login(page: Any, email: str, password: str = STRONG_PASSWORD) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("form[name=login] button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url, page.url


def _watch_csp(page: Any, errors: list) -> None:
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)


def test_owner_signs_employee_out_everywhere(page, browser, live_server, make_company, add_employee):
    owner = make_company("Hurtownia Żółw Sp. z o.o.")
    emp = add_employee(owner["owner_id"], "ewa@zolw.pl", first_name="Ewa", last_name="Lis")
    csp_errors: list = []
    _watch_csp(page, csp_errors)

    phone, laptop = _context(browser, live_server), _context(browser, live_server)
    try:
        p1, p2 = phone.new_page(), laptop.new_page()
        _login(p1, emp["email"])
        _login(p2, emp["email"])
        p2.goto("/profile/")
        assert "Ewa Lis" in p2.inner_text("#profile")

        _login(page, owner["email"])
        page.goto("/settings/employees/")
        page.click("text=Ewa Lis")
        page.wait_for_selector("#profile-security")
        shot(page, "security-01-employee-profile")
        page.click("#logout-everywhere")
        page.wait_for_load_state()
        assert "wylogowany ze wszystkich urządzeń" in page.inner_text(".alert")

        # the employee's other browsers are signed out on their very next request
        for p in (p1, p2):
            p.goto("/profile/")
            assert "/login/" in p.url
            assert p.locator("input[name=password]").is_visible()
        shot(p2, "security-02-signed-out")
        # the owner's own session goes on
        page.goto("/settings/security/")
        assert "Dziennik zdarzeń" in page.inner_text("#audit-log")
        assert "Wylogowanie ze wszystkich miejsc" in page.inner_text("#audit-table")
        shot(page, "security-03-audit-log")
    finally:
        phone.close()
        laptop.close()
    assert csp_errors == []


def test_two_factor_setup_and_sign_in(page, browser, live_server, make_company):
    owner = make_company()
    csp_errors: list = []
    _watch_csp(page, csp_errors)
    _login(page, owner["email"])
    page.goto("/profile/")
    page.click("#two-factor-link")
    page.wait_for_selector("#totp-qr")
    assert page.eval_on_selector("#totp-qr", "e => e.naturalWidth") > 0
    shot(page, "security-04-two-factor-setup")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#enable-two-factor")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    shot(page, "security-05-recovery-codes")

    other = _context(browser, live_server)
    try:
        p = other.new_page()
        p.goto("/login/")
        p.fill("input[name=username]", owner["email"])
        p.fill("input[name=password]", STRONG_PASSWORD)
        p.click("form[name=login] button[type=submit]")
        p.wait_for_url("**/login/code/")
        p.fill("#code", pyotp.TOTP(secret).at(__import__("time").time() + 30))
        p.click("#code-form button[type=submit]")
        p.wait_for_load_state()
        assert "/login" not in p.url
    finally:
        other.close()
    assert csp_errors == []


def test_strength_meter_on_signup(page, live_server):
    csp_errors: list = []
    _watch_csp(page, csp_errors)
    page.goto("/signup/")
    page.fill("#first_name", "Bożena")
    page.fill("#last_name", "Grabowska")
    page.fill("#password", "qwerty123")
    page.wait_for_selector(".pw-meter.pw-weak")
    assert "Hasło" in page.inner_text(".pw-meter-msg")
    page.fill("#password", "Grabowska-Morze-42!x")
    page.wait_for_selector(".pw-meter-msg:has-text('imienia')")
    page.fill("#password", STRONG_PASSWORD)
    page.wait_for_selector(".pw-meter.pw-ok")
    assert "Silne hasło" in page.inner_text(".pw-meter-msg")
    shot(page, "security-06-strength-meter")
    assert csp_errors == []
