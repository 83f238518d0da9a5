"""The API in a real browser: a token made in the profile, the help page and Swagger UI served
from the app itself (no CDN) under the app's Content Security Policy."""

from __future__ import annotations

from tests.browser.conftest import shot
from tests.browser.test_security_browser import _login, _watch_csp


def test_token_in_the_profile_and_swagger_ui(page, live_server, make_company):
    owner = make_company("Sklep Żuraw Sp. z o.o.")
    csp_errors: list = []
    _watch_csp(page, csp_errors)
    outside: list = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None)
    _login(page, owner["email"])
    page.goto("/profile/")
    page.click("#api-tokens-link")
    page.fill("#name", "Sklep internetowy")
    page.select_option("#scope", "write")
    page.click("#create-token")
    token = page.inner_text("#new-token-value").strip()
    assert token.startswith("kl_")
    assert "Sklep internetowy" in page.inner_text("#api-token-list")
    shot(page, "api-01-token")
    page.click("#api-help-link")
    assert "curl" in page.inner_text("#api-curl")
    page.click("#swagger-link")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert page.locator(".swagger-ui .opblock").count() > 40
    assert "Kontakty" in page.inner_text("#swagger-ui")
    shot(page, "api-02-swagger")
    assert not csp_errors, csp_errors
    assert not [u for u in outside if not u.startswith("data:")], outside
