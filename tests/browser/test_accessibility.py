"""Keyboard and screen reader: axe-core (vendored from its npm package, injected by the test only,
never part of a page) finds no serious or critical violation on the main pages; every control is
reachable by Tab with a visible focus; every input has a label; status and section colours come
with words or icons."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest

from app.extensions import db
from app.security.tenancy import tenant_scope
from tests.browser.conftest import shot
from tests.integration.invoices_fixtures import invoice_form, seed_invoicing
from tests.integration.sales_fixtures import offer_form

AXE = os.path.join(os.path.dirname(__file__), "vendor", "axe.min.js")
ADMIN = ("root@platforma.pl", "Platforma-Admin#2026")

# What a failure names: the rule, its impact and the first elements that break it.
RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({rule: v.id, impact: v.impact, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}));
}"""

# Every focusable control, in Tab order, that shows no change of outline or shadow when focused.
NO_FOCUS_STYLE_JS = """() => {
  const sel = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), ' +
              'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const out = [];
  for (const e of document.querySelectorAll(sel)) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
    const before = getComputedStyle(e);
    const b = [before.outlineStyle, before.outlineWidth, before.boxShadow].join('|');
    e.focus({focusVisible: true});
    if (document.activeElement !== e) { out.push('not focusable: ' + e.outerHTML.slice(0, 80)); continue; }
    const after = getComputedStyle(e);
    const a = [after.outlineStyle, after.outlineWidth, after.boxShadow].join('|');
    const visible = (after.outlineStyle !== 'none' && parseFloat(after.outlineWidth) >= 2) ||
                    (after.boxShadow !== 'none' && a !== b);
    if (!visible) out.push(e.outerHTML.slice(0, 100));
    e.blur();
  }
  return out.slice(0, 6);
}"""


@pytest.fixture()
def page(browser: Any, live_server: str, csrf_on: None) -> Iterator[Any]:
    """A desktop browser context that lets the test inject its axe-core copy past the page's CSP."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pl-PL", base_url=live_server,
                              bypass_csp=True)
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


def _violations(page: Any, url: str) -> list[dict]:
    """Open ``url``, inject axe-core from the test's own copy and list the serious/critical findings."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => typeof window.axe") == "undefined", "axe-core must never come with a page"
    page.add_script_tag(path=AXE)
    return page.evaluate(RUN_AXE)


def _post_form(page: Any, url: str, data: dict) -> None:
    """Submit a form as the signed-in browser does (its cookies, the page's CSRF token)."""
    html = page.request.get(url).text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, url
    body = urlencode({**data, "csrf_token": token.group(1)}, doseq=True)
    resp = page.request.post(url, data=body, max_redirects=0,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 302, (url, resp.text()[:2000])


def _company_with_documents(app: Any, page: Any, info: dict) -> dict:
    """A company with a client, an offer and an invoice, a deleted tag in Kosz; the owner signed in."""
    seed = seed_invoicing(app, info)
    _sign_in(page, info["email"], info["password"])
    _post_form(page, "/offers/add", offer_form(seed))
    _post_form(page, "/invoices/add", invoice_form(seed))
    with app.app_context(), tenant_scope(info["company_id"]):
        from app.models.contacts import Contact

        seed["base_id"] = db.session.get(Contact, seed["client_id"]).base_id
        db.session.remove()
    return seed


def test_main_pages_have_no_serious_accessibility_violations(page, app, make_company):
    info = make_company("Dostępność Sp. z o.o.")
    login_page = _violations(page, "/login/")
    seed = _company_with_documents(app, page, info)
    pages = ["/", "/bases/", f"/bases/{seed['base_id']}", "/contacts/", f"/contacts/{seed['client_id']}",
             f"/contacts/add/{seed['base_id']}?kind=company", f"/contacts/{seed['client_id']}/edit",
             "/tasks/", "/tasks/add", "/binders/", f"/binders/{seed['binder_id']}", "/offers/", "/offers/add",
             "/offers/products/", "/orders/", "/invoices/", "/invoices/add", "/settings/company/",
             "/settings/employees/", "/settings/tags/", "/settings/trash/", "/profile/"]
    found = {url: v for url in pages if (v := _violations(page, url))}
    if login_page:
        found["/login/"] = login_page
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
    shot(page, "a11y-profile")


def test_admin_panel_has_no_serious_accessibility_violations(page, app):
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)
        db.session.remove()
    _sign_in(page, *ADMIN)
    found = {url: v for url in ("/", "/admin/companies/list/", "/admin/restore/")
             if (v := _violations(page, url))}
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_every_control_shows_where_the_focus_is_and_tab_reaches_the_content(page, app, make_company):
    info = make_company("Klawiatura Sp. z o.o.")
    seed = _company_with_documents(app, page, info)
    for url in ("/", f"/bases/{seed['base_id']}", f"/contacts/{seed['client_id']}", "/tasks/add", "/offers/add",
                "/invoices/add", "/settings/company/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(NO_FOCUS_STYLE_JS) == [], url
    # Tab from the top reaches the skip link, the menu, the gear and then the page's own controls
    page.goto(f"/bases/{seed['base_id']}")
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "() => { const e = document.activeElement; return (e.closest('.crm-sidebar') ? 'menu' : "
            "e.closest('.crm-topbar') ? 'top' : e.closest('#main-content') ? 'content' : 'other') + ':' + "
            "(e.getAttribute('aria-label') || e.textContent.trim() || e.name || e.id).slice(0, 30); }"))
    kinds = [r.split(":")[0] for r in reached]
    assert reached[0] == "other:Przejdź do treści"
    assert "menu" in kinds and "top" in kinds and "content" in kinds, reached
    assert any(r.startswith("top:") and "Ustawienia" in r for r in reached), reached


def test_bulk_checkboxes_search_boxes_and_badges_speak_words(page, app, make_company):
    info = make_company("Etykiety Sp. z o.o.")
    seed = _company_with_documents(app, page, info)
    page.goto(f"/bases/{seed['base_id']}")
    page.wait_for_load_state("networkidle")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
        .map(e => e.outerHTML.slice(0, 100))""")
    assert unlabelled == []
    names = page.evaluate("""() => [...document.querySelectorAll('input[type=checkbox]')]
        .map(e => e.getAttribute('aria-label') || (e.labels[0] && e.labels[0].textContent.trim()))""")
    assert names and all(names), names
    assert any("Źródło Wód" in n for n in names), names  # a row's box names its contact
    # offers list: the status badge says the status in words, not only in colour
    page.goto("/offers/")
    badge = page.locator(".status-badge").first
    assert badge.inner_text().strip() != ""
    # the menu: each section has an icon and its name next to its colour
    texts = page.evaluate("""() => [...document.querySelectorAll('.crm-sidebar ul a')]
        .map(a => [a.textContent.trim(), !!a.querySelector('i, svg')])""")
    assert texts and all(t and icon for t, icon in texts), texts
