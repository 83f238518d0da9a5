"""WSGI entry for bench/bench_invoices.py: the app on $BENCH_DATABASE_URL, with the SQL count per request.

Served by gunicorn (one sync worker). Every response carries ``X-Bench-SQL``: the number of SQL
statements the request ran (a SQLAlchemy ``before_cursor_execute`` listener, reset per request).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import event  # noqa: E402

from config import TestingConfig  # noqa: E402


class BenchConfig(TestingConfig):
    """Test settings (no scheduler, no rate limit) on the benchmark database, CSRF off."""

    SQLALCHEMY_DATABASE_URI = os.environ["BENCH_DATABASE_URL"]
    WTF_CSRF_ENABLED = False
    SERVER_NAME = None


def build() -> Flask:
    """The application with the per-request SQL counter."""
    from app import create_app
    from app.extensions import db

    application = create_app(BenchConfig)
    counter = {"n": 0}
    with application.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *_a, **_k: counter.__setitem__("n", counter["n"] + 1))

    @application.before_request
    def _reset() -> None:
        counter["n"] = 0

    @application.after_request
    def _header(resp):  # noqa: ANN001, ANN202 - Flask response hook
        resp.headers["X-Bench-SQL"] = str(counter["n"])
        return resp

    return application


app = build()
