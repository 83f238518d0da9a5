"""Public sign-up with a confirmed owner's e-mail address.

The "Załóż konto" form creates an unconfirmed company account (``Company.confirmed_at`` is None)
and e-mails its owner a signed link. Until the link is clicked nobody can sign in to the account;
clicking it confirms the account, starts the free trial and signs the owner in. Sign-ups nobody
confirms within SIGNUP_CONFIRM_HOURS are removed by the scheduler's ``signup_expiry`` job, which
frees their NIP and e-mail address.

Code that creates accounts itself (CLI, demo data, an approved NIP claim) calls
``tenancy.register_company`` and gets a confirmed account at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from typing import Callable, Optional

from flask import current_app
from flask_appbuilder.security.sqla.models import assoc_user_role
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.legal import TermsAcceptance
from app.models.security import AuditEvent, CompanySecurity
from app.models.signups import NipClaim
from app.models.users import CrmUser
from app.security.tenancy import all_tenants
from app.services import DomainError, clock, unit_of_work
from app.services.accounts import audit
from app.services.accounts import companies as tenancy
from app.services.platform import legal

log = logging.getLogger(__name__)

_SALT = "crm-signup-confirm"


class SignupNotConfirmed(DomainError):
    """Sign-in refused: the owner has not clicked the confirmation link yet."""

    def __init__(self, email: str) -> None:
        super().__init__(
            _l(
                "Your account is not active yet: confirm your e-mail address with the link we sent to "
                "%(email)s. No message? Check the spam folder or send the link again.",
                email=email,
            )
        )
        self.email = email


def confirm_hours() -> int:
    """How long a sign-up (or a NIP claim) waits for its e-mail link."""
    return int(current_app.config["SIGNUP_CONFIRM_HOURS"])


def _cutoff(now: Optional[dt.datetime] = None) -> dt.datetime:
    return (now or clock.utc_now()) - dt.timedelta(hours=confirm_hours())


def _require_mail() -> None:
    if not mail_configured():
        raise DomainError(
            _l("Sign-up is not available right now: the platform cannot send e-mail. Please contact the administrator.")
        )


def link_digest(purpose: str, secret: str) -> str:
    """A digest binding a signed link to one row's random secret, without revealing the secret."""
    return hashlib.sha256(f"{purpose}:{secret}".encode()).hexdigest()[:32]


def serializer(salt: str) -> URLSafeTimedSerializer:
    """Signer of one kind of e-mailed link (its own salt: a link of one kind never works as another)."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


# ---------------------------------------------------------------- sign-up and confirmation


@unit_of_work
def sign_up(data: tenancy.SignupData, link_for: Callable[[str], str]) -> CrmUser:
    """Create an unconfirmed company account and e-mail its owner the confirmation link
    (``link_for(token)``); nothing is kept when the message cannot be sent.
    """
    tenancy.validate_signup(data)  # the form's own mistakes come first
    if not data.accepted_documents:
        raise DomainError(legal.TERMS_REQUIRED, "accept_terms")
    _require_mail()
    owner = tenancy.register_company(data, confirmed=False)
    try:
        send_confirmation(owner, link_for)
    except OSError:
        log.warning("could not send the sign-up confirmation e-mail")
        raise DomainError(_l("We could not send the confirmation e-mail. Please try again in a few minutes.")) from None
    return owner


def confirmation_token(owner: CrmUser) -> str:
    """The signed token that confirms ``owner``'s sign-up (tied to this very account)."""
    return serializer(_SALT).dumps({"u": owner.id, "t": link_digest("signup", owner.fs_uniquifier)})


def send_confirmation(owner: CrmUser, link_for: Callable[[str], str]) -> None:
    """E-mail the owner of an unconfirmed sign-up the confirmation link."""
    company = _company_of(owner)
    send_mail(
        owner.email,
        gettext("Confirm your Klientela account"),
        gettext(
            "Hello %(name)s,\n\nthank you for signing up %(company)s (NIP %(nip)s) to Klientela. Confirm your "
            "e-mail address to activate the account and start the free %(days)s-day licence:\n%(link)s\n\n"
            "The link is valid for %(hours)s hours; after that the sign-up is removed. If you did not sign up, "
            "ignore this message.",
            name=owner.first_name,
            company=company.name,
            nip=company.nip,
            days=current_app.config["TRIAL_DAYS"],
            link=link_for(confirmation_token(owner)),
            hours=confirm_hours(),
        ),
    )


