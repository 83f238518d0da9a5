"""Plans and their limits: the seeded plans, usage, the limit check and its Polish message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import pytest

from app.extensions import db
from app.models.billing import Plan
from app.models.company import Company
from app.services import DomainError
from app.services.platform import plans


def _set_plan_limit(code: str, **limits: Any) -> None:
    plan = db.session.execute(db.select(Plan).where(Plan.code == code)).scalar_one()
    for key, value in limits.items():
        setattr(plan, key, value)
    db.session.commit()


def test_the_migration_seeds_applarge_and_applarge_plus_with_the_plus_above(ctx: Any) -> None:
    """Both plans are on sale, in PLN gross a month, AppLarge+ dearer and with every limit higher."""
    small, large = plans.all_plans()
    assert (small.code, small.name, large.code, large.name) == ("applarge", "AppLarge", "applarge_plus", "AppLarge+")
    assert Decimal("0") < small.price_gross < large.price_gross
    for column in plans.LIMIT_COLUMNS.values():
        assert getattr(small, column) < getattr(large, column)


def test_a_trial_company_works_within_the_limits_of_applarge(ctx: Any, make_company: Callable[..., dict]) -> None:
    """During the free licence the plan code is "trial" and AppLarge's limits apply."""
    info = make_company()
    company = db.session.get(Company, info["company_id"])
    assert company.plan == "trial"
    assert plans.plan_for(company).code == "applarge"
    assert company.next_plan is None


def test_the_employee_limit_names_the_limit_the_plan_and_the_plan_that_lifts_it(
    ctx: Any, make_company: Callable[..., dict], add_employee: Callable[..., dict]
) -> None:
    """With the limit reached the check refuses in Polish and names AppLarge+."""
    info = make_company()
    _set_plan_limit("applarge", max_employees=2)
    add_employee(info["owner_id"], "ola@firma.pl")
    assert plans.usage(info["company_id"]).employees == 2
    with pytest.raises(DomainError) as err:
        plans.check_limit(info["company_id"], "employees")
    text = str(err.value)
    assert "pracowników" in text and "AppLarge" in text and "AppLarge+" in text and "50" in text


def test_the_storage_check_counts_bytes_against_megabytes(ctx: Any, make_company: Callable[..., dict]) -> None:
    """One megabyte left: a file of one megabyte passes, one byte more is refused."""
    info = make_company()
    company = db.session.get(Company, info["company_id"])
    company.plan = "applarge_plus"
    company.logo = b"x" * (plans.MB * 3)
    db.session.commit()
    _set_plan_limit("applarge_plus", max_storage_mb=4)
    plans.check_storage(info["company_id"], plans.MB)
    with pytest.raises(DomainError) as err:
        plans.check_storage(info["company_id"], plans.MB + 1)
    assert "AppLarge+" in str(err.value) and "4 MB" in str(err.value)
    assert "Żaden pakiet" in str(err.value)
