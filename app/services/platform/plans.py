"""Plans (AppLarge, AppLarge+) and their limits: which plan applies to a company, usage, the limit check.

``Company.plan`` holds a plan code, or ``"trial"`` during the free licence; a trial company works
within the limits of :data:`TRIAL_LIMITS_PLAN` (AppLarge; the "Cennik" page says so). A limit is
checked before something is added: :func:`check_limit` raises a :class:`DomainError` that names the
limit, the current plan and the plan that lifts it. Keys: ``employees`` (active people),
``mailboxes`` (mailing accounts), ``emails_month`` (e-mails sent this calendar month) and
``storage_mb`` (stored files: attachments, binder files and generated PDFs, CSV imports, logo, avatars).

The counts of ``employees`` and ``storage_mb`` are built in; the mailing module registers its own
counters for ``mailboxes`` and ``emails_month`` with :func:`register_counter` (until then a caller
passes the current count as ``current=``). Plans are platform data (no tenant): the platform
admin edits them with :func:`update_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models.billing import TRIAL, Plan
from app.models.binders import Attachment
from app.models.company import Company
from app.models.contact_io import ImportJob
from app.models.users import CrmUser
from app.security.tenancy import all_tenants
from app.services import DomainError, FieldChecks, unit_of_work
from app.services.accounts import audit

#: the plan whose limits apply during the free licence
TRIAL_LIMITS_PLAN = "applarge"

#: limit key -> Plan column
LIMIT_COLUMNS = {
    "employees": "max_employees",
    "mailboxes": "max_mailboxes",
    "emails_month": "max_emails_month",
    "storage_mb": "max_storage_mb",
}

#: limit key -> what it counts, for messages and pages
LIMIT_LABELS: dict[str, Any] = {
    "employees": _l("Employees"),
    "mailboxes": _l("Mailing accounts"),
    "emails_month": _l("E-mails a month"),
    "storage_mb": _l("File storage"),
}

MB = 1024 * 1024

#: limit key -> function(company_id) -> current count (storage in bytes)
_COUNTERS: dict[str, Callable[[int], int]] = {}


def register_counter(key: str, counter: Callable[[int], int]) -> None:
    """Register how ``key`` is counted for a company (the mailing module: mailboxes, e-mails this month)."""
    if key not in LIMIT_COLUMNS:
        raise ValueError(f"unknown limit {key!r}")
    _COUNTERS[key] = counter


# ---------------------------------------------------------------- plans


def all_plans(active_only: bool = True) -> list[Plan]:
    """The plans in their display order (only those on sale unless ``active_only`` is False)."""
    stmt = select(Plan).order_by(Plan.sort_order, Plan.price_gross, Plan.id)
    if active_only:
        stmt = stmt.where(Plan.active.is_(True))
    return list(db.session.execute(stmt).scalars())


def get_plan(code: Optional[str]) -> Optional[Plan]:
    """The plan with this code, or None."""
    if not code:
        return None
    return db.session.execute(select(Plan).where(Plan.code == code)).scalar_one_or_none()


def plan_for(company: Company) -> Plan:
    """The plan whose limits apply to the company (AppLarge during the free licence)."""
    code = TRIAL_LIMITS_PLAN if company.plan == TRIAL else company.plan
    plan = get_plan(code) or get_plan(TRIAL_LIMITS_PLAN)
    if plan is None:  # the migration seeds both plans; a database without them is broken
        raise LookupError(f"no plan {code!r} and no {TRIAL_LIMITS_PLAN!r}")
    return plan


def plan_label(company: Company) -> str:
    """The plan as the owner reads it: "AppLarge", or "free licence with the limits of AppLarge" during the trial."""
    plan = plan_for(company)
    if company.plan == TRIAL:
        return str(_l("free licence with the limits of %(plan)s", plan=plan.name))
    return plan.name


def plan_name(code: Optional[str]) -> str:
    """The name of a plan code ("AppLarge"), "free licence" for the trial, the code itself when unknown."""
    if code == TRIAL:
        return str(_l("free licence"))
    plan = get_plan(code)
    return plan.name if plan is not None else (code or "")


def storage_text(megabytes: int) -> str:
    """Storage for people: "5 GB" from 5120 MB, "500 MB" below a gigabyte."""
    if megabytes >= 1024 and megabytes % 1024 == 0:
        return f"{megabytes // 1024} GB"
    if megabytes >= 1024:
        return f"{megabytes / 1024:.1f} GB".replace(".", ",")
    return f"{megabytes} MB"


def limit_of(plan: Plan, key: str) -> int:
    """The plan's limit for ``key`` (storage in MB)."""
    return int(getattr(plan, LIMIT_COLUMNS[key]))


