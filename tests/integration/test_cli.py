"""flask crm init is idempotent; flask crm demo prints working credentials."""

from sqlalchemy import func, select

from app.extensions import db
from tests.helpers import login


def test_init_is_idempotent_and_roles_as_code(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["crm", "init"])
    second = runner.invoke(args=["crm", "init"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.output == second.output
    with app.app_context():
        from flask_appbuilder.security.sqla.models import PermissionView, Role

        assert db.session.execute(select(func.count()).select_from(Role)).scalar() == 5
        pv = db.session.execute(select(func.count()).select_from(PermissionView)).scalar()
        runner.invoke(args=["crm", "init"])
        assert db.session.execute(select(func.count()).select_from(PermissionView)).scalar() == pv
        db.session.remove()


def test_demo_prints_credentials_that_work(app, client):
    out = app.test_cli_runner().invoke(args=["crm", "demo"]).output
    assert "wlasciciel@demo.klientela.pl" in out and "pracownik@demo.klientela.pl" in out
    again = app.test_cli_runner().invoke(args=["crm", "demo"])
    assert again.exit_code == 0
    from app.services.platform.demo import DEMO_PASSWORD

    assert DEMO_PASSWORD in out
    assert login(client, "wlasciciel@demo.klientela.pl", DEMO_PASSWORD).status_code == 302
    assert "Demo Sp. z o.o." in client.get("/").text
