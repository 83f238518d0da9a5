"""Money arithmetic of offers and orders: line nets, totals per VAT rate, amounts in words.

The rounding rule (the same in the browser, app/static/js/offer_form.js, and tested on both):

1. Line net = round(quantity x unit price x (1 - discount / 100), 2), ROUND_HALF_UP.
   Quantity has up to 3 decimals, unit price 2, discount is a percentage with up to 2 decimals.
2. Lines are grouped by VAT rate. For each rate the VAT is computed once, on the SUM of the
   line nets of that rate: VAT = round(sum of nets x rate / 100, 2), ROUND_HALF_UP (the
   "od sumy wartości netto" method Polish invoices usually use, art. 106e ust. 10 VAT Act),
   never summed from rounded per-line VAT amounts.
3. Gross of a rate = net + VAT of that rate. The document totals are the sums over rates.
4. "zw" (exempt), "np" (not subject to VAT) and "oo" (reverse charge) carry 0 VAT but are
   listed as separate rows of the summary, as is "0" (0 %).

Everything is Decimal; floats never touch money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from app.models.sales import VAT_RATES
from app.services import DomainError

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_MONEY = Decimal("9999999999.99")
MAX_QTY = Decimal("999999999.999")

#: numeric percentage of each rate; "zw", "np", "oo" carry no VAT
RATE_PERCENT: dict[str, Decimal] = {
    "23": Decimal(23), "8": Decimal(8), "5": Decimal(5), "0": Decimal(0),
    "zw": Decimal(0), "np": Decimal(0), "oo": Decimal(0),
}


def round_money(value: Decimal) -> Decimal:
    """Round to grosze, half up (0.005 -> 0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_label(rate: str) -> str:
    """How a rate is printed: "23%" or "zw"."""
    return f"{rate}%" if rate.isdigit() else rate


def parse_decimal(raw: Any, field_name: str, label: Any, places: int, *, minimum: Decimal = Decimal(0),
                  maximum: Decimal = MAX_MONEY, required: bool = True) -> Decimal | None:
    """Parse a Polish or English decimal ("1 234,5" or "1234.5"); refuse more than ``places`` decimals."""
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        if not text:
            if required:
                raise DomainError(_l("%(field)s: enter a number.", field=label), field_name)
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise DomainError(_l("%(field)s: enter a number.", field=label), field_name) from None
    if not value.is_finite():
        raise DomainError(_l("%(field)s: enter a number.", field=label), field_name)
    if value < minimum or value > maximum:
        raise DomainError(
            _l("%(field)s: must be between %(low)s and %(high)s.", field=label, low=minimum, high=maximum),
            field_name,
        )
    if value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        raise DomainError(
            _l("%(field)s: at most %(places)s decimal places.", field=label, places=places), field_name
        )
    return value.quantize(Decimal(1).scaleb(-places))


def clean_vat_rate(raw: Any, field_name: str = "vat_rate") -> str:
    """One of the Polish VAT rates ("23", "8", "5", "0", "zw", "np", "oo"); "23%" is accepted too."""
    text = str(raw or "").strip().lower().rstrip("%").strip()
    if text not in VAT_RATES:
        raise DomainError(_l("Choose a VAT rate: 23, 8, 5, 0, zw, np or oo."), field_name)
    return text


def line_net(quantity: Decimal, unit_price: Decimal, discount: Decimal = Decimal(0)) -> Decimal:
    """Net value of one line: round(qty x price x (1 - discount/100), 2) half up."""
    return round_money(quantity * unit_price * (HUNDRED - discount) / HUNDRED)


@dataclass
class RateTotal:
    """Summary row of one VAT rate."""

    rate: str
    net: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    gross: Decimal = Decimal("0.00")

    @property
    def label(self) -> str:
        """The rate as printed."""
        return vat_label(self.rate)


@dataclass
class Totals:
    """Totals of a document: per rate (in VAT_RATES order) and overall."""

    rates: list[RateTotal] = field(default_factory=list)
    net: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    gross: Decimal = Decimal("0.00")


def compute_totals(lines: Iterable[tuple[Decimal, str]]) -> Totals:
    """Totals from (line net, VAT rate) pairs: VAT per rate on the sum of that rate's nets."""
    sums: dict[str, Decimal] = {}
    for net, rate in lines:
        sums[rate] = sums.get(rate, Decimal("0.00")) + net
    totals = Totals()
    for rate in VAT_RATES:
        if rate not in sums:
            continue
        net = round_money(sums[rate])
        vat = round_money(net * RATE_PERCENT[rate] / HUNDRED)
        row = RateTotal(rate=rate, net=net, vat=vat, gross=net + vat)
        totals.rates.append(row)
        totals.net += row.net
        totals.vat += row.vat
        totals.gross += row.gross
    return totals


_CURRENCY_WORDS = {"PLN", "EUR", "USD", "GBP", "CHF", "CZK"}


def amount_in_words(amount: Decimal, currency: str = "PLN", lang: str = "pl") -> str:
    """The amount in words ("sto dwadzieścia trzy złote, czterdzieści pięć groszy")."""
    from num2words import num2words

    amount = round_money(amount)
    cur = currency if currency in _CURRENCY_WORDS else "PLN"
    try:
        return num2words(amount, lang=lang, to="currency", currency=cur)
    except NotImplementedError:
        return num2words(amount, lang=lang, to="currency", currency="PLN")


def format_money(value: Decimal | None, places: int = 2) -> str:
    """Polish number format: "1 234,50" (thin non-breaking spaces between thousands)."""
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def format_quantity(value: Decimal) -> str:
    """A quantity without trailing zeros: "2", "1,5", "0,125"."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")
