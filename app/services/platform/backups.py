"""Nightly backups of all data, verified, copied off the server, and drilled once a month.

An archive ``klientela-YYYYmmdd-HHMMSS.tar.gz`` under BACKUP_DIR (default ``<instance>/backups``)
holds ``database.sqlite3`` (SQLite online backup API) or ``database.pgdump`` (pg_dump custom
format), the ``files/`` folder of the local storage and, last, ``manifest.json``: the SHA-256 and
size of every other member and the row count of every table. Next to it ``<archive>.sha256``
(``sha256sum`` format) holds the checksum of the whole archive. After writing, the archive is read
back and checked, then copied to the optional second destinations (BACKUP_COPY_DIR, a folder on
another mount; BACKUP_S3_*, an S3-compatible bucket) and each copy is read back and compared. Every
run is a ``Backup`` row (the history the platform admin sees); a failed backup or copy e-mails the
platform admin. ``restore_backup`` verifies an archive completely before it changes anything.
``run_restore_drill`` restores the newest archive into a scratch database and compares the row
count of every table with the manifest. The ``backup`` table's rows are not put into archives, so
the history outlives a restore.

These are platform services over the whole installation (``all_tenants()`` on purpose). A backup
run is not one unit of work: its history row is committed first ("running"), so a failure of the
long work that follows is still recorded and reported; each step of the record is its own unit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import URL, create_engine, delete, func, insert, select, text

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.integrations.storage import LocalStorage, S3Storage, Storage, StorageError, sha256_file
from app.models.backups import Backup
from app.models.company import Company
from app.models.mixins import utcnow
from app.models.users import CrmUser
from app.security.roles import PLATFORM_ADMIN
from app.security.tenancy import all_tenants
from app.services import DomainError, formats, unit_of_work

log = logging.getLogger(__name__)

PREFIX = "klientela-"
MANIFEST = "manifest.json"
FORMAT = 2
#: tables whose rows are not put into archives (the backup history outlives a restore)
HISTORY_TABLE = Backup.__tablename__

STATUS_LABELS = {
    "running": _l("Running"),
    "ok": _l("Succeeded"),
    "copy_failed": _l("Not copied"),
    "failed": _l("Failed (no archive)"),
}
KIND_LABELS = {"local": _l("This server"), "dir": _l("Folder"), "s3": _l("S3 bucket")}


class BackupError(DomainError):
    """A backup could not be made, or an archive cannot be restored; nothing was changed."""


# --- places -----------------------------------------------------------------------------------------


def backup_dir() -> Path:
    """Where archives are kept."""
    path = Path(current_app.config.get("BACKUP_DIR") or os.path.join(current_app.instance_path, "backups"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def files_dir() -> Path:
    """The local storage folder (see app/integrations/storage.py)."""
    return Path(current_app.config.get("FILES_DIR") or os.path.join(current_app.instance_path, "files"))


def sidecar(archive: Path) -> Path:
    """The ``.sha256`` file next to an archive."""
    return archive.with_name(archive.name + ".sha256")


@dataclass
class Destination:
    """A second place that receives a copy of every archive."""

    kind: str
    storage: Optional[Storage]
    target: str
    problem: Optional[str] = None


def destinations() -> list[Destination]:
    """The configured second destinations (BACKUP_COPY_DIR, BACKUP_S3_BUCKET)."""
    cfg = current_app.config
    found: list[Destination] = []
    copy_dir = cfg.get("BACKUP_COPY_DIR")
    if copy_dir:
        # never created here: a missing folder means the other disk is not mounted
        if Path(copy_dir).is_dir():
            storage: Storage = LocalStorage(copy_dir)
            found.append(Destination("dir", storage, storage.label))
        else:
            found.append(Destination("dir", None, str(copy_dir), f"folder {copy_dir} does not exist (not mounted?)"))
    bucket = cfg.get("BACKUP_S3_BUCKET")
    if bucket:
        prefix = cfg.get("BACKUP_S3_PREFIX") or ""
        try:
            storage = S3Storage(
                bucket, prefix, endpoint_url=cfg.get("BACKUP_S3_ENDPOINT_URL"),
                access_key_id=cfg.get("BACKUP_S3_ACCESS_KEY_ID"),
                secret_access_key=cfg.get("BACKUP_S3_SECRET_ACCESS_KEY"),
                region=cfg.get("BACKUP_S3_REGION"), timeout=int(cfg.get("BACKUP_S3_TIMEOUT", 20)),
            )
        except Exception as err:  # noqa: BLE001 (bad settings are reported like a failed copy)
            found.append(Destination("s3", None, f"s3://{bucket}/{prefix}", str(err)))
        else:
            found.append(Destination("s3", storage, storage.label))
    return found


# --- database dump and row counts ------------------------------------------------------------------


def _libpq_url(url: Any = None) -> str:
    """A libpq URL without the password (that goes through PGPASSWORD, not the process list)."""
    url = url if url is not None else db.engine.url
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                      query=url.query)
    return bare.render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for cand in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(cand)
    raise RuntimeError(f"{name} not found (apt-get install postgresql-client)")


def _run_tool(args: list[str]) -> None:
    env = dict(os.environ)
    if db.engine.url.password:
        env["PGPASSWORD"] = str(db.engine.url.password)
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-1500:]}")


def sqlite_row_counts(path: Path) -> dict[str, int]:
    """Rows per table of a SQLite database file."""
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def pg_row_counts(conn: Any) -> dict[str, int]:
    """Rows per table of the current schema of a PostgreSQL connection."""
    names = conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).scalars().all()
    return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def _dump_database(folder: Path) -> tuple[str, dict[str, int]]:
    """Write the database into ``folder``; return the file name and the row count of every table."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        target = folder / "database.sqlite3"
        src = sqlite3.connect(engine.url.database)
        dest = sqlite3.connect(target)
        try:
            with dest:
                src.backup(dest)
            with dest:
                dest.execute(f'DELETE FROM "{HISTORY_TABLE}"')
            dest.execute("VACUUM")
        finally:
            src.close()
            dest.close()
        return target.name, sqlite_row_counts(target)
    target = folder / "database.pgdump"
    # the counts and the dump see the same snapshot, so the manifest describes exactly the dump
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = pg_row_counts(conn)
        counts[HISTORY_TABLE] = 0
        _run_tool([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                   f"--snapshot={snapshot}", f"--exclude-table-data={HISTORY_TABLE}", "-f", str(target), _libpq_url()])
        conn.rollback()
    return target.name, counts


