"""SQL statements per page, the per-session access cache and the foreign-key indexes.

A signed-in page used to cost about 21 statements before its own queries (session, user, 2FA
policy, roles, groups, one EXISTS per permission check and per menu entry). The user, the
company, the roles, their permissions and the menu now come from one statement and a
per-session cache (``app/security/manager.py``). The cache must follow a role change or a
policy change on the next request, in every worker, and never show one user's menu to another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask_appbuilder import Model
from sqlalchemy import event

from app.extensions import db
from app.models.contacts import contact_tag
from app.models.fk_indexes import FK_INDEXES, index_name
from tests.helpers import login
from tests.integration.contacts_data import make_base, make_contact, make_tag
from tests.integration.invoices_fixtures import create as create_invoice
from tests.integration.invoices_fixtures import seed_invoicing
from tests.integration.sales_fixtures import offer_form

#: the statements each page kind runs, warm (at most 6 a page; see bench/README.md). The dashboard's
#: charts and each section of the client card are fragments the page loads after itself: each is a
#: request of its own, counted here too, and none grows with the number of related rows
#: (test_client_card.py checks that for the card).
CEILINGS = {
    "dashboard": 5,
    "dashboard charts": 6,
    "contact list": 6,
    "search": 6,
    "company contact page": 6,
    "person contact page": 5,
    "card section": 4,
    "tasks list": 6,
    "offers list": 3,
    "invoices list": 3,
}
#: the sections of a client's card (each a fragment request)
CARD_SECTIONS = ("tasks", "offers", "orders", "invoices", "binders", "files", "notes")


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """Collect every SQL statement sent to the database inside the block."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def warm_count(app: Any, client: Any, url: str) -> tuple[int, list[str], str]:
    """Statements of a second request to ``url`` (the first fills the caches); also the page."""
    assert client.get(url).status_code == 200
    with statements(app) as seen:
        resp = client.get(url)
    assert resp.status_code == 200, url
    return len(seen), list(seen), resp.get_data(as_text=True)


@pytest.fixture()
def company_with_data(app: Any, owner_client: Any) -> dict:
    """A company with tagged contacts, a company contact and its employee, an offer, invoices and tasks."""
    from app.models.users import CrmUser
    from app.security.tenancy import tenant_scope
    from app.services.work import tasks

    info = owner_client.crm
    seed = seed_invoicing(app, info)
    cid = info["company_id"]
    base = make_base(app, cid, "Kontrahenci")
    tag = make_tag(app, cid, "VIP")
    employer = make_contact(app, cid, base, name="Kowalski i Syn Sp. z o.o.", nip="5260250274")
    person = make_contact(app, cid, base, kind="person", first_name="Anna", last_name="Kowalska",
                          employer_id=employer)
    tagged = [employer] + [make_contact(app, cid, base, name=f"Kowalczyk Handel {n}") for n in range(12)]
    with app.app_context(), tenant_scope(cid):
        db.session.execute(contact_tag.insert(), [{"contact_id": i, "tag_id": tag} for i in tagged])
        db.session.commit()
        db.session.remove()
    assert owner_client.post("/offers/add", data=offer_form(seed)).status_code == 302
    for _ in range(2):
        create_invoice(owner_client, seed)
    with app.app_context(), tenant_scope(cid):
        owner = db.session.get(CrmUser, info["owner_id"])
        for n in range(3):
            tasks.create_task(cid, owner, tasks.TaskData(title=f"Zadzwoń {n}", contact_id=employer))
        db.session.remove()
    return {"employer": employer, "person": person, **seed}


def test_page_kinds_stay_under_their_statement_ceiling(app: Any, owner_client: Any, company_with_data: dict) -> None:
    pages = {
        "dashboard": "/",
        "contact list": "/contacts/",
        "search": "/contacts/?q=Kowal",
        "company contact page": f"/contacts/{company_with_data['employer']}",
        "person contact page": f"/contacts/{company_with_data['person']}",
        "tasks list": "/tasks/",
        "offers list": "/offers/",
        "invoices list": "/invoices/",
    }
    pages["dashboard charts"] = "/dashboard/charts"
    counts = {kind: warm_count(app, owner_client, url)[0] for kind, url in pages.items()}
    sections = {key: warm_count(app, owner_client, f"/contacts/{company_with_data['employer']}/card/{key}/fragment")[0]
                for key in CARD_SECTIONS}
    counts["card section"] = max(sections.values())
    over = {kind: (n, CEILINGS[kind]) for kind, n in counts.items() if n > CEILINGS[kind]}
    assert over == {}, f"statements per page over the ceiling: {counts} (card sections: {sections})"
    assert max(counts.values()) <= 6


def test_no_permission_or_menu_query_on_a_warm_page(app: Any, owner_client: Any) -> None:
    n, seen, html = warm_count(app, owner_client, "/offers/")
    joined = "\n".join(seen)
    assert "ab_permission_view" not in joined and "ab_role" not in joined and "ab_group" not in joined
    assert "company_security" not in joined
    assert 'href="/bases/"' in html and 'href="/invoices/purchases/"' in html  # the owner's menu is drawn


def test_a_person_card_does_not_look_up_people_employed_by_it(app: Any, owner_client: Any,
                                                              company_with_data: dict) -> None:
    _n, seen, _html = warm_count(app, owner_client, f"/contacts/{company_with_data['person']}")
    assert not [s for s in seen if "employer_id =" in s]
    _n, seen, html = warm_count(app, owner_client, f"/contacts/{company_with_data['employer']}")
    assert [s for s in seen if "employer_id =" in s]
    assert "Kowalska" in html


