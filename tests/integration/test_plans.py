"""Plans and their limits: the seeded plans, usage, the limit check and its Polish message."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any, Callable

import pytest

from app.extensions import db
from app.models.billing import Plan
from app.models.company import Company
from app.services import DomainError
from app.services.platform import plans


def _set_plan_limit(code: str, **limits: Any) -> None:
    plan = db.session.execute(db.select(Plan).where(Plan.code == code)).scalar_one()
    for key, value in limits.items():
        setattr(plan, key, value)
    db.session.commit()


def test_the_migration_seeds_applarge_and_applarge_plus_with_the_plus_above(ctx: Any) -> None:
    """Both plans are on sale, in PLN gross a month, AppLarge+ dearer and with every limit higher."""
    small, large = plans.all_plans()
    assert (small.code, small.name, large.code, large.name) == ("applarge", "AppLarge", "applarge_plus", "AppLarge+")
    assert Decimal("0") < small.price_gross < large.price_gross
    for column in plans.LIMIT_COLUMNS.values():
        assert getattr(small, column) < getattr(large, column)


def test_a_trial_company_works_within_the_limits_of_applarge(ctx: Any, make_company: Callable[..., dict]) -> None:
    """During the free licence the plan code is "trial" and AppLarge's limits apply."""
    info = make_company()
    company = db.session.get(Company, info["company_id"])
    assert company.plan == "trial"
    assert plans.plan_for(company).code == "applarge"
    assert company.next_plan is None


def test_the_employee_limit_names_the_limit_the_plan_and_the_plan_that_lifts_it(
    ctx: Any, make_company: Callable[..., dict], add_employee: Callable[..., dict]
) -> None:
    """With the limit reached the check refuses in Polish and names AppLarge+."""
    info = make_company()
    _set_plan_limit("applarge", max_employees=2)
    add_employee(info["owner_id"], "ola@firma.pl")
    assert plans.usage(info["company_id"]).employees == 2
    with pytest.raises(DomainError) as err:
        plans.check_limit(info["company_id"], "employees")
    assert str(err.value) == (
        "Osiągnięto limit „Pracownicy”: najwyżej 2 (Twój pakiet: bezpłatna licencja z limitami pakietu AppLarge). "
        "Pakiet AppLarge+ pozwala na 50: zmień pakiet w Ustawieniach, w zakładce Płatności.")


def test_the_storage_check_counts_bytes_against_megabytes(ctx: Any, make_company: Callable[..., dict]) -> None:
    """One megabyte left: a file of one megabyte passes, one byte more is refused."""
    info = make_company()
    company = db.session.get(Company, info["company_id"])
    company.plan = "applarge_plus"
    company.logo = b"x" * (plans.MB * 3)
    db.session.commit()
    _set_plan_limit("applarge_plus", max_storage_mb=4)
    plans.check_storage(info["company_id"], plans.MB)
    with pytest.raises(DomainError) as err:
        plans.check_storage(info["company_id"], plans.MB + 1)
    assert str(err.value) == (
        "Osiągnięto limit „Miejsce na pliki”: najwyżej 4 MB (Twój pakiet: AppLarge+). "
        "Żaden pakiet nie pozwala na więcej; jeśli potrzebujesz więcej, napisz do pomocy technicznej.")


# ---------------------------------------------------------------- limits where people meet them