# --- writing and verifying archives ----------------------------------------------------------------


class _HashingReader:
    """A file wrapper that hashes what tarfile reads from it."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all when -1)."""
        data = self.fh.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, path: Path, arcname: str, sums: dict[str, dict[str, Any]]) -> None:
    info = tar.gettarinfo(str(path), arcname=arcname)
    with open(path, "rb") as fh:
        reader = _HashingReader(fh)
        tar.addfile(info, reader)
    sums[arcname] = {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _write_archive(target: Path, now: dt.datetime) -> dict[str, Any]:
    """Write the archive (atomically) and its ``.sha256``; return the manifest."""
    with all_tenants():  # the whole installation
        companies = db.session.execute(select(func.count(Company.id))).scalar_one()
    revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.session.remove()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_name, counts = _dump_database(folder)
        sums: dict[str, dict[str, Any]] = {}
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            _add(tar, folder / db_name, db_name, sums)
            root = files_dir()
            if root.is_dir():
                for path in sorted(root.rglob("*")):
                    if path.is_file() and not path.is_symlink() and not path.name.endswith(".part"):
                        _add(tar, path, "files/" + path.relative_to(root).as_posix(), sums)
            manifest = {
                "format": FORMAT,
                "created_at": now.isoformat(timespec="seconds") + "Z",
                "dialect": db.engine.dialect.name,
                "alembic_revision": revision,
                "companies": companies,
                "database": db_name,
                "tables": counts,
                "files": sums,
            }
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            with contextlib.closing(_BytesReader(data)) as reader:
                tar.addfile(info, reader)
        partial.chmod(0o600)
        partial.rename(target)
    side = sidecar(target)
    side.write_text(f"{sha256_file(target)}  {target.name}\n")
    side.chmod(0o600)
    return manifest


class _BytesReader:
    """A file-like reader over bytes (the manifest member of an archive)."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all when -1)."""
        return self._io.read(size)

    def close(self) -> None:
        """Release the buffer."""
        self._io.close()


def _recorded_sha256(archive: Path) -> Optional[str]:
    """The archive's checksum from its ``.sha256`` file, or from the history."""
    side = sidecar(archive)
    if side.is_file():
        first = side.read_text().split()
        return first[0].lower() if first else ""
    try:
        return db.session.execute(
            select(Backup.sha256).where(Backup.file_name == archive.name, Backup.sha256.is_not(None))
            .order_by(Backup.id.desc())).scalar()
    except Exception:  # noqa: BLE001 (a database without the history: nothing recorded)
        db.session.rollback()  # the failed read must not poison the session of the steps that follow
        return None


def verify_archive(archive: Path) -> dict[str, Any]:  # noqa: C901 (every check of an archive, in the order it must run)
    """Read the whole archive and check every checksum; return its manifest or raise BackupError.

    Checks the archive's SHA-256 against its ``.sha256`` file (or the history), the gzip stream
    and the tar structure (a truncated or damaged file), and the SHA-256 and size of every member
    against the manifest, which must list exactly the members present.
    """
    name = archive.name
    found: dict[str, dict[str, Any]] = {}
    manifest_bytes: Optional[bytes] = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(_l("The backup %(name)s is damaged: it holds an unexpected entry %(entry)s. "
                                         "Nothing was changed.", name=name, entry=member.name))
                fh = tar.extractfile(member)
                if fh is None:
                    raise BackupError(_l("The backup %(name)s is damaged: it holds an unexpected entry %(entry)s. "
                                         "Nothing was changed.", name=name, entry=member.name))
                digest, size, chunks = hashlib.sha256(), 0, []
                for chunk in iter(functools.partial(fh.read, 1024 * 1024), b""):
                    digest.update(chunk)
                    size += len(chunk)
                    if member.name == MANIFEST:
                        chunks.append(chunk)
                if size != member.size:
                    raise EOFError("member cut off")
                if member.name == MANIFEST:
                    manifest_bytes = b"".join(chunks)
                else:
                    found[member.name] = {"sha256": digest.hexdigest(), "size": size}
            # tarfile stops quietly at a damaged header: read the compressed stream to its end (and CRC)
            while tar.fileobj.read(1024 * 1024):
                pass
    except BackupError:
        raise
    except EOFError:
        raise BackupError(_l("The backup %(name)s is incomplete: the file is cut off (truncated). "
                             "Nothing was changed.", name=name)) from None
    except (tarfile.TarError, zlib.error, gzip.BadGzipFile, OSError) as err:
        if "unexpected end" in str(err) or "end-of-stream" in str(err):
            raise BackupError(_l("The backup %(name)s is incomplete: the file is cut off (truncated). "
                                 "Nothing was changed.", name=name)) from None
        raise BackupError(_l("The backup %(name)s is damaged and cannot be read (%(detail)s). Nothing was changed.",
                             name=name, detail=str(err) or type(err).__name__)) from None
    if manifest_bytes is None:
        raise BackupError(_l("The backup %(name)s has no manifest with checksums, so it cannot be verified. "
                             "Nothing was changed.", name=name))
    try:
        manifest = json.loads(manifest_bytes)
        expected = manifest["files"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(_l("The backup %(name)s has no manifest with checksums, so it cannot be verified. "
                             "Nothing was changed.", name=name)) from None
    for member, want in expected.items():
        got = found.get(member)
        if got is None:
            raise BackupError(_l("The backup %(name)s is incomplete: %(entry)s is missing. Nothing was changed.",
                                 name=name, entry=member))
        if got != {"sha256": want.get("sha256"), "size": want.get("size")}:
            raise BackupError(_l("The backup %(name)s is damaged: the SHA-256 checksum of %(entry)s does not "
                                 "match the manifest. Nothing was changed.", name=name, entry=member))
    extra = sorted(set(found) - set(expected))
    if extra:
        raise BackupError(_l("The backup %(name)s is damaged: it holds an unexpected entry %(entry)s. "
                             "Nothing was changed.", name=name, entry=extra[0]))
    recorded = _recorded_sha256(archive)
    if recorded is not None and recorded != sha256_file(archive):
        raise BackupError(_l("The backup %(name)s is damaged: its SHA-256 checksum does not match the one "
                             "recorded when it was made. Nothing was changed.", name=name))
    return manifest


# --- one backup run ----------------------------------------------------------------------------------


def _copy(archive: Path, dest: Destination, sha: str, size: int) -> dict[str, Any]:
    """Copy the archive and its ``.sha256`` to one destination and read the copy back."""
    entry: dict[str, Any] = {"kind": dest.kind, "target": dest.target, "ok": False, "error": dest.problem}
    if dest.storage is None:
        return entry
    try:
        dest.storage.put_file(archive.name, archive)
        dest.storage.put_file(sidecar(archive).name, sidecar(archive))
        got_size, got_sha = dest.storage.checksum(archive.name)
        if (got_size, got_sha) != (size, sha):
            raise StorageError(f"the copy differs from the archive (size {got_size} instead of {size})")
    except (StorageError, OSError) as err:
        entry["error"] = str(err)[:1000]
    else:
        entry["ok"] = True
    return entry


def run_backup(now: Optional[dt.datetime] = None) -> Backup:
    """Make, verify and copy one archive of the whole installation; record it; prune old archives.

    A failure (no archive, or a copy that did not arrive) is recorded and e-mailed to the platform
    admin; when no archive could be made, BackupError is raised after that.
    """
    now = now or utcnow()
    name = f"{PREFIX}{now:%Y%m%d-%H%M%S}.tar.gz"
    record_id = _start_record(now, name)
    target: Optional[Path] = None
    try:
        target = backup_dir() / name
        _write_archive(target, now)
        verify_archive(target)
    except Exception as err:  # noqa: BLE001 (any failure is recorded and reported)
        log.exception("backup failed")
        db.session.rollback()  # what the failed step left in the session; the record is written anew
        where = str(target.parent) if target else str(current_app.config.get("BACKUP_DIR") or "")
        record = _record_failure(record_id, str(err)[:2000] or type(err).__name__, where)
        _alert_failure(record)
        if target is not None:
            for path in (target, sidecar(target), target.with_name(target.name + ".partial")):
                path.unlink(missing_ok=True)
        raise BackupError(_l("The backup failed: %(error)s", error=record.error)) from err
    size, sha = target.stat().st_size, sha256_file(target)
    entries = [{"kind": "local", "target": str(target.parent), "ok": True, "error": None}]
    entries += [_copy(target, dest, sha, size) for dest in destinations()]
    record = _record_result(record_id, size, sha, entries)
    if record.status != "ok":
        _alert_failure(record)
    prune(now=now)
    return record


@unit_of_work
def _start_record(now: dt.datetime, name: str) -> int:
    """Commit the "running" history row of a backup run; return its id."""
    record = Backup(started_at=now, status="running", file_name=name, destinations=[], verified=False)
    db.session.add(record)
    db.session.flush()
    return record.id


@unit_of_work
def _record_failure(record_id: int, error: str, where: str) -> Backup:
    """Mark a backup run failed (no archive) with its error."""
    record = db.session.get(Backup, record_id)
    record.status, record.finished_at, record.error = "failed", utcnow(), error
    record.destinations = [{"kind": "local", "target": where, "ok": False, "error": error}]
    return record


@unit_of_work
def _record_result(record_id: int, size: int, sha: str, entries: list[dict[str, Any]]) -> Backup:
    """Record a verified archive and where its copies went."""
    record = db.session.get(Backup, record_id)
    record.size, record.sha256, record.verified = size, sha, True
    record.destinations = entries
    record.status = "ok" if all(e["ok"] for e in entries) else "copy_failed"
    record.finished_at = utcnow()
    return record


def list_backups() -> list[Path]:
    """Archives, newest first."""
    return sorted(backup_dir().glob(f"{PREFIX}*.tar.gz"), reverse=True)


def prune(keep_days: Optional[int] = None, now: Optional[dt.datetime] = None) -> int:
    """Delete local archives older than ``keep_days`` (BACKUP_KEEP_DAYS); return how many."""
    keep = keep_days if keep_days is not None else int(current_app.config.get("BACKUP_KEEP_DAYS", 14))
    limit = (now or utcnow()) - dt.timedelta(days=keep)
    removed = 0
    for path in list_backups():
        stamp = dt.datetime.strptime(path.name[len(PREFIX):-len(".tar.gz")], "%Y%m%d-%H%M%S")
        if stamp < limit:
            path.unlink()
            sidecar(path).unlink(missing_ok=True)
            removed += 1
    return removed


def read_manifest(archive: Path) -> dict:
    """The manifest of an archive (not verified; see verify_archive)."""
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MANIFEST)
        return json.loads(member.read()) if member else {}


# --- restore -------------------------------------------------------------------------------------------


def _history_rows() -> list[dict[str, Any]]:
    """The backup history as plain rows (kept across a restore)."""
    try:
        rows = db.session.execute(select(Backup.__table__)).mappings().all()
    except Exception:  # noqa: BLE001 (no history table yet)
        db.session.rollback()  # the failed read must not poison the session of the restore
        return []
    return [dict(r) for r in rows]


def _put_history_back(rows: list[dict[str, Any]]) -> None:
    table = Backup.__table__
    with db.engine.begin() as conn:
        conn.execute(delete(table))
        if rows:
            conn.execute(insert(table), rows)
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{HISTORY_TABLE}', 'id'), "
                              f"coalesce((SELECT max(id) FROM \"{HISTORY_TABLE}\"), 0) + 1, false)"))


