"""Tags and task categories follow one rule: the settings lists are one generic screen."""

import pytest

from app.extensions import db
from app.security.tenancy import tenant_scope
from app.services import DomainError, dictionaries
from app.services.contacts import tags as tags_svc
from app.services.work import tasks as tasks_svc

LISTS = [
    ("/settings/tags/", tags_svc.TAGS, "Tag o tej nazwie już istnieje."),
    ("/settings/task-categories/", tasks_svc.CATEGORIES, "Kategoria o tej nazwie już istnieje."),
]


@pytest.mark.parametrize(("url", "spec", "exists"), LISTS)
def test_duplicate_names_ignore_letter_case_and_colours_have_one_rule(owner_client, url, spec, exists):
    c = owner_client
    assert c.post(url + "add", data={"name": "Ważne", "color": "#FF8800"}).status_code == 302
    page = c.post(url + "add", data={"name": "  WAŻNE ", "color": "#000000"}).get_data(as_text=True)
    assert exists in page
    page = c.post(url + "add", data={"name": "Inne", "color": "red"}).get_data(as_text=True)
    assert "Wybierz kolor w formacie #ff8800." in page
    listing = c.get(url).get_data(as_text=True)
    assert listing.count("Ważne") == 1 and "Inne" not in listing
    assert "#ff8800" in listing  # stored in lower case


@pytest.mark.parametrize(("url", "spec", "exists"), LISTS)
def test_a_duplicate_name_race_is_refused_like_a_duplicate(app, make_company, monkeypatch, url, spec, exists):
    """Two users add the same name at once: the second insert hits the unique index, not a 500."""
    company = make_company()
    with app.app_context(), tenant_scope(company["company_id"]):
        dictionaries.create_entry(spec, company["company_id"], "Pilne", "#123456")
        # the other user's check ran before the first insert committed: it saw no duplicate
        monkeypatch.setattr(dictionaries, "_check_unique", lambda *a, **kw: None)
        with pytest.raises(DomainError) as err:
            dictionaries.create_entry(spec, company["company_id"], "Pilne", "#654321")
        monkeypatch.undo()
        assert str(err.value) == exists
        names = [(e.name, e.color) for e in dictionaries.entries(spec, company["company_id"])]
        assert names == [("Pilne", "#123456")]
        db.session.remove()


@pytest.mark.parametrize(("url", "spec", "exists"), LISTS)
def test_foreign_and_oversize_ids_are_not_found(owner_client, make_company, app, url, spec, exists):
    other = make_company()
    with app.app_context(), tenant_scope(other["company_id"]):
        foreign = dictionaries.create_entry(spec, other["company_id"], "Cudze", "#111111").id
        db.session.remove()
    c = owner_client
    for entry_id in (foreign, 2**31, 2**63, 10**20):
        assert c.get(f"{url}{entry_id}/edit").status_code == 404
        assert c.post(f"{url}{entry_id}/delete").status_code == 404
    with app.app_context():
        assert dictionaries.get_entry(spec, c.crm["company_id"], "12abc") is None
        assert dictionaries.get_entry(spec, c.crm["company_id"], str(10**20)) is None
