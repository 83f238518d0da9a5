"""Tasks and task categories: the FAQ flow, lists, calendar, roles, mailing-base rule, isolation, trash."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import Task, TaskCategory
from app.security.tenancy import all_tenants, tenant_scope
from app.services import trash
from tests.helpers import login
from tests.integration.tasks_fixtures import make_contacts


def _task(client, **kw):
    data = {"title": "Zadzwonić do klienta", "priority": "normal", "status": "todo"}
    data.update(kw)
    return client.post("/tasks/add", data=data)


def _task_id(resp) -> int:
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def test_faq_task_categories_tab(owner_client):
    c = owner_client
    html = c.get("/settings/company/").get_data(as_text=True)
    assert "Kategorie zadań" in html  # the tab behind the gear
    page = c.get("/settings/task-categories/").get_data(as_text=True)
    assert "Dodaj nową kategorię" in page and "btn-add" in page
    resp = c.post("/settings/task-categories/add", data={"name": "Spotkanie", "color": "#ff5722"})
    assert resp.status_code == 302
    page = c.get("/settings/task-categories/").get_data(as_text=True)
    assert "Spotkanie" in page and "Edycja" in page and "btn-edit" in page
    with c.application.app_context(), tenant_scope(c.crm["company_id"]):
        cat_id = db.session.execute(select(TaskCategory.id)).scalar_one()
        db.session.remove()
    assert f"/settings/task-categories/{cat_id}/edit" in page  # the name and "Edycja" open the form
    resp = c.post(f"/settings/task-categories/{cat_id}/edit", data={"name": "Spotkanie u klienta", "color": "#00ff00"})
    assert resp.status_code == 302
    assert "Spotkanie u klienta" in c.get("/settings/task-categories/").get_data(as_text=True)


def test_category_bad_input_changes_nothing(owner_client):
    c = owner_client
    c.post("/settings/task-categories/add", data={"name": "Telefon"})
    resp = c.post("/settings/task-categories/add", data={"name": "telefon"})
    assert resp.status_code == 200 and "Kategoria o tej nazwie już istnieje" in resp.get_data(as_text=True)
    resp = c.post("/settings/task-categories/add", data={"name": "Zły kolor", "color": "red"})
    assert resp.status_code == 200 and "Wybierz kolor w formacie #ff8800." in resp.get_data(as_text=True)
    with c.application.app_context(), tenant_scope(c.crm["company_id"]):
        assert [x.name for x in db.session.execute(select(TaskCategory)).scalars()] == ["Telefon"]
        db.session.remove()


def test_employee_has_no_categories_tab_manager_has(app, owner_client, add_employee, client):
    emp = add_employee(owner_client.crm["owner_id"], "prac@firma.pl", "Employee")
    mgr = add_employee(owner_client.crm["owner_id"], "kier@firma.pl", "Manager")
    login(client, emp["email"])
    assert client.get("/settings/task-categories/").status_code == 403
    assert client.get("/tasks/").status_code == 200
    c2 = app.test_client()
    login(c2, mgr["email"])
    assert c2.get("/settings/task-categories/").status_code == 200


def test_add_task_for_contact_appears_in_my_tasks_and_calendar(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    c.post("/settings/task-categories/add", data={"name": "Telefon", "color": "#ff0000"})
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        cat_id = db.session.execute(select(TaskCategory.id)).scalar_one()
        db.session.remove()
    day = dt.date.today() + dt.timedelta(days=2)
    tid = _task_id(_task(c, title="Oferta dla Budimeksu", contact_id=ids["contact"], category_id=cat_id,
                         due_date=day.isoformat(), due_time="09:30", priority="high"))
    show = c.get(f"/tasks/{tid}").get_data(as_text=True)
    assert "Budimex Sp. z o.o." in show and "Telefon" in show and "Wysoki" in show and "None" not in show
    mine = c.get("/tasks/").get_data(as_text=True)
    assert "Oferta dla Budimeksu" in mine and "Moje zadania" in mine
    week = c.get(f"/tasks/calendar?view=week&date={day.isoformat()}").get_data(as_text=True)
    assert "Oferta dla Budimeksu" in week and "09:30" in week
    month = c.get(f"/tasks/calendar?view=month&date={day.isoformat()}").get_data(as_text=True)
    assert "Oferta dla Budimeksu" in month
    other_week = c.get(f"/tasks/calendar?view=week&date={(day + dt.timedelta(days=14)).isoformat()}")
    assert "Oferta dla Budimeksu" not in other_week.get_data(as_text=True)


def test_mailing_base_contact_cannot_be_attached(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    offered = [item["label"] for item in c.get("/contacts/api/pick?q=").get_json()]
    assert "Budimex Sp. z o.o." in offered and "Jan Mailingowy" not in offered  # not even offered
    assert c.get("/contacts/api/pick?q=Mailingowy").get_json() == []
    resp = _task(c, title="Spam", contact_id=ids["mailing_contact"])
    assert resp.status_code == 200
    assert "bazy mailingowej" in resp.get_data(as_text=True)
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        assert db.session.execute(select(Task)).first() is None
        db.session.remove()


def test_overdue_highlight_and_filters(app, owner_client):
    c = owner_client
    past = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    _task_id(_task(c, title="Zaległe", due_date=past))
    _task_id(_task(c, title="Przyszłe", due_date=future))
    done = _task_id(_task(c, title="Zrobione dawno", due_date=past, status="done"))
    html = c.get("/tasks/").get_data(as_text=True)
    assert html.count("task-overdue") == 1 and "Po terminie" in html
    only = c.get("/tasks/?overdue=1").get_data(as_text=True)
    assert "Zaległe" in only and "Przyszłe" not in only and "Zrobione dawno" not in only
    by_status = c.get("/tasks/all?status=done").get_data(as_text=True)
    assert "Zrobione dawno" in by_status and "Zaległe" not in by_status
    by_date = c.get(f"/tasks/all?date_from={future}&date_to={future}").get_data(as_text=True)
    assert "Przyszłe" in by_date and "Zaległe" not in by_date
    assert f'data-task="{done}"' in c.get("/tasks/all").get_data(as_text=True)


def test_filter_by_category_and_employee(app, owner_client, add_employee):
    c = owner_client
    emp = add_employee(c.crm["owner_id"], "anna@firma.pl", "Employee", first_name="Anna", last_name="Nowak")
    c.post("/settings/task-categories/add", data={"name": "Telefon"})
    c.post("/settings/task-categories/add", data={"name": "Wizyta"})
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        cats = {x.name: x.id for x in db.session.execute(select(TaskCategory)).scalars()}
        db.session.remove()
    _task_id(_task(c, title="Dzwonek", category_id=cats["Telefon"]))
    _task_id(_task(c, title="Wizyta u Anny", category_id=cats["Wizyta"], assignee_ids=[str(emp["id"])]))
    html = c.get(f"/tasks/all?category={cats['Telefon']}").get_data(as_text=True)
    assert "Dzwonek" in html and "Wizyta u Anny" not in html
    html = c.get(f"/tasks/all?employee={emp['id']}").get_data(as_text=True)
    assert "Wizyta u Anny" in html and "Dzwonek" not in html
    assert "Wizyta u Anny" not in c.get("/tasks/").get_data(as_text=True)  # not assigned to the owner


def test_roles_employee_sees_own_tasks_manager_sees_all(app, owner_client, add_employee):
    c = owner_client
    emp = add_employee(c.crm["owner_id"], "e1@firma.pl", "Employee")
    other = add_employee(c.crm["owner_id"], "e2@firma.pl", "Employee")
    mgr = add_employee(c.crm["owner_id"], "m1@firma.pl", "Manager")
    for_emp = _task_id(_task(c, title="Dla pracownika", assignee_ids=[str(emp["id"])]))
    for_other = _task_id(_task(c, title="Dla innego", assignee_ids=[str(other["id"])]))
    ce = app.test_client()
    login(ce, emp["email"])
    own = _task_id(_task(ce, title="Moje własne", assignee_ids=[str(other["id"])]))  # created by the employee
    html = ce.get("/tasks/all").get_data(as_text=True)
    assert "Dla pracownika" in html and "Moje własne" in html and "Dla innego" not in html
    assert ce.get(f"/tasks/{for_other}").status_code == 404
    assert ce.get(f"/tasks/{for_other}/edit").status_code == 404
    assert ce.post(f"/tasks/{for_other}/delete").status_code == 404
    assert ce.get(f"/tasks/{for_emp}").status_code == 200
    assert ce.get(f"/tasks/{own}").status_code == 200
    cm = app.test_client()
    login(cm, mgr["email"])
    html = cm.get("/tasks/all").get_data(as_text=True)
    assert all(t in html for t in ("Dla pracownika", "Dla innego", "Moje własne"))


def test_status_change_and_bad_input(owner_client):
    c = owner_client
    tid = _task_id(_task(c, title="Do zrobienia"))
    resp = c.post(f"/tasks/{tid}/status", data={"status": "done"})
    assert resp.status_code == 302
    assert "Zrealizowane" in c.get(f"/tasks/{tid}").get_data(as_text=True)
    resp = c.post(f"/tasks/{tid}/status", data={"status": "hacked"}, follow_redirects=True)
    assert resp.status_code == 200 and "Wybierz status" in resp.get_data(as_text=True)
    resp = _task(c, title="")
    assert resp.status_code == 200 and "Pole „Tytuł” jest wymagane." in resp.get_data(as_text=True)
    resp = _task(c, title="Zły termin", due_time="10:00")
    assert resp.status_code == 200 and "Podaj termin razem z godziną" in resp.get_data(as_text=True)
    resp = _task(c, title="Zła kategoria", category_id="abc")
    assert resp.status_code == 200


def test_tenant_isolation_of_tasks_and_categories(app, owner_client, make_company):
    a = owner_client
    ids_a = make_contacts(app, a.crm["company_id"], "A ")
    a.post("/settings/task-categories/add", data={"name": "Tajna kategoria"})
    with app.app_context(), tenant_scope(a.crm["company_id"]):
        cat_a = db.session.execute(select(TaskCategory.id)).scalar_one()
        db.session.remove()
    tid = _task_id(_task(a, title="Tajne zadanie A", contact_id=ids_a["contact"], category_id=cat_a))
    # the owner's pages do show them, so the checks below can fail
    for url, text in (("/tasks/", "Tajne zadanie A"), ("/tasks/all", "Tajne zadanie A"),
                      ("/settings/task-categories/", "Tajna kategoria"), ("/contacts/api/pick?q=budimex", "A Budimex")):
        assert text in a.get(url).get_data(as_text=True), url
    b_info = make_company("Beta")
    b = app.test_client()
    login(b, b_info["email"])
    for url in (f"/tasks/{tid}", f"/tasks/{tid}/edit", f"/settings/task-categories/{cat_a}/edit"):
        assert b.get(url).status_code == 404, url
    for url in (f"/tasks/{tid}/delete", f"/tasks/{tid}/status", f"/settings/task-categories/{cat_a}/delete"):
        assert b.post(url, data={"status": "done"}).status_code == 404, url
    for url in ("/tasks/", "/tasks/all", "/tasks/calendar?view=month", "/settings/task-categories/", "/tasks/add",
                "/contacts/api/pick?q=budimex"):
        html = b.get(url).get_data(as_text=True)
        assert "Tajne zadanie A" not in html and "Tajna kategoria" not in html and "A Budimex" not in html, url
    # foreign ids in B's own task are refused with a message and change nothing
    for field, value in (("category_id", cat_a), ("contact_id", ids_a["contact"]), ("assignee_ids", a.crm["owner_id"])):
        resp = _task(b, title="Intruz", **{field: value})
        assert resp.status_code == 200, field
    with app.app_context(), tenant_scope(b_info["company_id"]):
        assert db.session.execute(select(Task)).first() is None
        db.session.remove()
    with app.app_context(), all_tenants():
        t = db.session.get(Task, tid)
        assert t.status == "todo" and t.deleted_at is None
        db.session.remove()


def test_soft_delete_and_restore_task_and_category(app, owner_client):
    c = owner_client
    c.post("/settings/task-categories/add", data={"name": "Kasowana"})
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        cat_id = db.session.execute(select(TaskCategory.id)).scalar_one()
        db.session.remove()
    tid = _task_id(_task(c, title="Do kosza", category_id=cat_id))
    assert c.post(f"/tasks/{tid}/delete").status_code == 302
    assert "Do kosza" not in c.get("/tasks/").get_data(as_text=True)
    assert c.get(f"/tasks/{tid}").status_code == 404
    assert c.post(f"/settings/task-categories/{cat_id}/delete").status_code == 302
    assert "Kasowana" not in c.get("/settings/task-categories/").get_data(as_text=True)
    with app.app_context(), all_tenants():
        task = db.session.execute(select(Task).execution_options(include_deleted=True)).scalar_one()
        assert task.deleted_at is not None and task.deletion_id
        deletion_id = task.deletion_id
        db.session.remove()
    with app.app_context():
        assert trash.restore(deletion_id, c.crm["company_id"]) == 1
        db.session.remove()
    html = c.get(f"/tasks/{tid}").get_data(as_text=True)
    assert "Do kosza" in html
    # a category with the deleted one's name can be added again (partial unique index)
    assert c.post("/settings/task-categories/add", data={"name": "Kasowana"}).status_code == 302


def test_task_keeps_working_after_its_category_and_binder_are_deleted(app, owner_client):
    c = owner_client
    ids = make_contacts(app, c.crm["company_id"])
    c.post("/settings/task-categories/add", data={"name": "Do usunięcia"})
    with app.app_context(), tenant_scope(c.crm["company_id"]):
        cat_id = db.session.execute(select(TaskCategory.id)).scalar_one()
        db.session.remove()
    resp = c.post("/binders/add", data={"name": "Stary segregator", "contact_id": ids["contact"]})
    binder_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    tid = _task_id(_task(c, title="Osierocone", category_id=cat_id, binder_id=binder_id))
    assert c.post(f"/settings/task-categories/{cat_id}/delete").status_code == 302
    assert c.post(f"/binders/{binder_id}/delete").status_code == 302
    for url in (f"/tasks/{tid}", "/tasks/", f"/tasks/{tid}/edit", "/tasks/calendar?view=month"):
        resp = c.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "None" not in html, url
        assert "Do usunięcia" not in html and "Stary segregator" not in html, url
    assert "Osierocone" in c.get("/tasks/").get_data(as_text=True)
    # filtering by the deleted category finds nothing and does not fail
    resp = c.get(f"/tasks/all?category={cat_id}")
    assert resp.status_code == 200 and "Osierocone" not in resp.get_data(as_text=True)
    # saving the form as the browser sends it ("—" selected) keeps the task, without them
    data = {"title": "Osierocone", "priority": "normal", "status": "todo", "category_id": "", "binder_id": ""}
    assert c.post(f"/tasks/{tid}/edit", data=data).status_code == 302
