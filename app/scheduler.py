"""The one scheduler of the installation: job list, job functions, start-up behind a lock.

Production runs ``flask crm scheduler`` (a BlockingScheduler) as its own process; web workers never
run jobs. In development ``SCHEDULER_IN_PROCESS = True`` starts a BackgroundScheduler inside the
web process, but only in the process that gets the lock (``fcntl.flock`` on
``instance/scheduler.lock``, or ``pg_try_advisory_lock`` on PostgreSQL), so two workers never run a
job twice. Jobs live in the application database (SQLAlchemyJobStore, table ``apscheduler_jobs``)
and are textual references to the module-level functions below; each opens a context of the app
its caller bound (``build_scheduler(app)``, which ``flask crm scheduler`` and the in-process start
call with their app) and calls one service. Other areas add their job with one ``JobSpec`` line in
``JOBS``.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
from dataclasses import dataclass, field
from typing import IO, Any, Callable, TypeVar

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import Connection, create_engine, text

from app.extensions import db
from app.services import trash
from app.services.accounts import audit, nip_claims, sessions, signups
from app.services.contacts import contact_import
from app.services.invoicing import ksef, payments, purchases
from app.services.mailing import bounces, outbox
from app.services.platform import backups, closing, licences, restores, subscription_invoices
from app.services.platform import payments as subscription_payments
from app.services.sales import offers
from app.services.work import attachments, reminders

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"
ADVISORY_LOCK_KEY = 0x4B6C6E74  # "Klnt"


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: id, textual function reference, trigger and its arguments."""

    id: str
    func: str
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)


JOBS: list[JobSpec] = [
    JobSpec("reminders", "app.scheduler:send_reminders", "interval", {"seconds": 30}),
    JobSpec("purge_trash", "app.scheduler:purge_trash", "cron", {"hour": 3, "minute": 15}),
    JobSpec("licence_expiry", "app.scheduler:check_licences", "cron", {"hour": 0, "minute": 5}),
    JobSpec("licence_notice", "app.scheduler:warn_expiring_licences", "cron", {"hour": 8, "minute": 0}),
    JobSpec("offer_expiry", "app.scheduler:expire_offers", "cron", {"hour": 0, "minute": 10}),
    JobSpec("audit_purge", "app.scheduler:purge_audit_log", "cron", {"hour": 3, "minute": 30}),
    JobSpec("session_purge", "app.scheduler:purge_sessions", "cron", {"hour": 3, "minute": 40}),
    JobSpec("nightly_backup", "app.scheduler:nightly_backup", "cron", {"hour": 2, "minute": 0}),
    JobSpec("restore_request_expiry", "app.scheduler:expire_restore_requests", "interval", {"minutes": 15}),
    JobSpec("restore_drill", "app.scheduler:restore_drill", "cron", {"day": 1, "hour": 4, "minute": 0}),
    JobSpec("signup_expiry", "app.scheduler:expire_signups", "interval", {"minutes": 30}),
    JobSpec("overdue_invoices", "app.scheduler:remind_overdue_invoices", "cron", {"hour": 7, "minute": 30}),
    JobSpec("ksef_send", "app.scheduler:send_to_ksef", "interval", {"seconds": 30}),
    JobSpec("ksef_purchases_requested", "app.scheduler:fetch_requested_purchases", "interval", {"seconds": 30}),
    JobSpec("ksef_purchases_daily", "app.scheduler:fetch_purchases", "cron", {"hour": 5, "minute": 0}),
    JobSpec("closed_accounts", "app.scheduler:purge_closed_accounts", "cron", {"hour": 3, "minute": 50}),
    JobSpec("plan_changes", "app.scheduler:apply_plan_changes", "cron", {"hour": 0, "minute": 1}),
    JobSpec("subscription_invoices", "app.scheduler:subscription_invoices_catch_up", "interval", {"minutes": 15}),
    JobSpec("payu_reconcile", "app.scheduler:reconcile_payments", "interval", {"minutes": 10}),
    JobSpec("campaigns_send", "app.scheduler:send_campaigns", "interval", {"seconds": 10}),
    JobSpec("campaigns_bounces", "app.scheduler:read_bounces", "interval", {"minutes": 10}),
]

