"""flask crm ...: init (roles, permissions, platform admin), demo data, scheduler, backups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import scheduler
from app.extensions import appbuilder, db
from app.models.users import CrmUser
from app.security import roles
from app.security.sync import sync_roles
from app.services import unit_of_work
from app.services.accounts.companies import hash_password
from app.services.platform import backups
from app.services.platform.demo import DEMO_ADMIN, DEMO_EMPLOYEE, DEMO_OWNER, DEMO_PASSWORD, create_demo

crm = AppGroup("crm", help="Klientela administration commands.")


@crm.command("init")
@click.option("--admin-email", default=None, help="Platform admin e-mail (or CRM_ADMIN_EMAIL).")
@click.option("--admin-password", default=None, help="Platform admin password (or CRM_ADMIN_PASSWORD).")
def init_command(admin_email: Optional[str], admin_password: Optional[str]) -> None:
    """Sync roles and permissions from code; create the platform admin when given."""
    counts = sync_roles(appbuilder)
    for role, n in counts.items():
        click.echo(f"role {role}: {n} permissions")
    email = admin_email or current_app.config.get("PLATFORM_ADMIN_EMAIL")
    password = admin_password or current_app.config.get("PLATFORM_ADMIN_PASSWORD")
    if email:
        created = ensure_platform_admin(email, password)
        click.echo(f"platform admin {email}: {'created' if created else 'exists'}")


@unit_of_work
def ensure_platform_admin(email: str, password: Optional[str]) -> bool:
    """Create the platform admin account unless it exists; return True when created."""
    sm = appbuilder.sm
    if sm.find_user(email=email) or sm.find_user(username=email):
        return False
    if not password:
        raise click.ClickException("A password is needed to create the platform admin.")
    user = CrmUser(first_name="Administrator", last_name="systemu", username=email, email=email, active=True)
    user.roles = [sm.find_role(roles.PLATFORM_ADMIN)]
    user.password = hash_password(password)
    db.session.add(user)
    return True


@crm.command("demo")
def demo_command() -> None:
    """Create the demo company with an owner, an employee and sample data; print credentials."""
    info = create_demo()
    if info is None:
        click.echo("Demo company already exists.")
        info = {"owner": DEMO_OWNER, "employee": DEMO_EMPLOYEE, "password": DEMO_PASSWORD}
    click.echo("Klientela demo accounts (password for both: %s)" % info["password"])
    click.echo(f"  owner:    {info['owner']}")
    click.echo(f"  employee: {info['employee']}")
    ensure_platform_admin(DEMO_ADMIN, DEMO_PASSWORD)
    click.echo(f"  platform admin: {DEMO_ADMIN}")


@crm.command("scheduler")
def scheduler_command() -> None:
    """Run the one scheduler of the installation (reminders, purge, licences, ...) until stopped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lock = scheduler.SchedulerLock(app)
    if not lock.acquire():
        raise click.ClickException("Another scheduler is already running for this installation.")
    runner = scheduler.build_scheduler(app, blocking=True)
    click.echo("Klientela scheduler started: " + ", ".join(job.id for job in runner.get_jobs()))
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        lock.release()


@crm.command("backup")
def backup_command() -> None:
    """Back up the database and stored files now (the scheduler does it every night)."""
    try:
        record = backups.run_backup()
    except backups.BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"backup written: {backups.backup_dir() / record.file_name} ({backups.human_size(record.size)})")
    for entry in record.destinations:
        click.echo(f"  {entry['kind']} {entry['target']}: {'ok' if entry['ok'] else 'FAILED ' + str(entry['error'])}")
    if record.status != "ok":
        raise click.ClickException("A copy of the backup failed (the platform admin was told by e-mail).")


@crm.command("restore-drill")
def restore_drill_command() -> None:
    """Restore the newest backup into a scratch database and compare row counts (monthly job)."""
    record = backups.run_restore_drill()
    if record is None:
        raise click.ClickException("There is no backup to test.")
    result = record.drill_result or {}
    if not record.drill_ok:
        raise click.ClickException(f"restore drill of {record.file_name} FAILED: {json_dumps(result)}")
    click.echo(f"restore drill of {record.file_name}: ok ({result.get('tables')} tables, {result.get('rows')} rows)")


def json_dumps(value: object) -> str:
    """Compact JSON for command output."""
    return json.dumps(value, ensure_ascii=False)


@crm.command("restore-backup")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm replacing ALL current data.")
def restore_backup_command(archive: str, yes: bool) -> None:
    """Replace all data with a verified backup archive (stop the web app and the scheduler first)."""
    if not yes:
        raise click.ClickException("This replaces all data. Stop the app, then repeat with --yes.")
    try:
        manifest = backups.restore_backup(Path(archive))
    except backups.BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"restored backup of {manifest.get('created_at')} ({manifest.get('companies')} companies)")


def register_cli(app: Flask) -> None:
    """Attach the ``crm`` command group."""
    app.cli.add_command(crm)
