"""Nightly backups: checksummed archives, verified restore, copies off the server, history, drill."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import socket
import tarfile
from pathlib import Path

import pytest
import requests
from sqlalchemy import inspect, select, text

from app.extensions import db
from app.models import Backup, Company
from app.security.tenancy import all_tenants
from app.services.platform import backups
from tests.conftest import KEEP_TABLES
from tests.helpers import STRONG_PASSWORD, login
from tests.integration.test_polish_pages import assert_polish

ADMIN = ("kopie@platforma.pl", "Platforma-Kopie#2026")
BUCKET = "klientela-kopie"


# --- helpers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def company_names(app) -> list[str]:
    with app.app_context():
        with all_tenants():
            names = sorted(db.session.execute(select(Company.name)).scalars())
        db.session.remove()
        return names


def db_state(app) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of the content of every table (the history table aside)."""
    state = {}
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as conn:
            for name in sorted(inspect(conn).get_table_names()):
                if name == backups.HISTORY_TABLE:
                    continue
                rows = sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{name}"')))
                state[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return state


def file_sums(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def wipe_business_data(app) -> None:
    """Empty every table but the roles and the backup history, as after a lost database."""
    from flask_appbuilder import Model

    with app.app_context():
        db.session.remove()
        keep = KEEP_TABLES | {backups.HISTORY_TABLE}
        tables = [t for t in reversed(Model.metadata.sorted_tables) if t.name not in keep]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
            else:
                for t in tables:
                    conn.execute(t.delete())


def history(app) -> list[Backup]:
    with app.app_context():
        rows = list(db.session.execute(select(Backup).order_by(Backup.id)).scalars())
        db.session.expunge_all()
        db.session.remove()
        return rows


def make_admin(app) -> None:
    with app.app_context():
        from app.cli import ensure_platform_admin

        ensure_platform_admin(*ADMIN)
        db.session.remove()


def repack(archive: Path, replace: dict[str, bytes]) -> None:
    """Rewrite an archive with some members' content replaced (everything else kept as it was)."""
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar if m.isfile()]
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members:
            data = replace.get(member.name, data)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


@pytest.fixture()
def setup(app, tmp_path, monkeypatch, make_company, add_employee):
    """Two companies with people, stored files, backups into tmp_path; no second destination."""
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setitem(app.config, "FILES_DIR", str(tmp_path / "files"))
    for key in ("BACKUP_COPY_DIR", "BACKUP_S3_BUCKET", "PLATFORM_ADMIN_EMAIL"):
        monkeypatch.setitem(app.config, key, "")
    (tmp_path / "files" / "1" / "attachments").mkdir(parents=True)
    (tmp_path / "files" / "1" / "attachments" / "umowa.pdf").write_bytes(b"%PDF-1.4 umowa \xc5\xbc\xc3\xb3\xc5\x82w")
    (tmp_path / "files" / "2").mkdir()
    (tmp_path / "files" / "2" / "logo.png").write_bytes(bytes(range(256)) * 40)
    a = make_company("Przed Kopią Sp. z o.o.")
    make_company("Druga Firma S.A.")
    add_employee(a["owner_id"], "pracownik@przed.pl")
    make_admin(app)
    return tmp_path


@pytest.fixture()
def s3_server(app, monkeypatch):
    """moto's S3 server on a free 127.0.0.1 port with one bucket; the app's S3 settings point at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)  # moto keeps buckets per process
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="kopie", aws_secret_access_key="tajne-haslo",
                          region_name="eu-central-1")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    settings = {"BACKUP_S3_BUCKET": BUCKET, "BACKUP_S3_PREFIX": "noc/", "BACKUP_S3_ENDPOINT_URL": endpoint,
                "BACKUP_S3_REGION": "eu-central-1", "BACKUP_S3_ACCESS_KEY_ID": "kopie",
                "BACKUP_S3_SECRET_ACCESS_KEY": "tajne-haslo", "BACKUP_S3_TIMEOUT": 2}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    server.client = client
    server.running = True
    yield server
    if server.running:
        server.stop()


def backup_now(app) -> Path:
    result = app.test_cli_runner().invoke(args=["crm", "backup"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return backups.list_backups()[0]


def restore(app, archive: Path):
    return app.test_cli_runner().invoke(args=["crm", "restore-backup", str(archive), "--yes"])


# --- archive, checksums, restore ---------------------------------------------------------------------


def test_backup_wipe_restore_gives_identical_rows_and_files(app, setup):
    before, files_before = db_state(app), file_sums(setup / "files")
    assert before["company"][0] == 2 and before["ab_user"][0] == 4
    archive = backup_now(app)

    manifest = backups.read_manifest(archive)
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert manifest["files"]["files/1/attachments/umowa.pdf"]["sha256"] == files_before["1/attachments/umowa.pdf"]
    assert manifest["tables"]["company"] == 2 and manifest["tables"]["ab_user"] == 4
    recorded = Path(str(archive) + ".sha256").read_text().split()
    assert recorded == [hashlib.sha256(archive.read_bytes()).hexdigest(), archive.name]
    [row] = history(app)
    assert (row.status, row.verified, row.file_name, row.size) == ("ok", True, archive.name, archive.stat().st_size)
    assert row.sha256 == recorded[0] and [d["kind"] for d in row.destinations] == ["local"]

    wipe_business_data(app)
    shutil.rmtree(setup / "files")
    assert company_names(app) == [] and db_state(app)["ab_user"][0] == 0

    refused = app.test_cli_runner().invoke(args=["crm", "restore-backup", str(archive)])
    assert refused.exit_code != 0 and company_names(app) == []
    restored = restore(app, archive)
    assert restored.exit_code == 0, restored.output
    assert db_state(app) == before
    assert file_sums(setup / "files") == files_before
    # the history is not part of the archive: it still shows the backup as it was made
    assert [(b.file_name, b.status, b.verified) for b in history(app)] == [(archive.name, "ok", True)]
    assert login(app.test_client(), "pracownik@przed.pl", STRONG_PASSWORD).status_code == 302


def test_one_corrupted_byte_is_refused_and_nothing_changes(app, setup, make_company):
    archive = backup_now(app)
    make_company("Po Kopii S.A.")
    (setup / "files" / "2" / "logo.png").write_bytes(b"nowe logo")
    before, files_before = db_state(app), file_sums(setup / "files")

    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(bytes(data))
    result = restore(app, archive)

    assert result.exit_code == 1
    assert f"Kopia zapasowa {archive.name} jest uszkodzona" in result.output
    assert "Niczego nie zmieniono." in result.output
    assert db_state(app) == before and file_sums(setup / "files") == files_before
    assert "Po Kopii S.A." in company_names(app)


def test_a_changed_byte_the_gzip_stream_ignores_is_caught_by_the_archive_checksum(app, setup, make_company):
    archive = backup_now(app)
    make_company("Po Kopii S.A.")
    before = db_state(app)
    data = bytearray(archive.read_bytes())
    data[5] ^= 0x01  # the gzip header's time stamp: the content still unpacks without an error
    archive.write_bytes(bytes(data))

    result = restore(app, archive)

    assert result.exit_code == 1
    assert (f"Kopia zapasowa {archive.name} jest uszkodzona: jej suma kontrolna SHA-256 nie zgadza się z zapisaną "
            "przy jej tworzeniu. Niczego nie zmieniono.") in result.output
    assert db_state(app) == before


def test_a_member_that_differs_from_the_manifest_is_refused(app, setup, make_company):
    """Even a well-formed archive is refused when a member's SHA-256 is not the one in the manifest."""
    archive = backup_now(app)
    make_company("Po Kopii S.A.")
    before = db_state(app)
    repack(archive, {"files/1/attachments/umowa.pdf": b"%PDF-1.4 podmieniona umowa"})
    Path(str(archive) + ".sha256").unlink()

    result = restore(app, archive)

    assert result.exit_code == 1
    assert ("suma kontrolna SHA-256 pliku files/1/attachments/umowa.pdf nie zgadza się z manifestem"
            in result.output)
    assert db_state(app) == before


def test_a_truncated_archive_is_refused_and_nothing_changes(app, setup, make_company):
    archive = backup_now(app)
    make_company("Po Kopii S.A.")
    before, files_before = db_state(app), file_sums(setup / "files")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) * 2 // 3])

    result = restore(app, archive)

    assert result.exit_code == 1
    assert f"Kopia zapasowa {archive.name} jest niekompletna: plik jest ucięty" in result.output
    assert "Niczego nie zmieniono." in result.output
    assert db_state(app) == before and file_sums(setup / "files") == files_before


