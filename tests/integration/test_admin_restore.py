"""Restoring deleted data as the FAQ says: the owner asks in "Kosz", confirms it through a signed,
single-use link sent to the address the company account was created with, and only then the platform
admin sees it, previews it (what comes back, what clashes) and restores it; the owner is told by e-mail.
"""

import datetime as dt
import html
import re

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from app.extensions import db
from app.models.company import Company
from app.models.contacts import ClientBase, Contact
from app.models.restores import RestoreRequest
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import clock, trash
from app.services.accounts import companies as tenancy
from app.services.accounts import employees
from app.services.contacts import bases
from tests.helpers import STRONG_PASSWORD, csrf_token, login, make_nip
from tests.integration.contacts_data import assert_polish_page, make_base, make_contact

ADMIN = ("root@platforma.pl", "Platforma-Admin#2026")
NIP_YELLOW = make_nip(4242)


# ------------------------------------------------------------------ helpers of this file


@pytest.fixture()
def deleted(app, make_company):
    """Company A deleted its base "Hurtownie" (2 contacts) in one operation; B is another company."""
    a = make_company("Alfa Sp. z o.o.")
    b = make_company("Beta S.A.")
    base = make_base(app, a["company_id"], "Hurtownie")
    make_contact(app, a["company_id"], base, kind="company", name="Żółta Łódka", nip=NIP_YELLOW)
    make_contact(app, a["company_id"], base, kind="company", name="Zielony Dom")
    with app.app_context(), tenant_scope(a["company_id"]):
        a["deletion_id"] = bases.delete_base(a["company_id"], base, a["owner_id"])
        db.session.remove()
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)
    return a, b


def signed_in(app, email, password=STRONG_PASSWORD):
    c = app.test_client()
    assert login(c, email, password).status_code == 302
    return c


def ask(client, deletion_id, note=""):
    return client.post(f"/settings/trash/{deletion_id}/request", data={"note": note}, follow_redirects=True)


def link_token(message):
    body = message.get_content()
    m = re.search(r"https?://[^/\s]+/restore-confirm/(\S+)", body)
    assert m, body
    return m.group(1)


def confirm_page(client, token):
    return client.get(f"/restore-confirm/{token}")


def the_request(app, company_id):
    with app.app_context(), all_tenants():
        req = db.session.execute(
            select(RestoreRequest).where(RestoreRequest.company_id == company_id).order_by(RestoreRequest.id.desc())
        ).scalars().first()
        out = None if req is None else {"id": req.id, "status": req.status, "confirmed_at": req.confirmed_at,
                                        "sent_to": req.sent_to}
        db.session.remove()
    return out


def audit_rows(owner):
    page = owner.get("/settings/security/").text
    table = page[page.index('id="audit-table"'):]
    return [(ev, html.unescape(re.sub(r"<[^>]+>", " ", cells)))
            for ev, cells in re.findall(r'<tr class="audit-([\w-]+)">(.*?)</tr>', table, re.S)]


def events(owner):
    return [ev for ev, _ in audit_rows(owner)]


def live_names(app, company_id, model):
    with app.app_context(), tenant_scope(company_id):
        names = sorted(db.session.execute(select(model.name)).scalars())
        db.session.remove()
    return names


# ------------------------------------------------------------------ the whole path


