"""People of a company: add, edit, roles, deactivate, invitations, avatars."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Optional

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.mixins import utcnow
from app.models.users import CrmUser, new_uniquifier
from app.security import roles
from app.services import DomainError, FieldChecks, unit_of_work
from app.services import validators as v
from app.services.accounts import api_tokens, audit
from app.services.accounts.companies import company_role, email_taken, hash_password
from app.services.accounts.passwords import check_password, user_inputs
from app.services.images import process_image
from app.services.platform import plans

INVITE_MAX_AGE = 7 * 24 * 3600


@dataclass
class EmployeeData:
    """Fields of the employee form."""

    first_name: str
    last_name: str
    email: str
    role: str = roles.EMPLOYEE
    phone: Optional[str] = None
    position: Optional[str] = None
    password: Optional[str] = None


def _clean(data: EmployeeData, user_id: Optional[int] = None, password_for: str | None = None) -> dict:
    """The person's fields (and the new password when ``password_for`` names the company); every
    refusal at once (FieldErrors).
    """
    checks = FieldChecks()
    first = checks.run(v.clean_text, data.first_name, "first_name", _l("First name"), 64, required=True)
    last = checks.run(v.clean_text, data.last_name, "last_name", _l("Last name"), 64, required=True)
    email = checks.run(v.clean_email, data.email, required=True)
    if data.role not in roles.COMPANY_ROLES:
        checks.refuse(_l("Choose a role."), "role")
    if email and email_taken(email, exclude_user_id=user_id):
        checks.refuse(_l("This e-mail address is already used by another account."), "email")
    clean = dict(
        first_name=first,
        last_name=last,
        email=email,
        phone=checks.run(v.clean_phone, data.phone),
        position=checks.run(v.clean_text, data.position, "position", _l("Position"), 100),
        role=data.role,
    )
    if password_for is not None:
        words = [str(x) for x in (first, last, email, password_for) if x]
        checks.run(check_password, data.password or "", words)
    checks.raise_if_any()
    return clean


def _company(user: CrmUser) -> Company:
    """The company of a company user (owners and employees always have one)."""
    company = user.company
    if company is None:
        raise DomainError(_l("You cannot manage this account."))
    return company


def company_users(company_id: int) -> list[CrmUser]:
    """People of one company, ordered by name."""
    # CrmUser is FAB's user table, no tenant table: the tenancy hook does not filter it
    return list(
        db.session.execute(
            select(CrmUser)
            .where(CrmUser.company_id == company_id)
            .order_by(CrmUser.last_name, CrmUser.first_name)
        ).scalars()
    )


def user_names(company_id: int) -> dict[int, str]:
    """Names of the company's people by id (the "who" columns of the audit log and the trash)."""
    return {u.id: str(u) for u in company_users(company_id)}


def active_people(company_id: int) -> list[CrmUser]:
    """Active people of one company, by name: who can look after a contact or take a task."""
    return [u for u in company_users(company_id) if u.active]


def get_employee(company_id: int, user_id: int) -> Optional[CrmUser]:
    """A person of this company by id, or None (another company's id gives None)."""
    # CrmUser is no tenant table: the company filter is this query's own
    return db.session.execute(
        select(CrmUser).where(CrmUser.id == user_id, CrmUser.company_id == company_id)
    ).scalar_one_or_none()


@unit_of_work
def add_employee(owner: CrmUser, data: EmployeeData, invite: bool = False) -> CrmUser:
    """Add a person to the owner's company, with a password or an invitation link."""
    company = _company(owner)
    clean = _clean(data, password_for=None if invite else company.name)
    plans.check_limit(company.id, "employees")
    user = CrmUser(
        first_name=clean["first_name"],
        last_name=clean["last_name"],
        username=clean["email"],
        email=clean["email"],
        phone=clean["phone"],
        position=clean["position"],
        active=True,
        company_id=company.id,
        created_by_fk=owner.id,
        changed_by_fk=owner.id,
    )
    user.roles = [company_role(clean["role"])]
    user.password = None if invite else hash_password(data.password or "")
    db.session.add(user)
    db.session.flush()
    audit.record(audit.EMPLOYEE_ADDED, user, actor=owner, details=clean["role"])
    return user


