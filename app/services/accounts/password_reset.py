"""Password reset by e-mail: a signed, single-use, expiring link that sets a new password.

The service signs the token; the view turns it into a link (``link_for``), so no URL is built here.
"""

from __future__ import annotations

import hmac
from typing import Callable

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.integrations.mail import mail_configured, send_later
from app.models.mixins import utcnow
from app.models.users import CrmUser, new_uniquifier
from app.services import DomainError, unit_of_work
from app.services.accounts import audit
from app.services.accounts.companies import hash_password
from app.services.accounts.passwords import check_password, user_inputs
from app.services.accounts.signin import find_login_user, fingerprint, typed_login


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="crm-password-reset")


def reset_token(user: CrmUser | None) -> str:
    """A signed, expiring token that sets a new password once (``None``: a token that opens nothing)."""
    data = {"u": user.id, "f": fingerprint(user)} if user is not None else {"u": 0, "f": "0" * 24}
    return _serializer().dumps(data)


def request_reset(email: str, link_for: Callable[[str], str]) -> bool:
    """E-mail a reset link (``link_for(token)``) when the address belongs to an active account;
    False when mail is off.

    The answer and its timing do not reveal whether the address has an account: both cases sign a
    link, write the message, record the request and hand the message to the background sender
    (an unknown address hands over no recipient), so the request never waits on SMTP.
    """
    if not mail_configured():
        return False
    user = find_login_user(email)
    target = user if user is not None and user.active and user.password else None
    link = link_for(reset_token(target))
    minutes = int(current_app.config["PASSWORD_RESET_MAX_AGE"]) // 60
    subject = gettext("Password reset in Klientela")
    body = gettext(
        "Hello %(name)s,\n\nsomeone (hopefully you) asked to reset the password of your Klientela "
        "account. Set a new password here (the link works once and for %(minutes)s minutes):\n"
        "%(link)s\n\nIf it was not you, ignore this message; your password stays unchanged.",
        name=target.first_name if target is not None else "",
        minutes=minutes,
        link=link,
    )
    audit.record_now(
        audit.PASSWORD_RESET_REQUESTED, target, details=None if target is not None else typed_login(email)
    )
    send_later(target.email if target is not None else None, subject, body)
    return True


def user_from_reset(token: str) -> CrmUser:
    """The user a reset link belongs to; DomainError when it is forged, used or expired."""
    try:
        data = _serializer().loads(token, max_age=int(current_app.config["PASSWORD_RESET_MAX_AGE"]))
    except SignatureExpired:
        raise DomainError(_l("This password reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise DomainError(_l("This password reset link is not valid.")) from None
    user = db.session.get(CrmUser, int(data.get("u", 0))) if isinstance(data, dict) else None
    if user is None or not user.active or not hmac.compare_digest(fingerprint(user), str(data.get("f", ""))):
        raise DomainError(_l("This password reset link has already been used or is not valid."))
    return user


@unit_of_work
def reset_password(token: str, new_password: str) -> CrmUser:
    """Set a new password through a reset link; the link stops working, every session ends."""
    user = user_from_reset(token)
    check_password(new_password, user_inputs(user))
    user.password = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.fs_uniquifier = new_uniquifier()
    user.locked_until = None
    user.fail_login_count = 0
    audit.record(audit.PASSWORD_RESET, user)
    return user
