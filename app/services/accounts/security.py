"""Account security: sign-in with lockout, log out everywhere, password change and reset by
e-mail, TOTP two-step sign-in with recovery codes, the company's 2FA policy, API tokens.

Every browser session is a server-side row (app/services/accounts/sessions.py) stamped with the user's
session token (``CrmUser.fs_uniquifier``), which is also the identity of every API token; rotating
the token ends them all at once, a plain sign-out ends just the one session.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import secrets
import time
from typing import Any

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, session, url_for
from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.integrations.mail import mail_configured, send_later
from app.models.mixins import utcnow
from app.models.security import CompanySecurity
from app.models.users import CrmUser, new_uniquifier
from app.services import DomainError, transaction
from app.services.accounts import audit, sessions
from app.services.accounts.companies import hash_password
from app.services.accounts.passwords import check_password
from app.services.accounts.signups import check_confirmed

PENDING_KEY = "crm_2fa_pending"
RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Klientela"

WRONG_LOGIN = _l("Wrong e-mail or password.")
_EMAIL_SHAPE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


# ---------------------------------------------------------------- helpers


def user_inputs(user: CrmUser) -> list[str]:
    """What a password must not contain: the user's name, login, e-mail and company name."""
    values = [user.first_name, user.last_name, user.username, user.email]
    if user.company is not None:
        values.append(user.company.name)
    return [v for v in values if v]


def _fingerprint(user: CrmUser) -> str:
    """Changes whenever the password or the session token changes (single-use links)."""
    raw = f"{user.fs_uniquifier}:{user.password or ''}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def _find_login_user(login: str) -> CrmUser | None:
    login = (login or "").strip().lower()
    if not login:
        return None
    return db.session.execute(
        select(CrmUser).where((func.lower(CrmUser.username) == login) | (func.lower(CrmUser.email) == login))
    ).scalars().first()


def _fake_hash_check(password: str) -> None:
    """Spend the time of a real check, so unknown logins do not answer faster."""
    check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], password or "x")


