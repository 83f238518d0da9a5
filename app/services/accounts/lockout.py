"""Lockout after repeated failed sign-ins (password or code), the current-password check of
sensitive changes, and the owner's "unlock".

A failed attempt is saved even though the call then refuses the action, so ``register_failure``
and ``check_current_password`` commit on their own and run before (outside) a unit of work.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash

from app.models.mixins import utcnow
from app.models.users import CrmUser, new_uniquifier
from app.services import DomainError, transaction, unit_of_work
from app.services.accounts import audit

NOT_YOURS = _l("You cannot manage this account.")


class AccountLocked(DomainError):
    """Refused: the account is locked after too many failed attempts."""


def locked_error(user: CrmUser) -> AccountLocked:
    """The error that tells until when the account stays locked."""
    return AccountLocked(
        _l(
            "Too many failed sign-in attempts: the account is locked until %(time)s. "
            "Try again later or ask the company owner to unlock it.",
            time=format_datetime(user.locked_until, "HH:mm"),
        )
    )


def is_locked(user: CrmUser, now: dt.datetime | None = None) -> bool:
    """True while the account is locked after repeated failed sign-ins."""
    now = now or utcnow()
    return user.locked_until is not None and user.locked_until > now


def register_failure(user: CrmUser, event: str, now: dt.datetime) -> bool:
    """Count one failed attempt (password or code) and save it; lock the account at the threshold."""
    cfg = current_app.config
    with transaction():
        user.fail_login_count = (user.fail_login_count or 0) + 1
        audit.record(event, user)
        locked = user.fail_login_count >= int(cfg["LOCKOUT_THRESHOLD"])
        if locked:
            user.locked_until = now + dt.timedelta(minutes=int(cfg["LOCKOUT_MINUTES"]))
            user.fail_login_count = 0
            audit.record(audit.LOCKOUT, user, details=str(cfg["LOCKOUT_THRESHOLD"]))
    return locked


def check_current_password(user: CrmUser, password: str | None, now: dt.datetime | None = None) -> None:
    """Require the user's current password before a sensitive change.

    A wrong one counts toward the lockout like a failed sign-in; reaching it also ends every
    session of the account, so a stolen session cannot go on guessing the password.
    """
    if password and user.password and check_password_hash(user.password, password):
        return
    if register_failure(user, audit.PASSWORD_CHECK_FAILED, now or utcnow()):
        with transaction():
            user.fs_uniquifier = new_uniquifier()
            audit.record(audit.LOGOUT_EVERYWHERE, user)
        raise locked_error(user)
    raise DomainError(_l("The current password is wrong."), "current_password")


def same_company(actor: CrmUser, user: CrmUser) -> bool:
    """True when ``actor`` belongs to the company of ``user``."""
    return actor.company_id is not None and actor.company_id == user.company_id


@unit_of_work
def unlock(user: CrmUser, actor: CrmUser) -> None:
    """The owner lifts a lockout of an employee of the company."""
    if not same_company(actor, user):
        raise DomainError(NOT_YOURS)
    user.locked_until = None
    user.fail_login_count = 0
    audit.record(audit.UNLOCK, user, actor=actor)
