"""Nightly backup: one archive with the database and the files; it restores what was there."""

import datetime as dt
import tarfile

from sqlalchemy import select

from app.extensions import db
from app.models import Company
from app.security.tenancy import all_tenants
from app.services import backups


def company_names(app):
    with app.app_context():
        with all_tenants():
            names = sorted(db.session.execute(select(Company.name)).scalars())
        db.session.remove()
        return names


def test_backup_archive_restores_the_data_and_old_archives_are_pruned(app, make_company, tmp_path):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    app.config["FILES_DIR"] = str(tmp_path / "files")
    (tmp_path / "files" / "1").mkdir(parents=True)
    (tmp_path / "files" / "1" / "umowa.pdf").write_bytes(b"%PDF-1.4 umowa")
    try:
        make_company("Przed Kopią Sp. z o.o.")
        result = app.test_cli_runner().invoke(args=["crm", "backup"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            archive = backups.list_backups()[0]
            manifest = backups.read_manifest(archive)
            dialect = db.engine.dialect.name
        assert manifest["companies"] == 1 and manifest["dialect"] == dialect
        with tarfile.open(archive) as tar:
            names = tar.getnames()
        assert manifest["database"] in names and "files/1/umowa.pdf" in names

        make_company("Po Kopii S.A.")
        (tmp_path / "files" / "1" / "umowa.pdf").unlink()
        assert company_names(app) == ["Po Kopii S.A.", "Przed Kopią Sp. z o.o."]
        refused = app.test_cli_runner().invoke(args=["crm", "restore-backup", str(archive)])
        assert refused.exit_code != 0 and company_names(app) == ["Po Kopii S.A.", "Przed Kopią Sp. z o.o."]
        restored = app.test_cli_runner().invoke(args=["crm", "restore-backup", str(archive), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert company_names(app) == ["Przed Kopią Sp. z o.o."]
        assert (tmp_path / "files" / "1" / "umowa.pdf").read_bytes() == b"%PDF-1.4 umowa"

        with app.app_context():
            old = backups.backup_dir() / "klientela-20200101-020000.tar.gz"
            old.write_bytes(b"")
            assert backups.prune(keep_days=14, now=dt.datetime(2026, 11, 28)) == 1
            assert not old.exists() and archive.exists()
    finally:
        app.config["BACKUP_DIR"] = ""
        app.config.pop("FILES_DIR", None)


def test_backup_job_is_scheduled_nightly():
    from app.scheduler import JOBS

    job = next(j for j in JOBS if j.id == "nightly_backup")
    assert job.trigger == "cron" and job.func == "app.scheduler:nightly_backup"
