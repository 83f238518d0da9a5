"""Bulk actions on the contact list: on the ticked rows or on every contact matching the list's filter.

A small action (at most ``BACKGROUND_FROM`` contacts) runs at once in one transaction. A larger
one is stored as a ``BulkJob`` and ``run_job(job_id)`` does it in batches, committing progress
after every batch (the page polls it); the web view starts it in a thread, like the CSV import.
A delete in the background is still one delete operation (one deletion id): the trash shows it
as one entry and brings it back at once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.contact_bulk import BULK_ACTIONS, BulkJob
from app.models.contacts import Contact
from app.models.mixins import utcnow
from app.security.tenancy import all_tenants, tenant_scope
from app.services import DomainError, background, inputs, trash, unit_of_work
from app.services.contacts import bases as bases_svc
from app.services.contacts import contacts as contacts_svc
from app.services.contacts import tags as tags_svc
from app.services.contacts.search import contact_filters, parse_query

log = logging.getLogger(__name__)

#: a bulk action over more contacts than this runs in the background with a progress bar
BACKGROUND_FROM = 1000
BATCH_SIZE = 500


@dataclass(frozen=True)
class ListFilter:
    """The contact list's filter: base, search text, tag (as the list page shows it)."""

    base_id: int | None = None
    q: str = ""
    tag_id: int | None = None


def matching_ids(company_id: int, flt: ListFilter) -> list[int]:
    """Ids of every live contact of the company the list's filter matches (no cap, no paging)."""
    if flt.base_id is not None and bases_svc.get_base(company_id, flt.base_id) is None:
        raise DomainError(_l("This client base does not exist."))
    if flt.tag_id is not None and tags_svc.get_tag(company_id, flt.tag_id) is None:
        raise DomainError(_l("This tag does not exist."))
    where = contact_filters(company_id, flt.base_id, parse_query(flt.q.strip()[:100]), flt.tag_id)
    return list(db.session.execute(select(Contact.id).where(*where).order_by(Contact.id)).scalars())


def resolve(company_id: int, ids: list[Any], flt: ListFilter | None, expected: Any) -> list[int]:
    """The contacts a bulk action is for: the ticked ids, or all matching the filter.

    ``expected`` is the count the person confirmed: when the rows differ now (someone added or
    removed contacts meanwhile), nothing is done and the message says how many match now.
    """
    if flt is not None:
        found = matching_ids(company_id, flt)
    else:
        found = [c.id for c in contacts_svc.require_contacts(company_id, ids)]
    if not found:
        raise DomainError(_l("Select at least one contact."), "contact_id")
    want = inputs.to_id(expected) if expected not in (None, "") else None
    if want is not None and want != len(found):
        raise DomainError(_l("The list changed after you selected it: %(n)s contacts match now. "
                             "Check the selection and try again.", n=len(found)))
    return found


def _check(company_id: int, action: str, tag_id: Any) -> int | None:
    """The action is known and its tag is the company's; return the tag's id (None for delete)."""
    if action not in BULK_ACTIONS:
        raise DomainError(_l("Choose an action."))
    if action == "delete":
        return None
    return tags_svc.require_tag(company_id, tag_id).id


@dataclass
class BulkOutcome:
    """What a bulk action did at once (``changed``) or the background job it started (``job``)."""

    action: str
    count: int
    changed: int = 0
    job: BulkJob | None = None


@unit_of_work
def start(company_id: int, user_id: int | None, action: str, ids: list[Any], tag_id: Any = None,
          flt: ListFilter | None = None, expected: Any = None) -> BulkOutcome:
    """Do a bulk action now, or queue it as a background job when it is large."""
    tag = _check(company_id, action, tag_id)
    found = resolve(company_id, ids, flt, expected)
    if len(found) > BACKGROUND_FROM:
        job = BulkJob(company_id=company_id, user_id=user_id, action=action, tag_id=tag,
                      contact_ids=found, total=len(found), status="queued")
        db.session.add(job)
        db.session.flush()
        return BulkOutcome(action, len(found), job=job)
    if action == "delete":
        contacts_svc.delete_contacts(company_id, found, user_id)
        return BulkOutcome(action, len(found), changed=len(found))
    changed = tags_svc.tag_contacts(company_id, found, tag, add=action == "tag")
    return BulkOutcome(action, len(found), changed=changed)


def get_job(company_id: int, job_id: int) -> BulkJob | None:
    """A bulk job of this company by id, or None (another company's id gives None)."""
    return db.session.execute(select(BulkJob).where(BulkJob.id == job_id)).scalar_one_or_none()


def _batch(company_id: int, job: BulkJob, chunk: list[int]) -> int:
    """Apply the job's action to one batch of still-live contacts; return how many changed."""
    live = list(db.session.execute(select(Contact).where(Contact.id.in_(chunk))).scalars())
    if not live:
        return 0
    if job.action == "delete":
        trash.soft_delete(live, job.user_id, deletion_id=job.deletion_id)
        return len(live)
    if job.tag_id is None:
        raise DomainError(_l("This tag does not exist."))
    return tags_svc.tag_contacts(company_id, [c.id for c in live], job.tag_id, add=job.action == "tag")


def _run(company_id: int, job_id: int) -> None:
    session = db.session
    job = get_job(company_id, job_id)
    if job is None or job.status not in ("queued", "running"):
        return
    job.status = "running"
    job.processed = job.changed = 0
    if job.action == "delete":
        job.deletion_id = uuid.uuid4().hex
    session.commit()
    ids = [int(i) for i in job.contact_ids]
    for start_at in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start_at:start_at + BATCH_SIZE]
        job.changed += _batch(company_id, job, chunk)
        job.processed += len(chunk)
        session.commit()
    job.status = "done"
    job.finished_at = utcnow()
    session.commit()


def run_job(job_id: int) -> None:
    """Run one queued bulk job to the end; progress is committed after every batch."""
    with all_tenants():
        company_id = db.session.execute(select(BulkJob.company_id).where(BulkJob.id == job_id)).scalar_one_or_none()
    if company_id is None:
        return
    with tenant_scope(company_id):
        try:
            _run(company_id, job_id)
        except Exception as exc:  # the job must end as "failed", never stay "running"
            db.session.rollback()
            log.exception("bulk job %s failed", job_id)
            job = db.session.get(BulkJob, job_id)
            if job is not None:
                job.status = "failed"
                job.error = str(exc)[:2000]
                job.finished_at = utcnow()
                db.session.commit()


def start_in_background(job_id: int) -> threading.Thread:
    """Run ``run_job(job_id)`` in a daemon thread with its own app context."""
    return background.start("bulk", run_job, job_id)


def wait(job_id: int, timeout: float = 120.0) -> None:
    """Wait for a job started by ``start_in_background`` (tests, shutdown)."""
    background.wait("bulk", job_id, timeout)