def restore_backup(archive: Path) -> dict:
    """Replace the database and stored files with a verified archive (the app must be idle).

    The archive is checked completely first; a damaged, truncated or foreign archive raises
    BackupError and nothing is changed. The backup history is kept as it was.
    """
    manifest = verify_archive(archive)
    if manifest.get("dialect") != db.engine.dialect.name:
        raise BackupError(_l("The backup %(name)s is of a %(archive)s database, this installation uses %(db)s. "
                             "Nothing was changed.", name=archive.name, archive=manifest.get("dialect"),
                             db=db.engine.dialect.name))
    history = _history_rows()
    db.session.remove()
    db.engine.dispose()
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive, "r:gz") as tar:
        tar.extractall(tmp, filter="data")
        folder = Path(tmp)
        if db.engine.dialect.name == "sqlite":
            src = sqlite3.connect(folder / manifest["database"])
            dest = sqlite3.connect(db.engine.url.database)
            try:
                with dest:
                    src.backup(dest)
            finally:
                src.close()
                dest.close()
        else:
            _run_tool([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                       "--single-transaction", "-d", _libpq_url(), str(folder / manifest["database"])])
        if (folder / "files").is_dir():
            shutil.rmtree(files_dir(), ignore_errors=True)
            shutil.copytree(folder / "files", files_dir())
    db.engine.dispose()
    _put_history_back(history)
    return manifest