def test_owner_confirms_by_link_and_admin_restores_after_preview_with_conflicts(app, deleted, mail_outbox):
    a, b = deleted
    # since the sign-up the owner changed the login e-mail and the company e-mail
    with app.app_context():
        owner = db.session.get(CrmUser, a["owner_id"])
        employees.update_employee(owner, owner, employees.EmployeeData(
            first_name="Jan", last_name=owner.last_name, email="nowy.login@alfa.pl", role="Owner"))
        company = db.session.get(Company, a["company_id"])
        tenancy.update_company(company, tenancy.CompanyData(name=company.name, nip=company.nip,
                                                            email="biuro@alfa.pl"))
        db.session.remove()
    # and created, after the deletion, a base with the same name and a contact with the same NIP
    newer = make_base(app, a["company_id"], "Hurtownie")
    make_contact(app, a["company_id"], newer, kind="company", name="Żółty Kajak", nip=NIP_YELLOW)

    owner = signed_in(app, "nowy.login@alfa.pl")
    trash_page = owner.get("/settings/trash/").text
    assert "1 baza klientów" in trash_page and "2 kontakty" in trash_page
    sent = ask(owner, a["deletion_id"], "Usunięte przez pomyłkę")
    assert "Wysłaliśmy link potwierdzający na adres o***@firma1.pl" in sent.text
    assert "Czeka na Twoje potwierdzenie e-mailem" in sent.text

    # the link goes to the address the account was created with, not to the new login nor company e-mail
    assert len(mail_outbox) == 1
    mail = mail_outbox[0]
    assert mail["To"] == a["email"] == "owner1@firma1.pl"
    assert mail["Subject"] == "Potwierdź odzyskanie usuniętych danych w Klienteli"
    assert "Bazy klientów: 1, Kontakty: 2" in mail.get_content()
    token = link_token(mail)

    # not confirmed yet: the platform admin does not see it
    admin = signed_in(app, *ADMIN)
    req = the_request(app, a["company_id"])
    assert req["status"] == "awaiting" and req["sent_to"] == "owner1@firma1.pl"
    listing = admin.get("/admin/restore/?q=Alfa").text
    assert "Alfa Sp. z o.o." in listing and 'label-warning' not in listing
    company_page = admin.get(f"/admin/restore/{a['company_id']}").text
    assert "Właściciel nie potwierdził żadnej prośby" in company_page
    assert "Hurtownie" not in company_page
    assert admin.get(f"/admin/restore/request/{req['id']}").status_code == 404
    assert "Nie ma takiej potwierdzonej prośby" in admin.post(
        f"/admin/restore/request/{req['id']}/restore", follow_redirects=True).text
    assert live_names(app, a["company_id"], ClientBase) == ["Hurtownie"]

    # another company's owner can neither see nor confirm it
    other = signed_in(app, b["email"])
    assert "Hurtownie" not in other.get("/settings/trash/").text
    foreign = confirm_page(other, token)
    assert foreign.status_code == 400 and "należy do innego konta firmy" in foreign.text
    assert other.post(f"/restore-confirm/{token}").status_code == 400
    assert the_request(app, a["company_id"])["status"] == "awaiting"

    # the owner opens the link (no sign-in needed: the mailbox is the proof) and confirms
    anonymous = app.test_client()
    page = confirm_page(anonymous, token)
    assert page.status_code == 200 and "Bazy klientów: 1, Kontakty: 2" in page.text
    assert "Potwierdź prośbę" in page.text
    assert_polish_page(page.text, "/restore-confirm/")
    assert_polish_page(owner.get("/settings/trash/").text, "/settings/trash/")
    done = anonymous.post(f"/restore-confirm/{token}")
    assert done.status_code == 200 and "Prośba jest potwierdzona" in done.text
    assert the_request(app, a["company_id"])["status"] == "pending"
    again = confirm_page(anonymous, token)
    assert again.status_code == 400 and "został już użyty" in again.text
    assert "Potwierdzona, czeka na administratora" in owner.get("/settings/trash/").text

    # now the admin sees it, with a preview and the conflicts
    assert re.search(r"Alfa Sp\. z o\.o\..*?label-warning\">1<", admin.get("/admin/restore/").text, re.S)
    company_page = admin.get(f"/admin/restore/{a['company_id']}").text
    assert f"/admin/restore/request/{req['id']}" in company_page
    preview = admin.get(f"/admin/restore/request/{req['id']}").text
    kinds = preview[preview.index('id="restore-kinds"'):preview.index("</table>", preview.index('id="restore-kinds"'))]
    assert re.search(r"Bazy klientów</td><td>1</td><td>Hurtownie<", kinds)
    assert re.search(r"Kontakty</td><td>2</td><td>Zielony Dom, Żółta Łódka<", kinds)
    conflicts = preview[preview.index('id="restore-conflicts"'):]
    conflicts = conflicts[:conflicts.index("</table>")]
    assert "Bazy klientów</td><td>Hurtownie</td>" in conflicts and "Nazwa: Hurtownie" in conflicts
    assert f"NIP: {NIP_YELLOW}</td>" in conflicts and "Żółty Kajak" in conflicts
    assert "Usunięte przez pomyłkę" in preview
    assert_polish_page(preview, "/admin/restore/request/")
    assert_polish_page(company_page, "/admin/restore/<company>")

    # no choice made: refused, nothing restored
    token_admin = csrf_token(preview)
    expected = re.search(r'name="expected"[^>]*value="(\w+)"|value="(\w+)"[^>]*name="expected"', preview)
    expected = expected.group(1) or expected.group(2)
    refused = admin.post(f"/admin/restore/request/{req['id']}/restore",
                         data={"csrf_token": token_admin, "expected": expected}, follow_redirects=True)
    assert "Wybierz, co z nimi zrobić" in refused.text
    assert live_names(app, a["company_id"], ClientBase) == ["Hurtownie"]

    # restore, renaming the conflicting rows
    ok = admin.post(f"/admin/restore/request/{req['id']}/restore",
                    data={"csrf_token": token_admin, "expected": expected, "on_conflict": "rename"},
                    follow_redirects=True)
    assert "Przywrócono rekordów: 3" in ok.text and "Przywrócono pod zmienioną nazwą rekordów: 2" in ok.text
    assert "dane przywrócono" in ok.text
    assert live_names(app, a["company_id"], ClientBase) == ["Hurtownie", "Hurtownie (przywrócone)"]
    assert live_names(app, a["company_id"], Contact) == ["Zielony Dom", "Żółta Łódka (przywrócone)", "Żółty Kajak"]
    assert the_request(app, a["company_id"])["status"] == "done"

    # the owner is told by e-mail, at the same address
    assert len(mail_outbox) == 2
    told = mail_outbox[1]
    assert told["To"] == "owner1@firma1.pl" and told["Subject"] == "Twoje usunięte dane wróciły do Klienteli"
    assert "przywrócone rekordy: 3" in told.get_content()
    after = owner.get("/settings/trash/").text
    assert "Przywrócono" in after and "niczego nie usunięto" in after

    # every step is in the company's audit log (newest first), and none in the other company's
    rows = audit_rows(owner)
    restore_rows = [(ev, text) for ev, text in rows if ev.startswith(("restore", "data_restored"))]
    assert [ev for ev, _ in restore_rows] == [
        "data_restored", "restore_refused", "restore_confirmed", "restore_refused", "restore_refused",
        "restore_requested"]
    assert "Przywrócono usunięte dane" in restore_rows[0][1]
    assert "przywrócono 3, pozostawiono w koszu 0, zmieniono nazwę 2" in restore_rows[0][1]
    assert "link został już użyty" in restore_rows[1][1]
    assert "Prośba o odzyskanie danych potwierdzona e-mailem" in restore_rows[2][1]
    assert "użyty przez osobę z innej firmy" in restore_rows[3][1]
    assert not [ev for ev in events(other) if ev.startswith("restore")]


