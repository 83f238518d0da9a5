"""Document number series: per company, per kind, per year; concurrent saves never share a number."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import DocumentSequence
from app.security.tenancy import tenant_scope
from app.services import transaction
from app.services.sales import numbering


def test_series_per_company_kind_and_year(app, make_company):
    a, b = make_company("A")["company_id"], make_company("B")["company_id"]
    with app.app_context():
        with tenant_scope(a), transaction():
            assert numbering.next_number(a, "offer", 2026) == (1, "OF/1/2026")
            assert numbering.next_number(a, "offer", 2026) == (2, "OF/2/2026")
            assert numbering.next_number(a, "order", 2026) == (1, "ZL/1/2026")
            assert numbering.next_number(a, "offer", 2027) == (1, "OF/1/2027")
        with tenant_scope(b), transaction():
            assert numbering.next_number(b, "offer", 2026) == (1, "OF/1/2026")
        with tenant_scope(a):
            rows = db.session.execute(select(DocumentSequence)).scalars().all()
            assert sorted((r.kind, r.year, r.last_number) for r in rows) == [
                ("offer", 2026, 2), ("offer", 2027, 1), ("order", 2026, 1)]
        db.session.remove()


def test_a_failed_save_gives_its_number_back(app, make_company):
    a = make_company("A")["company_id"]
    with app.app_context(), tenant_scope(a):
        with pytest.raises(RuntimeError), transaction():
            numbering.next_number(a, "offer", 2026)
            raise RuntimeError("PDF engine failed")
        with transaction():
            assert numbering.next_number(a, "offer", 2026)[0] == 1
        db.session.remove()


def test_concurrent_saves_get_distinct_numbers(app, make_company, database_url):
    a = make_company("A")["company_id"]
    with app.app_context(), tenant_scope(a), transaction():
        numbering.next_number(a, "offer", 2026)  # the series row exists: both threads now lock it
    got: list[int] = []
    errors: list[BaseException] = []

    def save() -> None:
        try:
            with app.app_context(), tenant_scope(a):
                with transaction():
                    n, _ = numbering.next_number(a, "offer", 2026)
                    time.sleep(0.3)  # hold the row lock while the other thread waits
                got.append(n)
                db.session.remove()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=save) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == [2, 3, 4]
