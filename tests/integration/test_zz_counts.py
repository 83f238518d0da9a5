from tests.integration.test_sql_per_page import company_with_data, warm_count  # noqa: F401
def test_counts(app, owner_client, company_with_data):  # noqa: F811
    d = company_with_data
    pages = {"dashboard": "/", "contact list": "/contacts/", "search": "/contacts/?q=Kowal",
             "company contact page": f"/contacts/{d['employer']}", "person contact page": f"/contacts/{d['person']}",
             "tasks list": "/tasks/", "offers list": "/offers/", "invoices list": "/invoices/",
             "base": "/bases/", "binders": "/binders/", "orders": "/orders/", "products": "/offers/products/",
             "offer add": "/offers/add", "invoice add": "/invoices/add", "settings": "/settings/company/"}
    for k, u in pages.items():
        n, seen, _ = warm_count(app, owner_client, u)
        print("COUNT", k, n)
        if k in ("dashboard", "company contact page"):
            for s in seen:
                print("   SQL", " ".join(s.split())[:300])