def test_skip_leaves_conflicting_rows_in_the_trash_and_a_changed_preview_is_refused(app, make_company, mail_outbox):
    a = make_company("Gamma Sp. z o.o.")
    base = make_base(app, a["company_id"], "Klienci")
    one = make_contact(app, a["company_id"], base, kind="company", name="Stara Firma", nip=NIP_YELLOW)
    two = make_contact(app, a["company_id"], base, kind="company", name="Druga Firma")
    with app.app_context(), tenant_scope(a["company_id"]):
        rows = list(db.session.execute(select(Contact).where(Contact.id.in_([one, two]))).scalars())
        deletion_id = trash.soft_delete(rows, a["owner_id"])
        db.session.remove()
    make_contact(app, a["company_id"], base, kind="company", name="Nowa Firma", nip=NIP_YELLOW)
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)

    owner = signed_in(app, a["email"])
    ask(owner, deletion_id)
    token = link_token(mail_outbox[0])
    assert owner.post(f"/restore-confirm/{token}").status_code == 200  # signed in as the owner: fine too
    req = the_request(app, a["company_id"])

    admin = signed_in(app, *ADMIN)
    preview = admin.get(f"/admin/restore/request/{req['id']}").text
    expected = re.search(r'name="expected"[^>]*value="(\w+)"|value="(\w+)"[^>]*name="expected"', preview)
    expected = expected.group(1) or expected.group(2)
    # a second clash appears after the preview: the restore is refused, nothing changes
    make_contact(app, a["company_id"], base, kind="company", name="Duplikat", nip=NIP_YELLOW)
    changed = admin.post(f"/admin/restore/request/{req['id']}/restore",
                         data={"expected": expected, "on_conflict": "skip"}, follow_redirects=True)
    assert "Dane zmieniły się od podglądu" in changed.text
    assert live_names(app, a["company_id"], Contact) == ["Duplikat", "Nowa Firma"]

    preview = admin.get(f"/admin/restore/request/{req['id']}").text
    expected = re.search(r'name="expected"[^>]*value="(\w+)"|value="(\w+)"[^>]*name="expected"', preview)
    expected = expected.group(1) or expected.group(2)
    ok = admin.post(f"/admin/restore/request/{req['id']}/restore",
                    data={"expected": expected, "on_conflict": "skip"}, follow_redirects=True)
    assert "Przywrócono rekordów: 1" in ok.text and "Pozostawiono w koszu rekordów: 1" in ok.text
    assert live_names(app, a["company_id"], Contact) == ["Druga Firma", "Duplikat", "Nowa Firma"]
    assert "Stara Firma" in owner.get("/settings/trash/").text  # still in the trash
    assert mail_outbox[-1]["To"] == a["email"]
    assert "pozostawione w koszu, bo kolidują z danymi utworzonymi później: 1" in mail_outbox[-1].get_content()
    # a done request cannot be restored again
    again = admin.post(f"/admin/restore/request/{req['id']}/restore",
                       data={"expected": expected, "on_conflict": "skip"}, follow_redirects=True)
    assert "Ta prośba o odzyskanie danych jest już zamknięta" in again.text


