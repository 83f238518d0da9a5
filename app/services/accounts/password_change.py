"""Changing a password: one's own (current password required) or an employee's by the owner."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models.mixins import utcnow
from app.models.users import CrmUser, new_uniquifier
from app.services import DomainError, unit_of_work
from app.services.accounts import audit, sessions
from app.services.accounts.companies import hash_password
from app.services.accounts.lockout import NOT_YOURS, check_current_password, same_company
from app.services.accounts.passwords import check_password, user_inputs


def change_password(
    user: CrmUser,
    actor: CrmUser,
    new_password: str,
    current_password: str | None = None,
    logout_others: bool = True,
    keep_session: int | None = None,
) -> None:
    """Set a new password (own: current password required); by default end every other session.

    ``keep_session`` is the acting user's own session, which stays open when they change their own.
    """
    if actor.id == user.id:
        check_current_password(user, current_password)  # saves a wrong attempt: before the unit
    _change(user, actor, new_password, current_password, logout_others, keep_session)


@unit_of_work
def _change(
    user: CrmUser, actor: CrmUser, new_password: str, current_password: str | None, logout_others: bool,
    keep_session: int | None,
) -> None:
    if actor.id != user.id and (not same_company(actor, user) or not actor.is_owner):
        raise DomainError(NOT_YOURS)
    if current_password and new_password == current_password:
        raise DomainError(_l("The new password must differ from the current one."), "password")
    check_password(new_password, user_inputs(user))
    user.password = hash_password(new_password)
    user.password_changed_at = utcnow()
    audit.record(audit.PASSWORD_CHANGED, user, actor=actor)
    if logout_others:
        user.fs_uniquifier = new_uniquifier()
        audit.record(audit.LOGOUT_EVERYWHERE, user, actor=actor)
        if actor.id == user.id:
            sessions.keep_open(user, keep_session)
