"""FAQ "Oferty i Zlecenia" in a real browser: green "Oferty" -> "Nowa oferta" -> client, format,
reminder, items from the price list (search as you type) -> live totals -> "Zapisz" -> the PDF is in
"Załączniki" (of the offer and of its binder) and opens."""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import shot
from tests.integration.sales_fixtures import pdf_text, seed_sales


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_new_offer_path_ends_with_pdf_in_attachments(page, app, make_company):
    info = make_company("Hurtownia Żółw Sp. z o.o.")
    seed = seed_sales(app, info)
    _sign_in(page, info["email"], info["password"])

    # Krok 1-3: green "Oferty" in the left menu -> list of offers -> "Nowa oferta"
    page.click(".crm-sidebar >> text=Oferty")
    page.wait_for_url("**/offers/")
    assert "rgb(35, 122, 60)" in page.eval_on_selector(".crm-page-title h1", "e => getComputedStyle(e).color")
    page.click("#new-offer")
    page.wait_for_url("**/offers/add")

    # Krok 4: client from the picker (a mailing-base contact is never offered)
    page.fill("#contact_label", "Subskry")
    page.wait_for_selector("#contact-results li.empty")
    page.fill("#contact_label", "Źródło")
    page.click("#contact-results >> text=Źródło Wód Gęślą Jaźń")
    page.select_option("#template", "compact")
    page.locator("#binder_id_search").press_sequentially("Inwest")
    page.click("#binder_id_list [role=option] >> text=Inwestycja Gdańsk")
    assert page.input_value("#binder_id") == str(seed["binder_id"])
    page.fill("#valid_until", (dt.date.today() + dt.timedelta(days=14)).isoformat())
    page.fill("#reminder_on", (dt.date.today() + dt.timedelta(days=7)).isoformat())

    # items picked from the price list, search as you type
    page.fill("#product-search", "wdro")
    page.click("#product-results >> text=Wdrożenie systemu")
    page.fill("#product-search", "szkol")
    page.click("#product-results >> text=Szkolenie żółtodziobów")
    page.fill("#product-search", "PDR")
    page.click("#product-results >> text=Podręcznik")
    rows = page.locator("#items-table tbody tr")
    assert rows.count() == 3
    rows.nth(0).locator("[name=item_discount]").fill("10")
    rows.nth(1).locator("[name=item_quantity]").fill("2")
    rows.nth(2).locator("[name=item_quantity]").fill("3")
    # a free line
    page.click("#add-free-item")
    rows.nth(3).locator("[name=item_name]").fill("Dojazd – ręcznie wpisany")
    rows.nth(3).locator("[name=item_unit]").fill("km")
    rows.nth(3).locator("[name=item_quantity]").fill("120,5")
    rows.nth(3).locator("[name=item_unit_price]").fill("1,15")
    # live totals, exactly as the server will compute them
    assert page.inner_text("#total-net") == "7\u00a0968,28"
    assert page.inner_text("#total-vat") == "972,36"
    assert page.inner_text("#total-gross") == "8\u00a0940,64"
    cells = page.locator("#live-totals tr[data-rate='zw'] td").all_inner_texts()
    assert cells == ["zw", "3\u00a0600,00", "0,00", "3\u00a0600,00"]
    shot(page, "offers-01-builder")

    page.click("#save-offer")
    page.wait_for_url("**/offers/*")
    # Krok 5: the PDF is generated and put in "Załączniki"
    assert "zapisana" in page.inner_text(".alert-success")
    assert page.inner_text("#total-gross").startswith("8\u00a0940,64")
    link = page.locator("#attachments a").first
    filename = link.inner_text()
    assert filename.startswith("OF_1_") and filename.endswith("_v1.pdf")
    shot(page, "offers-02-saved")
    resp = page.request.get(link.get_attribute("href"))
    assert resp.headers["content-type"] == "application/pdf"
    text = pdf_text(resp.body())
    assert "Źródło Wód Gęślą Jaźń" in text and "Szkolenie żółtodziobów" in text

    # the binder's "Załączniki" has the same PDF, and its "Oferty" section lists the offer
    page.goto(f"/binders/{seed['binder_id']}")
    assert filename in page.inner_text("#files")
    assert "OF/1/" in page.inner_text("#offers")
    shot(page, "offers-03-binder")


