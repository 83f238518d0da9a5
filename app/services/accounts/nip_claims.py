"""Claiming a NIP another account holds ("Ta firma ma już konto? Zgłoś to").

NIPs are public, so anybody could sign up someone else's company. The real company files a claim
(its e-mail address confirmed by a link); the platform admin checks it and approves or rejects it.
On approval the NIP moves: a new company account is made for the claimant (who sets a password
through an e-mailed link), the account that held the NIP loses it (cleared and flagged, its owner
must enter the right NIP), both parties are e-mailed and both companies' audit logs record it.

Ownership of the NIP must be proven. Today the proof is the platform admin's own check
(``PROOF_ADMIN_CHECK``). A proof from a successful KSeF authentication for the NIP plugs in as
one more entry of ``PROOF_CHECKS`` (a function that raises DomainError when the proof fails).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature
from sqlalchemy import case, delete, func, select

from app.extensions import db
from app.integrations.mail import mail_configured, send_mail
from app.models.company import Company
from app.models.signups import NipClaim
from app.models.users import CrmUser
from app.security import roles
from app.security.tenancy import all_tenants
from app.services import DomainError, clock, unit_of_work
from app.services import validators as v
from app.services.accounts import audit, employees, signups
from app.services.accounts import companies as tenancy

log = logging.getLogger(__name__)

_SALT = "crm-nip-claim"
OPEN = ("unconfirmed", "pending")

#: status -> label shown to the platform admin
STATUS_LABELS = {
    "unconfirmed": _l("E-mail not confirmed"),
    "pending": _l("Waiting for a decision"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


@dataclass
class ClaimData:
    """What the public claim form collects."""

    nip: str
    company_name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    explanation: str


@dataclass(frozen=True)
class OwnershipProof:
    """Evidence that the claimant owns the NIP: its kind (a key of PROOF_CHECKS) and a note."""

    kind: str
    note: str = ""


PROOF_ADMIN_CHECK = "admin_check"
PROOF_LABELS = {PROOF_ADMIN_CHECK: _l("Checked by the platform administrator")}


def _check_by_admin(claim: NipClaim, proof: OwnershipProof, actor: CrmUser) -> None:
    """The platform admin checked the claimant's documents and says what was checked."""
    if not actor.is_platform_admin:
        raise DomainError(_l("Only the platform administrator can approve a claim."))
    if not proof.note.strip():
        raise DomainError(_l("Describe what you checked to confirm the claimant owns this NIP."), "note")


#: proof kind -> check raising DomainError; a KSeF-authentication proof is added here once KSeF exists
PROOF_CHECKS: dict[str, Callable[[NipClaim, OwnershipProof, CrmUser], None]] = {
    PROOF_ADMIN_CHECK: _check_by_admin,
}


def holder_of(nip: str) -> Optional[Company]:
    """The company account that holds ``nip`` now, if any."""
    with all_tenants():
        return db.session.execute(select(Company).where(Company.nip == nip)).scalar_one_or_none()


# ---------------------------------------------------------------- the claimant


@unit_of_work
def submit(data: ClaimData, link_for: Callable[[str], str]) -> NipClaim:
    """Record a claim of a NIP that has an account and e-mail the claimant a confirmation link
    (``link_for(token)``); nothing is kept when the message cannot be sent.
    """
    if not mail_configured():
        raise DomainError(
            _l("Sign-up is not available right now: the platform cannot send e-mail. Please contact the administrator.")
        )
    nip = v.clean_nip(data.nip)
    clean: dict[str, Any] = dict(
        company_name=v.clean_text(data.company_name, "company_name", _l("Company name"), 200, required=True),
        first_name=v.clean_text(data.first_name, "first_name", _l("First name"), 64, required=True),
        last_name=v.clean_text(data.last_name, "last_name", _l("Last name"), 64, required=True),
        email=v.clean_email(data.email, required=True),
        phone=v.clean_phone(data.phone),
        explanation=v.clean_text(data.explanation, "explanation", _l("Explanation"), 2000, required=True),
    )
    if not clean["phone"]:
        raise DomainError(_l("This field is required."), "phone")
    holder = holder_of(nip)
    if holder is None:
        raise DomainError(_l("No account uses this NIP: you can simply create an account."), "nip")
    if tenancy.email_taken(clean["email"] or ""):
        raise DomainError(
            _l("This e-mail address is already used by another account. Give the address the new account should use."),
            "email",
        )
    open_claim = db.session.execute(
        select(NipClaim.id).where(
            NipClaim.nip == nip, func.lower(NipClaim.email) == clean["email"].lower(), NipClaim.status.in_(OPEN)
        )
    ).first()
    if open_claim:
        raise DomainError(_l("You have already reported this NIP. Check your mailbox or wait for our answer."), "nip")
    claim = NipClaim(nip=nip, company_id=holder.id, status="unconfirmed", **clean)
    db.session.add(claim)
    db.session.flush()
    try:
        _send(
            claim.email,
            gettext("Confirm your claim of NIP %(nip)s", nip=nip),
            gettext(
                "Hello %(name)s,\n\nyou reported that NIP %(nip)s belongs to %(company)s and that another Klientela "
                "account uses it. Confirm your e-mail address so that the administrator can check your claim:\n"
                "%(link)s\n\nThe link is valid for %(hours)s hours. If you did not send this claim, ignore this message.",
                name=claim.first_name, nip=nip, company=claim.company_name, link=link_for(_token(claim)),
                hours=signups.confirm_hours(),
            ),
            strict=True,
        )
    except OSError:
        raise DomainError(_l("We could not send the confirmation e-mail. Please try again in a few minutes.")) from None
    return claim


