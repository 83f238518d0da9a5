"""The central tenancy hook: reads, lazy loads, writes and foreign keys stay inside one company."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ClientBase, Contact, Tag
from app.security.tenancy import TenantViolation, all_tenants, tenant_scope
from app.services import DomainError, trash


@pytest.fixture()
def two(app, make_company):
    a = make_company("Alfa")
    b = make_company("Beta")
    with app.app_context():
        with tenant_scope(a["company_id"]):
            base = ClientBase(name="Klienci A", kind="contacts")
            db.session.add(base)
            db.session.flush()
            db.session.add(Contact(base_id=base.id, kind="company", name="Kontakt A", name_sort="kontakt a"))
            db.session.add(Tag(name="VIP", color="#ff0000"))
            db.session.commit()
        with tenant_scope(b["company_id"]):
            base = ClientBase(name="Klienci B", kind="contacts")
            db.session.add(base)
            db.session.flush()
            db.session.add(Contact(base_id=base.id, kind="company", name="Kontakt B", name_sort="kontakt b"))
            db.session.commit()
        db.session.remove()
    return a, b


def names(model):
    return sorted(x.name for x in db.session.execute(select(model)).scalars())


def test_select_sees_only_own_company(app, two):
    a, b = two
    with app.app_context():
        with tenant_scope(a["company_id"]):
            assert names(ClientBase) == ["Klienci A"]
            assert names(Contact) == ["Kontakt A"]
        with tenant_scope(b["company_id"]):
            assert names(Contact) == ["Kontakt B"]
            assert names(Tag) == []
        db.session.remove()


def test_no_company_sees_nothing_and_admin_opt_out_sees_all(app, two):
    with app.app_context():
        assert names(Contact) == []
        with all_tenants():
            assert names(Contact) == ["Kontakt A", "Kontakt B"]
        db.session.remove()


def test_get_by_primary_key_of_other_company_is_none(app, two):
    a, b = two
    with app.app_context():
        with tenant_scope(b["company_id"]):
            other = db.session.execute(select(Contact.id).execution_options(all_tenants=True).where(Contact.name == "Kontakt A")).scalar_one()
            assert db.session.execute(select(Contact).where(Contact.id == other)).scalar_one_or_none() is None
        db.session.remove()


def test_new_row_gets_current_company_and_foreign_fk_is_refused(app, two):
    a, b = two
    with app.app_context():
        with all_tenants():
            base_a = db.session.execute(select(ClientBase).where(ClientBase.name == "Klienci A")).scalar_one()
            base_a_id = base_a.id
        db.session.expunge_all()
        with tenant_scope(b["company_id"]):
            c = Contact(base_id=base_a_id, kind="company", name="Intruz", name_sort="intruz")
            db.session.add(c)
            with pytest.raises(TenantViolation):
                db.session.flush()
            db.session.rollback()
            c = Contact(kind="company", name="Dobry", name_sort="dobry",
                        base_id=db.session.execute(select(ClientBase.id)).scalar_one())
            db.session.add(c)
            db.session.commit()
            assert c.company_id == b["company_id"]
        db.session.remove()


def test_writing_a_row_for_another_company_is_refused(app, two):
    a, b = two
    with app.app_context():
        with tenant_scope(a["company_id"]):
            db.session.add(Tag(name="Obcy", company_id=b["company_id"]))
            with pytest.raises(TenantViolation):
                db.session.flush()
            db.session.rollback()
        db.session.remove()


def test_tagging_with_another_companys_tag_is_refused(app, two):
    a, b = two
    with app.app_context():
        with all_tenants():
            tag_a = db.session.execute(select(Tag).where(Tag.name == "VIP")).scalar_one()
            contact_b = db.session.execute(select(Contact).where(Contact.name == "Kontakt B")).scalar_one()
            contact_b.tags.append(tag_a)
            with pytest.raises(TenantViolation):
                db.session.flush()
            db.session.rollback()
        db.session.remove()


def test_soft_delete_cascades_with_one_deletion_id_and_restores_together(app, two):
    a, _ = two
    with app.app_context():
        with tenant_scope(a["company_id"]):
            base = db.session.execute(select(ClientBase)).scalar_one()
            deletion_id = trash.soft_delete(base)
            assert names(ClientBase) == [] and names(Contact) == []
            hidden = db.session.execute(
                select(Contact).execution_options(include_deleted=True)
            ).scalars().all()
            assert [c.deletion_id for c in hidden] == [deletion_id]
            # a new base may take the deleted one's name (partial unique index)...
            db.session.add(ClientBase(name="Klienci A", kind="contacts"))
            db.session.commit()
            assert names(ClientBase) == ["Klienci A"]
        with tenant_scope(a["company_id"]):
            with pytest.raises(DomainError):
                # ...so restoring the old one now clashes and is refused, nothing changed
                trash.restore(deletion_id, a["company_id"])
            db.session.rollback()
            db.session.execute(select(ClientBase)).scalar_one().name = "Nowa nazwa"
            db.session.commit()
            assert trash.restore(deletion_id, a["company_id"]) == 2
            assert names(ClientBase) == ["Klienci A", "Nowa nazwa"]
            assert names(Contact) == ["Kontakt A"]
        db.session.remove()


def test_restore_never_crosses_companies(app, two):
    a, b = two
    with app.app_context():
        with tenant_scope(a["company_id"]):
            deletion_id = trash.soft_delete(db.session.execute(select(ClientBase)).scalar_one())
        with tenant_scope(b["company_id"]):
            assert trash.restore(deletion_id, b["company_id"]) == 0
        with tenant_scope(a["company_id"]):
            assert names(ClientBase) == []
        db.session.remove()


# --- the guard fails closed --------------------------------------------------------------------

def test_write_with_no_company_in_scope_is_refused_even_when_the_row_names_a_company(app, two):
    a, _ = two
    with app.app_context():
        db.session.add(Tag(name="Bez zakresu", company_id=a["company_id"]))
        with pytest.raises(TenantViolation):
            db.session.flush()
        db.session.rollback()
        with all_tenants():
            assert "Bez zakresu" not in names(Tag)
        db.session.remove()


def test_update_and_delete_with_no_company_in_scope_are_refused(app, two):
    a, _ = two
    with app.app_context():
        with all_tenants():
            tag = db.session.execute(select(Tag).where(Tag.name == "VIP")).scalar_one()
        tag.name = "Zmieniony"
        with pytest.raises(TenantViolation):
            db.session.flush()
        db.session.rollback()
        with all_tenants():
            tag = db.session.execute(select(Tag).where(Tag.name == "VIP")).scalar_one()
        db.session.delete(tag)
        with pytest.raises(TenantViolation):
            db.session.flush()
        db.session.rollback()
        with tenant_scope(a["company_id"]):
            assert names(Tag) == ["VIP"]
        db.session.remove()


def test_deleting_another_companys_row_in_scope_is_refused(app, two):
    a, b = two
    with app.app_context():
        with all_tenants():
            tag = db.session.execute(select(Tag).where(Tag.name == "VIP")).scalar_one()
        with tenant_scope(b["company_id"]):
            db.session.delete(tag)
            with pytest.raises(TenantViolation):
                db.session.flush()
            db.session.rollback()
        with tenant_scope(a["company_id"]):
            assert names(Tag) == ["VIP"]
        db.session.remove()


def test_bulk_statements_with_no_company_in_scope_are_refused(app, two):
    from sqlalchemy import delete, insert, update

    a, _ = two
    with app.app_context():
        for stmt in (
            insert(Tag).values(name="Masowy", color="#000000", company_id=a["company_id"]),
            update(Tag).values(name="Masowo zmieniony"),
            delete(Tag),
        ):
            with pytest.raises(TenantViolation):
                db.session.execute(stmt)
            db.session.rollback()
        with pytest.raises(TenantViolation):
            db.session.execute(insert(Tag), [{"name": "Lista", "color": "#000000", "company_id": a["company_id"]}])
        db.session.rollback()
        with tenant_scope(a["company_id"]):
            assert names(Tag) == ["VIP"]
        db.session.remove()


def test_bulk_insert_naming_another_company_is_refused_and_own_scope_works(app, two):
    from sqlalchemy import insert, update

    a, b = two
    with app.app_context():
        with tenant_scope(a["company_id"]):
            with pytest.raises(TenantViolation):
                db.session.execute(insert(Tag).values(name="Obcy", color="#000000", company_id=b["company_id"]))
            db.session.rollback()
            with pytest.raises(TenantViolation):
                db.session.execute(insert(Tag), [
                    {"name": "Swój", "color": "#000000", "company_id": a["company_id"]},
                    {"name": "Obcy", "color": "#000000", "company_id": b["company_id"]},
                ])
            db.session.rollback()
            db.session.execute(insert(Tag).values(name="Swój", color="#000000", company_id=a["company_id"]))
            # a bulk update in scope touches only the company's own rows
            db.session.execute(update(Tag).values(color="#111111"))
            db.session.commit()
            assert names(Tag) == ["Swój", "VIP"]
        with tenant_scope(b["company_id"]):
            assert names(Tag) == []
        with all_tenants():
            colours = {t.name: t.color for t in db.session.execute(select(Tag)).scalars()}
            assert colours == {"Swój": "#111111", "VIP": "#111111"}
        db.session.remove()


def test_platform_opt_out_may_write_for_a_company_but_not_mix_companies(app, two):
    a, b = two
    with app.app_context():
        with all_tenants():
            db.session.add(Tag(name="Od administratora", color="#222222", company_id=a["company_id"]))
            db.session.commit()
            tag_a = db.session.execute(select(Tag).where(Tag.name == "Od administratora")).scalar_one()
            contact_b = db.session.execute(select(Contact).where(Contact.name == "Kontakt B")).scalar_one()
            contact_b.tags.append(tag_a)
            with pytest.raises(TenantViolation):
                db.session.flush()
            db.session.rollback()
        with tenant_scope(a["company_id"]):
            assert names(Tag) == ["Od administratora", "VIP"]
        db.session.remove()


@pytest.mark.parametrize(("method", "path", "code"), [
    ("GET", "/bases/1", 404), ("POST", "/bases/1/edit", 403), ("GET", "/api/v1/x", 404), ("POST", "/api/v1/x", 403),
])
def test_a_tenancy_violation_in_a_request_is_a_404_or_403_and_logged(app, caplog, method, path, code):
    import logging

    caplog.set_level(logging.WARNING, logger="app.views.errors")
    with app.test_request_context(path, method=method):
        resp = app.make_response(app.handle_user_exception(TenantViolation("Tag belongs to another company")))
    assert resp.status_code == code
    body = resp.get_data(as_text=True)
    assert "Something went wrong" not in body and "Coś poszło nie tak" not in body
    assert any("Tenancy violation refused" in r.getMessage() for r in caplog.records)


def test_scheduler_jobs_still_write_inside_tenant_scope(app, two):
    """A job that works for one company writes through tenant_scope() and is not refused."""
    a, _ = two
    with app.app_context():
        with tenant_scope(a["company_id"]):
            db.session.add(Tag(name="Z zadania", color="#333333"))
            db.session.commit()
            assert names(Tag) == ["VIP", "Z zadania"]
        db.session.remove()