# --- monthly restore drill ---------------------------------------------------------------------------


@contextlib.contextmanager
def _scratch_database(folder: Path) -> Iterator[tuple[str, Any]]:
    """A scratch database next to the real one: (kind, SQLite path or PostgreSQL URL); removed after."""
    if db.engine.dialect.name == "sqlite":
        yield "sqlite", folder / "drill.sqlite3"
        return
    name = f"{db.engine.url.database}_drill_{uuid.uuid4().hex[:8]}"
    admin = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield "postgresql", db.engine.url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drill_archive(archive: Path) -> dict[str, Any]:
    """Verify an archive, restore its database into a scratch database and compare row counts.

    Returns ``{"ok", "tables", "rows", "mismatches": [[table, expected, found]], "error"}``.
    """
    result: dict[str, Any] = {"ok": False, "tables": 0, "rows": 0, "mismatches": [], "error": None}
    try:
        manifest = verify_archive(archive)
        expected: dict[str, int] = manifest.get("tables") or {}
        with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive, "r:gz") as tar:
            folder = Path(tmp)
            tar.extract(manifest["database"], folder, filter="data")
            dump = folder / manifest["database"]
            with _scratch_database(folder) as (kind, where):
                if kind == "sqlite":
                    src, dest = sqlite3.connect(dump), sqlite3.connect(where)
                    try:
                        with dest:
                            src.backup(dest)
                    finally:
                        src.close()
                        dest.close()
                    found = sqlite_row_counts(where)
                else:
                    _run_tool([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
                               "-d", _libpq_url(where), str(dump)])
                    engine = create_engine(where)
                    try:
                        with engine.connect() as conn:
                            found = pg_row_counts(conn)
                    finally:
                        engine.dispose()
        for table in sorted(set(expected) | set(found)):
            if expected.get(table) != found.get(table):
                result["mismatches"].append([table, expected.get(table), found.get(table)])
        result["tables"], result["rows"] = len(found), sum(found.values())
        if not expected:
            result["error"] = "the manifest lists no tables"
        result["ok"] = not result["mismatches"] and bool(expected)
    except Exception as err:  # noqa: BLE001 (the drill reports every failure)
        log.exception("restore drill failed")
        result["error"] = str(err)[:2000] or type(err).__name__
    return result


