"""Two-step sign-in (TOTP): the encrypted secret, QR code, codes from the app, single-use
recovery codes, turning it on and off.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import secrets

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.models.mixins import utcnow
from app.models.users import CrmUser, new_uniquifier
from app.services import DomainError, unit_of_work
from app.services import secrets as secrets_at_rest
from app.services.accounts import audit, sessions
from app.services.accounts.lockout import NOT_YOURS, check_current_password, same_company
from app.services.accounts.security_policy import company_requires_2fa

RECOVERY_CODE_COUNT = 10
TOTP_ISSUER = "Klientela"
WRONG_CODE = _l("Wrong code. Enter the current code from your authenticator app.")


def encrypt(value: str) -> str:
    """Encrypt a secret for the database."""
    return secrets_at_rest.encrypt(value)


def decrypt(value: str) -> str:
    """Decrypt a secret stored by ``encrypt``."""
    try:
        return secrets_at_rest.decrypt(value)
    except secrets_at_rest.InvalidToken:
        raise DomainError(_l("The two-step sign-in key cannot be read; ask the owner to reset it.")) from None


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(user: CrmUser, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code of ``uri`` as a data: URI, made locally."""
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


@unit_of_work
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
        user.totp_last_counter = step
        return "totp"
    hashes = json.loads(user.recovery_codes or "[]")
    digest = _code_hash(clean)
    for stored in hashes:
        if hmac.compare_digest(stored, digest):
            hashes.remove(stored)
            user.recovery_codes = json.dumps(hashes)
            audit.record(audit.RECOVERY_CODE_USED, user, details=str(len(hashes)))
            return "recovery"
    return None


@unit_of_work
def enable_two_factor(
    user: CrmUser, secret: str, code: str, now: dt.datetime | None = None, keep_session: int | None = None
) -> list[str]:
    """Turn on two-step sign-in after a correct first code; end other sessions (all but
    ``keep_session``); return the recovery codes.
    """
    now = now or utcnow()
    if user.two_factor_enabled:
        raise DomainError(_l("Two-step sign-in is already on."))
    step = _totp_step(secret, _clean_code(code), now, None)
    if step is None:
        raise DomainError(WRONG_CODE, "code")
    codes = new_recovery_codes()
    user.totp_secret = encrypt(secret)
    user.totp_last_counter = step
    user.recovery_codes = json.dumps([_code_hash(c) for c in codes])
    user.fs_uniquifier = new_uniquifier()
    audit.record(audit.TWO_FACTOR_ENABLED, user)
    sessions.keep_open(user, keep_session)
    return codes


def disable_two_factor(
    user: CrmUser, actor: CrmUser, current_password: str | None = None, keep_session: int | None = None
) -> None:
    """Turn two-step sign-in off (own: password needed; owner: resets an employee's lost phone).

    Every session of ``user`` ends; ``keep_session`` (the acting user's own) stays open.
    """
    if actor.id == user.id:
        check_current_password(user, current_password)  # saves a wrong attempt: before the unit
    _disable(user, actor, keep_session)


@unit_of_work
def _disable(user: CrmUser, actor: CrmUser, keep_session: int | None) -> None:
    if actor.id == user.id:
        if company_requires_2fa(user.company_id):
            raise DomainError(_l("Your company requires two-step sign-in; it cannot be turned off."))
    elif not same_company(actor, user) or not actor.is_owner:
        raise DomainError(NOT_YOURS)
    user.totp_secret = None
    user.totp_last_counter = None
    user.recovery_codes = None
    user.fs_uniquifier = new_uniquifier()
    audit.record(audit.TWO_FACTOR_DISABLED, user, actor=actor)
    if actor.id == user.id:
        sessions.keep_open(user, keep_session)


def regenerate_recovery_codes(user: CrmUser, current_password: str | None) -> list[str]:
    """New recovery codes (the old ones stop working); the password is required."""
    check_current_password(user, current_password)  # saves a wrong attempt: before the unit
    return _new_codes(user)


@unit_of_work
def _new_codes(user: CrmUser) -> list[str]:
    if not user.two_factor_enabled:
        raise DomainError(_l("Two-step sign-in is off."))
    codes = new_recovery_codes()
    user.recovery_codes = json.dumps([_code_hash(c) for c in codes])
    audit.record(audit.RECOVERY_CODES_NEW, user)
    return codes