def _lifting_plan(plan: Plan, key: str, needed: int) -> Optional[Plan]:
    """The cheapest dearer plan on sale whose limit for ``key`` is at least ``needed`` (an upgrade), or None."""
    for other in sorted(all_plans(), key=lambda p: (p.price_gross, p.sort_order)):
        if other.price_gross > plan.price_gross and limit_of(other, key) >= needed:
            return other
    return None


# ---------------------------------------------------------------- usage


def _count_employees(company_id: int) -> int:
    # no tenant table (CrmUser): filtered by company explicitly
    return int(
        db.session.execute(
            select(func.count(CrmUser.id)).where(CrmUser.company_id == company_id, CrmUser.active.is_(True))
        ).scalar_one()
    )


def storage_bytes(company_id: int) -> int:
    """Bytes of the company's stored files: live attachments and binder files, CSV imports, logo, avatars."""
    with all_tenants():  # one company's sums, filtered explicitly (also used outside a request)
        files = db.session.execute(
            select(func.coalesce(func.sum(Attachment.size), 0)).where(
                Attachment.company_id == company_id, Attachment.deleted_at.is_(None)
            )
        ).scalar_one()
        logo = db.session.execute(
            select(func.coalesce(func.length(Company.logo), 0)).where(Company.id == company_id)
        ).scalar_one_or_none()
        avatars = db.session.execute(
            select(func.coalesce(func.sum(func.length(CrmUser.avatar)), 0)).where(CrmUser.company_id == company_id)
        ).scalar_one()
        imports = db.session.execute(
            select(func.coalesce(func.sum(func.length(ImportJob.content)), 0)).where(ImportJob.company_id == company_id)
        ).scalar_one()
    return int(files or 0) + int(logo or 0) + int(avatars or 0) + int(imports or 0)


_COUNTERS.update({"employees": _count_employees, "storage_mb": storage_bytes})


@dataclass(frozen=True)
class Usage:
    """How much of each limit a company uses (storage in bytes; None = not counted in this installation)."""

    employees: Optional[int]
    mailboxes: Optional[int]
    emails_month: Optional[int]
    storage_bytes: Optional[int]

    @property
    def storage_mb(self) -> Optional[Decimal]:
        """Storage used in MB, one decimal."""
        if self.storage_bytes is None:
            return None
        return (Decimal(self.storage_bytes) / MB).quantize(Decimal("0.1"))


def usage(company_id: int) -> Usage:
    """The company's current use of every limit."""
    def count(key: str) -> Optional[int]:
        counter = _COUNTERS.get(key)
        return counter(company_id) if counter is not None else None

    return Usage(count("employees"), count("mailboxes"), count("emails_month"), count("storage_mb"))


# ---------------------------------------------------------------- the check


def _amount(key: str, value: int) -> str:
    """A limit as people read it: "5 GB" for storage, "10 000" (non-breaking space) for counts."""
    if key == "storage_mb":
        return storage_text(value)
    return f"{value:,}".replace(",", "\u00a0")


def _limit_message(key: str, plan_text: str, limit: int, lifting: Optional[Plan]) -> Any:
    amount = _amount(key, limit)
    if lifting is None:
        return _l(
            "Limit reached: %(what)s, at most %(limit)s (your plan: %(plan)s). "
            "No plan allows more; write to support if you need more.",
            what=LIMIT_LABELS[key], plan=plan_text, limit=amount,
        )
    more = _amount(key, limit_of(lifting, key))
    return _l(
        "Limit reached: %(what)s, at most %(limit)s (your plan: %(plan)s). "
        "The plan %(other)s allows %(more)s: change the plan in Settings, the Payments tab.",
        what=LIMIT_LABELS[key], plan=plan_text, limit=amount, other=lifting.name, more=more,
    )


def _is_operator(company_id: int) -> bool:
    """True for the platform operator's company row (it issues the subscription invoices)."""
    from app.models.payments import PlatformOperator  # the payments module builds on this one

    with all_tenants():
        return db.session.scalar(select(PlatformOperator.id).where(PlatformOperator.company_id == company_id)) is not None


