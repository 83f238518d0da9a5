"""probe"""
from typing import Any
from sqlalchemy import event
from app.extensions import db
from tests.integration.contacts_data import make_base, make_contact


def test_probe(app: Any, owner_client: Any) -> None:
    cid = owner_client.crm["company_id"]
    base = make_base(app, cid)
    person = make_contact(app, cid, base, kind="person", first_name="Jan", last_name="Kowalski")
    stmts: list[str] = []
    with app.app_context():
        eng = db.engine
    fn = lambda c, cur, s, p, ctx, em: stmts.append(s)
    event.listen(eng, "before_cursor_execute", fn)
    for url in ["/", "/contacts/", "/contacts/?q=Kow", f"/contacts/{person}", "/tasks/", "/offers/", "/invoices/"]:
        owner_client.get(url)
        stmts.clear()
        r = owner_client.get(url)
        print("\n=====", url, r.status_code, len(stmts))
        for s in stmts:
            print("   ", " ".join(s.split())[:220])
    event.remove(eng, "before_cursor_execute", fn)