@unit_of_work
def update_employee(owner: CrmUser, user: CrmUser, data: EmployeeData) -> CrmUser:
    """Change a person's data and role; the last owner cannot be demoted."""
    clean = _clean(data, user_id=user.id)
    if user.is_owner and clean["role"] != roles.OWNER and _owner_count(_company(user).id) <= 1:
        raise DomainError(_l("The company must keep at least one owner."), "role")
    old_roles = sorted(user.role_names)
    if old_roles != [clean["role"]]:
        audit.record(audit.ROLE_CHANGED, user, actor=owner, details=f"{', '.join(old_roles)} -> {clean['role']}")
    user.first_name = clean["first_name"]
    user.last_name = clean["last_name"]
    user.email = user.username = clean["email"]
    user.phone = clean["phone"]
    user.position = clean["position"]
    user.roles = [company_role(clean["role"])]
    user.changed_by_fk = owner.id
    return user


def _owner_count(company_id: int) -> int:
    return sum(1 for u in company_users(company_id) if u.is_owner and u.active)


@unit_of_work
def set_active(owner: CrmUser, user: CrmUser, active: bool) -> None:
    """Deactivate (ends every session at once) or reactivate a person."""
    if not active and user.id == owner.id:
        raise DomainError(_l("You cannot deactivate your own account."))
    if not active and user.is_owner and _owner_count(_company(user).id) <= 1:
        raise DomainError(_l("The company must keep at least one owner."))
    if active and not user.active:
        plans.check_limit(_company(user).id, "employees")
    if user.active != active:
        audit.record(audit.EMPLOYEE_REACTIVATED if active else audit.EMPLOYEE_DEACTIVATED, user, actor=owner)
    user.active = active
    if not active:
        user.fs_uniquifier = new_uniquifier()
        api_tokens.revoke_all(user)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="crm-invite")


def _token_digest(user: CrmUser) -> str:
    """A digest of the session token: ties the link to it without revealing it."""
    return hashlib.sha256(f"invite:{user.fs_uniquifier}".encode()).hexdigest()[:32]


def invitation_token(user: CrmUser) -> str:
    """A signed token that lets ``user`` set a password once (single use: tied to the session token)."""
    return _serializer().dumps({"u": user.id, "t": _token_digest(user)})


def send_invitation(user: CrmUser, link: str) -> bool:
    """E-mail the invitation ``link`` when SMTP is configured; return True when sent."""
    if not mail_configured():
        return False
    send_mail(
        user.email,
        gettext("Invitation to Klientela"),
        gettext(
            "%(company)s invites you to Klientela.\nSet your password here (the link is valid for 7 days):\n%(link)s",
            company=_company(user).name,
            link=link,
        ),
    )
    return True


def user_from_invitation(token: str) -> CrmUser:
    """The invited user the token belongs to, or DomainError when it is wrong, used or expired."""
    try:
        data = _serializer().loads(token, max_age=INVITE_MAX_AGE)
    except SignatureExpired:
        raise DomainError(_l("This invitation link has expired. Ask the owner for a new one.")) from None
    except BadSignature:
        raise DomainError(_l("This invitation link is not valid.")) from None
    user = db.session.get(CrmUser, int(data.get("u", 0)))
    if user is None or not hmac.compare_digest(_token_digest(user), str(data.get("t"))) or not user.active:
        raise DomainError(_l("This invitation link has already been used or is not valid."))
    return user


@unit_of_work
def accept_invitation(token: str, password: str) -> CrmUser:
    """Set the invited user's password; the link stops working."""
    user = user_from_invitation(token)
    check_password(password, user_inputs(user))
    user.password = hash_password(password)
    user.password_changed_at = utcnow()
    user.fs_uniquifier = new_uniquifier()
    audit.record(audit.PASSWORD_CHANGED, user)
    return user


@unit_of_work
def set_avatar(user: CrmUser, data: bytes) -> None:
    """Store the user's avatar (type checked from the bytes, resized)."""
    cfg = current_app.config
    image, mime = process_image(data, cfg["AVATAR_MAX_BYTES"], cfg["AVATAR_SIZE"], field="avatar")
    if user.company_id is not None:
        plans.check_storage(user.company_id, len(image) - len(user.avatar or b""), field="avatar")
    user.avatar, user.avatar_mime = image, mime


@unit_of_work
def remove_avatar(user: CrmUser) -> None:
    """Remove the user's avatar."""
    user.avatar = user.avatar_mime = None
