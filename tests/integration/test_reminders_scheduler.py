"""Reminders through the one scheduler: sent once across a restart, claimed once by two runners, the bell."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, Reminder, Task, apscheduler_jobs
from app.models.users import CrmUser
from app.security.tenancy import all_tenants
from app.services import clock
from app.services.work import reminders
from app.services.work import tasks as tasks_svc
from tests.helpers import login


@pytest.fixture()
def smtp_server(app, monkeypatch):
    """A real SMTP server on 127.0.0.1 (aiosmtpd); yields the list of received messages."""
    from email import message_from_bytes
    from email import policy as email_policy

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.content, policy=email_policy.default))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "Klientela <no-reply@klientela.test>")
    yield received
    ctl.stop()


def _task_with_reminder(app, owner_id: int, assignee_id: int, seconds: float = 1.0, title: str = "Zadzwonić do Budimeksu") -> int:
    with app.app_context():
        owner = db.session.get(CrmUser, owner_id)
        from flask import g

        g.company_id = owner.company_id
        task = tasks_svc.create_task(owner.company_id, owner, tasks_svc.TaskData(
            title=title, assignee_ids=[assignee_id], due_date=dt.date.today(),
            remind_at=clock.local_now() + dt.timedelta(seconds=seconds),
        ))
        task_id = task.id
        db.session.remove()
    return task_id


def _count(app, model, **where) -> int:
    with app.app_context(), all_tenants():
        stmt = select(func.count(model.id))
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        n = db.session.execute(stmt).scalar_one()
        db.session.remove()
    return n


def _wait(predicate, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_reminder_fires_once_across_a_scheduler_restart(app, make_company, add_employee, smtp_server):
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    from app.scheduler import JOBS, bind_app, build_scheduler

    info = make_company()
    emp = add_employee(info["owner_id"], "handlowiec@firma.pl", "Employee")
    task_id = _task_with_reminder(app, info["owner_id"], emp["id"], seconds=1)
    fast = [replace(j, trigger_args={"seconds": 1}) if j.id == "reminders" else j for j in JOBS]
    runs: list[int] = []
    errors: list[object] = []

    def listener(event):
        if event.job_id == "reminders":
            (errors if event.exception else runs).append(event.code)

    try:
        first = build_scheduler(app, jobs=fast)
        first.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        first.start()
        try:
            assert _wait(lambda: _count(app, Notification) >= 1), "the reminder did not fire"
        finally:
            first.shutdown(wait=True)
        with app.app_context():
            rows = db.session.execute(select(func.count()).select_from(apscheduler_jobs)).scalar_one()
            db.session.remove()
        assert rows == len(JOBS)  # the job store lives in the app database
        runs.clear()
        second = build_scheduler(app, jobs=fast)
        second.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        second.start()
        try:
            assert _wait(lambda: len(runs) >= 3), "the restarted scheduler did not run the job"
        finally:
            second.shutdown(wait=True)
    finally:
        bind_app(None)
    assert not errors
    assert _count(app, Notification) == 1
    assert _count(app, Notification, user_id=emp["id"]) == 1
    assert len(smtp_server) == 1
    msg = smtp_server[0]
    assert msg["To"] == "handlowiec@firma.pl"
    assert "Przypomnienie: Zadzwonić do Budimeksu" in msg["Subject"]
    with app.app_context(), all_tenants():
        reminder = db.session.execute(select(Reminder)).scalar_one()
        assert reminder.owner_id == task_id and reminder.sent_at is not None
        db.session.remove()


def test_two_runners_claim_a_reminder_once(app, make_company, add_employee, smtp_server):
    info = make_company()
    emp = add_employee(info["owner_id"], "p@firma.pl", "Employee")
    _task_with_reminder(app, info["owner_id"], emp["id"], seconds=0.2)
    time.sleep(0.5)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def runner():
        with app.app_context():
            barrier.wait()
            results.append(reminders.send_due())
            db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [0, 1]
    assert _count(app, Notification) == 1 and len(smtp_server) == 1
    with app.app_context():  # a third run finds nothing left
        assert reminders.send_due() == 0
        db.session.remove()


def test_bell_shows_the_count_and_opening_marks_read(app, make_company, add_employee):
    info = make_company()
    emp = add_employee(info["owner_id"], "dzwonek@firma.pl", "Employee")
    task_id = _task_with_reminder(app, info["owner_id"], emp["id"], seconds=0.1, title="Wysłać ofertę")
    time.sleep(0.3)
    with app.app_context():
        assert reminders.send_due() == 1
        db.session.remove()
    c = app.test_client()
    login(c, emp["email"])
    html = c.get("/tasks/").get_data(as_text=True)
    assert 'id="notification-bell"' in html and 'id="notification-count">1<' in html
    page = c.get("/notifications/").get_data(as_text=True)
    assert "Przypomnienie: Wysłać ofertę" in page
    with app.app_context(), all_tenants():
        note_id = db.session.execute(select(Notification.id)).scalar_one()
        db.session.remove()
    resp = c.post(f"/notifications/{note_id}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tasks/{task_id}")
    assert 'id="notification-count"' not in c.get("/tasks/").get_data(as_text=True)
    # the owner (not assigned) got nothing, and cannot open the employee's notification
    owner = app.test_client()
    login(owner, info["email"])
    assert 'id="notification-count"' not in owner.get("/tasks/").get_data(as_text=True)
    assert owner.post(f"/notifications/{note_id}/open").status_code == 404


def test_done_or_deleted_task_is_not_reminded_and_past_time_is_refused(app, owner_client):
    c = owner_client
    past = (clock.local_now() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    resp = c.post("/tasks/add", data={"title": "Za późno", "priority": "normal", "status": "todo", "remind_at": past})
    assert resp.status_code == 200 and "Czas przypomnienia już minął" in resp.get_data(as_text=True)
    soon = (clock.local_now() + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    resp = c.post("/tasks/add", data={"title": "Z przypomnieniem", "priority": "normal", "status": "todo", "remind_at": soon})
    tid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert _count(app, Reminder) == 1
    c.post(f"/tasks/{tid}/status", data={"status": "done"})
    assert _count(app, Reminder) == 0  # done: the pending reminder is dropped
    resp = c.post("/tasks/add", data={"title": "Do kosza", "priority": "normal", "status": "todo", "remind_at": soon})
    tid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    c.post(f"/tasks/{tid}/delete")
    assert _count(app, Reminder) == 0 and _count(app, Task) == 1  # the deleted one is in the trash


def test_only_one_process_gets_the_scheduler_lock(app):
    from app.scheduler import SchedulerLock, install_in_process_start

    first, second = SchedulerLock(app), SchedulerLock(app)
    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()
    # tests never start the in-process scheduler, even when asked to
    app.config["SCHEDULER_IN_PROCESS"] = True
    try:
        before = len(app.before_request_funcs.get(None, []))
        install_in_process_start(app)
        assert len(app.before_request_funcs.get(None, [])) == before
    finally:
        app.config.pop("SCHEDULER_IN_PROCESS")


def test_sent_reminder_is_shown_on_the_task(app, make_company, add_employee):
    info = make_company()
    emp = add_employee(info["owner_id"], "wyslane@firma.pl", "Employee")
    task_id = _task_with_reminder(app, info["owner_id"], emp["id"], seconds=0.1, title="Oddzwonić")
    c = app.test_client()
    login(c, info["email"])
    html = c.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Wysłano" not in html  # still pending: the time is shown
    time.sleep(0.3)
    with app.app_context():
        assert reminders.send_due() == 1
        db.session.remove()
    html = c.get(f"/tasks/{task_id}").get_data(as_text=True)
    reminder = html.split('id="task-reminder">', 1)[1].split("</dd>", 1)[0]
    assert reminder.startswith("Wysłano ") and "None" not in html


def test_every_job_is_registered_in_the_database_job_store(app):
    from app.scheduler import build_scheduler

    scheduler = build_scheduler(app)
    ids = {job.id for job in scheduler.get_jobs()}
    assert {"reminders", "purge_trash", "licence_expiry", "offer_expiry"} <= ids
    assert type(scheduler._jobstores["default"]).__name__ == "SQLAlchemyJobStore"


def test_scheduler_command_runs_once_and_a_second_one_refuses(app, monkeypatch):
    import app.scheduler as sched

    runner = app.test_cli_runner()
    held = sched.SchedulerLock(app)
    assert held.acquire()
    try:
        result = runner.invoke(args=["crm", "scheduler"])
        assert result.exit_code != 0 and "Another scheduler is already running" in result.output
    finally:
        held.release()

    started: list[bool] = []

    class FakeScheduler:
        def get_jobs(self):
            return [type("J", (), {"id": spec.id})() for spec in sched.JOBS]

        def start(self):
            started.append(True)
            assert not sched.SchedulerLock(app).acquire()  # the lock is held while it runs

    monkeypatch.setattr(sched, "build_scheduler", lambda app, blocking=False: FakeScheduler())
    result = runner.invoke(args=["crm", "scheduler"])
    assert result.exit_code == 0, result.output
    assert started and "reminders" in result.output and "licence_expiry" in result.output
    again = sched.SchedulerLock(app)
    assert again.acquire()  # released when the scheduler stopped
    again.release()


def test_licence_job_flags_expired_companies_and_tells_the_owner_once(app, make_company, smtp_server, caplog):
    from app.models.company import Company
    from app.scheduler import bind_app, check_licences

    expired = make_company("Wygasła")
    valid = make_company("Ważna")
    with app.app_context(), all_tenants():
        db.session.get(Company, expired["company_id"]).licence_valid_until = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    bind_app(app)
    try:
        with caplog.at_level("WARNING", logger="app.services.platform.licences"):
            assert check_licences() == 1
        assert f"company {expired['company_id']}" in caplog.text and "Ważna" not in caplog.text
        assert check_licences() == 1  # still expired, but the owner is told only once
    finally:
        bind_app(None)
    assert _count(app, Notification, user_id=expired["owner_id"]) == 1
    assert _count(app, Notification, user_id=valid["owner_id"]) == 0
    assert len(smtp_server) == 1 and smtp_server[0]["To"] == expired["email"]
    assert "Licencja Klienteli wygasła" in smtp_server[0]["Subject"]
    # the request-time licence check is untouched: the expired company still lands on the licence page
    c = app.test_client()
    login(c, expired["email"])
    resp = c.get("/tasks/")
    assert resp.status_code == 302 and "/licence" in resp.headers["Location"]
    ok = app.test_client()
    login(ok, valid["email"])
    assert ok.get("/tasks/").status_code == 200
    # a renewed licence is no longer reported
    with app.app_context(), all_tenants():
        db.session.get(Company, expired["company_id"]).licence_valid_until = dt.date.today() + dt.timedelta(days=30)
        db.session.commit()
        db.session.remove()
    bind_app(app)
    try:
        assert check_licences() == 0
    finally:
        bind_app(None)
