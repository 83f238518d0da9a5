"""CSV import of contacts: encodings, mapping, refusals with a report, duplicates, mailing consent,
progress, the pages (upload, mapping, progress bar, report), CSRF and tenant isolation."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Contact, ImportJob
from app.security.tenancy import tenant_scope
from app.services import DomainError
from app.services.contacts import contact_import as ci
from tests.helpers import csrf_token, login, make_nip, make_regon9
from tests.integration.contacts_data import make_base, make_contact
from tests.integration.test_polish_pages import assert_polish

NIP1, NIP2, NIP3 = make_nip(501), make_nip(502), make_nip(503)


def run(app: Any, company_id: int, base_id: int, content: bytes, duplicates: str = "skip",
        mapping: dict | None = None, **opts: Any) -> dict:
    """Upload, queue and run an import synchronously; return the job's counters and report."""
    with app.app_context(), tenant_scope(company_id):
        job = ci.create_draft(company_id, None, base_id, content, "plik.csv",
                              opts.pop("encoding", "auto"), opts.pop("delimiter", "auto"))
        ci.queue(company_id, job.id, mapping or job.mapping, ci.ImportOptions(duplicates=duplicates, **opts))
        ci.run_import(job.id)
        job = ci.get_job(company_id, job.id)
        out = {k: getattr(job, k) for k in ("id", "status", "total", "processed", "inserted", "updated",
                                            "skipped", "refused", "encoding", "delimiter", "error")}
        out["report"] = job.report.decode("utf-8") if job.report else None
        db.session.remove()
    return out


def contacts_of(app: Any, company_id: int) -> list[Contact]:
    with app.app_context(), tenant_scope(company_id):
        rows = list(db.session.execute(select(Contact).order_by(Contact.id)).scalars())
        db.session.expunge_all()
        db.session.remove()
    return rows


def pl(app: Any, msgid: str, **kw: Any) -> str:
    """The Polish catalog text of a message (and it must be translated)."""
    from flask_babel import force_locale, gettext

    with app.app_context(), force_locale("pl"):
        out = gettext(msgid, **kw)
    assert out != msgid % kw if kw else out != msgid, f"untranslated: {msgid}"
    return out


def report_rows(report: str) -> list[list[str]]:
    assert report.startswith("\ufeff")
    return list(csv.reader(io.StringIO(report[1:]), delimiter=";"))


@pytest.fixture()
def co(make_company):
    return make_company("Importer Sp. z o.o.")


@pytest.fixture()
def base(app, co):
    return make_base(app, co["company_id"], "Klienci")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250"])
@pytest.mark.parametrize("sep", [";", ","])
def test_encodings_and_separators_keep_polish_letters(app, co, base, encoding, sep):
    data = sep.join(["Nazwa", "NIP", "Miejscowość", "Ulica"]) + "\r\n" + sep.join(
        ["Zakład Gęślą Jaźń", NIP1, "Łódź", "ul. Źródlana 5"]) + "\r\n"
    res = run(app, co["company_id"], base, data.encode(encoding))
    assert res["status"] == "done" and res["inserted"] == 1 and res["refused"] == 0
    assert res["delimiter"] == sep
    assert res["encoding"] == ("cp1250" if encoding == "cp1250" else "utf-8")
    (c,) = contacts_of(app, co["company_id"])
    assert (c.name, c.city, c.street, c.nip) == ("Zakład Gęślą Jaźń", "Łódź", "ul. Źródlana 5", NIP1)
    assert c.company_id == co["company_id"] and c.base_id == base and c.name_sort == "zaklad gesla jazn"


def test_explicit_mapping_overrides_the_guess(app, co, base):
    data = "Kolumna A;Kolumna B;Kolumna C\nFirma Alfa;alfa@firma.pl;nieważne\n".encode()
    res = run(app, co["company_id"], base, data, mapping={"0": "name", "1": "email", "2": ""})
    assert res["inserted"] == 1
    (c,) = contacts_of(app, co["company_id"])
    assert (c.name, c.email, c.notes) == ("Firma Alfa", "alfa@firma.pl", None)


def test_mapping_needs_a_name_and_each_field_once(app, co, base):
    with app.app_context(), tenant_scope(co["company_id"]):
        job = ci.create_draft(co["company_id"], None, base, b"A;B\nx;y\n", "a.csv")
        with pytest.raises(DomainError):
            ci.queue(co["company_id"], job.id, {"0": "email"}, ci.ImportOptions())
        with pytest.raises(DomainError):
            ci.queue(co["company_id"], job.id, {"0": "name", "1": "name"}, ci.ImportOptions())
        with pytest.raises(DomainError):
            ci.queue(co["company_id"], job.id, {"7": "name"}, ci.ImportOptions())
        assert ci.get_job(co["company_id"], job.id).status == "draft"
        db.session.remove()


