"""contact substring search on SQLite: FTS5 trigram index kept in sync by triggers

PostgreSQL already searches substrings through the pg_trgm GIN indexes of 0003_contacts_search,
so this revision does nothing there. On SQLite (3.34 or newer, the first with the ``trigram``
tokenizer) it adds ``contact_fts``, an external-content FTS5 table over the normalised search
columns of ``contact`` (rowid = contact.id), filled from the existing rows and kept in sync by
three triggers. The contacts service joins it back to ``contact`` on id and company_id.

Note for later migrations: a batch ("move and copy") rebuild of the ``contact`` table on SQLite
drops its triggers; re-create them with ``create_triggers()`` from this module afterwards.

Revision ID: 0008_contacts_fts
Revises: 0007_sales
Create Date: 2026-11-28 12:00:00

"""
import sqlite3

from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_contacts_fts'
down_revision = '0007_sales'
branch_labels = None
depends_on = None

#: the searched columns, the same the PostgreSQL trigram indexes cover
COLUMNS = ('name_sort', 'city_norm', 'email', 'nip', 'phone')
TRIGGERS = ('contact_fts_ai', 'contact_fts_ad', 'contact_fts_au')


def _fts_supported() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return False
    return tuple(int(p) for p in sqlite3.sqlite_version.split('.')[:2]) >= (3, 34)


def create_triggers() -> None:
    """(Re-)create the triggers that keep contact_fts in step with contact."""
    cols = ', '.join(COLUMNS)
    new = ', '.join(f'new.{c}' for c in COLUMNS)
    old = ', '.join(f'old.{c}' for c in COLUMNS)
    op.execute(
        f'CREATE TRIGGER IF NOT EXISTS contact_fts_ai AFTER INSERT ON contact BEGIN '
        f'INSERT INTO contact_fts(rowid, {cols}) VALUES (new.id, {new}); END'
    )
    op.execute(
        f'CREATE TRIGGER IF NOT EXISTS contact_fts_ad AFTER DELETE ON contact BEGIN '
        f"INSERT INTO contact_fts(contact_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f'CREATE TRIGGER IF NOT EXISTS contact_fts_au AFTER UPDATE OF {cols} ON contact BEGIN '
        f"INSERT INTO contact_fts(contact_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f'INSERT INTO contact_fts(rowid, {cols}) VALUES (new.id, {new}); END'
    )


def upgrade():
    if not _fts_supported():
        return
    op.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS contact_fts USING fts5({', '.join(COLUMNS)}, "
        "content='contact', content_rowid='id', tokenize='trigram')"
    )
    op.execute("INSERT INTO contact_fts(contact_fts) VALUES ('rebuild')")
    create_triggers()


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name in TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {name}')
    op.execute('DROP TABLE IF EXISTS contact_fts')
