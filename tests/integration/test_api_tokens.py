"""Personal API tokens ("Tokeny API"): made in the profile and shown once, stored hashed, listed with
their last use, revoked one by one, by "Wyloguj ze wszystkich miejsc" and by deactivation; expiry,
read-only scope, per-token rate limit with Retry-After, FAB's JWT on the same guard, the API help page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.api_tokens import ApiToken
from app.models.company import Company
from app.models.contacts import Tag
from app.security.tenancy import all_tenants
from tests.helpers import STRONG_PASSWORD, csrf_token, find_one, table_rows, texts
from tests.integration.test_api import Api, make_token
from tests.integration.test_polish_pages import assert_polish


def _tokens(app: Any) -> list[ApiToken]:
    with app.app_context(), all_tenants():
        rows = list(db.session.execute(select(ApiToken).order_by(ApiToken.id)).scalars())
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
    return rows


def _create_in_profile(web: Any, name: str, scope: str = "read", days: str = "90") -> str:
    """Fill in "Nowy token" on the profile's token page; return the secret the page shows once."""
    page = web.get("/profile/api-tokens/")
    assert page.status_code == 200
    resp = web.post("/profile/api-tokens/", data={"csrf_token": csrf_token(page.text, "#api-token-form"),
                                                  "name": name, "scope": scope, "days": days})
    assert resp.status_code == 200
    return find_one(resp.text, "#new-token-value").text_content().strip()


def test_token_made_in_the_profile_is_shown_once_stored_hashed_and_works(app, owner_client, csrf_on):
    web = owner_client
    profile = web.get("/profile/")
    assert "/profile/api-tokens/" in profile.text  # the profile links to "Tokeny API"
    secret = _create_in_profile(web, "Sklep internetowy", scope="write", days="30")
    assert secret.startswith("kl_") and len(secret) > 40
    # stored as its SHA-256 only, never in clear
    (row,) = _tokens(app)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (row.token_hash, row.lookup, row.name)
    assert row.scope == "write" and row.company_id == web.crm["company_id"]
    assert dt.timedelta(days=29) < row.expires_at - row.created_at <= dt.timedelta(days=30)
    # the next visit of the page does not show it again; the list shows name, access and "never" used
    page = web.get("/profile/api-tokens/")
    assert secret not in page.text and not find_one(page.text, "#api-token-list").cssselect("#new-token-value")
    rows = table_rows(page.text, "#api-token-list")
    assert rows[0][0] == "Sklep internetowy" and rows[0][1] == "Odczyt i zapis"
    assert rows[0][4] == "nigdy" and rows[0][5] == "Aktywny"
    # it works, and its last use is recorded with the IP
    api = Api(app, secret)
    assert api.get("/api/v1/tags/").status_code == 200
    rows = table_rows(web.get("/profile/api-tokens/").text, "#api-token-list")
    assert rows[0][4] != "nigdy" and "127.0.0.1" in rows[0][4]


def test_bad_token_form_shows_polish_errors_and_makes_nothing(app, owner_client, csrf_on):
    web = owner_client
    page = web.get("/profile/api-tokens/")
    resp = web.post("/profile/api-tokens/", data={"csrf_token": csrf_token(page.text, "#api-token-form"),
                                                  "name": "", "scope": "admin", "days": "7"})
    assert resp.status_code == 200
    errors = texts(resp.text, "#api-token-form .help-block.error")
    assert "To pole jest wymagane." in errors
    assert len(errors) == 3
    assert _tokens(app) == []
    # without the CSRF token nothing is made either
    web.post("/profile/api-tokens/", data={"name": "x", "scope": "read", "days": "30"})
    assert _tokens(app) == []


