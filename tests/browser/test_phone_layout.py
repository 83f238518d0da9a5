"""The phone (390x844): menu collapsed behind a button, the top bar fits with the gear and the user
menu reachable, and no page of the main sections scrolls sideways."""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest

from app.extensions import db
from tests.browser.conftest import shot
from tests.integration.invoices_fixtures import invoice_form, seed_invoicing
from tests.integration.sales_fixtures import offer_form, seed_sales

PHONE = {"width": 390, "height": 844}

# Elements wider than the screen, named, so that a failure says what sticks out.
OVERFLOW_JS = """() => {
  const w = window.innerWidth, out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width && r.right > w + 1 && getComputedStyle(e).position !== 'fixed') {
      let inBox = false;
      for (let p = e.parentElement; p; p = p.parentElement) {
        const ox = getComputedStyle(p).overflowX;
        if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { inBox = true; break; }
      }
      if (!inBox) out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                           (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''));
    }
  }
  return out.slice(0, 8);
}"""


@pytest.fixture()
def phone(browser: Any, live_server: str, csrf_on: None) -> Iterator[Any]:
    """A browser context the size of a phone, Polish locale."""
    ctx = browser.new_context(viewport=PHONE, locale="pl-PL", base_url=live_server, is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    pg.set_default_timeout(10000)
    yield pg
    ctx.close()


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _assert_fits(page: Any, url: str) -> None:
    """No sideways scroll of the page, and nothing sticking out of the screen."""
    page.goto(url)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= page.evaluate("() => innerWidth"), (
        url, page.evaluate(OVERFLOW_JS))


def _assert_gear_reachable(page: Any) -> None:
    """The gear is on screen and opens the settings."""
    gear = page.locator(".crm-topbar .gear")
    assert gear.is_visible()
    box = gear.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    gear.click()
    page.wait_for_url("**/settings/**")
    assert page.locator("#settings-tabs").is_visible()


def test_phone_menu_is_collapsed_behind_a_button(phone, app, make_company):
    info = make_company("Hurtownia Żółw Sp. z o.o.")
    _sign_in(phone, info["email"], info["password"])
    menu = phone.locator(".crm-sidebar ul")
    assert not menu.is_visible()
    # the content starts at the left edge: the menu does not cover it
    assert phone.locator(".crm-content").bounding_box()["x"] == 0
    toggle = phone.locator("#crm-menu-toggle")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert menu.is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    shot(phone, "phone-01-menu-open")
    phone.click(".crm-sidebar >> text=Zadania")
    phone.wait_for_url("**/tasks/")
    assert not phone.locator(".crm-sidebar ul").is_visible()
    # the user menu opens and "Wyloguj" is on screen
    phone.click("#user-menu")
    logout = phone.locator("#logout-button")
    assert logout.is_visible()
    box = logout.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1
    shot(phone, "phone-02-user-menu")


def test_main_pages_fit_a_phone_and_gear_is_reachable(phone, app, make_company):
    info = make_company("Przedsiębiorstwo Wielobranżowe Źdźbło i Synowie Sp. z o.o.")
    seed = seed_sales(app, info)
    _sign_in(phone, info["email"], info["password"])
    _assert_gear_reachable(phone)
    shot(phone, "phone-03-settings")
    tabs = [a.get_attribute("href") for a in phone.locator("#settings-tabs a").all()]
    assert len(tabs) >= 4

    with app.app_context():
        from app.extensions import db
        from app.models.contacts import Contact
        from app.security.tenancy import tenant_scope

        with tenant_scope(info["company_id"]):
            base_id = db.session.get(Contact, seed["client_id"]).base_id
        db.session.remove()
    pages = ["/", "/bases/", f"/bases/{base_id}", f"/contacts/{seed['client_id']}", f"/contacts/add/{base_id}",
             "/tasks/", "/tasks/all", "/tasks/add", "/binders/", f"/binders/{seed['binder_id']}", "/offers/",
             "/offers/add", "/offers/products/", "/orders/", "/invoices/", "/invoices/add", "/profile/"]
    for url in pages + tabs:
        _assert_fits(phone, url)
        if url in ("/", f"/bases/{base_id}", f"/contacts/{seed['client_id']}", "/offers/add", "/tasks/all"):
            shot(phone, "phone-page" + url.replace("/", "-").rstrip("-"))
        _assert_gear_reachable(phone)


def _post_form(page: Any, url: str, data: dict) -> str:
    """Submit a form as the signed-in browser does (its cookies, the page's CSRF token); the new page."""
    html = page.request.get(url).text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, url
    body = urlencode({**data, "csrf_token": token.group(1)}, doseq=True)
    resp = page.request.post(url, data=body, max_redirects=0,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 302, (url, resp.text()[:2000])
    return resp.headers["location"]


def test_every_main_page_with_rows_fits_a_phone(phone, app, make_company):
    """Lists with rows (offers, orders, invoices, products, tasks, notifications, employees, Kosz)
    and the detail pages of documents: no sideways scroll, the gear on screen, the menu folded."""
    info = make_company("Przedsiębiorstwo Wielobranżowe Źdźbło i Synowie Sp. z o.o.")
    seed = seed_invoicing(app, info)
    _sign_in(phone, info["email"], info["password"])
    offer = _post_form(phone, "/offers/add", offer_form(seed))
    invoice = _post_form(phone, "/invoices/add", invoice_form(seed))
    task = _post_form(phone, "/tasks/add", {"title": "Zadzwonić do Źródła w sprawie bardzo długiej oferty na wdrożenie",
                                           "contact_id": str(seed["client_id"]), "priority": "high",
                                           "status": "todo", "due_date": "2026-12-01", "due_time": "10:00"})
    with app.app_context():
        from app.cli import ensure_platform_admin
        from app.models.contacts import Contact
        from app.security.tenancy import tenant_scope

        with tenant_scope(info["company_id"]):
            base_id = db.session.get(Contact, seed["client_id"]).base_id
        ensure_platform_admin("root@platforma.pl", "Platforma-Admin#2026")
        db.session.remove()
    pages = ["/contacts/", "/contacts/?q=%C5%BAr%C3%B3d%C5%82o", f"/contacts/{seed['client_id']}/edit",
             f"/contacts/{seed['person_id']}", offer, f"{offer}/edit", "/orders/add", invoice, "/invoices/unpaid",
             "/invoices/purchases/", "/tasks/calendar", task, "/notifications/", f"/binders/{seed['binder_id']}/edit",
             "/binders/add", "/contacts/import/", "/settings/trash/", "/settings/employees/add",
             f"/bases/{base_id}/edit"]
    for url in pages:
        _assert_fits(phone, url)
        assert not phone.locator(".crm-sidebar ul").is_visible(), url
        _assert_gear_reachable(phone)
    shot(phone, "phone-page-invoice")
    # the platform administrator's pages too
    phone.context.clear_cookies()
    _sign_in(phone, "root@platforma.pl", "Platforma-Admin#2026")
    for url in ("/admin/companies/list/", "/admin/restore/", "/admin/nip-claims/", "/admin/backups/"):
        _assert_fits(phone, url)
        assert not phone.locator(".crm-sidebar ul").is_visible(), url
        box = phone.locator(".crm-topbar .gear").bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], url
    shot(phone, "phone-page-admin")


def test_desktop_skip_link_and_first_field_focus(page, app, make_company):
    info = make_company("Hurtownia Żółw Sp. z o.o.")
    seed = seed_sales(app, info)
    _sign_in(page, info["email"], info["password"])
    # the first Tab reaches "Przejdź do treści", which moves the focus to the content
    page.goto("/tasks/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Przejdź do treści"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main-content"
    # a form page starts in its first field
    page.goto("/tasks/add")
    assert page.evaluate("() => document.activeElement.name") == "title"
    page.goto(f"/binders/{seed['binder_id']}/edit")
    assert page.evaluate("() => document.activeElement.name") == "name"
    # a list page with only a search and delete buttons keeps the focus on the page
    page.goto("/bases/")
    assert page.evaluate("() => document.activeElement.tagName") == "BODY"
    # the desktop keeps its full menu and no "Menu" button
    assert page.locator(".crm-sidebar ul").is_visible()
    assert not page.locator("#crm-menu-toggle").is_visible()
    shot(page, "desktop-tasks-list")
