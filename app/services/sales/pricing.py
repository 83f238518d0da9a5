"""Money arithmetic of offers and orders: line nets, totals per VAT rate, amounts in words.

The rounding rule (the same in the browser, app/static/js/offer_form.js, and tested on both):

1. Line net = round(quantity x unit price x (1 - discount / 100), 2), ROUND_HALF_UP.
   Quantity has up to 3 decimals, unit price 2, discount is a percentage with up to 2 decimals.
2. Lines are grouped by VAT rate. For each rate the VAT is computed once, on the SUM of the
   line nets of that rate: VAT = round(sum of nets x rate / 100, 2), ROUND_HALF_UP (the
   "kwota podatku od sumy wartości sprzedaży netto, z podziałem na stawki" of art. 106e ust. 1
   pkt 14 VAT Act; rounding to full grosze, from 0.5 grosza up, art. 106e ust. 11), never summed
   from rounded per-line VAT amounts.
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
from num2words import num2words

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


#: how an English document prints the Polish rates without a percentage
EN_RATE_LABELS = {"zw": "exempt", "np": "out of scope", "oo": "reverse charge"}


def vat_label(rate: str, lang: str = "pl") -> str:
    """How a rate is printed: "23%", "zw" ("exempt" in an English document)."""
    if rate.isdigit():
        return f"{rate}%"
    return EN_RATE_LABELS.get(rate, rate) if lang == "en" else rate


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


#: currency -> (main unit forms, minor unit forms, grammatical gender of the main unit)
#: Polish forms: (1, 2-4, 5+): "złoty, złote, złotych"; English forms: (singular, plural)
_PL_FORMS: dict[str, tuple[tuple[str, str, str], tuple[str, str, str], str]] = {
    "PLN": (("złoty", "złote", "złotych"), ("grosz", "grosze", "groszy"), "m"),
    "EUR": (("euro", "euro", "euro"), ("cent", "centy", "centów"), "n"),
    "USD": (("dolar amerykański", "dolary amerykańskie", "dolarów amerykańskich"), ("cent", "centy", "centów"), "m"),
    "GBP": (("funt szterling", "funty szterlingi", "funtów szterlingów"), ("pens", "pensy", "pensów"), "m"),
    "CHF": (("frank szwajcarski", "franki szwajcarskie", "franków szwajcarskich"),
            ("centym", "centymy", "centymów"), "m"),
    "CZK": (("korona czeska", "korony czeskie", "koron czeskich"), ("halerz", "halerze", "halerzy"), "f"),
}
_EN_FORMS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "PLN": (("zloty", "zlotys"), ("grosz", "groszy")),
    "EUR": (("euro", "euro"), ("cent", "cents")),
    "USD": (("dollar", "dollars"), ("cent", "cents")),
    "GBP": (("pound sterling", "pounds sterling"), ("penny", "pence")),
    "CHF": (("Swiss franc", "Swiss francs"), ("centime", "centimes")),
    "CZK": (("Czech koruna", "Czech korunas"), ("haler", "halers")),
}


def _pl_form(n: int, forms: tuple[str, str, str]) -> str:
    """Polish noun form after a number: 1 złoty, 2-4 (not 12-14) złote, otherwise złotych."""
    if n == 1:
        return forms[0]
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return forms[1]
    return forms[2]


def _pl_number(n: int, gender: str = "m") -> str:
    """A number in Polish words agreeing with the noun: "jedna korona", "dwie korony", "jedno euro"."""
    words = num2words(n, lang="pl")
    if gender == "f":
        if n == 1:
            return "jedna"
        if words == "dwa" or words.endswith(" dwa"):
            words = words[: -len("dwa")] + "dwie"
    elif gender == "n" and n == 1:
        return "jedno"
    return words


def amount_in_words(amount: Decimal, currency: str = "PLN", lang: str = "pl") -> str:
    """The amount in words ("sto dwadzieścia trzy złote, czterdzieści pięć groszy"; English for "en")."""
    amount = round_money(amount)
    cur = currency if currency in _PL_FORMS else "PLN"
    whole = int(amount)
    cents = int((amount - whole) * 100)
    if lang == "en":
        main, minor = _EN_FORMS[cur]
        return (f"{num2words(whole, lang='en')} {main[0 if whole == 1 else 1]}, "
                f"{num2words(cents, lang='en')} {minor[0 if cents == 1 else 1]}")
    main_pl, minor_pl, gender = _PL_FORMS[cur]
    return (f"{_pl_number(whole, gender)} {_pl_form(whole, main_pl)}, "
            f"{_pl_number(cents)} {_pl_form(cents, minor_pl)}")


def format_money(value: Decimal | None, places: int = 2) -> str:
    """Polish number format: "1 234,50" (thin non-breaking spaces between thousands)."""
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def format_quantity(value: Decimal) -> str:
    """A quantity without trailing zeros: "2", "1,5", "0,125", "1 234,5"."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, frac = text.partition(".")
    whole = f"{int(whole):,}".replace(",", "\u00a0")
    return f"{whole},{frac}" if frac else whole
