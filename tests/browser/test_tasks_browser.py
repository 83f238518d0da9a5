"""Tasks in a real browser: add a category (FAQ steps), add a task for a contact, see it in Moje zadania and the week."""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import shot
from tests.integration.tasks_fixtures import make_contacts


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_category_task_my_tasks_and_week(page, app, make_company, live_server):
    info = make_company("Budowlanka Łódź Sp. z o.o.")
    make_contacts(app, info["company_id"])
    _sign_in(page, info["email"], info["password"])

    # FAQ: gear -> "Kategorie zadań" -> red "Dodaj nową kategorię" -> Zapisz
    page.click(".gear")
    page.click("#settings-tabs >> text=Kategorie zadań")
    page.wait_for_url("**/settings/task-categories/")
    page.click("#add-category")
    page.fill("#name", "Spotkanie")
    page.click("#save-category")
    assert "Spotkanie" in page.inner_text("#categories-table")
    shot(page, "tasks-01-categories")

    # "Zadania" in the left menu -> "Nowe zadanie" for a contact
    page.click(".crm-sidebar >> text=Zadania")
    page.wait_for_url("**/tasks/")
    page.click("#add-task")
    day = dt.date.today() + dt.timedelta(days=1)
    page.fill("#title", "Spotkanie w sprawie hali")
    page.select_option("#category_id", label="Spotkanie")
    page.fill("#contact_id_search", "Budim")
    page.click("#contact_id_list >> text=Budimex Sp. z o.o.")
    page.fill("#due_date", day.isoformat())
    page.fill("#due_time", "10:30")
    shot(page, "tasks-02-form")
    page.click("#save-task")
    assert "Budimex Sp. z o.o." in page.inner_text("#task-details")

    page.click(".crm-sidebar >> text=Zadania")
    page.wait_for_url("**/tasks/")
    assert "Moje zadania" in page.inner_text("#task-tabs .active")
    assert "Spotkanie w sprawie hali" in page.inner_text("#tasks-table")
    shot(page, "tasks-03-my-tasks")

    page.goto(f"/tasks/calendar?view=week&date={day.isoformat()}")
    cell = page.locator(f'#calendar td[data-date="{day.isoformat()}"]')
    assert "10:30 Spotkanie w sprawie hali" in cell.inner_text()
    shot(page, "tasks-04-week")
    page.click("#tab-month")
    page.wait_for_url("**/tasks/calendar?view=month")
    page.locator("#calendar.month").wait_for()
    page.goto(f"/tasks/calendar?view=month&date={day.isoformat()}")
    month_cell = page.locator(f'#calendar.month td[data-date="{day.isoformat()}"]')
    assert "Spotkanie w sprawie hali" in month_cell.inner_text()
    shot(page, "tasks-05-month")


def test_binder_upload_download_and_task_from_binder(page, app, make_company, live_server, tmp_path):
    info = make_company("Segregatory Łódź Sp. z o.o.")
    make_contacts(app, info["company_id"])
    _sign_in(page, info["email"], info["password"])

    page.click(".crm-sidebar >> text=Segregatory")
    page.wait_for_url("**/binders/")
    page.click("#add-binder")
    page.fill("#name", "Budowa hali w Łodzi")
    page.fill("#contact_id_search", "Budim")
    page.click("#contact_id_list >> text=Budimex Sp. z o.o.")
    page.click("#save-binder")
    assert "Budimex Sp. z o.o." in page.inner_text("#binder-client")

    pdf = tmp_path / "Umowa żółć.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.set_input_files("#upload-file", str(pdf))
    page.click("#upload-button")
    assert "Umowa żółć.pdf" in page.inner_text("#files-table")
    with page.expect_download() as dl:
        page.click("#files-table >> text=Umowa żółć.pdf")
    assert dl.value.suggested_filename == "Umowa żółć.pdf"
    assert open(dl.value.path(), "rb").read().startswith(b"%PDF-")

    # "Nowe zadanie" from the binder: the task lands in its "Zadania" section
    page.click("#new-tasks")
    page.fill("#title", "Pomiar hali")
    page.click("#save-task")
    page.click("#task-details >> text=Budowa hali w Łodzi")
    assert "Pomiar hali" in page.inner_text("#tasks")
    body = page.inner_text("body")
    assert "None" not in body and dt.date.today().strftime("%d.%m.%Y") in body
    shot(page, "binders-01-page")

    # the month calendar is navigable both ways
    page.goto("/tasks/calendar?view=month")
    title = page.inner_text("#cal-title")
    page.click("#cal-next")
    assert page.inner_text("#cal-title") != title
    page.click("#cal-prev")
    assert page.inner_text("#cal-title") == title