def test_old_archives_are_pruned_with_their_checksum_files(app, setup):
    archive = backup_now(app)
    with app.app_context():
        old = backups.backup_dir() / "klientela-20200101-020000.tar.gz"
        old.write_bytes(b"")
        Path(str(old) + ".sha256").write_text("x  klientela-20200101-020000.tar.gz\n")
        assert backups.prune(keep_days=14, now=dt.datetime(2026, 11, 28)) == 1
    assert not old.exists() and not Path(str(old) + ".sha256").exists()
    assert archive.exists() and Path(str(archive) + ".sha256").exists()


# --- second destinations -------------------------------------------------------------------------------


def test_copies_arrive_in_the_s3_bucket_and_the_second_folder(app, setup, s3_server, monkeypatch, mail_outbox):
    mount = setup / "druga-macierz"
    mount.mkdir()
    monkeypatch.setitem(app.config, "BACKUP_COPY_DIR", str(mount))

    archive = backup_now(app)

    local = archive.read_bytes()
    obj = s3_server.client.get_object(Bucket=BUCKET, Key=f"noc/{archive.name}")["Body"].read()
    assert obj == local
    side = s3_server.client.get_object(Bucket=BUCKET, Key=f"noc/{archive.name}.sha256")["Body"].read().decode()
    assert side.split()[0] == hashlib.sha256(local).hexdigest()
    assert (mount / archive.name).read_bytes() == local
    assert (mount / (archive.name + ".sha256")).read_text() == side
    [row] = history(app)
    assert row.status == "ok"
    assert [(d["kind"], d["target"], d["ok"]) for d in row.destinations] == [
        ("local", str(archive.parent), True), ("dir", str(mount), True), ("s3", f"s3://{BUCKET}/noc/", True)]
    assert mail_outbox == []
    # the copy in the bucket restores like the local one
    downloaded = setup / "z-chmury" / archive.name
    downloaded.parent.mkdir()
    downloaded.write_bytes(obj)
    with app.app_context():
        assert backups.verify_archive(downloaded)["tables"]["company"] == 2