def _set_role(app: Any, owner_id: int, user_id: int, role: str) -> None:
    """Change a person's role through the service, as the owner's form does (outside any request)."""
    from app.models.users import CrmUser
    from app.services.accounts import employees

    with app.app_context():
        owner = db.session.get(CrmUser, owner_id)
        user = db.session.get(CrmUser, user_id)
        employees.update_employee(owner, user, employees.EmployeeData(
            first_name=user.first_name, last_name=user.last_name, email=user.email, role=role))
        db.session.remove()


def test_a_role_change_takes_effect_on_the_next_request(app: Any, make_company: Any, add_employee: Any) -> None:
    info = make_company()
    worker = add_employee(info["owner_id"], "piotr@firma1.pl", role="Employee")
    c = app.test_client()
    assert login(c, worker["email"]).status_code == 302
    assert c.get("/").status_code == 200
    assert c.get("/settings/employees/").status_code == 403  # cached: an employee
    assert 'href="/invoices/purchases/"' not in c.get("/invoices/").get_data(as_text=True)

    _set_role(app, info["owner_id"], worker["id"], "Owner")
    assert c.get("/settings/employees/").status_code == 200
    assert 'href="/invoices/purchases/"' in c.get("/invoices/").get_data(as_text=True)

    _set_role(app, info["owner_id"], worker["id"], "Employee")
    assert c.get("/settings/employees/").status_code == 403
    assert 'href="/invoices/purchases/"' not in c.get("/invoices/").get_data(as_text=True)


def test_another_user_never_sees_the_first_users_menu(app: Any, make_company: Any, add_employee: Any) -> None:
    first = make_company("Pierwsza Sp. z o.o.")
    other = make_company("Druga Sp. z o.o.")
    worker = add_employee(first["owner_id"], "ewa@pierwsza.pl", role="Employee")
    owner_c, worker_c, other_c = app.test_client(), app.test_client(), app.test_client()
    for c, who in ((owner_c, first), (worker_c, worker), (other_c, other)):
        assert login(c, who["email"]).status_code == 302
    for _ in range(2):  # the owner's menu is cached first, then the others ask in turn
        owner_html = owner_c.get("/").get_data(as_text=True)
        worker_html = worker_c.get("/").get_data(as_text=True)
        other_html = other_c.get("/").get_data(as_text=True)
        assert 'href="/invoices/purchases/"' in owner_html
        assert 'href="/invoices/purchases/"' not in worker_html and 'href="/bases/"' in worker_html
        assert owner_c.get("/settings/employees/").status_code == 200
        assert worker_c.get("/settings/employees/").status_code == 403
        assert "Pierwsza Sp. z o.o." in worker_html and "Druga Sp. z o.o." not in worker_html
        assert "Druga Sp. z o.o." in other_html and "Pierwsza Sp. z o.o." not in other_html


def test_turning_on_mandatory_2fa_reaches_a_cached_session(app: Any, make_company: Any, add_employee: Any) -> None:
    from app.models.users import CrmUser
    from app.services.accounts import security_policy

    info = make_company()
    worker = add_employee(info["owner_id"], "jan@firma1.pl", role="Employee")
    c = app.test_client()
    assert login(c, worker["email"]).status_code == 302
    assert c.get("/contacts/").status_code == 200
    assert c.get("/contacts/").status_code == 200  # the policy (never saved) now comes from the cache
    with app.app_context():
        security_policy.set_company_2fa(db.session.get(CrmUser, info["owner_id"]), True)
        db.session.remove()
    resp = c.get("/contacts/")
    assert resp.status_code == 302 and "/security" in resp.headers["Location"]


def test_the_owner_turns_on_2fa_through_the_form_with_a_cached_policy(app: Any, owner_client: Any) -> None:
    from app.models.security import CompanySecurity

    assert owner_client.get("/contacts/").status_code == 200
    assert owner_client.get("/contacts/").status_code == 200  # "not required" now comes from the cache
    resp = owner_client.post("/settings/security/policy", data={"require_2fa": "y"})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.get(CompanySecurity, owner_client.crm["company_id"])
        assert row is not None and row.require_2fa is True
        db.session.remove()
    assert "/security" in owner_client.get("/contacts/").headers["Location"]


def test_every_foreign_key_has_an_index_led_by_it() -> None:
    """A delete of the parent finds its children (ON DELETE) through an index, on every table."""
    unindexed = []
    declared = set(FK_INDEXES)
    left_out = {("ab_user", "created_by_fk"), ("ab_user", "changed_by_fk"), ("ab_user_role", "role_id")}
    for table in Model.metadata.sorted_tables:
        leads = {ix.columns.values()[0].name for ix in table.indexes}
        leads |= {c.columns.values()[0].name for c in table.constraints if hasattr(c, "columns") and c.columns
                  and c.__class__.__name__ in ("PrimaryKeyConstraint", "UniqueConstraint")}
        for fk in table.foreign_keys:
            key = (table.name, fk.parent.name)
            if fk.parent.name not in leads and key not in left_out:
                unindexed.append(key)
    assert unindexed == []
    names = {ix.name for t in Model.metadata.sorted_tables for ix in t.indexes}
    assert {index_name(t, c) for t, c in declared} <= names