def _token(claim: NipClaim) -> str:
    return signups.serializer(_SALT).dumps({"c": claim.id, "t": signups.link_digest("claim", _secret(claim))})


def _secret(claim: NipClaim) -> str:
    """What ties a link to this very claim (ids can be reused after a purge)."""
    return f"{claim.id}:{claim.email.lower()}:{claim.created_at.isoformat()}"


@unit_of_work
def confirm(token: str, admin_link: Callable[[int], str]) -> NipClaim:
    """Confirm the claimant's e-mail address through the link; the claim goes to the platform admin
    (told by e-mail with ``admin_link(claim_id)``, the claim's page in the administration panel).
    """
    invalid = DomainError(_l("This confirmation link is not valid or the claim has expired."))
    try:
        data = signups.serializer(_SALT).loads(token, max_age=signups.confirm_hours() * 3600)
    except BadSignature:
        raise invalid from None
    claim = db.session.get(NipClaim, int(data.get("c") or 0)) if isinstance(data, dict) else None
    if claim is None or not hmac.compare_digest(
        signups.link_digest("claim", _secret(claim)), str(data.get("t", ""))
    ):
        raise invalid
    if claim.status != "unconfirmed":
        return claim
    if claim.created_at < clock.utc_now() - dt.timedelta(hours=signups.confirm_hours()):
        raise invalid
    claim.status = "pending"
    claim.email_confirmed_at = clock.utc_now()
    _tell_platform_admins(claim, admin_link(claim.id))
    return claim


def _tell_platform_admins(claim: NipClaim, link: str) -> None:
    for email in _platform_admin_emails():
        _send(
            email,
            gettext("New claim of NIP %(nip)s", nip=claim.nip),
            gettext(
                "%(name)s (%(email)s, %(phone)s) claims NIP %(nip)s for %(company)s. Check the claim in the "
                "administration panel:\n%(link)s",
                name=claim.claimant_name, email=claim.email, phone=claim.phone, nip=claim.nip,
                company=claim.company_name, link=link,
            ),
        )


def _platform_admin_emails() -> list[str]:
    emails = set(
        db.session.execute(
            select(CrmUser.email).where(
                CrmUser.company_id.is_(None), CrmUser.active.is_(True),
                CrmUser.roles.any(name=roles.PLATFORM_ADMIN),
            )
        ).scalars()
    )
    configured = current_app.config.get("PLATFORM_ADMIN_EMAIL")
    if configured:
        emails.add(configured)
    return sorted(e for e in emails if e)


def _send(to: str, subject: str, body: str, strict: bool = False) -> None:
    """Send one message; a mail failure is logged (or raised with ``strict``)."""
    if not mail_configured():
        return
    try:
        send_mail(to, subject, body)
    except OSError:
        if strict:
            raise
        log.warning("could not send an e-mail about a NIP claim")


# ---------------------------------------------------------------- the platform admin


def list_claims(limit: int = 200) -> list[NipClaim]:
    """Claims for the admin panel: waiting for a decision first, then the newest."""
    order = case((NipClaim.status == "pending", 0), (NipClaim.status == "unconfirmed", 1), else_=2)
    return list(
        db.session.execute(select(NipClaim).order_by(order, NipClaim.created_at.desc()).limit(limit)).scalars()
    )


def get_claim(claim_id: int) -> NipClaim:
    """One claim; DomainError when there is none."""
    claim = db.session.get(NipClaim, claim_id)
    if claim is None:
        raise DomainError(_l("There is no such claim."))
    return claim


def _pending(claim_id: int) -> NipClaim:
    claim = get_claim(claim_id)
    if claim.status != "pending":
        raise DomainError(_l("This claim is not waiting for a decision."))
    return claim