def test_a_failing_destination_is_recorded_and_e_mailed_to_the_admin(app, setup, s3_server, monkeypatch,
                                                                      mail_outbox):
    monkeypatch.setitem(app.config, "BACKUP_COPY_DIR", str(setup / "niepodlaczony-dysk"))
    s3_server.stop()
    s3_server.running = False

    result = app.test_cli_runner().invoke(args=["crm", "backup"])

    assert result.exit_code == 1 and "FAILED" in result.output
    [row] = history(app)
    assert row.status == "copy_failed" and row.verified is True
    by_kind = {d["kind"]: d for d in row.destinations}
    assert by_kind["local"]["ok"] is True and (setup / "backups" / row.file_name).is_file()
    assert by_kind["dir"]["ok"] is False and "does not exist" in by_kind["dir"]["error"]
    assert by_kind["s3"]["ok"] is False and "127.0.0.1" in by_kind["s3"]["error"]
    assert not (setup / "niepodlaczony-dysk").exists()  # never created on the local disk
    [mail] = mail_outbox
    assert mail["To"] == ADMIN[0] and mail["Subject"] == "Nie udało się skopiować kopii zapasowej"
    body = mail.get_content()
    assert f"Kopia zapasowa {row.file_name} została wykonana, ale nie każda kopia dotarła" in body
    assert f"Zasobnik S3 s3://{BUCKET}/noc/: BŁĄD" in body
    assert f"Folder {setup / 'niepodlaczony-dysk'}: BŁĄD" in body
    assert "tajne-haslo" not in body