@pytest.mark.parametrize("content", [b"", b"Nazwa;NIP\n", b"\n\n"])
def test_empty_files_are_refused(app, co, base, content):
    with app.app_context(), tenant_scope(co["company_id"]):
        with pytest.raises(DomainError):
            ci.create_draft(co["company_id"], None, base, content, "a.csv")
        db.session.remove()


REFUSALS = [
    ("Zła NIP", "123", "", "", "", "", "", "", "NIP must have 10 digits."),
    ("Zła cyfra NIP", NIP1[:-1] + str((int(NIP1[-1]) + 1) % 10), "", "", "", "", "", "", "NIP has a wrong check digit."),
    ("Zły REGON", "", "12345", "", "", "", "", "", "REGON must have 9 or 14 digits."),
    ("Zły PESEL", "", "", "123", "", "", "", "", "PESEL must have 11 digits."),
    ("Zły kod", "", "", "", "1234", "", "", "", "Postal code must look like 00-000."),
    ("Zły telefon", "", "", "", "", "12", "", "", "Phone number is not valid; use 9 digits or +country code."),
    ("Zły e-mail", "", "", "", "", "", "to-nie-mail", "", "E-mail address is not valid."),
    ("", "", "", "", "", "", "bez@nazwy.pl", "", "Company name is missing."),
    ("Zły typ", "", "", "", "", "", "", "Kot", 'Unknown contact type "%(value)s" (use Firma or Osoba).'),
]


def test_each_refusal_reason_is_in_the_polish_report(app, co, base):
    header = "Nazwa;NIP;REGON;PESEL;Kod pocztowy;Telefon;E-mail;Typ\n"
    good = f"Dobra Firma;{NIP2};{make_regon9(7)};;00-950;+48 600 100 200;biuro@dobra.pl;Firma\n"
    body = "".join(";".join(r[:8]) + "\n" for r in REFUSALS)
    extra = "Za dużo;;;;;;;;nadmiar\n"
    res = run(app, co["company_id"], base, (header + good + body + extra).encode("cp1250"))
    assert res["inserted"] == 1 and res["refused"] == len(REFUSALS) + 1 and res["processed"] == len(REFUSALS) + 2
    rows = report_rows(res["report"])
    assert rows[0][:4] == ["Wiersz", "Wynik", "Powód", "Nazwa"]
    for i, refusal in enumerate(REFUSALS):
        line = rows[i + 1]
        assert line[0] == str(i + 3), line  # the header is line 1, the good row line 2
        assert line[1] == pl(app, "Refused")
        assert line[2] == (pl(app, refusal[8], value="Kot") if "%(" in refusal[8] else pl(app, refusal[8])), line
        assert line[3:11] == list(refusal[:8])  # the original values, unchanged
    assert rows[-1][2] == pl(app, "The row has more columns than the header.")
    (c,) = contacts_of(app, co["company_id"])
    assert c.name == "Dobra Firma" and c.phone == "+48600100200"