NEW_EMPLOYEE = {"first_name": "Marek", "last_name": "Zając", "email": "marek@firma.pl", "phone": "",
                "position": "", "role": "Employee", "access": "password", "password": "Kawa#Rower7Morze+Dach"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _limits(app: Any, code: str, **limits: Any) -> None:
    with app.app_context():
        _set_plan_limit(code, **limits)
        db.session.remove()


def _people(app: Any, company_id: int) -> list[tuple[str, bool]]:
    from app.models.users import CrmUser

    with app.app_context():
        rows = db.session.execute(
            db.select(CrmUser.email, CrmUser.active).where(CrmUser.company_id == company_id).order_by(CrmUser.id)
        ).all()
        db.session.remove()
    return [(e, a) for e, a in rows]


def test_adding_an_employee_past_the_limit_is_refused_naming_the_plan(app: Any, owner_client: Any) -> None:
    """With AppLarge's limit of one person reached, "add employee" says so in Polish and adds nobody."""
    _limits(app, "applarge", max_employees=1)
    resp = owner_client.post("/settings/employees/add", data=NEW_EMPLOYEE)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert ("Osiągnięto limit „Pracownicy”: najwyżej 1 (Twój pakiet: bezpłatna licencja z limitami pakietu "
            "AppLarge). Pakiet AppLarge+ pozwala na 50: zmień pakiet w Ustawieniach, w zakładce Płatności.") in page
    assert _people(app, owner_client.crm["company_id"]) == [(owner_client.crm["email"], True)]


def test_reactivating_an_employee_past_the_limit_is_refused(
    app: Any, owner_client: Any, add_employee: Callable[..., dict]
) -> None:
    """A deactivated person frees a place; with the place taken again, reactivation is refused."""
    ola = add_employee(owner_client.crm["owner_id"], "ola@firma.pl")
    assert owner_client.post(f"/settings/employees/{ola['id']}/active", data={"active": "0"}).status_code == 302
    _limits(app, "applarge", max_employees=2)
    add_employee(owner_client.crm["owner_id"], "ewa@firma.pl")
    resp = owner_client.post(f"/settings/employees/{ola['id']}/active", data={"active": "1"}, follow_redirects=True)
    assert "Osiągnięto limit „Pracownicy”: najwyżej 2" in resp.get_data(as_text=True)
    assert "Pakiet AppLarge+ pozwala na 50" in resp.get_data(as_text=True)
    assert ("ola@firma.pl", False) in _people(app, owner_client.crm["company_id"])


def _binder(client: Any) -> int:
    resp = client.post("/binders/add", data={"name": "Budowa hali", "description": ""})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def _stored_files(folder: str) -> set[str]:
    """Every file under a company's storage folder (earlier tests of the same company id may have left some)."""
    return {os.path.join(d, f) for d, _, names in os.walk(folder) for f in names}


def test_a_file_past_the_storage_limit_is_refused_and_not_stored(app: Any, owner_client: Any) -> None:
    """A binder file that does not fit into the plan's storage: the Polish message, no attachment, no file."""
    import io

    from app.models.binders import Attachment
    from app.security.tenancy import all_tenants

    company_id = owner_client.crm["company_id"]
    bid = _binder(owner_client)
    _limits(app, "applarge", max_storage_mb=1)
    with app.app_context():
        company = db.session.get(Company, company_id)
        company.logo = b"x" * (plans.MB - 10)  # the logo counts too: ten bytes are left
        db.session.commit()
        db.session.remove()
    files = os.path.join(app.instance_path, "files", str(company_id))
    before = _stored_files(files)
    resp = owner_client.post(f"/binders/{bid}/upload", data={"file": (io.BytesIO(PDF), "umowa.pdf")},
                             content_type="multipart/form-data", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Osiągnięto limit „Miejsce na pliki”: najwyżej 1 MB" in page
    assert "Pakiet AppLarge+ pozwala na 25 GB" in page
    with app.app_context(), all_tenants():
        assert db.session.execute(db.select(Attachment)).first() is None
        db.session.remove()
    assert _stored_files(files) == before  # nothing written to the storage either


def test_a_logo_or_an_avatar_past_the_storage_limit_is_refused(app: Any, owner_client: Any) -> None:
    """The logo and avatars count against storage: one that does not fit is refused and nothing changes."""
    from app.models.users import CrmUser
    from app.services.accounts import companies, employees

    company_id = owner_client.crm["company_id"]
    _limits(app, "applarge", max_storage_mb=1)
    with app.app_context():
        owner = db.session.get(CrmUser, owner_client.crm["owner_id"])
        owner.avatar, owner.avatar_mime = b"x" * (plans.MB - 10), "image/png"  # ten bytes are left
        db.session.commit()
        company = db.session.get(Company, company_id)
        data = companies.CompanyData(name=company.name, nip=company.nip or "")
        with pytest.raises(DomainError) as err:
            companies.update_company(company, data, logo=_png())
        assert err.value.field == "logo" and "Osiągnięto limit „Miejsce na pliki”" in str(err.value)
        assert db.session.get(Company, company_id).logo is None
        db.session.remove()
        owner = db.session.get(CrmUser, owner_client.crm["owner_id"])
        owner.avatar = None
        db.session.commit()
        company = db.session.get(Company, company_id)
        company.logo = b"x" * (plans.MB - 10)
        db.session.commit()
        with pytest.raises(DomainError) as err:
            employees.set_avatar(db.session.get(CrmUser, owner_client.crm["owner_id"]), _png())
        assert err.value.field == "avatar"
        assert db.session.get(CrmUser, owner_client.crm["owner_id"]).avatar is None
        db.session.remove()


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


# ---------------------------------------------------------------- the price list and the admin's editor

def test_the_price_list_is_public_and_linked_from_sign_in_and_sign_up(app: Any, client: Any) -> None:
    """"Cennik" without signing in: both plans with price and limits, the terms; linked from both pages."""
    from tests.helpers import link, table_rows, texts

    for url in ("/login/", "/signup/"):
        assert link(client.get(url).get_data(as_text=True), "#pricing-link") == "/cennik/"
    resp = client.get("/cennik/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    rows = table_rows(html, "#plans")
    assert rows[0][:2] == ["AppLarge", "99,00 zł"] and rows[1][:2] == ["AppLarge+", "199,00 zł"]
    assert rows[0][2:] == ["do 10", "do 2", "do 10 000", "5 GB"]
    terms = " ".join(texts(html, "#pricing-terms li"))
    for phrase in ("14-dniową licencję", "z góry", "Nie podpisujemy umowy", "nie ma okresu wypowiedzenia",
                   "limity pakietu AppLarge"):
        assert phrase in terms


def _admin(app: Any) -> Any:
    from app.cli import ensure_platform_admin
    from tests.helpers import login

    with app.app_context():
        ensure_platform_admin("admin@klientela.pl", "Zielony-Słoń-Tańczy-42!")
        db.session.remove()
    c = app.test_client()
    assert login(c, "admin@klientela.pl").status_code == 302
    return c


def _plan(app: Any, code: str) -> dict:
    with app.app_context():
        p = db.session.execute(db.select(Plan).where(Plan.code == code)).scalar_one()
        data = {"id": p.id, "name": p.name, "price": p.price_gross, "employees": p.max_employees,
                "storage": p.max_storage_mb, "active": p.active}
        db.session.remove()
    return data


PLAN_FORM = {"name": "AppLarge", "price_gross": "119,00", "max_employees": "12", "max_mailboxes": "3",
             "max_emails_month": "12000", "max_storage_mb": "6144", "sort_order": "10", "active": "y"}


def test_the_platform_admin_edits_a_plan_and_the_change_is_audited(app: Any, make_company: Callable) -> None:
    """A valid edit changes the price and limits, shows on "Cennik" and lands in the audit log."""
    from app.models.security import AuditEvent

    admin = _admin(app)
    plan = _plan(app, "applarge")
    assert "AppLarge+" in admin.get("/admin/plans/").get_data(as_text=True)
    resp = admin.post(f"/admin/plans/{plan['id']}/edit", data=PLAN_FORM)
    assert resp.status_code == 302
    after = _plan(app, "applarge")
    assert (after["price"], after["employees"], after["storage"]) == (Decimal("119.00"), 12, 6144)
    assert "119,00 zł" in admin.get("/cennik/").get_data(as_text=True)
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(AuditEvent.event == "plan_edited")).scalar_one()
        assert "price_gross: 99.00 -> 119.00" in event.details and "max_employees: 10 -> 12" in event.details
        db.session.remove()


def test_a_wrong_plan_edit_shows_every_error_in_polish_and_changes_nothing(app: Any) -> None:
    """A price with letters and a limit of zero employees: both messages at once, the plan as it was."""
    admin = _admin(app)
    plan = _plan(app, "applarge")
    resp = admin.post(f"/admin/plans/{plan['id']}/edit",
                      data={**PLAN_FORM, "price_gross": "dużo", "max_employees": "0"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Podaj cenę jako kwotę, np. 99,00." in page
    assert "Podaj liczbę całkowitą od 1 do 1 000 000 000." in page
    assert _plan(app, "applarge") == plan


def test_owners_and_employees_cannot_open_the_plan_editor(app: Any, owner_client: Any) -> None:
    """The plan editor belongs to the platform admin: a company's owner is refused (403), nothing changes."""
    plan = _plan(app, "applarge")
    for url in ("/admin/plans/", f"/admin/plans/{plan['id']}/edit"):
        assert owner_client.get(url).status_code == 403
    assert owner_client.post(f"/admin/plans/{plan['id']}/edit", data={**PLAN_FORM, "price_gross": "1,00"}).status_code == 403
    assert _plan(app, "applarge") == plan


def test_a_csv_import_past_the_storage_limit_is_refused(app: Any, owner_client: Any) -> None:
    """An uploaded contact file is stored too: with the storage full the upload is refused, no import kept."""
    from app.models.contact_io import ImportJob
    from app.security.tenancy import tenant_scope
    from app.services.contacts import bases, contact_import

    company_id = owner_client.crm["company_id"]
    _limits(app, "applarge", max_storage_mb=1)
    with app.app_context():
        with tenant_scope(company_id):
            base = bases.create_base(company_id, "Klienci", "contacts")
            db.session.get(Company, company_id).logo = b"x" * (plans.MB - 20)
            db.session.commit()
            csv = "Nazwa;Miasto\nPiekarnia Kłos;Łódź\n".encode()
            with pytest.raises(DomainError) as err:
                contact_import.create_draft(company_id, owner_client.crm["owner_id"], base.id, csv, "klienci.csv")
            assert err.value.field == "file" and "Osiągnięto limit „Miejsce na pliki”" in str(err.value)
            assert db.session.execute(db.select(ImportJob)).first() is None
        db.session.remove()
    assert _stored_bytes(app, company_id) == plans.MB - 20


def _stored_bytes(app: Any, company_id: int) -> int | None:
    """The company's stored bytes as the plan counts them."""
    with app.app_context():
        used = plans.usage(company_id).storage_bytes
        db.session.remove()
    return used


def test_a_registered_counter_limits_mailboxes_and_e_mails(ctx: Any, make_company: Callable[..., dict]) -> None:
    """The mailing module registers how it counts; the check then refuses past AppLarge's limits."""
    info = make_company()
    counts = {"mailboxes": 2, "emails_month": 9_990}
    registered = dict(plans._COUNTERS)  # the mailing module's own counters, put back afterwards
    plans.register_counter("mailboxes", lambda company_id: counts["mailboxes"])
    plans.register_counter("emails_month", lambda company_id: counts["emails_month"])
    try:
        assert plans.usage(info["company_id"]).mailboxes == 2
        with pytest.raises(DomainError) as err:
            plans.check_limit(info["company_id"], "mailboxes")
        assert "Osiągnięto limit „Konta mailingowe”: najwyżej 2" in str(err.value)
        assert "Pakiet AppLarge+ pozwala na 10" in str(err.value)
        plans.check_limit(info["company_id"], "emails_month", adding=10)  # exactly 10 000
        with pytest.raises(DomainError) as err:
            plans.check_limit(info["company_id"], "emails_month", adding=11)
        assert "„E-maile miesięcznie”: najwyżej 10\xa0000" in str(err.value)
        plans._COUNTERS.pop("mailboxes", None)
        with pytest.raises(ValueError):
            plans.check_limit(info["company_id"], "mailboxes")  # no counter and no current= given
    finally:
        plans._COUNTERS.clear()
        plans._COUNTERS.update(registered)