def test_a_failed_backup_is_recorded_and_e_mailed_to_the_admin(app, setup, monkeypatch, mail_outbox):
    (setup / "zwykly-plik").write_text("nie katalog")
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(setup / "zwykly-plik" / "kopie"))

    result = app.test_cli_runner().invoke(args=["crm", "backup"])

    assert result.exit_code == 1 and "Kopia zapasowa nie powiodła się" in result.output
    [row] = history(app)
    assert (row.status, row.verified, row.size) == ("failed", False, None) and "Not a directory" in row.error
    [mail] = mail_outbox
    assert mail["To"] == ADMIN[0] and mail["Subject"] == "Kopia zapasowa nie powiodła się"
    assert "nie powstało żadne archiwum" in mail.get_content()


def test_s3_storage_adapter_puts_gets_and_deletes(app, s3_server):
    from app.integrations.storage import S3Storage, StorageError

    with app.app_context():
        cfg = app.config
        storage = S3Storage(BUCKET, "pliki", endpoint_url=cfg["BACKUP_S3_ENDPOINT_URL"],
                            access_key_id="kopie", secret_access_key="tajne-haslo", region="eu-central-1")
        storage.put("1/a.txt", "zażółć".encode())
        assert storage.exists("1/a.txt") and storage.get("1/a.txt") == "zażółć".encode()
        assert storage.checksum("1/a.txt") == (len("zażółć".encode()), hashlib.sha256("zażółć".encode()).hexdigest())
        storage.delete("1/a.txt")
        assert not storage.exists("1/a.txt")
        with pytest.raises(StorageError):
            storage.get("1/a.txt")


# --- admin panel ----------------------------------------------------------------------------------------


def add_history(app) -> None:
    with app.app_context():
        db.session.add_all([
            Backup(started_at=dt.datetime(2026, 7, 1, 0, 30), finished_at=dt.datetime(2026, 7, 1, 0, 31), status="ok",
                   file_name="klientela-20260701-003000.tar.gz", size=int(7.5 * 1024 * 1024), sha256="a" * 64,
                   verified=True, destinations=[
                       {"kind": "local", "target": "/srv/kopie", "ok": True, "error": None},
                       {"kind": "s3", "target": "s3://kopie/noc/", "ok": True, "error": None}],
                   drill_at=dt.datetime(2026, 7, 1, 2, 0), drill_ok=True,
                   drill_result={"ok": True, "tables": 31, "rows": 1204, "mismatches": [], "error": None}),
            Backup(started_at=dt.datetime(2026, 12, 2, 1, 0), finished_at=dt.datetime(2026, 12, 2, 1, 1),
                   status="copy_failed", file_name="klientela-20261202-010000.tar.gz", size=1536, sha256="b" * 64,
                   verified=False, destinations=[
                       {"kind": "local", "target": "/srv/kopie", "ok": True, "error": None},
                       {"kind": "dir", "target": "/mnt/druga", "ok": False, "error": "folder missing"}]),
        ])
        db.session.commit()
        db.session.remove()


def test_admin_panel_shows_the_history_in_warsaw_time_and_polish_sizes(app, setup):
    add_history(app)
    client = app.test_client()
    login(client, *ADMIN)
    menu = client.get("/admin/companies/list/").text
    assert 'href="/admin/backups/"' in menu and "Kopie zapasowe" in menu
    page = client.get("/admin/backups/").text
    rows = page.split('<tr class="backup-')[1:]
    assert len(rows) == 2
    newest, older = rows
    assert "02.12.2026 02:00" in newest and "1,5 KB" in newest and "Nie skopiowano" in newest
    assert "Folder" in newest and "/mnt/druga" in newest and "folder missing" in newest
    assert ">Nie</span>" in newest
    assert "01.07.2026 02:30" in older and "7,5 MB" in older and "Zasobnik S3" in older
    assert ">Tak</span>" in older and "Udana" in older and "tabele: 31, wiersze: 1204" in older
    assert_polish(page, "/admin/backups/")