def test_admin_cancels_a_request_nothing_comes_back_and_the_owner_is_told(app, deleted, mail_outbox):
    a, _ = deleted
    owner = signed_in(app, a["email"])
    ask(owner, a["deletion_id"])
    app.test_client().post(f"/restore-confirm/{link_token(mail_outbox[0])}")
    req = the_request(app, a["company_id"])
    admin = signed_in(app, *ADMIN)
    preview = admin.get(f"/admin/restore/request/{req['id']}").text
    assert "Brak konfliktów: wszystko wróci tak, jak było" in preview
    cancelled = admin.post(f"/admin/restore/request/{req['id']}/reject", follow_redirects=True)
    assert "Prośba została anulowana; niczego nie przywrócono" in cancelled.text
    assert the_request(app, a["company_id"])["status"] == "rejected"
    assert live_names(app, a["company_id"], ClientBase) == []
    assert mail_outbox[-1]["Subject"] == "Twoja prośba o odzyskanie danych w Klienteli została anulowana"
    assert "Anulowana przez administratora" in owner.get("/settings/trash/").text
    assert events(owner)[0] == "restore_rejected"
    # the owner may ask again
    assert "Wysłaliśmy link potwierdzający" in ask(owner, a["deletion_id"]).text


# ------------------------------------------------------------------ expiry