def _random_lines(rng, n: int) -> list[tuple[str, str, str, str]]:
    """(quantity, unit price, discount, rate) as a user types them: commas, spaces, half-grosz traps."""
    rates = ["23", "8", "5", "0", "zw", "np", "oo"]
    lines = []
    for _ in range(n):
        qty = rng.choice(["1", "3", "0,5", "1,125", "2,333", "120,5", "7", "0,001", "1 000"])
        price = rng.choice(["0,05", "0,15", "1,15", "19,99", "33,33", "59,9", "4 500", "1234,56", "0,01", "10,05"])
        disc = rng.choice(["0", "", "10", "12,5", "33,33", "5", "99,99"])
        lines.append((qty, price, disc, rng.choice(rates)))
    return lines


def test_live_totals_equal_the_server_on_random_tricky_documents(page, app, make_company):
    """The browser's totals (offer_form.js) and the server's (pricing.py) agree to the grosz, line by line."""
    import random
    from decimal import Decimal as D

    from app.services.sales import pricing

    info = make_company("Rachunki Sp. z o.o.")
    seed = seed_sales(app, info)
    _sign_in(page, info["email"], info["password"])
    page.goto("/offers/add")
    rng = random.Random(6)
    for n in (1, 7, 25, 60):
        lines = _random_lines(rng, n)
        page.evaluate("""(lines) => {
            document.querySelectorAll('#items-table tbody tr.item-row').forEach(r => r.remove());
            for (const [q, p, d, rate] of lines) {
                document.getElementById('add-free-item').click();
                const rows = document.querySelectorAll('#items-table tbody tr.item-row');
                const row = rows[rows.length - 1];
                row.querySelector('[name=item_name]').value = 'Pozycja ' + rows.length;
                row.querySelector('[name=item_quantity]').value = q;
                row.querySelector('[name=item_unit_price]').value = p;
                row.querySelector('[name=item_discount]').value = d;
                row.querySelector('[name=item_vat_rate]').value = rate;
            }
            document.querySelector('#items-table tbody').dispatchEvent(new Event('input', {bubbles: true}));
        }""", lines)

        def num(text: str) -> D:
            return D(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))

        nets = [pricing.line_net(num(q), num(p), num(d or "0")) for q, p, d, _ in lines]
        totals = pricing.compute_totals(zip(nets, [line[3] for line in lines], strict=True))
        assert [num(t) for t in page.locator("#items-table .item-net").all_inner_texts()] == nets
        assert num(page.inner_text("#total-net")) == totals.net
        assert num(page.inner_text("#total-vat")) == totals.vat
        assert num(page.inner_text("#total-gross")) == totals.gross
        per_rate = [[r.rate, r.net, r.vat, r.gross] for r in totals.rates]
        shown = page.eval_on_selector_all(
            "#live-totals tbody tr", "trs => trs.map(tr => [tr.dataset.rate, ...[...tr.cells].slice(1).map(c => c.textContent)])")
        assert [[s[0], *map(num, s[1:])] for s in shown] == per_rate

    # the last (60-line) document saved: the server stores and shows the same total
    page.evaluate("""(id) => { document.getElementById('contact_id').value = id;
                               document.getElementById('contact_label').value = 'Źródło'; }""", str(seed["client_id"]))
    page.click("#save-offer")
    page.wait_for_url("**/offers/*")
    assert "zapisana" in page.inner_text(".alert-success")
    assert num(page.inner_text("#total-gross").removesuffix("PLN")) == totals.gross