def owner_from_link(token: str) -> CrmUser:
    """The owner a confirmation link belongs to; DomainError when it is forged, foreign or expired."""
    invalid = DomainError(_l("This confirmation link is not valid."))
    try:
        data = serializer(_SALT).loads(token, max_age=confirm_hours() * 3600)
    except BadSignature:  # also SignatureExpired
        raise invalid from None
    if not isinstance(data, dict):
        raise invalid
    owner = db.session.get(CrmUser, int(data.get("u") or 0))
    if owner is None or owner.company is None or not hmac.compare_digest(
        link_digest("signup", owner.fs_uniquifier), str(data.get("t", ""))
    ):
        raise DomainError(_l("This confirmation link is not valid or the sign-up has expired. Please sign up again."))
    return owner


def _company_of(owner: CrmUser) -> Company:
    """The company of a sign-up's owner (every owner has one)."""
    company = owner.company
    assert company is not None, "a sign-up owner always has a company"
    return company


@unit_of_work
def confirm(token: str, today: Optional[dt.date] = None) -> CrmUser:
    """Confirm a sign-up through its link: the account becomes usable and its free trial starts now."""
    owner = owner_from_link(token)
    company = _company_of(owner)
    if company.is_confirmed:
        raise DomainError(_l("This account is already confirmed. Sign in with your e-mail and password."))
    if company.created_at < _cutoff():
        raise DomainError(_l("This confirmation link is not valid or the sign-up has expired. Please sign up again."))
    company.confirmed_at = clock.utc_now()
    tenancy.start_trial(company, today)
    audit.record(audit.SIGNUP_CONFIRMED, owner)
    return owner


def check_confirmed(user: CrmUser) -> None:
    """Refuse the sign-in of a person whose company has not confirmed its sign-up."""
    if user.company is not None and not user.company.is_confirmed:
        raise SignupNotConfirmed(user.email)


def resend(email: str, link_for: Callable[[str], str]) -> None:
    """E-mail the confirmation link again when ``email`` belongs to a waiting sign-up.

    The answer is the same either way, so it does not reveal which addresses have an account.
    """
    _require_mail()
    email = (email or "").strip().lower()
    if not email:
        return
    owner = db.session.execute(
        select(CrmUser).join(Company, CrmUser.company_id == Company.id).where(
            func.lower(CrmUser.email) == email, Company.confirmed_at.is_(None), Company.created_at >= _cutoff()
        )
    ).scalars().first()
    if owner is None:
        return
    try:
        send_confirmation(owner, link_for)
    except OSError:
        log.warning("could not resend the sign-up confirmation e-mail")
        raise DomainError(_l("We could not send the confirmation e-mail. Please try again in a few minutes.")) from None


# ---------------------------------------------------------------- expiry (scheduler job)


@unit_of_work
def remove_companies(company_ids: list[int]) -> None:
    """Delete never-used company accounts with their people and audit events (for good)."""
    if not company_ids:
        return
    # a platform job across companies: every statement names the companies it removes
    with all_tenants():
        session = db.session
        user_ids = list(session.execute(select(CrmUser.id).where(CrmUser.company_id.in_(company_ids))).scalars())
        if user_ids:
            session.execute(delete(assoc_user_role).where(assoc_user_role.c.user_id.in_(user_ids)))
        session.execute(
            delete(AuditEvent).where(
                AuditEvent.company_id.in_(company_ids)
                | AuditEvent.user_id.in_(user_ids or [0])
                | AuditEvent.actor_id.in_(user_ids or [0])
            )
        )
        session.execute(delete(CompanySecurity).where(CompanySecurity.company_id.in_(company_ids)))
        session.execute(delete(TermsAcceptance).where(TermsAcceptance.company_id.in_(company_ids)))
        session.execute(update(NipClaim).where(NipClaim.company_id.in_(company_ids)).values(company_id=None))
        session.execute(delete(CrmUser).where(CrmUser.id.in_(user_ids or [0])))
        session.execute(delete(Company).where(Company.id.in_(company_ids)))
    db.session.expire_all()


@unit_of_work
def purge_unconfirmed(now: Optional[dt.datetime] = None) -> int:
    """Remove sign-ups not confirmed within SIGNUP_CONFIRM_HOURS (their NIP and e-mail become free)."""
    with all_tenants():  # every company's waiting sign-ups
        ids = list(
            db.session.execute(
                select(Company.id).where(Company.confirmed_at.is_(None), Company.created_at < _cutoff(now))
            ).scalars()
        )
    remove_companies(ids)
    if ids:
        log.info("removed %s unconfirmed sign-ups", len(ids))
    return len(ids)
