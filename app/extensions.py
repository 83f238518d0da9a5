"""Unbound extension singletons; every one is bound in create_app()."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from werkzeug.local import LocalProxy

db = get_sqla_class()()
appbuilder = AppBuilder(update_perms=False)
migrate = Migrate()
csrf = CSRFProtect()
security_manager = LocalProxy(lambda: appbuilder.sm)
