"""The gear icon's settings panel: company data, avatar, employees; what an employee may not open."""

import io

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Company, CrmUser
from tests.helpers import login


def png(size=(300, 200), fmt="PNG"):
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def test_gear_opens_first_tab_and_tabs_are_listed(owner_client):
    resp = owner_client.get("/settings/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/settings/company/")
    page = owner_client.get("/settings/company/")
    for label in ("Dane firmy", "Avatar", "Pracownicy"):
        assert label in page.text
    assert page.text.index("Dane firmy") < page.text.index("Avatar") < page.text.index("Pracownicy")


def test_company_data_saved_and_normalised(app, owner_client):
    data = {
        "name": "Nowa Nazwa Sp. z o.o.", "nip": "526 025 02 74", "regon": "012345675",
        "street": "ul. Długa 5", "postal_code": "31147", "city": "Kraków",
        "iban": "61109010140000071219812874", "email": "Biuro@Firma.PL", "phone": "600 100 200",
    }
    resp = owner_client.post("/settings/company/", data=data)
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.get(Company, owner_client.crm["company_id"])
        assert (c.name, c.nip, c.postal_code, c.iban, c.email, c.phone) == (
            "Nowa Nazwa Sp. z o.o.", "5260250274", "31-147", "PL61109010140000071219812874",
            "biuro@firma.pl", "+48600100200",
        )
        db.session.remove()


def test_company_data_bad_field_changes_nothing(app, owner_client):
    with app.app_context():
        before = db.session.get(Company, owner_client.crm["company_id"]).name
        db.session.remove()
    resp = owner_client.post("/settings/company/", data={"name": "Inna", "nip": "5260250274", "postal_code": "311-47"})
    assert resp.status_code == 200 and "Kod pocztowy musi mieć format 00-000" in resp.text
    resp = owner_client.post("/settings/company/", data={"name": "Inna", "nip": "5260250274", "iban": "PL00 1234"})
    assert "IBAN" in resp.text
    with app.app_context():
        assert db.session.get(Company, owner_client.crm["company_id"]).name == before
        db.session.remove()


def test_logo_upload_checked_and_served_only_to_own_company(app, client, owner_client, make_company):
    resp = owner_client.post(
        "/settings/company/",
        data={"name": "Firma", "nip": "5260250274", "logo": (io.BytesIO(png((1200, 600))), "logo.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    logo = owner_client.get("/media/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert max(Image.open(io.BytesIO(logo.data)).size) <= 400
    other = make_company()
    login(client, other["email"])
    assert client.get("/media/logo").status_code == 404


def test_avatar_upload_resized_shown_in_header_type_and_size_checked(app, owner_client):
    resp = owner_client.post("/settings/avatar/", data={"avatar": (io.BytesIO(png((800, 800), "JPEG")), "ja.jpg")},
                             content_type="multipart/form-data")
    assert resp.status_code == 302
    uid = owner_client.crm["owner_id"]
    img = owner_client.get(f"/media/avatar/{uid}")
    assert img.status_code == 200 and Image.open(io.BytesIO(img.data)).size == (128, 128)
    assert f"/media/avatar/{uid}" in owner_client.get("/").text
    fake = owner_client.post("/settings/avatar/", data={"avatar": (io.BytesIO(b"%PDF-1.4 not an image"), "a.png")},
                             content_type="multipart/form-data")
    assert "Plik nie jest obrazem" in fake.text
    big = owner_client.post("/settings/avatar/", data={"avatar": (io.BytesIO(b"\x89PNG" + b"0" * (3 * 1024 * 1024)), "a.png")},
                            content_type="multipart/form-data")
    assert "za duży" in big.text


def test_employee_cannot_open_owner_tabs(app, client, make_company, add_employee):
    info = make_company()
    emp = add_employee(info["owner_id"], "pracownik@firma.pl")
    login(client, emp["email"])
    page = client.get("/settings/avatar/")
    assert page.status_code == 200
    assert "Pracownicy" not in page.text and "Dane firmy" not in page.text
    for url in ("/settings/company/", "/settings/employees/", "/settings/employees/add", f"/settings/employees/{info['owner_id']}"):
        assert client.get(url).status_code == 403, url
    resp = client.post("/settings/employees/add", data={"first_name": "X", "last_name": "Y", "email": "x@y.pl", "role": "Owner", "access": "password", "password": "Abc-Def-123!xyz"})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.execute(select(CrmUser).where(CrmUser.email == "x@y.pl")).first() is None
        db.session.remove()
