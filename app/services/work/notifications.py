"""In-app notifications: the bell in the header with the count of unread messages."""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.extensions import db
from app.models.mixins import utcnow
from app.models.notifications import Notification
from app.services import unit_of_work


def add_notification(
    company_id: int, user_id: int, title: str, body: str | None = None, url: str | None = None,
    reminder_id: int | None = None,
) -> Notification:
    """Add one notification to the caller's unit (reminders, licence warnings commit it with their own writes)."""
    note = Notification(
        company_id=company_id, user_id=user_id, title=title[:200], body=body, url=url, reminder_id=reminder_id
    )
    db.session.add(note)
    return note


def unread_count(company_id: int, user_id: int) -> int:
    """How many unread notifications the person has (the number on the bell)."""
    return db.session.execute(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).scalar_one()


def list_for(company_id: int, user_id: int, limit: int = 100) -> list[Notification]:
    """The person's notifications, newest first."""
    return list(
        db.session.execute(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        ).scalars()
    )


def get_for(company_id: int, user_id: int, notification_id: int) -> Notification | None:
    """One of the person's own notifications, or None."""
    return db.session.execute(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    ).scalar_one_or_none()


@unit_of_work
def mark_read(company_id: int, user_id: int, notification_id: int) -> Notification | None:
    """Mark one of the person's notifications as read; return it (None when not theirs)."""
    note = get_for(company_id, user_id, notification_id)
    if note is not None and note.read_at is None:
        note.read_at = utcnow()
    return note


@unit_of_work
def mark_all_read(company_id: int, user_id: int) -> int:
    """Mark every unread notification of the person as read; return how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