def test_an_expired_link_is_refused_and_the_job_marks_the_request_expired(app, deleted, mail_outbox, monkeypatch):
    a, _ = deleted
    owner = signed_in(app, a["email"])
    ask(owner, a["deletion_id"])
    token = link_token(mail_outbox[0])
    req = the_request(app, a["company_id"])
    real = clock.utcnow()

    from app import scheduler

    assert any(j.func == "app.scheduler:expire_restore_requests" for j in scheduler.JOBS)
    scheduler.bind_app(app)
    try:
        # 47 hours later the job leaves it alone
        monkeypatch.setattr(clock, "utcnow", lambda: real + dt.timedelta(hours=47))
        assert scheduler.expire_restore_requests() == 0
        assert the_request(app, a["company_id"])["status"] == "awaiting"

        # 49 hours later the link is refused with a clear message, nothing is confirmed
        monkeypatch.setattr(clock, "utcnow", lambda: real + dt.timedelta(hours=49))
        late = confirm_page(app.test_client(), token)
        assert late.status_code == 400 and "Ten link potwierdzający wygasł" in late.text
        assert app.test_client().post(f"/restore-confirm/{token}").status_code == 400
        assert the_request(app, a["company_id"])["confirmed_at"] is None
        assert "Wygasła bez potwierdzenia" in owner.get("/settings/trash/").text

        # the scheduled job marks it expired
        assert scheduler.expire_restore_requests() == 1
        assert the_request(app, a["company_id"])["status"] == "expired"
        assert scheduler.expire_restore_requests() == 0
    finally:
        scheduler.bind_app(None)

    admin = signed_in(app, *ADMIN)
    assert admin.get(f"/admin/restore/request/{req['id']}").status_code == 404
    assert "Właściciel nie potwierdził żadnej prośby" in admin.get(f"/admin/restore/{a['company_id']}").text
    rows = audit_rows(owner)
    assert [ev for ev, _ in rows if ev.startswith("restore")][:3] == [
        "restore_expired", "restore_refused", "restore_refused"]
    assert "link wygasł" in next(text for ev, text in rows if ev == "restore_refused")
    # the owner may ask again: a new link is sent
    assert "Wysłaliśmy link potwierdzający" in ask(owner, a["deletion_id"]).text
    assert len(mail_outbox) == 2 and link_token(mail_outbox[1]) != token


# ------------------------------------------------------------------ foreign and forged links


def test_foreign_and_forged_links_are_refused_and_change_nothing(app, deleted, make_company, mail_outbox):
    a, b = deleted
    base_b = make_base(app, b["company_id"], "Beta klienci")
    with app.app_context(), tenant_scope(b["company_id"]):
        b_deletion = bases.delete_base(b["company_id"], base_b, b["owner_id"])
        db.session.remove()
    owner_a = signed_in(app, a["email"])
    owner_b = signed_in(app, b["email"])
    ask(owner_a, a["deletion_id"])
    ask(owner_b, b_deletion)
    token_a = link_token(mail_outbox[0])
    token_b = link_token(mail_outbox[1])
    assert mail_outbox[1]["To"] == b["email"]
    req_a = the_request(app, a["company_id"])

    # a tampered signature
    forged = token_a[:-2] + ("AA" if not token_a.endswith("AA") else "BB")
    page = confirm_page(app.test_client(), forged)
    assert page.status_code == 400 and "Ten link potwierdzający jest nieprawidłowy" in page.text
    # another company's genuine link pointed at A's request (its one-time code does not match)
    with app.app_context():
        ser = URLSafeSerializer(app.config["SECRET_KEY"], salt="crm-restore-confirm")
        data = ser.loads(token_b)
        swapped = ser.dumps({**data, "r": req_a["id"], "c": a["company_id"]})
        wrong_company = ser.dumps({**ser.loads(token_a), "c": b["company_id"]})
    for bad in (swapped, wrong_company):
        resp = app.test_client().post(f"/restore-confirm/{bad}")
        assert resp.status_code == 400 and "nieprawidłowy" in resp.text
    # B's own link used by A's signed-in owner, and A's link by B's owner
    resp = owner_a.post(f"/restore-confirm/{token_b}")
    assert resp.status_code == 400 and "należy do innego konta firmy" in resp.text
    resp = owner_b.get(f"/restore-confirm/{token_a}")
    assert resp.status_code == 400 and "należy do innego konta firmy" in resp.text
    # and the platform admin is nobody's owner either
    admin = signed_in(app, *ADMIN)
    assert admin.post(f"/restore-confirm/{token_a}").status_code == 400
    assert the_request(app, a["company_id"])["status"] == "awaiting"
    assert the_request(app, b["company_id"])["status"] == "awaiting"
    assert "Czeka na Twoje potwierdzenie e-mailem" in owner_a.get("/settings/trash/").text
    assert "Beta klienci" not in owner_a.get("/settings/trash/").text
    assert "Hurtownie" not in owner_b.get("/settings/trash/").text
    # refusals are in the audit log of the company whose link it was
    refused_a = [text for ev, text in audit_rows(owner_a) if ev == "restore_refused"]
    refused_b = [text for ev, text in audit_rows(owner_b) if ev == "restore_refused"]
    assert len(refused_a) == 2 and all("użyty przez osobę z innej firmy" in t for t in refused_a)
    assert len(refused_b) == 1


