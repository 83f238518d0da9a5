"""The owner manages employees: add (password or invitation), edit, role, deactivate."""

from sqlalchemy import select

from app.extensions import db
from app.models import CrmUser
from tests.helpers import login, texts

NEW = {"first_name": "Marek", "last_name": "Zając", "email": "marek@firma.pl", "phone": "601 202 303",
       "position": "Handlowiec", "role": "Employee", "access": "password", "password": "Kawa#Rower7Morze+Dach"}


def user_by_email(app, email):
    with app.app_context():
        u = db.session.execute(select(CrmUser).where(CrmUser.email == email)).scalar_one_or_none()
        data = None if u is None else {"id": u.id, "roles": u.role_names, "active": u.active, "phone": u.phone,
                                       "password": u.password, "company_id": u.company_id}
        db.session.remove()
        return data


def test_owner_adds_employee_who_can_log_in(app, owner_client, client):
    resp = owner_client.post("/settings/employees/add", data=NEW)
    assert resp.status_code == 302
    u = user_by_email(app, "marek@firma.pl")
    assert u["roles"] == {"Employee"} and u["phone"] == "+48601202303"
    assert u["company_id"] == owner_client.crm["company_id"]
    page = owner_client.get("/settings/employees/")
    assert "Marek Zając" in page.text and "Pracownik" in page.text
    assert login(client, "marek@firma.pl", NEW["password"]).status_code == 302
    assert client.get("/").status_code == 200


def test_add_employee_refuses_bad_data_with_reason(app, owner_client):
    resp = owner_client.post("/settings/employees/add", data={**NEW, "password": "zajac123"})
    assert resp.status_code == 200 and user_by_email(app, NEW["email"]) is None
    assert "Hasło musi mieć co najmniej 10 znaków." in resp.text
    resp = owner_client.post("/settings/employees/add", data={**NEW, "email": owner_client.crm["email"]})
    assert "Ten adres e-mail jest już używany" in resp.text


def test_invitation_link_sets_password_once(app, owner_client, client):
    resp = owner_client.post("/settings/employees/add", data={**NEW, "access": "invite", "password": ""}, follow_redirects=True)
    notes = [t for t in texts(resp.text, ".alert-info") if "zaproszeniem" in t]  # no mail server: shown instead
    assert len(notes) == 1 and "Przekaż pracownikowi ten link z zaproszeniem: http://" in notes[0], notes
    link = notes[0].rsplit(" ", 1)[1]
    assert "/invitation/" in link
    path = link.split("localhost", 1)[-1]
    assert user_by_email(app, NEW["email"])["password"] is None
    page = client.get(path)
    assert page.status_code == 200 and "Ustaw swoje hasło" in page.text
    done = client.post(path, data={"password": NEW["password"], "password_confirm": NEW["password"]})
    assert done.status_code == 302
    assert login(client, NEW["email"], NEW["password"]).status_code == 302
    again = client.get(path, follow_redirects=True)
    assert "został już użyty" in again.text


def test_edit_role_and_deactivate_ends_sessions(app, owner_client, client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "ewa@firma.pl")
    login(client, "ewa@firma.pl")
    assert client.get("/").status_code == 200
    resp = owner_client.post(f"/settings/employees/{emp['id']}/edit",
                             data={"first_name": "Ewa", "last_name": "Nowa", "email": "ewa@firma.pl", "role": "Manager"})
    assert resp.status_code == 302 and user_by_email(app, "ewa@firma.pl")["roles"] == {"Manager"}
    resp = owner_client.post(f"/settings/employees/{emp['id']}/active", data={"active": "0"})
    assert user_by_email(app, "ewa@firma.pl")["active"] is False
    assert client.get("/").status_code == 302  # her open session ended
    assert login(client, "ewa@firma.pl").status_code == 302
    assert client.get("/").status_code == 302  # and she cannot sign in again
    owner_client.post(f"/settings/employees/{emp['id']}/active", data={"active": "1"})
    assert user_by_email(app, "ewa@firma.pl")["active"] is True


def test_owner_cannot_deactivate_or_demote_the_last_owner(app, owner_client):
    oid = owner_client.crm["owner_id"]
    resp = owner_client.post(f"/settings/employees/{oid}/active", data={"active": "0"}, follow_redirects=True)
    assert "Nie możesz dezaktywować własnego konta" in resp.text
    resp = owner_client.post(f"/settings/employees/{oid}/edit",
                             data={"first_name": "Jan", "last_name": "X", "email": owner_client.crm["email"], "role": "Employee"})
    assert "Firma musi mieć co najmniej jednego właściciela" in resp.text


def test_profile_page_of_employee(owner_client, add_employee):
    emp = add_employee(owner_client.crm["owner_id"], "adam@firma.pl")
    page = owner_client.get(f"/settings/employees/{emp['id']}")
    assert page.status_code == 200 and "adam@firma.pl" in page.text and "Edycja" in page.text


def test_own_profile_for_employee(client, make_company, add_employee):
    info = make_company()
    emp = add_employee(info["owner_id"], "ola@firma.pl")
    login(client, emp["email"])
    page = client.get("/profile/")
    assert page.status_code == 200 and "ola@firma.pl" in page.text