def test_company_users_cannot_see_the_backup_history(app, setup, add_employee):
    add_history(app)
    for email in ("owner1@firma1.pl", "pracownik@przed.pl"):
        client = app.test_client()
        assert login(client, email).status_code == 302
        resp = client.get("/admin/backups/")
        assert resp.status_code == 403 and "klientela-2026" not in resp.text
        assert 'href="/admin/backups/"' not in client.get("/").text
    anonymous = app.test_client().get("/admin/backups/")
    assert anonymous.status_code == 302 and "/login/" in anonymous.headers["Location"]


# --- monthly restore drill ---------------------------------------------------------------------------


def test_restore_drill_restores_into_a_scratch_database_and_reports(app, setup, mail_outbox):
    archive = backup_now(app)
    before = db_state(app)

    result = app.test_cli_runner().invoke(args=["crm", "restore-drill"])

    assert result.exit_code == 0, result.output
    [row] = history(app)
    assert row.drill_ok is True and row.drill_at is not None
    manifest = backups.read_manifest(archive)
    assert row.drill_result["mismatches"] == [] and row.drill_result["tables"] == len(manifest["tables"])
    assert row.drill_result["rows"] == sum(manifest["tables"].values())
    assert db_state(app) == before  # the live database is untouched
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            names = db.session.execute(text("SELECT datname FROM pg_database")).scalars().all()
            assert not [n for n in names if "_drill_" in n]  # the scratch database was dropped
        db.session.remove()
    [mail] = mail_outbox
    assert mail["To"] == ADMIN[0] and mail["Subject"] == "Próba odtworzenia kopii zapasowej udana"
    assert f"Kopię zapasową {archive.name} odtworzono w bazie próbnej" in mail.get_content()
    client = app.test_client()
    login(client, *ADMIN)
    page = client.get("/admin/backups/").text
    assert "Zaliczona" in page and f"tabele: {len(manifest['tables'])}" in page


def test_restore_drill_reports_row_counts_that_differ_from_the_manifest(app, setup, mail_outbox):
    archive = backup_now(app)
    manifest = backups.read_manifest(archive)
    manifest["tables"]["company"] = 3  # the archive claims a company its database does not hold
    repack(archive, {"manifest.json": json.dumps(manifest).encode()})
    Path(str(archive) + ".sha256").write_text(f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n")

    result = app.test_cli_runner().invoke(args=["crm", "restore-drill"])

    assert result.exit_code == 1
    [row] = history(app)
    assert row.drill_ok is False and row.drill_result["mismatches"] == [["company", 3, 2]]
    [mail] = mail_outbox
    assert mail["Subject"] == "Próba odtworzenia kopii zapasowej nieudana"
    assert "tabela company: w manifeście 3 wierszy, odtworzono 2" in mail.get_content()
    client = app.test_client()
    login(client, *ADMIN)
    page = client.get("/admin/backups/").text
    assert "Niezaliczona" in page and "company: w kopii 3, odtworzono 2" in page


def test_backup_jobs_are_scheduled_and_the_nightly_job_runs(app, setup):
    from app import scheduler

    jobs = {j.id: j for j in scheduler.JOBS}
    nightly, drill = jobs["nightly_backup"], jobs["restore_drill"]
    assert (nightly.trigger, nightly.func, nightly.trigger_args) == (
        "cron", "app.scheduler:nightly_backup", {"hour": 2, "minute": 0})
    assert (drill.trigger, drill.func, drill.trigger_args) == (
        "cron", "app.scheduler:restore_drill", {"day": 1, "hour": 4, "minute": 0})
    previous = scheduler._APP
    scheduler.bind_app(app)
    try:
        name = scheduler.nightly_backup()
        assert scheduler.restore_drill() is True
    finally:
        scheduler.bind_app(previous)
    assert (setup / "backups" / name).is_file()
    [row] = history(app)
    assert (row.file_name, row.status, row.verified, row.drill_ok) == (name, "ok", True, True)