def company_owners(company_id: int) -> list[CrmUser]:
    """Active owners of a company (whom to tell about its NIP)."""
    with all_tenants():
        return [u for u in employees.company_users(company_id) if u.is_owner and u.active]


@unit_of_work
def approve(admin: CrmUser, claim_id: int, proof: OwnershipProof, invite_link: Callable[[str], str]) -> Company:
    """Move the NIP to the claimant: a new account for them, the old one loses the NIP; both told.

    The claimant sets a password through ``invite_link(token)`` (the invitation page).
    """
    claim = _pending(claim_id)
    check = PROOF_CHECKS.get(proof.kind)
    if check is None:
        raise DomainError(_l("This kind of proof is not available."))
    check(claim, proof, admin)
    if tenancy.email_taken(claim.email):
        raise DomainError(_l("The claimant's e-mail address is now used by another account; reject the claim."))
    holder = holder_of(claim.nip)
    now = clock.utc_now()
    with all_tenants():  # the admin acts on two companies: each row below names its own
        session = db.session
        if holder is not None:
            holder.nip = None
            holder.nip_lost_at = now
            audit.record(audit.NIP_CLAIM_APPROVED, None, actor=admin, company_id=holder.id, details=f"NIP {claim.nip}")
            session.flush()
        company = Company(
            name=claim.company_name, nip=claim.nip, email=claim.email, phone=claim.phone, confirmed_at=now,
        )
        tenancy.start_trial(company)
        session.add(company)
        session.flush()
        owner = tenancy.new_user(company, claim.first_name, claim.last_name, claim.email, None, roles.OWNER)
        owner.phone = claim.phone
        session.add(owner)
        session.flush()
        audit.record(audit.NIP_TAKEN_OVER, owner, actor=admin, company_id=company.id, details=f"NIP {claim.nip}")
        claim.status, claim.handled_at, claim.handled_by_id = "approved", now, admin.id
        claim.proof, claim.decision_note, claim.new_company_id = proof.kind, proof.note.strip()[:2000], company.id
        session.flush()
    _send(
        claim.email,
        gettext("Your claim of NIP %(nip)s was approved", nip=claim.nip),
        gettext(
            "Hello %(name)s,\n\nwe checked your claim: NIP %(nip)s now belongs to your new Klientela account "
            "%(company)s, with a free %(days)s-day licence. Set your password here (the link is valid for 7 days):\n"
            "%(link)s",
            name=claim.first_name, nip=claim.nip, company=company.name, days=current_app.config["TRIAL_DAYS"],
            link=invite_link(employees.invitation_token(owner)),
        ),
    )
    if holder is not None:
        for person in company_owners(holder.id):
            _send(
                person.email,
                gettext("The NIP of %(company)s was moved to another account", company=holder.name),
                gettext(
                    "Hello %(name)s,\n\nthe company that owns NIP %(nip)s proved it to the Klientela administrator, so "
                    "the NIP now belongs to that company's account and was removed from %(company)s. Your data "
                    "stays as it was. Enter your company's correct NIP in Settings, \"Company data\". If you think "
                    "this is a mistake, answer this message.",
                    name=person.first_name, nip=claim.nip, company=holder.name,
                ),
            )
    return company


@unit_of_work
def reject(admin: CrmUser, claim_id: int, reason: str) -> NipClaim:
    """Refuse a claim with a reason; the claimant is told, the holder's audit log records it."""
    claim = _pending(claim_id)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give the reason for the rejection; the claimant will read it."), "reason")
    with all_tenants():  # the audit event goes to the holder's company, not the admin's
        claim.status, claim.handled_at, claim.handled_by_id = "rejected", clock.utc_now(), admin.id
        claim.decision_note = reason[:2000]
        if claim.company_id is not None:
            audit.record(audit.NIP_CLAIM_REJECTED, None, actor=admin, company_id=claim.company_id,
                         details=f"NIP {claim.nip}")
        db.session.flush()
    _send(
        claim.email,
        gettext("Your claim of NIP %(nip)s was rejected", nip=claim.nip),
        gettext(
            "Hello %(name)s,\n\nwe could not confirm that NIP %(nip)s belongs to you. The administrator's "
            "reason:\n%(reason)s\n\nYou can send a new claim with more details.",
            name=claim.first_name, nip=claim.nip, reason=claim.decision_note,
        ),
    )
    return claim


@unit_of_work
def purge_unconfirmed(now: Optional[dt.datetime] = None) -> int:
    """Delete claims whose e-mail was not confirmed within SIGNUP_CONFIRM_HOURS."""
    cutoff = (now or clock.utc_now()) - dt.timedelta(hours=signups.confirm_hours())
    result = db.session.execute(
        delete(NipClaim).where(NipClaim.status == "unconfirmed", NipClaim.created_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
