"""The client's card in a real browser: summary, every related section, "Pokaż więcej" appending the
next page in place, a note added to the timeline, and the client's name on a task leading back."""

from __future__ import annotations

from tests.browser.conftest import shot
from tests.integration.sales_fixtures import seed_sales
from tests.integration.test_client_card import _add_related


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_client_card_with_related_items_show_more_and_a_note(page, app, make_company):
    info = make_company("Hurtownia Kartoteka Sp. z o.o.")
    seed = seed_sales(app, info)
    cid = seed["client_id"]
    _add_related(app, info["company_id"], cid, tasks=23, offers=2, orders=1, invoices=3, binders=1, files=2)
    _sign_in(page, info["email"], info["password"])

    page.goto(f"/contacts/{cid}")
    assert page.locator("#card-summary").is_visible()
    for key in ("tasks", "offers", "orders", "invoices", "binders", "files", "notes"):
        assert page.locator(f"#card-{key}").is_visible(), key
    assert page.locator("#card-tasks tbody tr").count() == 10
    assert page.locator("#card-offers tbody tr").count() == 2
    assert page.locator("#card-invoices tbody tr").count() == 3
    assert page.locator("#card-files tbody tr").count() == 2
    shot(page, "client-card-1280")

    # "Pokaż więcej" twice: 10 -> 20 -> 23 rows, the link disappears, the page did not reload
    page.evaluate("window.__stay = 1")
    page.click("#more-tasks")
    page.locator("#card-tasks tbody tr").nth(19).wait_for()
    page.click("#more-tasks")
    page.locator("#card-tasks tbody tr").nth(22).wait_for()
    assert page.locator("#card-tasks tbody tr").count() == 23
    assert page.locator("#more-tasks").count() == 0
    assert page.evaluate("window.__stay") == 1
    titles = page.locator("#card-tasks tbody tr td:first-child a").all_inner_texts()
    assert titles == [f"Zadanie nr {i}" for i in range(23, 0, -1)]

    # a note: who and when show in the timeline
    page.fill("#note-text", "Dzwonił prezes: termin montażu przesunięty na czwartek.")
    page.click("#add-note")
    page.wait_for_selector("#card-notes .note-text")
    assert page.locator("#card-notes .note-text").inner_text() == "Dzwonił prezes: termin montażu przesunięty na czwartek."
    assert page.locator("#card-notes .note-author").inner_text() == "Jan Testowya"
    assert page.locator("#card-notes .note-when").inner_text().count(".") == 2

    # at 390 px the card still fits the screen width
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/contacts/{cid}")
    shot(page, "client-card-390")
    assert page.evaluate("document.querySelector('#card-sections').getBoundingClientRect().right") <= 390 + 1

    # "Dodaj" in the tasks section opens the task form with this client, and the task links back
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/contacts/{cid}")
    page.click("#add-tasks")
    page.wait_for_url("**/tasks/add?contact_id=*")
    assert page.locator("input[name=contact_id]").input_value() == str(cid)
    page.goto("/tasks/all")
    page.locator("a.client-link").first.click()
    page.wait_for_url(f"**/contacts/{cid}")