_APP: Flask | None = None
T = TypeVar("T")


def bind_app(app: Flask | None) -> None:
    """Let the job functions of this process use ``app`` (the caller's app; None unbinds it)."""
    global _APP
    _APP = app


def _run(job: Callable[[], T]) -> T:
    """Run one job body in a context of the bound app; the session is removed afterwards."""
    if _APP is None:
        raise RuntimeError("No app is bound to the scheduler: call build_scheduler(app) or bind_app(app) first.")
    with _APP.app_context():
        try:
            return job()
        finally:
            db.session.remove()


# --- job functions (module level: the job store keeps only their textual reference) -------------


def send_reminders() -> int:
    """Deliver due reminders (notifications and e-mails), each exactly once."""
    return _run(reminders.send_due)


def purge_trash() -> int:
    """Remove for good what has been in the trash longer than the retention period (and its files).

    Also removes CSV imports abandoned at the mapping step for over a day (their stored files).
    """

    def job() -> int:
        """Files first, then drafts, then the rows."""
        attachments.purge_files(trash.RETENTION_DAYS)
        contact_import.purge_drafts()
        return trash.purge()

    return _run(job)


def check_licences() -> int:
    """The daily licence check: log companies whose licence ended and tell their owners once.

    Blocking stays in the request check (``Company.licence_active``); see app/services/platform/licences.py.
    """
    return _run(lambda: len(licences.check_licences()))


def warn_expiring_licences() -> int:
    """E-mail the owners of companies whose licence ends within three days (once per end date)."""
    return _run(lambda: len(licences.warn_expiring()))


def expire_offers() -> int:
    """Mark draft and sent offers past their validity date as "expired" (every company)."""
    return _run(offers.expire_offers)


def purge_audit_log() -> int:
    """Delete security audit events older than AUDIT_RETENTION_DAYS (every company)."""
    return _run(audit.purge_old)


def purge_sessions() -> int:
    """Delete browser sessions ended over a day ago or idle past SESSION_IDLE_DAYS (every user)."""
    return _run(sessions.purge_old)


def nightly_backup() -> str:
    """Back up the whole database and the stored files, verify, copy off the server; prune old archives.

    A failure is recorded in the backup history and e-mailed to the platform admin by the service.
    """
    return _run(lambda: backups.run_backup().file_name)


def restore_drill() -> bool:
    """Monthly: restore the newest backup into a scratch database and compare row counts; report to the admin."""

    def job() -> bool:
        """True when the drill passed."""
        record = backups.run_restore_drill()
        return bool(record and record.drill_ok)

    return _run(job)


def expire_restore_requests() -> int:
    """Mark restore requests not confirmed by e-mail in time as expired (every company)."""
    return _run(restores.expire_unconfirmed)


def remind_overdue_invoices() -> int:
    """E-mail each company's owners the list of their overdue invoices (daily)."""
    return _run(payments.send_overdue_reminders)


def expire_signups() -> int:
    """Remove sign-ups and NIP claims whose e-mail link was not clicked in time (frees NIP and e-mail)."""

    def job() -> int:
        """Claims first, then sign-ups; the count of sign-ups removed."""
        nip_claims.purge_unconfirmed()
        return signups.purge_unconfirmed()

    return _run(job)


def send_to_ksef() -> int:
    """Send due invoices of the KSeF queue (each with its own company's token); reconcile after a crash."""
    return _run(ksef.send_due)


def fetch_requested_purchases() -> int:
    """Fetch purchase invoices from KSeF for companies that pressed "Pobierz z KSeF"."""
    return _run(purchases.fetch_requested)