def test_report_download_has_bom_semicolons_and_polish(app, co, base, client):
    res = run(app, co["company_id"], base, "Nazwa;NIP\nŻaba;123\n".encode())
    login(client, co["email"])
    resp = client.get(f"/contacts/import/{res['id']}/report.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    expected = f"Wiersz;Wynik;Powód;Nazwa;NIP\r\n2;{pl(app, 'Refused')};{pl(app, 'NIP must have 10 digits.')};Żaba;123"
    assert expected in resp.data.decode("utf-8-sig")


def test_duplicate_modes(app, co, base):
    cid = co["company_id"]
    old = make_contact(app, cid, base, kind="company", name="Stara Nazwa", nip=NIP1, city="Kraków")
    make_contact(app, cid, base, kind="company", name="Po mailu", email="biuro@mail.pl")
    data = (f"Nazwa;NIP;E-mail;Telefon\nNowa Nazwa;{NIP1};;600100200\nMailowa;;BIURO@mail.pl;\n"
            f"Nowa Firma;{NIP3};;\nKopia w pliku;{NIP3};;\n").encode()

    res = run(app, cid, base, data, "skip")
    assert (res["inserted"], res["updated"], res["skipped"], res["refused"]) == (1, 0, 3, 0)
    reasons = [r[2] for r in report_rows(res["report"])[1:]]
    assert reasons == [pl(app, "A contact with this NIP already exists."),
                       pl(app, "A contact with this e-mail address already exists."),
                       pl(app, "Duplicate of row %(row)s of this file.", row=4)]
    assert len(contacts_of(app, cid)) == 3

    res = run(app, cid, base, data, "update")
    assert (res["inserted"], res["updated"], res["skipped"]) == (0, 4, 0)  # rows 4 and 5 both update NIP3
    by_id = {c.id: c for c in contacts_of(app, cid)}
    assert "Kopia w pliku" in {c.name for c in by_id.values()}  # the last row of the file wins
    assert by_id[old].name == "Nowa Nazwa" and by_id[old].phone == "+48600100200"
    assert by_id[old].city == "Kraków"  # a column the file does not have is kept
    assert by_id[old].name_sort == "nowa nazwa"
    assert len(by_id) == 3

    res = run(app, cid, base, data, "import")
    assert (res["inserted"], res["updated"], res["skipped"]) == (4, 0, 0)
    assert len(contacts_of(app, cid)) == 7


def test_mailing_base_needs_email_and_consent(app, co):
    cid = co["company_id"]
    mailing = make_base(app, cid, "Newsletter", "mailing")
    data = b"Nazwa;E-mail;Data zgody\nAlfa;alfa@x.pl;15.01.2026\nBeta;;\nGamma;gamma@x.pl;\n"
    with app.app_context(), tenant_scope(cid):
        job = ci.create_draft(cid, None, mailing, data, "m.csv")
        with pytest.raises(DomainError) as err:
            ci.queue(cid, job.id, job.mapping, ci.ImportOptions())
        assert err.value.field == "consent_source"
        with pytest.raises(DomainError) as err:
            ci.queue(cid, job.id, {"0": "name"}, ci.ImportOptions(consent_source="Formularz", consent_text="Zgoda"))
        assert err.value.field == "mapping"
        with pytest.raises(DomainError) as err:
            ci.queue(cid, job.id, job.mapping, ci.ImportOptions(consent_source="Formularz"))
        assert err.value.field == "consent_text"
        db.session.remove()
    res = run(app, cid, mailing, data, consent_source="Formularz na www.firma.pl", consent_text="Zgadzam się.")
    assert (res["inserted"], res["refused"]) == (2, 1)
    assert report_rows(res["report"])[1][2] == pl(app, "A contact of a mailing base needs an e-mail address.")
    alfa, gamma = contacts_of(app, cid)
    assert alfa.consent_given_at.date().isoformat() == "2026-01-15"
    assert gamma.consent_given_at is not None  # the import date when the file has none
    assert {alfa.consent_source, gamma.consent_source} == {"Formularz na www.firma.pl"}
    assert gamma.consent_text == "Zgadzam się."


def test_duplicates_are_looked_up_among_bases_of_the_same_kind(app, co, base):
    cid = co["company_id"]
    make_contact(app, cid, base, kind="company", name="Klient", email="klient@x.pl")
    mailing = make_base(app, cid, "Newsletter", "mailing")
    res = run(app, cid, mailing, b"Nazwa;E-mail\nKlient;klient@x.pl\n", consent_source="Formularz",
              consent_text="Zgoda")
    assert res["inserted"] == 1 and res["skipped"] == 0


def test_progress_is_committed_after_every_batch(app, co, base, monkeypatch):
    monkeypatch.setattr(ci, "BATCH_SIZE", 3)
    cid = co["company_id"]
    lines = "".join(f"Firma {i};{'zly' if i % 4 == 0 else ''}\n" for i in range(10))
    seen: list[tuple] = []

    def snapshot(_session: Any) -> None:
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT status, processed, inserted, refused FROM import_job")).first()
            if row:
                seen.append(tuple(row))

    with app.app_context():
        event.listen(Session, "after_commit", snapshot)
        try:
            res = run(app, cid, base, ("Nazwa;Telefon\n" + lines).encode())
        finally:
            event.remove(Session, "after_commit", snapshot)
    running = [s for s in seen if s[0] == "running"]
    assert [s[1] for s in running] == [0, 3, 6, 9, 10]
    assert running[2] == ("running", 6, 4, 2)
    assert res["status"] == "done" and res["total"] == 10
    assert (res["inserted"], res["refused"]) == (7, 3)


def test_a_broken_file_ends_as_failed_not_running(app, co, base):
    cid = co["company_id"]
    with app.app_context(), tenant_scope(cid):
        job = ci.create_draft(cid, None, base, b"Nazwa\nA\n", "a.csv")
        ci.queue(cid, job.id, job.mapping, ci.ImportOptions())
        job.content = "Nazwa\nŁódź\n".encode("cp1250")  # no longer the UTF-8 found at upload
        db.session.commit()
        ci.run_import(job.id)
        job = ci.get_job(cid, job.id)
        assert job.status == "failed" and job.percent == 100
        db.session.remove()


# --------------------------------------------------------------------------- pages


def upload(client, base_id: int, content: bytes, **extra: Any) -> Any:
    data = {"base_id": str(base_id), "encoding": "auto", "delimiter": "auto",
            "file": (io.BytesIO(content), "kontakty.csv"), **extra}
    return client.post("/contacts/import/", data=data, content_type="multipart/form-data")


def test_upload_preview_start_progress_report(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Hurtownie")
    page = owner_client.get(f"/contacts/import/?base_id={base_id}")
    assert page.status_code == 200 and pl(app, "Import contacts from CSV") in page.text
    assert_polish(page.text, "/contacts/import/")
    content = f"Nazwa firmy;NIP;Uwagi pominięte\nHurtownia Żak;{NIP1};x\nZła;1;y\n".encode("cp1250")
    resp = upload(owner_client, base_id, content)
    assert resp.status_code == 302 and "/mapping" in resp.headers["Location"]
    job_id = int(resp.headers["Location"].split("/")[-2])
    page = owner_client.get(resp.headers["Location"])
    assert page.status_code == 200
    assert "Hurtownia Żak" in page.text and "Windows-1250" in page.text and "2 wiersze danych" in page.text
    assert 'name="col_0"' in page.text and '<option value="name" selected>' in page.text
    assert_polish(page.text, "mapping")
    resp = owner_client.post(f"/contacts/import/{job_id}/mapping",
                             data={"col_0": "name", "col_1": "nip", "col_2": "", "duplicates": "skip",
                                   "default_kind": "company"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/contacts/import/{job_id}")
    ci.wait(job_id)
    progress = owner_client.get(f"/contacts/import/{job_id}/progress").get_json()
    assert progress["status"] == "done" and progress["finished"] and progress["percent"] == 100
    assert (progress["processed"], progress["inserted"], progress["refused"], progress["skipped"]) == (2, 1, 1, 0)
    assert progress["report_url"] == f"/contacts/import/{job_id}/report.csv"
    page = owner_client.get(f"/contacts/import/{job_id}")
    assert pl(app, "The import is finished, but not every row came in.") in page.text and 'id="import-progress"' in page.text
    assert "contact_import.js" in page.text
    assert_polish(page.text, "job")
    assert owner_client.get(f"/contacts/import/{job_id}/report.csv").status_code == 200
    assert [c.name for c in contacts_of(app, cid)] == ["Hurtownia Żak"]
    # a started import cannot be started again
    resp = owner_client.post(f"/contacts/import/{job_id}/mapping", data={"col_0": "name"})
    assert resp.status_code == 302
    assert len(contacts_of(app, cid)) == 1


def test_upload_errors_are_polish_and_change_nothing(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid)
    resp = upload(owner_client, base_id, b"")
    assert resp.status_code == 200 and pl(app, "Choose a CSV file.") in resp.text
    resp = owner_client.post("/contacts/import/", data={"base_id": "999999", "file": (io.BytesIO(b"a\nb\n"), "a.csv")},
                             content_type="multipart/form-data")
    assert resp.status_code == 200
    with app.app_context(), tenant_scope(cid):
        assert db.session.execute(select(ImportJob)).first() is None
        db.session.remove()


def test_mapping_page_shows_errors_for_mailing_base(app, owner_client):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid, "Mailing", "mailing")
    resp = upload(owner_client, base_id, b"Nazwa;E-mail\nA;a@a.pl\n")
    url = resp.headers["Location"]
    page = owner_client.get(url)
    assert 'id="consent-fields"' in page.text
    resp = owner_client.post(url, data={"col_0": "name", "col_1": "email", "duplicates": "skip", "default_kind": "company"})
    assert resp.status_code == 200 and pl(app, "%(field)s is required.", field=pl(app, "Consent source")) in resp.text
    resp = owner_client.post(url, data={"col_0": "name", "duplicates": "skip", "default_kind": "company",
                                        "consent_source": "Formularz"})
    assert resp.status_code == 200 and 'id="mapping-error"' in resp.text
    assert len(contacts_of(app, cid)) == 0


def test_csrf_is_required_on_upload_and_mapping(app, owner_client, csrf_on):
    cid = owner_client.crm["company_id"]
    base_id = make_base(app, cid)
    expired = pl(app, "The form has expired or was sent from elsewhere. Please try again.")
    resp = upload(owner_client, base_id, b"Nazwa\nA\n")
    assert resp.status_code == 302 and resp.headers["Location"] == "http://localhost/contacts/import/"
    assert expired in owner_client.get(resp.headers["Location"]).text
    with app.app_context(), tenant_scope(cid):
        assert db.session.execute(select(ImportJob)).first() is None
        db.session.remove()
    token = csrf_token(owner_client.get("/contacts/import/").text)
    resp = upload(owner_client, base_id, b"Nazwa\nA\n", csrf_token=token)
    url = resp.headers["Location"]
    resp = owner_client.post(url, data={"col_0": "name", "duplicates": "skip", "default_kind": "company"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"http://localhost{url}"
    assert expired in owner_client.get(url).text
    with app.app_context(), tenant_scope(cid):
        assert db.session.execute(select(ImportJob.status)).scalar_one() == "draft"
        db.session.remove()
    token = csrf_token(owner_client.get(url).text)
    resp = owner_client.post(url, data={"col_0": "name", "duplicates": "skip", "default_kind": "company",
                                        "csrf_token": token})
    assert resp.status_code == 302
    ci.wait(int(url.split("/")[-2]))
    assert len(contacts_of(app, cid)) == 1


def test_other_company_gets_404_on_jobs_and_reports(app, co, base, make_company, client):
    from app.security.tenancy import all_tenants

    res = run(app, co["company_id"], base, b"Nazwa;NIP\nA;1\n")
    with app.app_context(), tenant_scope(co["company_id"]):
        draft = ci.create_draft(co["company_id"], None, base, b"Nazwa\nB\n", "b.csv").id
        db.session.remove()
    other = make_company("Obca Firma")
    login(client, other["email"])
    for url in (f"/contacts/import/{res['id']}", f"/contacts/import/{res['id']}/progress",
                f"/contacts/import/{res['id']}/report.csv", f"/contacts/import/{draft}/mapping"):
        assert client.get(url).status_code == 404, url
    resp = client.post(f"/contacts/import/{draft}/mapping", data={"col_0": "name", "duplicates": "skip", "default_kind": "company"})
    assert resp.status_code == 404
    # a foreign base cannot be the target of an upload
    resp = upload(client, base, b"Nazwa\nIntruz\n")
    assert resp.status_code == 200
    with app.app_context(), all_tenants():
        assert {j.id for j in db.session.execute(select(ImportJob)).scalars()} == {res["id"], draft}
        db.session.remove()
    page = client.get("/contacts/import/")
    assert "plik.csv" not in page.text and "Klienci" not in page.text


def test_abandoned_drafts_are_purged_by_the_daily_trash_job(app, co, base, make_company):
    """A file uploaded but never imported disappears after a day; recent drafts and finished imports stay."""
    import datetime as dt

    from app.models.mixins import utcnow
    from app.scheduler import bind_app, purge_trash
    from app.security.tenancy import all_tenants

    other = make_company("Inna")
    other_base = make_base(app, other["company_id"], "Klienci")
    content = "Nazwa;E-mail\nAlfa;a@alfa.pl\n".encode()
    ids = {}
    for name, cid, bid in (("old", co["company_id"], base), ("old_other", other["company_id"], other_base),
                           ("fresh", co["company_id"], base)):
        with app.app_context(), tenant_scope(cid):
            ids[name] = ci.create_draft(cid, None, bid, content, "plik.csv").id
            db.session.remove()
    ids["done"] = run(app, co["company_id"], base, content)["id"]
    with app.app_context(), all_tenants():
        for name in ("old", "old_other", "done"):
            db.session.get(ImportJob, ids[name]).created_at = utcnow() - dt.timedelta(days=2)
        db.session.commit()
        db.session.remove()
    bind_app(app)
    try:
        purge_trash()
    finally:
        bind_app(None)
    with app.app_context(), all_tenants():
        left = {j.id for j in db.session.execute(select(ImportJob)).scalars()}
        db.session.remove()
    assert left == {ids["fresh"], ids["done"]}