def run_restore_drill() -> Optional[Backup]:
    """Drill the newest good archive: restore it into a scratch database, compare, record, e-mail the admin."""
    db.session.remove()
    candidates = db.session.execute(
        select(Backup).where(Backup.status.in_(("ok", "copy_failed"))).order_by(Backup.started_at.desc())
    ).scalars().all()
    folder = backup_dir()
    record = next((b for b in candidates if (folder / b.file_name).is_file()), None)
    if record is None:
        _notify_admin(gettext("Backup restore drill failed"),
                      gettext("There is no backup on this server to test."))
        return None
    record = _record_drill(record.id, drill_archive(folder / record.file_name))
    _report_drill(record)
    return record


@unit_of_work
def _record_drill(record_id: int, result: dict[str, Any]) -> Backup:
    """Record the outcome of a restore drill on its backup's history row."""
    record = db.session.get(Backup, record_id)
    record.drill_at, record.drill_ok, record.drill_result = utcnow(), result["ok"], result
    return record


# --- telling the platform admin --------------------------------------------------------------------


def admin_recipients() -> list[str]:
    """Who gets backup alerts: CRM_ADMIN_EMAIL, else every active platform admin account."""
    configured = current_app.config.get("PLATFORM_ADMIN_EMAIL")
    if configured:
        return [configured]
    with all_tenants():  # platform admins belong to no company
        users = db.session.execute(select(CrmUser).where(CrmUser.active.is_(True))).scalars().all()
        return sorted({u.email for u in users if u.email and PLATFORM_ADMIN in u.role_names})