def fetch_purchases() -> int:
    """Daily: fetch new purchase invoices from KSeF for every company with a KSeF token."""
    return _run(purchases.fetch_all)


def purge_closed_accounts() -> int:
    """Delete the data of companies whose account was closed over the grace period (30 days) ago."""
    return _run(closing.purge_due)


def apply_plan_changes() -> int:
    """Daily: a plan chosen for the next period (``next_plan``) becomes the plan when its paid period begins."""
    return _run(subscription_payments.apply_plan_changes)


def reconcile_payments() -> int:
    """Ask PayU about payments whose notification has not come (lost notifications, a stopped server)."""
    return _run(subscription_payments.reconcile)


def subscription_invoices_catch_up() -> int:
    """Issue and e-mail the subscription invoices of completed payments that a failure left behind."""
    return _run(lambda: sum(subscription_invoices.catch_up()))
def send_campaigns() -> int:
    """Start campaigns whose time has come and send their outbox within each mailbox's limits."""
    return _run(outbox.run)


def read_bounces() -> int:
    """Read every active mailbox's inbox for delivery reports; mark hard-bounced addresses."""
    return _run(bounces.check_all)


# --- building and locking --------------------------------------------------------------------------


def build_scheduler(app: Flask, blocking: bool = False, jobs: list[JobSpec] | None = None) -> BaseScheduler:
    """A scheduler on the app database's job store with every job of ``JOBS`` registered; binds ``app``."""
    cls: type[BaseScheduler] = BlockingScheduler if blocking else BackgroundScheduler
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Warsaw"),
    )
    bind_app(app)
    for spec in jobs if jobs is not None else JOBS:
        scheduler.add_job(
            spec.func, spec.trigger, id=spec.id, name=spec.id, replace_existing=True, **spec.trigger_args
        )
    return scheduler


class SchedulerLock:
    """Held by the one process that runs the scheduler; released when the process ends."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._fh: IO[str] | None = None
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        """Try to become the scheduler process; False when another process already is."""
        url = self.app.config["SQLALCHEMY_DATABASE_URI"]
        if url.startswith("postgresql"):
            return self._acquire_pg()
        return self._acquire_file()

    def _acquire_file(self) -> bool:
        os.makedirs(self.app.instance_path, exist_ok=True)
        path = os.path.join(self.app.instance_path, "scheduler.lock")
        fh = open(path, "a+")  # noqa: SIM115 (kept open while the lock is held)
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return True

    def _acquire_pg(self) -> bool:
        engine = create_engine(self.app.config["SQLALCHEMY_DATABASE_URI"])
        conn = engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
        conn.commit()
        if not got:
            conn.close()
            engine.dispose()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        """Give the lock back."""
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None


_IN_PROCESS: dict[str, Any] = {}


def start_in_process(app: Flask) -> bool:
    """Dev only: start a BackgroundScheduler in this web process if it gets the lock."""
    if _IN_PROCESS or app.config.get("TESTING"):
        return False
    lock = SchedulerLock(app)
    if not lock.acquire():
        log.info("scheduler runs in another process")
        _IN_PROCESS["lock"] = None
        return False
    scheduler = build_scheduler(app)
    scheduler.start()
    _IN_PROCESS.update(lock=lock, scheduler=scheduler)

    def _stop() -> None:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        lock.release()

    atexit.register(_stop)
    log.info("scheduler started in process %s", os.getpid())
    return True


def install_in_process_start(app: Flask) -> None:
    """With ``SCHEDULER_IN_PROCESS``, start the scheduler on the first request this process serves.

    Starting on the first request (not in create_app) keeps CLI commands and tests from starting it.
    """
    if not app.config.get("SCHEDULER_IN_PROCESS") or app.config.get("TESTING"):
        return

    @app.before_request
    def _start_scheduler_once() -> None:
        if not _IN_PROCESS:
            start_in_process(app)
