"""The migrations build exactly the schema the models describe (on SQLite and on PostgreSQL).

Alembic's autogenerate compares the test database, migrated to head by the ``app`` fixture, with
the ORM metadata: any difference means a model changed without a migration (or the other way
round), and ``flask db migrate`` would write a migration nobody reviewed.
"""

from __future__ import annotations

import pprint
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_appbuilder import Model


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """The rule of migrations/env.py (kept equal to it: the `flask db check` test below runs env.py's own).

    Left out: the SQLite FTS5 tables of migration 0008 and the PostgreSQL trigram indexes of 0003
    and 0017.
    """
    if type_ == "table" and name and name.startswith("contact_fts"):
        return False
    return not (type_ == "index" and name and name.startswith(("ix_contact_trgm_", "ix_invoice_trgm_")))


def test_models_and_migrations_agree(app: Any) -> None:
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        opts = {**app.extensions["migrate"].configure_args, "include_name": include_name}
        opts.pop("process_revision_directives", None)
        context = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(context, Model.metadata)
        dialect = conn.dialect.name
    assert diff == [], f"{dialect}: models and migrations differ:\n{pprint.pformat(diff)}"


def test_the_left_out_search_objects_are_there_on_their_database(app: Any) -> None:
    """What the rule above leaves out of the comparison exists, on its own database only."""
    from sqlalchemy import inspect

    from app.extensions import db

    trgm = {"ix_contact_trgm_name", "ix_contact_trgm_email", "ix_contact_trgm_city", "ix_contact_trgm_nip",
            "ix_contact_trgm_phone"}
    invoice_trgm = {"ix_invoice_trgm_number", "ix_invoice_trgm_buyer_name", "ix_invoice_trgm_buyer_nip"}
    with app.app_context(), db.engine.connect() as conn:
        inspector = inspect(conn)
        tables = set(inspector.get_table_names())
        indexes = {ix["name"] for ix in inspector.get_indexes("contact")}
        invoice_indexes = {ix["name"] for ix in inspector.get_indexes("invoice")}
        expected = {"postgresql": (trgm, invoice_trgm, False), "sqlite": (set(), set(), True)}[conn.dialect.name]
    assert (indexes & trgm, invoice_indexes & invoice_trgm, "contact_fts" in tables) == expected


def test_database_is_at_the_single_head(app: Any) -> None:
    from app import MIGRATIONS_DIR
    from app.extensions import db

    heads = ScriptDirectory(MIGRATIONS_DIR).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    with app.app_context(), db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)


def test_flask_db_check_finds_nothing_to_migrate(app: Any) -> None:
    """The same comparison through migrations/env.py itself, as `flask db check` runs it."""
    from flask_migrate import check

    from app import MIGRATIONS_DIR

    with app.app_context():
        try:
            check(directory=MIGRATIONS_DIR)
        except SystemExit as exit_:  # Flask-Migrate logs the differences, then exits 1
            pytest.fail(f"`flask db check` found differences between the models and the migrations (exit {exit_.code})")