def _notify_admin(subject: str, body: str) -> None:
    if not mail_configured():
        log.warning("no SMTP server: not sent to the platform admin: %s", subject)
        return
    for to in admin_recipients():
        try:
            send_mail(to, subject, body)
        except OSError:
            log.exception("could not e-mail the platform admin about backups")


def _destination_line(entry: dict[str, Any]) -> str:
    state = gettext("OK") if entry.get("ok") else gettext("FAILED: %(error)s", error=entry.get("error") or "")
    return f"- {KIND_LABELS.get(str(entry.get('kind')), entry.get('kind'))} {entry.get('target')}: {state}"


def _alert_failure(record: Backup) -> None:
    if record.status == "failed":
        subject = gettext("Backup failed")
        lead = gettext("The backup of %(time)s failed; no archive was made.", time=local_time(record.started_at))
    else:
        subject = gettext("Backup copy failed")
        lead = gettext("The backup %(name)s was made, but not every copy arrived.", name=record.file_name)
    lines = [lead, "", gettext("Destinations:")] + [_destination_line(e) for e in record.destinations or []]
    if record.error:
        lines += ["", gettext("Error: %(error)s", error=record.error)]
    _notify_admin(subject, "\n".join(lines))


def _report_drill(record: Backup) -> None:
    result = record.drill_result or {}
    if record.drill_ok:
        subject = gettext("Backup restore drill passed")
        lines = [gettext("The backup %(name)s was restored into a scratch database: %(tables)s tables, %(rows)s rows, "
                         "every row count matches the manifest.", name=record.file_name,
                         tables=result.get("tables"), rows=result.get("rows"))]
    else:
        subject = gettext("Backup restore drill failed")
        lines = [gettext("Restoring the backup %(name)s into a scratch database did not give the data it holds.",
                         name=record.file_name)]
        for table, want, got in result.get("mismatches") or []:
            lines.append(gettext("- table %(table)s: %(want)s rows in the manifest, %(got)s restored",
                                 table=table, want=want if want is not None else "—",
                                 got=got if got is not None else "—"))
        if result.get("error"):
            lines.append(gettext("Error: %(error)s", error=result["error"]))
    _notify_admin(subject, "\n".join(lines))


# --- the admin panel ---------------------------------------------------------------------------------


def local_time(value: Optional[dt.datetime]) -> str:
    """A stored UTC moment as Warsaw (installation) time, e.g. 28.11.2026 03:00."""
    return formats.local_datetime(value)


def human_size(size: Optional[int]) -> str:
    """A byte count the Polish way: 512 B, 1,5 KB, 12,3 MB, 1,2 GB."""
    return formats.file_size(size)


def history(limit: int = 100) -> list[Backup]:
    """The newest backup runs first."""
    return list(db.session.execute(
        select(Backup).order_by(Backup.started_at.desc(), Backup.id.desc()).limit(limit)).scalars())
