"""Dashboard charts: the employee's own numbers, the owner's company numbers, and the "where to start" box."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from typing import Any

import pytest

from app.extensions import db
from app.models.invoicing import Invoice
from app.models.sales import Offer
from app.models.tasks import Task
from app.models.users import CrmUser
from app.security.tenancy import tenant_scope
from app.services import clock
from app.services import dashboard as dashboard_svc
from app.services.dashboard import month_starts, week_starts
from tests.helpers import find, login, texts
from tests.integration.sales_fixtures import seed_sales


def _offer(n: int, contact_id: int, owner_id: int, status: str, day: dt.date, net: str) -> Offer:
    return Offer(number=f"OF/{n}/T", seq_year=day.year, seq_number=n, issue_date=day, contact_id=contact_id,
                 owner_id=owner_id, status=status, total_net=D(net), total_gross=D(net))


def _task(title: str, user: CrmUser, due: dt.date | None, completed: dt.datetime | None = None) -> Task:
    task = Task(title=title, due_date=due, status="done" if completed else "todo", completed_at=completed,
                created_by_id=user.id)
    task.assignees = [user]
    return task


def _invoice(user_id: int, status: str, issued: dt.date, paid: dt.date | None = None) -> Invoice:
    return Invoice(status=status, issue_date=issued, paid_at=paid, created_by_id=user_id, buyer_name="Klient")


def _at_noon(day: dt.date) -> dt.datetime:
    return clock.local_to_utc(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture()
def company(app: Any, owner_client: Any, add_employee: Any, make_company: Any) -> dict:
    """A company with known offers, tasks and invoices of its owner and one employee, and another company."""
    info = owner_client.crm
    emp = add_employee(info["owner_id"], "handlowiec@firma.pl")
    seed = seed_sales(app, info)
    other = make_company()
    other_seed = seed_sales(app, other, suffix=" B")
    today = clock.local_today()
    this_month, last_month = month_starts(today)[-1], month_starts(today)[-2]
    this_week, week_1, week_2, week_3 = week_starts(today)[-1], *week_starts(today)[-2:-5:-1]
    with app.app_context():
        with tenant_scope(info["company_id"]):
            owner = db.session.get(CrmUser, info["owner_id"])
            worker = db.session.get(CrmUser, emp["id"])
            cid = seed["client_id"]
            db.session.add_all([
                _offer(1, cid, owner.id, "draft", last_month, "1000.00"),
                _offer(2, cid, owner.id, "accepted", this_month, "2000.50"),
                _offer(3, cid, worker.id, "sent", this_month, "300.00"),
                _offer(4, cid, worker.id, "draft", this_month, "99.99"),
                _task("zrobione w tym tygodniu", worker, this_week, _at_noon(this_week)),
                _task("zaległe sprzed tygodnia", worker, week_1),
                _task("zrobione dwa tygodnie temu", owner, week_2, _at_noon(week_2)),
                _task("zaległe sprzed trzech tygodni", owner, week_3),
                _task("zaległe sprzed trzech tygodni 2", owner, week_3),
                _task("bez terminu", owner, None),
                _invoice(worker.id, "issued", this_month, this_month),
                _invoice(worker.id, "issued", last_month),
                _invoice(owner.id, "issued", this_month),
                _invoice(owner.id, "draft", this_month),
            ])
            db.session.commit()
        with tenant_scope(other["company_id"]):
            stranger = db.session.get(CrmUser, other["owner_id"])
            db.session.add_all([
                _offer(1, other_seed["client_id"], stranger.id, "sent", this_month, "777.00"),
                _task("cudze", stranger, week_1),
                _invoice(stranger.id, "issued", this_month, this_month),
            ])
            db.session.commit()
        db.session.remove()
    return {"info": info, "emp": emp, "other": other}


def _charts(app: Any, company_id: int, user_id: int) -> dict:
    with app.app_context(), tenant_scope(company_id):
        data = dashboard_svc.charts(company_id, db.session.get(CrmUser, user_id))
        db.session.remove()
    return data


def _status_counts(data: dict) -> dict[str, int]:
    return {row["status"]: row["count"] for row in data["offers"]["status"]}


def test_owner_sees_the_company_numbers(app, company):
    info = company["info"]
    data = _charts(app, info["company_id"], info["owner_id"])
    assert data["scope"] == "company"
    assert _status_counts(data) == {"draft": 2, "sent": 1, "accepted": 1, "rejected": 0, "expired": 0}
    assert data["offers"]["value"][-2:] == [1000.0, 2400.49]
    assert data["offers"]["value_text"][-1] == "2\u00a0400,49"
    assert data["tasks"]["done"][-4:] == [0, 1, 0, 1]  # weeks -3, -2, -1, this week
    assert data["tasks"]["overdue"][-4:] == [2, 0, 1, 0]
    assert data["invoices"]["issued"][-2:] == [1, 2] and data["invoices"]["paid"][-2:] == [0, 1]
    assert sum(data["invoices"]["issued"]) == 3  # the draft is not issued; the other company's is not here


def test_employee_sees_only_own_numbers(app, company):
    emp = company["emp"]
    data = _charts(app, emp["company_id"], emp["id"])
    assert data["scope"] == "own"
    assert _status_counts(data) == {"draft": 1, "sent": 1, "accepted": 0, "rejected": 0, "expired": 0}
    assert data["offers"]["value"][-2:] == [0.0, 399.99]
    assert data["tasks"]["done"][-4:] == [0, 0, 0, 1]
    assert data["tasks"]["overdue"][-4:] == [0, 0, 1, 0]
    assert data["invoices"]["issued"][-2:] == [1, 1] and data["invoices"]["paid"][-2:] == [0, 1]


def test_other_company_sees_none_of_these_rows(app, company):
    other = company["other"]
    data = _charts(app, other["company_id"], other["owner_id"])
    assert _status_counts(data)["sent"] == 1 and sum(_status_counts(data).values()) == 1
    assert sum(data["tasks"]["overdue"]) == 1 and sum(data["tasks"]["done"]) == 0
    assert sum(data["invoices"]["issued"]) == 1


def _page_data(html: str) -> dict:
    return json.loads(find(html, "#dashboard-data")[0].text_content())["charts"]


def test_page_tables_and_json_carry_the_numbers_per_role(app, client, company, owner_client):
    # the page loads its charts as a fragment after itself
    assert 'data-url="/dashboard/charts"' in owner_client.get("/").text
    page = owner_client.get("/dashboard/charts").text
    assert _status_counts(_page_data(page))["draft"] == 2
    assert "Wyniki firmy" in page
    assert texts(page, "#table-offer-status tbody tr") == [
        "Szkic2", "Wysłana1", "Zaakceptowana1", "Odrzucona0", "Wygasła0"]
    assert texts(page, "#table-tasks tbody tr td")[-8:] == ["0", "2", "1", "0", "0", "1", "1", "0"]
    assert texts(page, "#table-offer-value tbody tr td")[-2:] == ["1 000,00", "2 400,49"]  # a (non-breaking) space groups thousands
    assert texts(page, "#table-invoices tbody tr td")[-4:] == ["1", "0", "2", "1"]
    login(client, company["emp"]["email"], company["emp"]["password"])
    page = client.get("/dashboard/charts").text
    assert "Moje wyniki" in page and "Wyniki firmy" not in page
    assert _status_counts(_page_data(page))["draft"] == 1
    assert texts(page, "#table-offer-value tbody tr td")[-2:] == ["0,00", "399,99"]
    assert texts(page, "#table-invoices tbody tr td")[-4:] == ["1", "0", "1", "1"]


def test_where_to_start_until_done_and_never_for_an_employee(app, client, owner_client, add_employee):
    info = owner_client.crm
    page = owner_client.get("/").text
    assert find(page, "#getting-started")
    assert [el.get("data-done") for el in find(page, "#getting-started li")] == ["no", "no", "no", "no"]
    emp = add_employee(info["owner_id"], "nowy@firma.pl")
    login(client, emp["email"], emp["password"])
    assert not find(client.get("/").text, "#getting-started")
    seed_sales(app, info)  # address, a base and a contact
    page = owner_client.get("/").text
    assert not find(page, "#getting-started")  # the employee added above was the last step
    assert not find(client.get("/").text, "#getting-started")


def test_where_to_start_shows_what_is_left(app, owner_client):
    seed_sales(app, owner_client.crm)
    page = owner_client.get("/").text
    done = {el.get("data-step"): el.get("data-done") for el in find(page, "#getting-started li")}
    assert done == {"company": "yes", "base": "yes", "contact": "yes", "team": "no"}
    assert owner_client.post("/tasks/add", data={"title": "Pierwsze", "priority": "normal",
                                                 "status": "todo"}).status_code == 302
    assert not find(owner_client.get("/").text, "#getting-started")
