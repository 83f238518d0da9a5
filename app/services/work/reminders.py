"""Reminders: at a set time the people of a document get a notification and an e-mail, once.

A reminder row is claimed with ``UPDATE reminder SET sent_at = now WHERE id = :id AND sent_at IS
NULL`` in the same transaction that creates the notifications, so two runners can never both send
it and a restart never sends it again. E-mails go out after that commit (at most once).

Documents plug in with ``register_target(owner_type, function)`` (the composition root,
``app/views/__init__.py``, registers every domain's): ``function(company_id: int, owner_id: int)
-> ReminderMessage | None`` (None: nothing to send, e.g. the task is done or deleted).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.mixins import utcnow
from app.models.notifications import Reminder
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, unit_of_work
from app.services.work.notifications import add_notification

log = logging.getLogger(__name__)


@dataclass
class ReminderMessage:
    """What a reminder says and to whom."""

    recipient_ids: list[int]
    title: str
    body: str = ""
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


#: what a document registers: ``(company_id, owner_id) -> ReminderMessage | None``
ReminderTarget = Callable[[int, int], ReminderMessage | None]

_TARGETS: dict[str, ReminderTarget] = {}


def register_target(owner_type: str, target: ReminderTarget) -> None:
    """Let documents of ``owner_type`` have reminders; ``target`` says what one says and to whom."""
    _TARGETS[owner_type] = target


def pending_reminder(company_id: int, owner_type: str, owner_id: int) -> Reminder | None:
    """The not-yet-sent reminder of a document, if any."""
    return db.session.execute(
        select(Reminder)
        .where(Reminder.owner_type == owner_type, Reminder.owner_id == owner_id, Reminder.sent_at.is_(None))
        .order_by(Reminder.remind_at)
        .limit(1)
    ).scalar_one_or_none()


def last_sent(company_id: int, owner_type: str, owner_id: int) -> Reminder | None:
    """The document's most recently sent reminder, if any (shown as "sent" on the document)."""
    return db.session.execute(
        select(Reminder)
        .where(Reminder.owner_type == owner_type, Reminder.owner_id == owner_id, Reminder.sent_at.is_not(None))
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def set_reminder(company_id: int, owner_type: str, owner_id: int, remind_at: dt.datetime | None) -> Reminder | None:
    """Replace the document's pending reminder by one at ``remind_at`` (naive UTC) or by none.

    A step of the caller's unit (saving a task or an offer). A new time in the past is refused; an
    unchanged one is kept.
    """
    if owner_type not in _TARGETS:
        raise ValueError(f"unknown reminder owner type {owner_type!r}")
    current = pending_reminder(company_id, owner_type, owner_id)
    if current is not None and remind_at is not None and current.remind_at == remind_at:
        return current
    if remind_at is not None and remind_at < utcnow() - dt.timedelta(minutes=1):
        raise DomainError(_l("The reminder time has already passed."), "remind_at")
    cancel_reminders(company_id, owner_type, owner_id)
    if remind_at is None:
        return None
    reminder = Reminder(company_id=company_id, owner_type=owner_type, owner_id=owner_id, remind_at=remind_at)
    db.session.add(reminder)
    return reminder


def cancel_reminders(company_id: int, owner_type: str, owner_id: int) -> None:
    """Drop the document's unsent reminders (a step of the caller's unit)."""
    db.session.execute(
        delete(Reminder)
        .where(Reminder.owner_type == owner_type, Reminder.owner_id == owner_id, Reminder.sent_at.is_(None))
        .execution_options(synchronize_session=False)
    )


def due_reminders(now: dt.datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(id, company_id) of unsent reminders due at ``now``, oldest first, of every company."""
    with all_tenants():  # every company's due reminders: a platform job, no company filter on purpose
        rows = db.session.execute(
            select(Reminder.id, Reminder.company_id)
            .where(Reminder.sent_at.is_(None), Reminder.remind_at <= now)
            .order_by(Reminder.remind_at, Reminder.id)
            .limit(limit)
        ).all()
    db.session.commit()
    return [(r.id, r.company_id) for r in rows]


def claim(reminder_id: int, now: dt.datetime) -> bool:
    """Mark a reminder sent unless someone already did; True when this caller got it (a step of the caller's unit)."""
    result = db.session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _recipients(company_id: int, user_ids: list[int]) -> list[CrmUser]:
    if not user_ids:
        return []
    # people are not a tenant table (the platform admin has no company): the company is filtered here
    return list(
        db.session.execute(
            select(CrmUser).where(
                CrmUser.id.in_(user_ids), CrmUser.company_id == company_id, CrmUser.active.is_(True)
            )
        ).scalars()
    )


#: an e-mail to send once the claim is committed: (to, subject, body)
Mail = tuple[str, str, str]


@unit_of_work
def _deliver(company_id: int, reminder_id: int, now: dt.datetime) -> tuple[int, list[Mail]] | None:
    """Claim a reminder and add its notifications, as one unit: (people notified, e-mails to send), None if taken."""
    if not claim(reminder_id, now):
        return None
    reminder = db.session.get(Reminder, reminder_id)
    message = _TARGETS[reminder.owner_type](company_id, reminder.owner_id) if reminder is not None else None
    if message is None:  # nothing to say any more (the task is done, the offer decided or deleted)
        return 0, []
    people = _recipients(company_id, message.recipient_ids)
    mails: list[Mail] = []
    for person in people:
        add_notification(company_id, person.id, message.title, message.body, message.url, reminder_id)
        if person.email:
            mails.append((person.email, message.title, message.body))
    return len(people), mails


def send_one(company_id: int, reminder_id: int, now: dt.datetime | None = None) -> int | None:
    """Claim and deliver one reminder; return how many people were notified (None if taken).

    The e-mails go out after the claim and the notifications are committed (at most once).
    """
    with tenant_scope(company_id):
        delivered = _deliver(company_id, reminder_id, now or utcnow())
    if delivered is None:
        return None
    count, mails = delivered
    if mails and mail_configured():
        for to, subject, body in mails:
            try:
                send_mail(to, subject, body)
            except OSError:
                log.exception("reminder %s: e-mail to %s failed", reminder_id, to)
    return count


def send_due(now: dt.datetime | None = None) -> int:
    """Deliver every due reminder once; return how many were delivered by this runner."""
    now = now or utcnow()
    sent = 0
    for reminder_id, company_id in due_reminders(now):
        try:
            if send_one(company_id, reminder_id, now) is not None:
                sent += 1
        except Exception:  # one broken reminder must not stop the others (its unit rolled back)
            log.exception("reminder %s failed", reminder_id)
    return sent
