"""Unbound extension singletons; every one is bound in create_app()."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask_appbuilder import AppBuilder
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.local import LocalProxy

db = get_sqla_class()()
appbuilder = AppBuilder(update_perms=False)
migrate = Migrate()
csrf = CSRFProtect()
security_manager = LocalProxy(lambda: appbuilder.sm)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """SQLite connections wait up to 30 s for another writer instead of failing at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")


def install_sqlite_settings() -> None:
    """Attach the SQLite connection settings to every engine (idempotent)."""
    if not event.contains(Engine, "connect", _sqlite_on_connect):
        event.listen(Engine, "connect", _sqlite_on_connect)
