"""CSV import into a mailing base of people: the kind is guessed, the result page is green, yellow or red."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Contact
from app.security.tenancy import tenant_scope
from app.services.contacts import contact_import as ci
from tests.integration.contacts_data import make_base, make_contact
from tests.integration.test_contact_import import pl
from tests.integration.test_polish_pages import assert_polish

CONSENT = {"consent_source": "Formularz na www.firma.pl", "consent_text": "Zgadzam się na newsletter."}


def upload(client: Any, base_id: int, content: bytes) -> str:
    """Upload a file; return the mapping page's URL."""
    resp = client.post("/contacts/import/", data={"base_id": str(base_id), "encoding": "auto", "delimiter": "auto",
                                                   "file": (io.BytesIO(content), "ludzie.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    return resp.headers["Location"]


def chosen_kind(html: str) -> str:
    """The kind pre-selected on the mapping page."""
    found = re.findall(r'<input checked id="default_kind-\d" name="default_kind" type="radio" value="(\w+)">', html)
    assert len(found) == 1, found
    return found[0]


def start(client: Any, url: str, **extra: str) -> tuple[int, str]:
    """Send the mapping page as the browser would (its pre-selected choices); return job id and result page."""
    page = client.get(url)
    assert page.status_code == 200
    data: dict[str, str] = {"duplicates": "skip", **CONSENT}
    for col, value in re.findall(r'<select name="(col_\d+)".*?<option value="([^"]*)" selected>', page.text, re.S):
        data[col] = value
    data["default_kind"] = chosen_kind(page.text)
    data.update(extra)
    resp = client.post(url, data=data)
    assert resp.status_code == 302, resp.text
    job_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    ci.wait(job_id)
    result = client.get(f"/contacts/import/{job_id}")
    assert result.status_code == 200
    return job_id, result.text


def kinds(app: Any, cid: int) -> list[tuple[str, str]]:
    with app.app_context(), tenant_scope(cid):
        rows = [(c.name, c.kind) for c in db.session.execute(select(Contact).order_by(Contact.id)).scalars()]
        db.session.remove()
    return rows


def test_people_into_a_mailing_base_come_in_as_persons_with_a_green_result(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Newsletter", "mailing")
    url = upload(owner_client, base_id, "Imię;Nazwisko;E-mail\nAnna;Żak;anna@x.pl\nJan;Łoś;jan@x.pl\n".encode())
    page = owner_client.get(url)
    assert chosen_kind(page.text) == "person"
    job_id, html = start(owner_client, url)
    assert kinds(app, cid) == [("Anna Żak", "person"), ("Jan Łoś", "person")]
    assert 'id="import-result"' in html and "alert-success" in html and "alert-warning" not in html
    assert pl(app, "The import is finished: every row came in.") in html
    assert 'id="report-link"' not in html
    assert_polish(html, "result")


def test_the_kind_follows_the_columns_or_the_base_content(app, owner_client):
    cid = owner_client.crm["company_id"]
    with app.app_context(), tenant_scope(cid):
        from app.services.contacts import bases

        people = make_base(app, cid, "Ludzie")
        make_contact(app, cid, people, kind="person", first_name="Ola", last_name="Nowak", name="Ola Nowak")
        base = bases.require_base(cid, people)
        empty_mailing = bases.require_base(cid, make_base(app, cid, "Pusta", "mailing"))
        empty = bases.require_base(cid, make_base(app, cid, "Firmy"))
        assert ci.guess_kind(cid, empty, {"0": "first_name", "1": "last_name", "2": "email"}) == "person"
        assert ci.guess_kind(cid, base, {"0": "name", "1": "nip"}) == "company"
        # neither side decides: the base's content does (people -> person, empty mailing -> person)
        assert ci.guess_kind(cid, base, {"0": "email"}) == "person"
        assert ci.guess_kind(cid, empty_mailing, {"0": "name", "1": "last_name"}) == "person"
        assert ci.guess_kind(cid, empty, {"0": "email"}) == "company"
        db.session.remove()


def test_some_bad_rows_give_a_yellow_result_with_reasons_and_the_report(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Newsletter", "mailing")
    content = "Imię;Nazwisko;E-mail\nAnna;Żak;anna@x.pl\nJan;Łoś;\nEwa;Kos;zły-adres\nPiotr;Bąk;\n".encode()
    job_id, html = start(owner_client, upload(owner_client, base_id, content))
    assert "alert-warning" in html and "alert-success" not in html and "alert-danger" not in html
    assert pl(app, "The import is finished, but not every row came in.") in html
    assert pl(app, "%(came)s of %(total)s rows came in; %(refused)s refused, %(skipped)s skipped.",
              came=1, total=4, refused=3, skipped=0) in html
    reasons = html[html.index('id="import-reasons"'):]
    reasons = reasons[:reasons.index("</ul>")]
    assert pl(app, "A contact of a mailing base needs an e-mail address.") in reasons
    assert '<span class="badge">2</span>' in reasons
    assert f'href="/contacts/import/{job_id}/report.csv"' in html
    report = owner_client.get(f"/contacts/import/{job_id}/report.csv")
    assert report.status_code == 200 and "Łoś" in report.data.decode("utf-8-sig")
    assert kinds(app, cid) == [("Anna Żak", "person")]


def test_all_rows_refused_give_a_red_result(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Newsletter", "mailing")
    content = "Imię;Nazwisko;E-mail\nJan;Łoś;\nEwa;Kos;\n".encode()
    job_id, html = start(owner_client, upload(owner_client, base_id, content))
    assert "alert-danger" in html and "alert-success" not in html and "alert-warning" not in html
    assert pl(app, "Nothing was imported: every row was refused or skipped.") in html
    assert pl(app, "A contact of a mailing base needs an e-mail address.") in html
    assert f'href="/contacts/import/{job_id}/report.csv"' in html
    assert kinds(app, cid) == []


def test_rows_forced_as_companies_are_refused_and_red(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Newsletter", "mailing")
    content = "Imię;Nazwisko;E-mail\nAnna;Żak;anna@x.pl\n".encode()
    _job_id, html = start(owner_client, upload(owner_client, base_id, content), default_kind="company")
    assert "alert-danger" in html and pl(app, "Company name is missing.") in html
