"""CSV import in a real browser: upload, map the columns, watch the progress bar finish."""

from __future__ import annotations

import os
import tempfile

from tests.browser.conftest import shot
from tests.helpers import make_nip
from tests.integration.contacts_data import make_base


def test_import_with_progress_bar(app, page, make_company):
    info = make_company("Przeglądarka Sp. z o.o.")
    make_base(app, info["company_id"], "Hurtownie")
    rows = "".join(f"Hurtownia Żółw {i};{make_nip(3000 + i)};biuro{i}@zolw.pl\n" for i in range(300))
    path = os.path.join(tempfile.mkdtemp(), "kontakty.csv")
    with open(path, "wb") as fh:
        fh.write(("Nazwa;NIP;E-mail\n" + rows + "Zła firma;123;\n").encode("cp1250"))
    page.goto("/login/")
    page.fill("input[name=username]", info["email"])
    page.fill("input[name=password]", info["password"])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto("/contacts/import/")
    shot(page, "contact_import_upload")
    page.set_input_files("input[name=file]", path)
    shot(page, "contact_import_upload")
    page.click("#upload-submit")
    page.wait_for_selector("#preview-table")
    assert "Hurtownia Żółw 0" in page.inner_text("#preview-table")
    shot(page, "contact_import_mapping")
    page.click("#start-import")
    page.wait_for_selector("#import-result", timeout=30000)
    assert page.inner_text("#c-inserted") == "300" and page.inner_text("#c-refused") == "1"
    assert "100%" in page.inner_text("#import-progress")
    # part of the file was refused: the result is yellow, not green, with the reason and the report
    assert "alert-warning" in page.get_attribute("#import-result", "class")
    assert page.evaluate("getComputedStyle(document.getElementById('import-result')).backgroundColor") != \
        page.evaluate("(() => { const d = document.createElement('div'); d.className = 'alert alert-success';"
                      " document.body.appendChild(d); return getComputedStyle(d).backgroundColor; })()")
    assert "NIP" in page.inner_text("#import-reasons")
    assert page.is_visible("#report-link")
    shot(page, "contact_import_done")
