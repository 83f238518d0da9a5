"""Nightly backups of all data: the database and the stored files in one archive per run.

An archive ``klientela-YYYYmmdd-HHMMSS.tar.gz`` under BACKUP_DIR (default ``<instance>/backups``)
holds ``database.sqlite3`` (SQLite online backup API) or ``database.pgdump`` (pg_dump custom
format), the ``files/`` folder of the local storage and ``manifest.json``. Archives older than
BACKUP_KEEP_DAYS are removed after each run. ``restore_backup`` puts an archive back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Optional

from flask import current_app
from sqlalchemy import func, select, text

from app.extensions import db
from app.models.company import Company
from app.models.mixins import utcnow
from app.security.tenancy import all_tenants

PREFIX = "klientela-"


def backup_dir() -> Path:
    """Where archives are kept."""
    path = Path(current_app.config.get("BACKUP_DIR") or os.path.join(current_app.instance_path, "backups"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def files_dir() -> Path:
    """The local storage folder (see app/integrations/storage.py)."""
    return Path(current_app.config.get("FILES_DIR") or os.path.join(current_app.instance_path, "files"))


def _libpq_url() -> str:
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for cand in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(cand)
    raise RuntimeError(f"{name} not found (apt-get install postgresql-client)")


def _dump_database(folder: Path) -> str:
    engine = db.engine
    if engine.dialect.name == "sqlite":
        target = folder / "database.sqlite3"
        src = sqlite3.connect(engine.url.database)
        dest = sqlite3.connect(target)
        with dest:
            src.backup(dest)
        src.close()
        dest.close()
        return target.name
    target = folder / "database.pgdump"
    subprocess.run(
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "-f", str(target), _libpq_url()],
        check=True, capture_output=True,
    )
    return target.name


def run_backup(now: Optional[dt.datetime] = None) -> Path:
    """Write one archive of the whole installation, prune old ones, return its path."""
    now = now or utcnow()
    with all_tenants():
        companies = db.session.execute(select(func.count(Company.id))).scalar_one()
    revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.session.remove()
    target = backup_dir() / f"{PREFIX}{now:%Y%m%d-%H%M%S}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_name = _dump_database(folder)
        manifest = {
            "created_at": now.isoformat(timespec="seconds") + "Z",
            "dialect": db.engine.dialect.name,
            "alembic_revision": revision,
            "companies": companies,
            "database": db_name,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = target.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(folder / "manifest.json", arcname="manifest.json")
            tar.add(folder / db_name, arcname=db_name)
            if files_dir().is_dir():
                tar.add(files_dir(), arcname="files")
        partial.chmod(0o600)
        partial.rename(target)
    prune(now=now)
    return target


def list_backups() -> list[Path]:
    """Archives, newest first."""
    return sorted(backup_dir().glob(f"{PREFIX}*.tar.gz"), reverse=True)


def prune(keep_days: Optional[int] = None, now: Optional[dt.datetime] = None) -> int:
    """Delete archives older than ``keep_days`` (BACKUP_KEEP_DAYS); return how many."""
    keep = keep_days if keep_days is not None else int(current_app.config.get("BACKUP_KEEP_DAYS", 14))
    limit = (now or utcnow()) - dt.timedelta(days=keep)
    removed = 0
    for path in list_backups():
        stamp = dt.datetime.strptime(path.name[len(PREFIX):-len(".tar.gz")], "%Y%m%d-%H%M%S")
        if stamp < limit:
            path.unlink()
            removed += 1
    return removed


def read_manifest(archive: Path) -> dict:
    """The manifest of an archive."""
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        return json.loads(member.read()) if member else {}


def restore_backup(archive: Path) -> dict:
    """Replace the database and stored files with an archive's content (the app must be idle)."""
    manifest = read_manifest(archive)
    if manifest.get("dialect") != db.engine.dialect.name:
        raise ValueError(f"archive is for {manifest.get('dialect')}, the database is {db.engine.dialect.name}")
    db.session.remove()
    db.engine.dispose()
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp, filter="data")
        folder = Path(tmp)
        if db.engine.dialect.name == "sqlite":
            src = sqlite3.connect(folder / manifest["database"])
            dest = sqlite3.connect(db.engine.url.database)
            with dest:
                src.backup(dest)
            src.close()
            dest.close()
        else:
            subprocess.run(
                [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", "-d", _libpq_url(), str(folder / manifest["database"])],
                check=True, capture_output=True,
            )
        if (folder / "files").is_dir():
            shutil.rmtree(files_dir(), ignore_errors=True)
            shutil.copytree(folder / "files", files_dir())
    db.engine.dispose()
    return manifest