def _locked_error(user: CrmUser) -> DomainError:
    return DomainError(
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


def _register_failure(user: CrmUser, event: str, now: dt.datetime) -> bool:
    """Count one failed attempt (password or code); lock the account at the threshold."""
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
    if _register_failure(user, audit.PASSWORD_CHECK_FAILED, now or utcnow()):
        with transaction():
            user.fs_uniquifier = new_uniquifier()
            audit.record(audit.LOGOUT_EVERYWHERE, user)
        raise _locked_error(user)
    raise DomainError(_l("The current password is wrong."), "current_password")


def _typed_login(login: str | None) -> str | None:
    """The login typed for an unknown account, kept only when it looks like an e-mail address
    (people sometimes type their password into the login field; it must never be stored)."""
    value = (login or "").strip()[:100]
    return value if _EMAIL_SHAPE.fullmatch(value) else None


# ---------------------------------------------------------------- sign-in


def authenticate(login: str, password: str, now: dt.datetime | None = None) -> CrmUser:
    """The user with this login and password, or DomainError (wrong data or locked account)."""
    now = now or utcnow()
    user = _find_login_user(login)
    if user is None or not user.active or not user.password:
        _fake_hash_check(password)
        audit.record_now(
            audit.LOGIN_FAILED, user, details=None if user is not None else _typed_login(login)
        )
        raise DomainError(WRONG_LOGIN)
    if is_locked(user, now):
        _fake_hash_check(password)
        raise _locked_error(user)
    if user.locked_until is not None:  # the lock has expired: a fresh start
        with transaction():
            user.locked_until = None
            user.fail_login_count = 0
    if not password or not check_password_hash(user.password, password):
        if _register_failure(user, audit.LOGIN_FAILED, now):
            raise _locked_error(user)
        raise DomainError(WRONG_LOGIN)
    check_confirmed(user)  # the right password of a sign-up whose e-mail is not confirmed yet
    return user


def complete_login(user: CrmUser, method: str | None = None) -> None:
    """Start the browser session, update sign-in statistics and record the sign-in."""
    session.pop(PENDING_KEY, None)
    with transaction():
        user.login_count = (user.login_count or 0) + 1
        user.last_login = dt.datetime.now()
        user.fail_login_count = 0
        audit.record(audit.LOGIN, user, details=method)
    sessions.sign_in(user)


def start_second_step(user: CrmUser, next_url: str) -> None:
    """Remember in the session that the password was right and a code is still needed."""
    session[PENDING_KEY] = {
        "u": user.id,
        "f": _fingerprint(user),
        "at": int(time.time()),
        "next": next_url,
    }


def pending_user() -> CrmUser | None:
    """The user waiting for the second step, while the marker is fresh and still valid."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if int(time.time()) - int(data.get("at", 0)) > int(current_app.config["TWO_FACTOR_PENDING_SECONDS"]):
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(CrmUser, int(data.get("u", 0)))
    if user is None or not user.active or not user.two_factor_enabled or _fingerprint(user) != data.get("f"):
        session.pop(PENDING_KEY, None)
        return None
    return user


def pending_next() -> str:
    """Where to go after the second step."""
    data = session.get(PENDING_KEY) or {}
    return data.get("next") or "/"


def finish_second_step(user: CrmUser, code: str, now: dt.datetime | None = None) -> None:
    """Check the authenticator or recovery code and sign in; DomainError when wrong or locked."""
    now = now or utcnow()
    if is_locked(user, now):
        session.pop(PENDING_KEY, None)
        raise _locked_error(user)
    method = verify_second_factor(user, code, now)
    if method is None:
        if _register_failure(user, audit.TWO_FACTOR_FAILED, now):
            session.pop(PENDING_KEY, None)
            raise _locked_error(user)
        raise DomainError(_l("Wrong code. Enter the current code from your authenticator app."), "code")
    complete_login(user, method)


# ---------------------------------------------------------------- log out everywhere


def logout_everywhere(user: CrmUser, actor: CrmUser) -> None:
    """End every session and API token of ``user`` at once (rotates the session token)."""
    if actor.id != user.id and (actor.company_id is None or actor.company_id != user.company_id):
        raise DomainError(_l("You cannot manage this account."))
    with transaction():
        user.fs_uniquifier = new_uniquifier()
        audit.record(audit.LOGOUT_EVERYWHERE, user, actor=actor)


def _keep_current_session(user: CrmUser, actor: CrmUser) -> None:
    """After rotating the token, the person acting on their own account stays signed in here."""
    if actor.id == user.id:
        real = user._get_current_object() if hasattr(user, "_get_current_object") else user
        sessions.keep_current(real)


def record_logout(user: CrmUser) -> None:
    """Record a plain sign-out."""
    audit.record_now(audit.LOGOUT, user)


# ---------------------------------------------------------------- passwords


def change_password(
    user: CrmUser,
    actor: CrmUser,
    new_password: str,
    current_password: str | None = None,
    logout_others: bool = True,
) -> None:
    """Set a new password (own: current password required); by default end every other session."""
    if actor.id == user.id:
        check_current_password(user, current_password)
    elif actor.company_id is None or actor.company_id != user.company_id or not actor.is_owner:
        raise DomainError(_l("You cannot manage this account."))
    if current_password and new_password == current_password:
        raise DomainError(_l("The new password must differ from the current one."), "password")
    check_password(new_password, user_inputs(user))
    with transaction():
        user.password = hash_password(new_password)
        user.password_changed_at = utcnow()
        audit.record(audit.PASSWORD_CHANGED, user, actor=actor)
        if logout_others:
            user.fs_uniquifier = new_uniquifier()
            audit.record(audit.LOGOUT_EVERYWHERE, user, actor=actor)
    if logout_others:
        _keep_current_session(user, actor)


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="crm-password-reset")


def reset_link(user: CrmUser | None) -> str:
    """A signed, expiring link that sets a new password once (``None``: a link that opens nothing)."""
    data = {"u": user.id, "f": _fingerprint(user)} if user is not None else {"u": 0, "f": "0" * 24}
    token = _reset_serializer().dumps(data)
    return url_for("PasswordResetView.reset", token=token, _external=True)


def request_reset(email: str) -> bool:
    """E-mail a reset link when the address belongs to an active account; False when mail is off.

    The answer and its timing do not reveal whether the address has an account: both cases sign a
    link, write the message, record the request and hand the message to the background sender
    (an unknown address hands over no recipient), so the request never waits on SMTP.
    """
    if not mail_configured():
        return False
    user = _find_login_user(email)
    target = user if user is not None and user.active and user.password else None
    link = reset_link(target)
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
        audit.PASSWORD_RESET_REQUESTED, target, details=None if target is not None else _typed_login(email)
    )
    send_later(target.email if target is not None else None, subject, body)
    return True


def user_from_reset(token: str) -> CrmUser:
    """The user a reset link belongs to; DomainError when it is forged, used or expired."""
    try:
        data = _reset_serializer().loads(token, max_age=int(current_app.config["PASSWORD_RESET_MAX_AGE"]))
    except SignatureExpired:
        raise DomainError(_l("This password reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise DomainError(_l("This password reset link is not valid.")) from None
    user = db.session.get(CrmUser, int(data.get("u", 0))) if isinstance(data, dict) else None
    if user is None or not user.active or not hmac.compare_digest(_fingerprint(user), str(data.get("f", ""))):
        raise DomainError(_l("This password reset link has already been used or is not valid."))
    return user


def reset_password(token: str, new_password: str) -> CrmUser:
    """Set a new password through a reset link; the link stops working, every session ends."""
    user = user_from_reset(token)
    check_password(new_password, user_inputs(user))
    with transaction():
        user.password = hash_password(new_password)
        user.password_changed_at = utcnow()
        user.fs_uniquifier = new_uniquifier()
        user.locked_until = None
        user.fail_login_count = 0
        audit.record(audit.PASSWORD_RESET, user)
    return user


def unlock(user: CrmUser, actor: CrmUser) -> None:
    """The owner lifts a lockout of an employee of the company."""
    if actor.company_id is None or actor.company_id != user.company_id:
        raise DomainError(_l("You cannot manage this account."))
    with transaction():
        user.locked_until = None
        user.fail_login_count = 0
        audit.record(audit.UNLOCK, user, actor=actor)


# ---------------------------------------------------------------- two-step sign-in (TOTP)


def _fernet() -> Fernet:
    key = current_app.config.get("CRM_FERNET_KEY")
    if not key:
        raise RuntimeError("CRM_FERNET_KEY must be set in the environment")
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(value: str) -> str:
    """Encrypt a secret for the database."""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    """Decrypt a secret stored by ``encrypt``."""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        raise DomainError(_l("The two-step sign-in key cannot be read; ask the owner to reset it.")) from None


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(user: CrmUser, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code of ``uri`` as a data: URI, made locally."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def _totp_step(secret: str, code: str, now: dt.datetime, last: int | None) -> int | None:
    """The time step the code belongs to (now, one before or after), unless already used."""
    totp = pyotp.TOTP(secret)
    ts = int(now.replace(tzinfo=dt.UTC).timestamp())
    base = ts // totp.interval
    for step in (base, base - 1, base + 1):
        if last is not None and step <= last:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _clean_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isascii() and ch.isalnum()).lower()


def _code_hash(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, _clean_code(code).encode(), hashlib.sha256).hexdigest()


def new_recovery_codes() -> list[str]:
    """Ten random single-use recovery codes, e.g. ``k3p9-x2mf-qa``."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_codes_left(user: CrmUser) -> int:
    """How many unused recovery codes the user has."""
    return len(json.loads(user.recovery_codes or "[]"))


def verify_second_factor(user: CrmUser, code: str, now: dt.datetime | None = None) -> str | None:
    """``"totp"`` or ``"recovery"`` when the code is right (and spend it), else None."""
    now = now or utcnow()
    if not user.two_factor_enabled:
        return None
    clean = _clean_code(code)
    if clean.isdigit() and len(clean) == 6:
        step = _totp_step(decrypt(user.totp_secret or ""), clean, now, user.totp_last_counter)
        if step is None:
            return None
        with transaction():
            user.totp_last_counter = step
        return "totp"
    hashes = json.loads(user.recovery_codes or "[]")
    digest = _code_hash(clean)
    for stored in hashes:
        if hmac.compare_digest(stored, digest):
            hashes.remove(stored)
            with transaction():
                user.recovery_codes = json.dumps(hashes)
                audit.record(audit.RECOVERY_CODE_USED, user, details=str(len(hashes)))
            return "recovery"
    return None


def enable_two_factor(user: CrmUser, secret: str, code: str, now: dt.datetime | None = None) -> list[str]:
    """Turn on two-step sign-in after a correct first code; end other sessions; return recovery codes."""
    now = now or utcnow()
    if user.two_factor_enabled:
        raise DomainError(_l("Two-step sign-in is already on."))
    step = _totp_step(secret, _clean_code(code), now, None)
    if step is None:
        raise DomainError(_l("Wrong code. Enter the current code from your authenticator app."), "code")
    codes = new_recovery_codes()
    with transaction():
        user.totp_secret = encrypt(secret)
        user.totp_last_counter = step
        user.recovery_codes = json.dumps([_code_hash(c) for c in codes])
        user.fs_uniquifier = new_uniquifier()
        audit.record(audit.TWO_FACTOR_ENABLED, user)
    _keep_current_session(user, user)
    return codes


def disable_two_factor(user: CrmUser, actor: CrmUser, current_password: str | None = None) -> None:
    """Turn two-step sign-in off (own: password needed; owner: resets an employee's lost phone)."""
    if actor.id == user.id:
        check_current_password(user, current_password)
        if company_requires_2fa(user.company_id):
            raise DomainError(_l("Your company requires two-step sign-in; it cannot be turned off."))
    elif actor.company_id is None or actor.company_id != user.company_id or not actor.is_owner:
        raise DomainError(_l("You cannot manage this account."))
    with transaction():
        user.totp_secret = None
        user.totp_last_counter = None
        user.recovery_codes = None
        user.fs_uniquifier = new_uniquifier()
        audit.record(audit.TWO_FACTOR_DISABLED, user, actor=actor)
    _keep_current_session(user, actor)


def regenerate_recovery_codes(user: CrmUser, current_password: str) -> list[str]:
    """New recovery codes (the old ones stop working); the password is required."""
    check_current_password(user, current_password)
    if not user.two_factor_enabled:
        raise DomainError(_l("Two-step sign-in is off."))
    codes = new_recovery_codes()
    with transaction():
        user.recovery_codes = json.dumps([_code_hash(c) for c in codes])
        audit.record(audit.RECOVERY_CODES_NEW, user)
    return codes


def company_requires_2fa(company_id: int | None) -> bool:
    """True when the company's owner made two-step sign-in mandatory."""
    if company_id is None:
        return False
    row = db.session.get(CompanySecurity, company_id)
    return bool(row and row.require_2fa)


def set_company_2fa(owner: CrmUser, required: bool) -> None:
    """The owner makes two-step sign-in mandatory (or optional) for the whole company."""
    if owner.company_id is None or not owner.is_owner:
        raise DomainError(_l("You cannot manage this account."))
    with transaction() as s:
        row = s.get(CompanySecurity, owner.company_id)
        if row is None:
            row = CompanySecurity(company_id=owner.company_id, require_2fa=False)
            s.add(row)
        if row.require_2fa != required:
            row.require_2fa = required
            audit.record(audit.COMPANY_2FA, owner, details="on" if required else "off")


def needs_2fa_setup(user: Any) -> bool:
    """True for a signed-in user whose company requires 2FA they have not turned on yet."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and not user.two_factor_enabled
        and company_requires_2fa(user.company_id)
    )


# ---------------------------------------------------------------- API tokens


def issue_api_token(login: str, password: str, code: str | None = None) -> str:
    """A JWT bound to the user's session token (log out everywhere revokes it)."""
    from flask_jwt_extended import create_access_token

    user = authenticate(login, password)
    if user.two_factor_enabled:
        if not code or verify_second_factor(user, code) is None:
            _register_failure(user, audit.TWO_FACTOR_FAILED, utcnow())
            raise DomainError(_l("Wrong code. Enter the current code from your authenticator app."), "code")
    elif company_requires_2fa(user.company_id):
        raise DomainError(_l("Your company requires two-step sign-in: turn it on in your profile first."))
    with transaction():
        user.fail_login_count = 0
        audit.record(audit.API_TOKEN, user)
    return create_access_token(identity=user.fs_uniquifier, fresh=True)
