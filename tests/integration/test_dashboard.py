"""The start page shows the company's figures, only its own."""

from app.services.platform.demo import DEMO_OWNER, DEMO_PASSWORD
from tests.helpers import login, text


def stat(html: str, name: str) -> str:
    return text(html, f"#stat-{name}")


def test_dashboard_figures_are_the_companys_own(app, client, make_company):
    app.test_cli_runner().invoke(args=["crm", "demo"])
    other = make_company()
    login(client, DEMO_OWNER, DEMO_PASSWORD)
    page = client.get("/").text
    assert stat(page, "contacts") == "9"
    assert stat(page, "overdue") == "0" and stat(page, "offers") == "0"
    assert "Moje najbliższe zadania" in page
    client.post("/logout/")
    login(client, other["email"])
    assert stat(client.get("/").text, "contacts") == "0"


def test_dashboard_counts_open_offers(app, owner_client):
    from tests.integration.sales_fixtures import offer_form, seed_sales

    seed = seed_sales(app, owner_client.crm)
    assert owner_client.post("/offers/add", data=offer_form(seed)).status_code == 302
    assert owner_client.post("/offers/add", data=offer_form(seed)).status_code == 302
    page = owner_client.get("/").text
    assert stat(page, "offers") == "2"
    assert "szkice: 2, wysłane: 0" in page