def test_revoke_one_token_in_the_profile(app, owner_client, csrf_on):
    web = owner_client
    keep = _create_in_profile(web, "Zostaje")
    drop = _create_in_profile(web, "Do usunięcia")
    page = web.get("/profile/api-tokens/")
    drop_id = next(t.id for t in _tokens(app) if t.name == "Do usunięcia")
    resp = web.post(f"/profile/api-tokens/{drop_id}/revoke", data={"csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302
    assert Api(app, drop).get("/api/v1/tags/").status_code == 401
    assert Api(app, keep).get("/api/v1/tags/").status_code == 200
    states = {r[0]: r[5] for r in table_rows(web.get("/profile/api-tokens/").text, "#api-token-list")}
    assert states == {"Zostaje": "Aktywny", "Do usunięcia": "Unieważniony"}


def test_another_users_token_cannot_be_seen_or_revoked(app, owner_client, make_company, add_employee, csrf_on):
    info = owner_client.crm
    emp = add_employee(info["owner_id"], "kolega@firma.pl")
    other = make_company()
    theirs = [make_token(app, emp["id"]), make_token(app, other["owner_id"])]
    page = owner_client.get("/profile/api-tokens/")
    assert table_rows(page.text, "#api-token-list") == [["Nie masz jeszcze tokenów API."]]
    for row in _tokens(app):
        owner_client.post(f"/profile/api-tokens/{row.id}/revoke", data={"csrf_token": csrf_token(page.text)})
    assert all(t.revoked_at is None for t in _tokens(app))
    assert all(Api(app, t).get("/api/v1/tags/").status_code == 200 for t in theirs)


def test_sign_out_everywhere_and_deactivation_revoke_tokens(app, owner_client, add_employee, csrf_on):
    info = owner_client.crm
    own = make_token(app, info["owner_id"])
    emp = add_employee(info["owner_id"], "odchodzi@firma.pl")
    emp_token = make_token(app, emp["id"])
    assert Api(app, emp_token).get("/api/v1/tags/").status_code == 200
    # the owner deactivates the employee: the employee's token stops at once
    page = owner_client.get(f"/settings/employees/{emp['id']}")
    resp = owner_client.post(f"/settings/employees/{emp['id']}/active",
                             data={"csrf_token": csrf_token(page.text), "active": "0"})
    assert resp.status_code == 302
    assert Api(app, emp_token).get("/api/v1/tags/").status_code == 401
    assert Api(app, own).get("/api/v1/tags/").status_code == 200
    # "Wyloguj ze wszystkich miejsc" of the owner: the owner's token stops, and the list says so
    page = owner_client.get("/profile/")
    owner_client.post("/profile/security/logout-everywhere", data={"csrf_token": csrf_token(page.text)})
    assert Api(app, own).get("/api/v1/tags/").status_code == 401
    assert all(t.revoked_at is not None for t in _tokens(app))
    web = app.test_client()
    form = web.get("/login/")
    resp = web.post("/login/", data={"csrf_token": csrf_token(form.text), "username": info["email"],
                                     "password": STRONG_PASSWORD})
    assert resp.status_code == 302
    rows = table_rows(web.get("/profile/api-tokens/").text, "#api-token-list")
    assert [r[5] for r in rows] == ["Unieważniony"]


def test_expired_token_is_refused(app, make_company):
    info = make_company()
    secret = make_token(app, info["owner_id"], days=30)
    with app.app_context(), all_tenants():
        row = db.session.execute(select(ApiToken)).scalar_one()
        row.expires_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    resp = Api(app, secret).get("/api/v1/tags/")
    assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized"


def test_read_only_token_reads_but_never_writes(app, make_company):
    info = make_company()
    api = Api(app, make_token(app, info["owner_id"], scope="read"))
    assert api.get("/api/v1/tags/").status_code == 200
    for method, url in (("post", "/api/v1/tags/"), ("put", "/api/v1/tags/1"), ("delete", "/api/v1/tags/1")):
        resp = getattr(api.client, method)(url, json={"name": "x"}, headers=api.headers)
        assert resp.status_code == 403, (method, resp.get_json())
        assert resp.get_json() == {"code": "token_read_only", "message": "Ten token pozwala tylko odczytywać dane."}
    with app.app_context(), all_tenants():
        assert db.session.execute(select(Tag)).first() is None


def test_rate_limit_per_token_with_retry_after(app, make_company):
    info = make_company()
    first, second = (Api(app, make_token(app, info["owner_id"])) for _ in range(2))
    limiter = app.appbuilder.sm.limiter
    app.config["API_RATE_LIMIT"] = "3 per minute"
    limiter.enabled = True
    limiter.reset()
    try:
        codes = [first.get(url).status_code for url in ("/api/v1/tags/", "/api/v1/contacts/", "/api/v1/tasks/")]
        assert codes == [200, 200, 200]
        over = first.get("/api/v1/products/")  # one limit over every API of the token
        assert over.status_code == 429
        assert over.get_json() == {"code": "rate_limited", "message": "Zbyt wiele prób. Odczekaj minutę i spróbuj ponownie."}
        assert 0 < int(over.headers["Retry-After"]) <= 60
        assert second.get("/api/v1/tags/").status_code == 200  # another token has its own count
    finally:
        limiter.reset()
        limiter.enabled = False
        app.config["API_RATE_LIMIT"] = "120 per minute"


def test_jwt_callers_get_their_company_in_scope_too(app, make_company):
    """POST /api/v1/auth/token's JWT works on the entity APIs with the same company guard."""
    a, b = make_company(), make_company()
    Api(app, make_token(app, b["owner_id"])).post("/api/v1/tags/", {"name": "tylko B"})
    resp = app.test_client().post("/api/v1/auth/token", json={"username": a["email"], "password": STRONG_PASSWORD})
    jwt = resp.get_json()["access_token"]
    api = Api(app, jwt)
    assert api.post("/api/v1/tags/", {"name": "tylko A"}).status_code == 201
    names = [t["name"] for t in api.get("/api/v1/tags/").get_json()["result"]]
    assert names == ["tylko A"]


def test_expired_licence_stops_the_api(app, make_company):
    info = make_company()
    api = Api(app, make_token(app, info["owner_id"]))
    assert api.get("/api/v1/tags/").status_code == 200
    with app.app_context():
        company = db.session.get(Company, info["company_id"])
        company.licence_valid_until = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    resp = api.get("/api/v1/tags/")
    assert resp.status_code == 403
    assert resp.get_json() == {"code": "licence_expired", "message": "Licencja Twojej firmy wygasła."}


def test_token_pages_are_polish(owner_client, csrf_on):
    _create_in_profile(owner_client, "Arkusz")
    for url in ("/profile/api-tokens/", "/api-help/", "/api-help/swagger"):
        resp = owner_client.get(url)
        assert resp.status_code == 200
        assert_polish(resp.text, url, drop=("pre", "code"))


def test_api_help_page_and_local_swagger(app, owner_client):
    page = owner_client.get("/api-help/")
    assert page.status_code == 200
    assert "curl -H" in find_one(page.text, "#api-curl").text_content()
    assert "/api/v1/client-bases/" in find_one(page.text, "#api-curl").text_content()
    swagger = owner_client.get("/api-help/swagger")
    assert swagger.status_code == 200
    scripts = [s.get("src") for s in find_one(swagger.text, "body").iter("script") if s.get("src")]
    assert any(s.endswith("/js/swagger-ui-bundle.js") for s in scripts)
    assert all(s.startswith("/") for s in scripts), scripts  # nothing from another host
    assert owner_client.get(next(s for s in scripts if "swagger-ui-bundle" in s)).status_code == 200
    doc = owner_client.get("/api/v1/_openapi")
    assert doc.status_code == 200
    spec = doc.get_json()
    assert spec["info"]["title"] == "API Klienteli"
    assert "/api/v1/contacts/" in spec["paths"] and "/api/v1/invoices/{pk}/upo" in spec["paths"]
    tags = {t for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict) for t in op.get("tags", [])}
    assert {"Kontakty", "Faktury", "Bazy klientów"} <= tags
    assert "company_id" not in str(spec["components"]["schemas"])
    assert app.test_client().get("/api/v1/_openapi").status_code == 401