def test_confirmation_needs_the_csrf_token(app, deleted, mail_outbox, csrf_on):
    a, _ = deleted
    owner = app.test_client()
    token = csrf_token(owner.get("/login/").text)
    owner.post("/login/", data={"username": a["email"], "password": STRONG_PASSWORD, "csrf_token": token})
    page = owner.get("/settings/trash/").text
    owner.post(f"/settings/trash/{a['deletion_id']}/request", data={"csrf_token": csrf_token(page)})
    link = link_token(mail_outbox[0])
    visitor = app.test_client()
    page = confirm_page(visitor, link)
    assert page.status_code == 200
    no_token = visitor.post(f"/restore-confirm/{link}", follow_redirects=True)
    assert "Potwierdź prośbę" in no_token.text and "Prośba jest potwierdzona" not in no_token.text
    assert the_request(app, a["company_id"])["status"] == "awaiting"
    ok = visitor.post(f"/restore-confirm/{link}", data={"csrf_token": csrf_token(page.text)})
    assert "Prośba jest potwierdzona" in ok.text
    assert the_request(app, a["company_id"])["status"] == "pending"


# ------------------------------------------------------------------ asking


def test_asking_in_the_trash_tab_rules(app, deleted, add_employee, mail_outbox):
    a, b = deleted
    owner = signed_in(app, a["email"])
    # another company's owner cannot ask for A's data, nor see it
    other = signed_in(app, b["email"])
    assert "Hurtownie" not in other.get("/settings/trash/").text
    assert "Nie ma takich usuniętych danych" in ask(other, a["deletion_id"]).text
    # an employee has no trash tab
    emp = add_employee(a["owner_id"], "pracownik@alfa.pl")
    assert signed_in(app, emp["email"]).get("/settings/trash/").status_code == 403
    assert mail_outbox == []

    sent = ask(owner, a["deletion_id"])
    assert "Wysłaliśmy link potwierdzający" in sent.text
    again = ask(owner, a["deletion_id"])
    assert "Prośba o odzyskanie tych danych została już wysłana" in again.text
    assert len(mail_outbox) == 1


def test_without_platform_mail_the_request_is_refused_and_nothing_is_stored(app, deleted):
    a, _ = deleted
    owner = signed_in(app, a["email"])
    resp = ask(owner, a["deletion_id"])
    assert "Wysyłka e-maili nie jest dostępna w tej instalacji" in resp.text
    assert the_request(app, a["company_id"]) is None
    assert "restore_requested" not in events(owner)


def test_restore_pages_need_the_admin_role_and_post(app, deleted, mail_outbox):
    a, _ = deleted
    owner = signed_in(app, a["email"])
    assert owner.get("/admin/restore/").status_code == 403
    ask(owner, a["deletion_id"])
    app.test_client().post(f"/restore-confirm/{link_token(mail_outbox[0])}")
    req = the_request(app, a["company_id"])
    assert owner.get(f"/admin/restore/request/{req['id']}").status_code == 403
    assert owner.post(f"/admin/restore/request/{req['id']}/restore", data={"on_conflict": "skip"}).status_code == 403
    admin = signed_in(app, *ADMIN)
    assert admin.get(f"/admin/restore/request/{req['id']}/restore").status_code == 405
    assert admin.get("/admin/restore/999999").status_code == 404
    assert admin.get("/admin/restore/request/999999").status_code == 404
    assert live_names(app, a["company_id"], ClientBase) == []
