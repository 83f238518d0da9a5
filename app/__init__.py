"""create_app(): the one composition root."""

from __future__ import annotations

import os
from typing import Any, Optional

from flask import Flask, g, request
from flask.typing import ResponseReturnValue
from flask_babel import get_translations
from flask_login import current_user
from flask_migrate import upgrade

from app import models  # noqa: F401  (registers every table)
from app.cli import register_cli
from app.extensions import appbuilder, csrf, db, install_sqlite_settings, migrate
from app.scheduler import install_in_process_start
from app.security import licence
from app.security.inputs import install_id_converter, install_input_guard
from app.security.tenancy import install_tenancy_hooks
from app.security.terms import install_terms_gate
from app.security.web import install_two_factor_gate, install_web_security
from app.services.accounts.security_policy import needs_2fa_setup
from app.services.platform import legal
from app.views import register_views
from app.views.context import register_context
from app.views.dashboard import licence_blocked_response
from app.views.errors import register_error_handlers
from config import CONFIGS

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config: Optional[Any] = None) -> Flask:
    """Build the Flask app: config, extensions, FAB, views, hooks, CLI."""
    app = Flask(__name__, instance_path=os.environ.get("CRM_INSTANCE_DIR") or None)
    if config is None:
        config = CONFIGS[os.environ.get("CRM_ENV", "development")]
    app.config.from_object(config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in the environment")

    install_id_converter(app)
    install_tenancy_hooks()
    install_sqlite_settings()
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)

    with app.app_context():
        if app.config.get("AUTO_MIGRATE"):
            upgrade(directory=MIGRATIONS_DIR, revision="heads")
        appbuilder.init_app(app, db.session)
        register_views(appbuilder)

    _register_request_hooks(app)
    install_web_security(app)
    install_two_factor_gate(app, needs_2fa_setup)
    install_terms_gate(app, legal.pending_for)
    register_error_handlers(app)
    register_context(app)
    register_cli(app)
    install_in_process_start(app)
    install_input_guard(app)
    return app


def _register_request_hooks(app: Flask) -> None:
    """Install the request hooks of the app: form messages in Polish, the company scope, the licence check."""

    @app.before_request
    def _wtforms_messages_from_our_catalog() -> None:
        """WTForms/Flask-WTF validation messages come from our complete Polish catalog."""
        request.wtforms_translations = get_translations()  # type: ignore[attr-defined]

    @app.before_request
    def _tenant_context() -> ResponseReturnValue | None:
        """Put the current company in g for the tenancy hook; block expired licences."""
        g.company_id = None
        user = current_user
        if user is None or not getattr(user, "is_authenticated", False):
            token_user = licence.api_token_user()
            company = getattr(token_user, "company", None)
            if company is not None and not company.licence_active():
                return licence_blocked_response()
            return None
        g.company_id = user.company_id
        company = user.company
        if company is not None and not company.licence_active():
            if not licence.reachable_while_blocked(user, request.endpoint, request.path):
                return licence_blocked_response()
        return None
