"""Paying in a real browser: a blocked owner opens "Płatności", picks the plan, months and BLIK, pays on
the fake PayU's page, comes back to "Płatność w toku", sees the new paid-until date once the signed
notification arrives, finds the invoice in the history and works again."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest

from app.services import clock
from app.services.platform import payments as svc
from tests.browser.conftest import shot
from tests.fakes.payu import FakePayu, running_fake_payu
from tests.integration.test_payments import OPERATOR, _company, _set_licence


@pytest.fixture()
def fake_payu(app: Any, monkeypatch: Any) -> Iterator[FakePayu]:
    """The fake PayU; its first notification comes 1.5 s after the buyer pays."""
    with running_fake_payu(notify_delay=1.5, delayed_seconds=0.5) as (fake, url):
        for key, value in {"PAYU_ENV": url, "PAYU_POS_ID": fake.pos_id, "PAYU_CLIENT_ID": fake.client_id,
                           "PAYU_CLIENT_SECRET": fake.client_secret, "PAYU_SECOND_KEY": fake.second_key,
                           **OPERATOR}.items():
            monkeypatch.setitem(app.config, key, value)
        yield fake


def test_blocked_owner_pays_with_blik_through_payu_and_is_unblocked(page, app, make_company, fake_payu):
    info = make_company("Zablokowana Sp. z o.o.")
    today = clock.local_today()
    _set_licence(app, info["company_id"], today - dt.timedelta(days=3))
    page.goto("/login/")
    page.fill("#username", info["email"])
    page.fill("#password", info["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/licence/")

    page.click("#pay-now")  # "Opłać" on the blocking page
    page.wait_for_url("**/settings/payments/")
    assert page.locator("#paid-until .label-danger").inner_text() == "Wygasła"
    page.select_option("#pay-plan_code", "applarge")
    page.select_option("#pay-months", "3")
    assert page.locator("#pay-form .radio label").all_inner_texts() == ["BLIK", "Szybki przelew", "Karta kredytowa"]
    page.get_by_label("BLIK", exact=True).check()
    page.click("#pay-submit")

    # the fake PayU's page: 297,00 PLN, BLIK preselected from the order's hint
    page.wait_for_url("**/pay/*")
    assert page.locator("#amount").inner_text() == "297,00 PLN"
    assert page.is_checked("#m-blik")
    page.fill("#blik_code", "654321")
    page.click("#pay")

    page.wait_for_url("**/settings/payments/return/*")
    assert page.locator("#state-pending").is_visible()
    assert "Płatność w toku" in page.locator("#state-pending").inner_text()
    page.wait_for_selector("#state-completed", state="visible", timeout=20000)
    expected = svc.add_months(today, 3) - dt.timedelta(days=1)
    assert page.locator("#new-paid-until").inner_text() == expected.strftime("%d.%m.%Y")
    days = (expected - today).days + 1
    page.wait_for_selector(f"#licence-days:has-text('{days} dni')", timeout=15000)  # reloaded from the server
    assert page.locator("#state-completed").is_visible()  # after the reload, from the server
    assert page.locator("#new-paid-until").inner_text() == expected.strftime("%d.%m.%Y")
    shot(page, "payment_return_completed")

    page.click("#back-to-payments")
    page.wait_for_url("**/settings/payments/")
    row = page.locator("#payments-table tbody tr").first
    assert "Opłacona" in row.inner_text()
    assert row.locator(".invoice-link").inner_text().strip() == f"AB/1/{today:%m/%Y}"
    assert page.locator("#current-plan").inner_text() == "AppLarge"
    shot(page, "payments_tab_after_payment")
    assert _company(app, info["company_id"]).licence_valid_until == expected

    page.goto("/contacts/")
    assert "/licence/" not in page.url  # unblocked at once