def check_limit(company_id: int, key: str, adding: int = 1, current: Optional[int] = None,
                field: Optional[str] = None) -> None:
    """Refuse (DomainError naming the limit, the plan and the plan that lifts it) when adding would pass the limit.

    ``adding`` is how many are added; for ``storage_mb`` it is the size in BYTES of what is stored.
    ``current`` is the count now (default: the registered counter of ``key``).
    """
    if key not in LIMIT_COLUMNS:
        raise ValueError(f"unknown limit {key!r}")
    with all_tenants():  # the company row itself (also called from jobs and sign-up)
        company = db.session.get(Company, company_id)
    if company is None or _is_operator(company_id):  # the platform's own invoicing account has no plan
        return
    if current is None:
        counter = _COUNTERS.get(key)
        if counter is None:
            raise ValueError(f"no counter registered for {key!r}: pass current=")
        current = counter(company_id)
    plan = plan_for(company)
    limit = limit_of(plan, key)
    if key == "storage_mb":
        over = current + adding > limit * MB
        needed = -(-(current + adding) // MB)  # whole MB, rounded up
    else:
        over = current + adding > limit
        needed = current + adding
    if over:
        raise DomainError(_limit_message(key, plan_label(company), limit, _lifting_plan(plan, key, needed)), field)


def check_storage(company_id: int, size: int, field: Optional[str] = "file") -> None:
    """Refuse storing ``size`` more bytes when the plan's storage is full (a smaller replacement always passes)."""
    if size <= 0:
        return
    check_limit(company_id, "storage_mb", adding=size, field=field)


# ---------------------------------------------------------------- the platform admin edits plans


@dataclass
class PlanData:
    """The editable fields of a plan, as typed in the admin form (strings are parsed here)."""

    name: str
    price_gross: str
    max_employees: Any
    max_mailboxes: Any
    max_emails_month: Any
    max_storage_mb: Any
    active: bool = True
    sort_order: Any = 0


def _price(raw: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(" ", "").replace(",", "."))
    except (InvalidOperation, ValueError):
        raise DomainError(_l("Enter the price as an amount, e.g. 99,00."), "price_gross") from None
    if not value.is_finite() or value <= 0 or value >= Decimal("100000000"):
        raise DomainError(_l("The price must be more than 0 and less than 100 000 000 zł."), "price_gross")
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_l("The price can have at most two decimal places."), "price_gross")
    return value.quantize(Decimal("0.01"))


def _whole(raw: Any, field: str, minimum: int = 1) -> int:
    try:
        value = int(str(raw).strip().replace(" ", ""))
    except (TypeError, ValueError):
        raise DomainError(_l("Enter a whole number."), field) from None
    if value < minimum or value > 1_000_000_000:
        raise DomainError(_l("Enter a whole number from %(min)s to 1 000 000 000.", min=minimum), field)
    return value


def _name(raw: str) -> str:
    name = (raw or "").strip()
    if not name:
        raise DomainError(_l("Enter the plan name."), "name")
    if len(name) > 60:
        raise DomainError(_l("The plan name can have at most 60 characters."), "name")
    return name


@unit_of_work
def update_plan(admin: CrmUser, plan_id: int, data: PlanData) -> Plan:
    """Save a plan's name, price and limits (all fields checked at once); recorded in the audit log."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise DomainError(_l("This plan does not exist."))
    checks = FieldChecks()
    values = {
        "name": checks.run(_name, data.name),
        "price_gross": checks.run(_price, data.price_gross),
        "max_employees": checks.run(_whole, data.max_employees, "max_employees"),
        "max_mailboxes": checks.run(_whole, data.max_mailboxes, "max_mailboxes", 0),
        "max_emails_month": checks.run(_whole, data.max_emails_month, "max_emails_month", 0),
        "max_storage_mb": checks.run(_whole, data.max_storage_mb, "max_storage_mb"),
        "sort_order": checks.run(_whole, data.sort_order, "sort_order", 0),
    }
    checks.raise_if_any()
    values["active"] = bool(data.active)
    changes = [f"{k}: {getattr(plan, k)} -> {v}" for k, v in values.items() if getattr(plan, k) != v]
    for key, value in values.items():
        setattr(plan, key, value)
    if changes:
        audit.record(audit.PLAN_EDITED, actor=admin, details=f"{plan.code}: " + "; ".join(changes))
    return plan
