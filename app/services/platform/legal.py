"""The terms of service and the data-processing agreement (umowa powierzenia, RODO art. 28).

The platform admin edits a draft of either document and publishes it as a new version; a published
version never changes. A company accepts the current versions at sign-up (who and when is recorded
per company, ``TermsAcceptance``); after a new version is published the company's owner must accept
it at the next sign-in (the interstitial in app/views/platform/legal.py), employees keep working.
``LegalDocument`` is platform data (no tenant); ``TermsAcceptance`` is a tenant row.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models.legal import DPA, KINDS, TERMS, LegalDocument, TermsAcceptance
from app.models.mixins import utcnow
from app.models.users import CrmUser
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, FieldChecks, unit_of_work
from app.services.accounts import audit

#: document kind -> its name for people
KIND_LABELS: dict[str, Any] = {
    TERMS: _l("Terms of service"),
    DPA: _l("Data-processing agreement"),
}

TERMS_REQUIRED = _l("Accept the terms of service and the data-processing agreement to create an account.")


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise DomainError(_l("Unknown document."))
    return kind


def current(kind: str) -> Optional[LegalDocument]:
    """The version of ``kind`` in force (the newest published), or None."""
    return db.session.execute(
        select(LegalDocument)
        .where(LegalDocument.kind == kind, LegalDocument.published_at.is_not(None))
        .order_by(LegalDocument.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def current_documents() -> list[LegalDocument]:
    """The versions in force of every kind (terms first)."""
    return [doc for doc in (current(kind) for kind in KINDS) if doc is not None]


def get_version(kind: str, version: int) -> Optional[LegalDocument]:
    """One published version of a document, or None."""
    return db.session.execute(
        select(LegalDocument).where(
            LegalDocument.kind == kind, LegalDocument.version == version, LegalDocument.published_at.is_not(None)
        )
    ).scalar_one_or_none()


def pending_for(company_id: int) -> list[LegalDocument]:
    """The versions in force the company has not accepted yet."""
    docs = current_documents()
    if not docs:
        return []
    with all_tenants():  # also before the company's scope is set (sign-in); filtered explicitly
        accepted = set(
            db.session.execute(
                select(TermsAcceptance.document_id).where(
                    TermsAcceptance.company_id == company_id,
                    TermsAcceptance.document_id.in_([d.id for d in docs]),
                )
            ).scalars()
        )
    return [d for d in docs if d.id not in accepted]


def record_acceptance(company_id: int, user: Optional[CrmUser], document_ids: Sequence[int],
                      ip: Optional[str] = None) -> list[TermsAcceptance]:
    """Record that ``user`` accepted these versions for the company (the caller's unit of work commits).

    Refuses unless the ids are exactly the versions in force the company has not accepted yet (a
    version published meanwhile must be read first).
    """
    wanted = {d.id for d in pending_for(company_id)}
    if not wanted or set(document_ids) != wanted:
        raise DomainError(_l("A new version of the documents has just been published. Read it and accept it again."))
    now = utcnow()
    rows = []
    with tenant_scope(company_id):
        for doc_id in sorted(wanted):
            row = TermsAcceptance(company_id=company_id, document_id=doc_id, user_id=user.id if user else None,
                                  accepted_at=now, ip=ip)
            db.session.add(row)
            rows.append(row)
        db.session.flush()
    return rows


@unit_of_work
def accept(company_id: int, user: CrmUser, document_ids: Sequence[int], ip: Optional[str] = None) -> None:
    """The owner accepts the new versions (the interstitial at sign-in); also in the company's audit log."""
    if not user.is_owner or user.company_id != company_id:
        raise DomainError(_l("Only the owner of the company can accept the documents."))
    rows = record_acceptance(company_id, user, document_ids, ip)
    with tenant_scope(company_id):
        names = ", ".join(f"{r.document.kind} v{r.document.version}" for r in rows)
        audit.record(audit.TERMS_ACCEPTED, user, company_id=company_id, details=names)


def acceptances(company_id: int) -> list[TermsAcceptance]:
    """Every acceptance of the company, newest first."""
    with all_tenants():  # also shown to the platform admin; filtered explicitly
        return list(
            db.session.execute(
                select(TermsAcceptance)
                .where(TermsAcceptance.company_id == company_id)
                .order_by(TermsAcceptance.accepted_at.desc(), TermsAcceptance.id.desc())
            ).scalars()
        )


# ---------------------------------------------------------------- the platform admin edits and publishes


def versions(kind: str) -> list[LegalDocument]:
    """Every version of a document, the draft (if any) and the newest first."""
    return list(
        db.session.execute(
            select(LegalDocument).where(LegalDocument.kind == _check_kind(kind)).order_by(LegalDocument.version.desc())
        ).scalars()
    )


def draft(kind: str) -> Optional[LegalDocument]:
    """The unpublished version being edited, or None."""
    return db.session.execute(
        select(LegalDocument).where(LegalDocument.kind == _check_kind(kind), LegalDocument.published_at.is_(None))
    ).scalar_one_or_none()


def _title(value: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise DomainError(_l("Enter the title."), "title")
    if len(text) > 200:
        raise DomainError(_l("The title can have at most 200 characters."), "title")
    return text


def _body(value: str) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) < 50:
        raise DomainError(_l("The text is too short (at least 50 characters)."), "body")
    if len(text) > 200_000:
        raise DomainError(_l("The text is too long (at most 200 000 characters)."), "body")
    return text


@unit_of_work
def save_draft(admin: CrmUser, kind: str, title: str, body: str) -> LegalDocument:
    """Save the draft of the next version (created from the text typed); nobody sees it until published."""
    _check_kind(kind)
    checks = FieldChecks()
    clean_title = checks.run(_title, title)
    clean_body = checks.run(_body, body)
    checks.raise_if_any()
    doc = draft(kind)
    if doc is None:
        last = db.session.execute(
            select(func.max(LegalDocument.version)).where(LegalDocument.kind == kind)
        ).scalar_one_or_none() or 0
        doc = LegalDocument(kind=kind, version=last + 1, created_by_id=admin.id, created_at=utcnow())
        db.session.add(doc)
    doc.title, doc.body = clean_title, clean_body
    db.session.flush()
    return doc


@unit_of_work
def publish(admin: CrmUser, kind: str) -> LegalDocument:
    """Publish the draft as the version in force: every company's owner accepts it at the next sign-in."""
    doc = draft(kind)
    if doc is None:
        raise DomainError(_l("There is no draft to publish. Save the new text first."))
    in_force = current(kind)
    if in_force is not None and in_force.title == doc.title and in_force.body == doc.body:
        raise DomainError(_l("The draft is the same as the version in force; change the text first."))
    doc.published_at = utcnow()
    audit.record(audit.LEGAL_PUBLISHED, actor=admin, details=f"{kind} v{doc.version}")
    return doc


@unit_of_work
def discard_draft(admin: CrmUser, kind: str) -> None:
    """Throw the unpublished draft away."""
    doc = draft(kind)
    if doc is None:
        raise DomainError(_l("There is no draft of this document."))
    db.session.delete(doc)
