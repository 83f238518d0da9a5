"""The price list ("Cennik"): products and services, search-as-you-type, CSV import."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models.sales import CURRENCIES, Product
from app.services import DomainError, FieldChecks, inputs, trash, unit_of_work
from app.services import validators as v
from app.services.sales import pricing

MAX_IMPORT_ROWS = 5000


@dataclass
class ProductData:
    """Fields of the product form (raw strings from a form or a CSV row)."""

    name: Any
    unit: Any = "szt."
    net_price: Any = "0"
    currency: Any = "PLN"
    vat_rate: Any = "23"
    code: Any = None


def _clean(data: ProductData, exclude_id: int | None = None) -> dict[str, Any]:
    """The product's fields; every refusal at once (FieldErrors)."""
    checks = FieldChecks()
    name = checks.run(v.clean_text, data.name, "name", _l("Name"), 200, required=True)
    unit = checks.run(v.clean_text, data.unit, "unit", _l("Unit"), 12, required=True)
    price = checks.run(pricing.parse_decimal, data.net_price, "net_price", _l("Net price"), 2)
    currency = str(data.currency or "PLN").strip().upper()
    if currency not in CURRENCIES:
        checks.refuse(_l("Choose a currency from the list."), "currency")
    rate = checks.run(pricing.clean_vat_rate, data.vat_rate)
    code = checks.run(v.clean_text, data.code, "code", _l("Code"), 40) or None
    if code:
        stmt = select(Product.id).where(Product.code == code)
        if exclude_id:
            stmt = stmt.where(Product.id != exclude_id)
        if db.session.execute(stmt).first():
            checks.refuse(_l("Another product already has the code %(code)s.", code=code), "code")
    checks.raise_if_any()
    return {"name": name, "unit": unit, "net_price": price, "currency": currency, "vat_rate": rate, "code": code}


@unit_of_work
def create_product(company_id: int, data: ProductData) -> Product:
    """Add a product or service to the price list."""
    product = Product(company_id=company_id, **_clean(data))
    db.session.add(product)
    return product


@unit_of_work
def update_product(company_id: int, product_id: int, data: ProductData) -> Product:
    """Change a product; offers already made keep their own copy of name and price."""
    product = _require(company_id, product_id)
    for key, value in _clean(data, exclude_id=product.id).items():
        setattr(product, key, value)
    return product


def get_product(company_id: int, product_id: int) -> Product | None:
    """One live product of the company, or None."""
    return db.session.execute(select(Product).where(Product.id == product_id)).scalar_one_or_none()


def _require(company_id: int, product_id: int) -> Product:
    product = get_product(company_id, product_id)
    if product is None:
        raise DomainError(_l("This record does not exist."))
    return product


def list_products(company_id: int, q: str = "", limit: int | None = None) -> list[Product]:
    """Products of the company, by name; ``q`` filters by name or code (case-insensitive)."""
    stmt = select(Product)
    q = (q or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Product.name).like(like), func.lower(Product.code).like(like)))
    stmt = stmt.order_by(func.lower(Product.name), Product.id)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.execute(stmt).scalars())


def search_json(company_id: int, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Search-as-you-type results for the offer form."""
    return [
        {
            "id": p.id, "name": p.name, "code": p.code or "", "unit": p.unit,
            "net_price": str(p.net_price), "currency": p.currency, "vat_rate": p.vat_rate,
        }
        for p in list_products(company_id, q, limit=limit)
    ]


@unit_of_work
def delete_product(company_id: int, user_id: int | None, product_id: int) -> str:
    """Move a product to the trash (lines of existing offers keep their copy)."""
    return trash.soft_delete(_require(company_id, product_id), user_id)


_HEADERS = {
    "name": ("name", "nazwa", "produkt", "usługa"),
    "unit": ("unit", "jm", "j.m.", "jednostka"),
    "net_price": ("net_price", "cena netto", "cena", "price", "netto"),
    "currency": ("currency", "waluta"),
    "vat_rate": ("vat_rate", "vat", "stawka vat", "stawka"),
    "code": ("code", "kod", "symbol", "sku"),
}


@dataclass
class ImportResult:
    """What an import did: rows added, updated (same code), and refused rows with reasons."""

    added: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "cp1250"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DomainError(_l("The file is not a text CSV file (UTF-8 or Windows-1250)."), "file")


@unit_of_work
def import_csv(company_id: int, raw: bytes) -> ImportResult:  # noqa: C901 (one pass over the CSV rows, a check per column)
    """Import products from CSV (";" or ","; Polish or English headers); a row with a known code updates it.

    Valid rows are saved together; every invalid row is reported with its line number and skipped.
    """
    if not raw:
        raise DomainError(_l("Choose a CSV file."), "file")
    text = _decode(raw)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if text.count(";") >= text.count(",") else ","
    try:
        rows = list(inputs.csv_reader(text, dialect=dialect))
    except csv.Error:
        raise DomainError(
            _l("The file is not a valid CSV file, or one of its cells is longer than %(n)s characters.", n=inputs.MAX_CELL),
            "file",
        ) from None
    if not rows:
        raise DomainError(_l("The file is empty."), "file")
    header = [h.strip().lower() for h in rows[0]]
    columns: dict[str, int] = {}
    for key, names in _HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                columns[key] = i
                break
    if "name" not in columns or "net_price" not in columns:
        raise DomainError(_l("The first row must name the columns; at least \"nazwa\" and \"cena netto\"."), "file")
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise DomainError(_l("At most %(n)s rows in one file.", n=MAX_IMPORT_ROWS), "file")
    result = ImportResult()
    existing = {p.code: p for p in list_products(company_id) if p.code}
    seen_codes: set[str] = set()
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {key: (row[i] if i < len(row) else None) for key, i in columns.items()}
        data = ProductData(
            name=values.get("name"), unit=values.get("unit") or "szt.", net_price=values.get("net_price"),
            currency=values.get("currency") or "PLN", vat_rate=values.get("vat_rate") or "23",
            code=values.get("code"),
        )
        code = (data.code or "").strip() or None
        try:
            if code in seen_codes:
                raise DomainError(_l("The code %(code)s appears twice in the file.", code=code), "code")
            target = existing.get(code) if code else None
            clean = _clean(ProductData(**{**data.__dict__, "code": None}))
            clean["code"] = v.clean_text(code, "code", _l("Code"), 40) or None
        except DomainError as err:
            result.errors.append((line_no, str(err)))
            continue
        if code:
            seen_codes.add(code)
        if target is not None:
            for key, value in clean.items():
                setattr(target, key, value)
            result.updated += 1
        else:
            db.session.add(Product(company_id=company_id, **clean))
            result.added += 1
    return result


def demo_products() -> list[ProductData]:
    """A few sample products for the demo company."""
    return [
        ProductData("Wdrożenie systemu CRM", "usł.", Decimal("4500.00"), "PLN", "23", "WDR-01"),
        ProductData("Szkolenie zespołu (dzień)", "dzień", Decimal("1800.00"), "PLN", "zw", "SZK-01"),
        ProductData("Godzina konsultacji", "godz.", Decimal("220.00"), "PLN", "23", "KON-01"),
        ProductData("Podręcznik użytkownika (druk)", "szt.", Decimal("59.90"), "PLN", "5", "PODR-01"),
        ProductData("Montaż okablowania", "m²", Decimal("35.50"), "PLN", "8", "MON-01"),
    ]
