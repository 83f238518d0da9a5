"""Invoice arithmetic: totals per rate as Polish invoices compute them, VAT in PLN, split payment, words.

The rule is the offers' rule (``app/services/sales/pricing.py``):

1. Line net = round(quantity x unit price x (1 - discount / 100), 2), half up.
2. For each rate the VAT is computed once on the sum of that rate's nets, half up (art. 106e ust. 1
   pkt 14 and ust. 11 of the VAT Act), never summed from per-line VAT.
3. Gross of a rate = net + VAT; the document totals are sums over the rates.
4. In a foreign currency the VAT of each rate is also shown in PLN: round(VAT x NBP rate, 2) half up
   (art. 106e ust. 11); the PLN total is the sum of those.
5. A correction shows the totals before and after and their difference (after minus before) per rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.services.invoicing.documents import PLN, RATE_CODES, RATE_LABELS, RATE_PERCENT, Invoice, Line
from app.services.sales import pricing

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
#: art. 106e ust. 1 pkt 18a: split payment above this gross total (in PLN)
SPLIT_PAYMENT_THRESHOLD = Decimal("15000.00")


@dataclass(frozen=True)
class RateTotal:
    """One row of the summary per VAT rate."""

    rate: str
    net: Decimal
    vat: Decimal
    gross: Decimal
    #: the VAT in PLN (foreign-currency invoices only)
    vat_pln: Decimal | None = None

    @property
    def label(self) -> str:
        """The rate as the invoice prints it ("23%", "zw", "0% WDT")."""
        return RATE_LABELS.get(self.rate, self.rate)


@dataclass(frozen=True)
class InvoiceTotals:
    """Totals of an invoice (or the difference of a correction): per rate in RATE_CODES order and overall."""

    rates: tuple[RateTotal, ...]
    net: Decimal
    vat: Decimal
    gross: Decimal
    currency: str = PLN
    exchange_rate: Decimal | None = None
    #: totals in PLN of a foreign-currency invoice (VAT = sum of the per-rate PLN VAT)
    vat_pln: Decimal | None = None
    gross_pln: Decimal | None = None

    def rate(self, code: str) -> RateTotal | None:
        """The summary row of one rate, or None when the document has no line at that rate."""
        return next((row for row in self.rates if row.rate == code), None)


@dataclass(frozen=True)
class CorrectionTotals:
    """A correction's totals before and after, and the difference (after minus before)."""

    before: InvoiceTotals
    after: InvoiceTotals
    difference: InvoiceTotals


def to_pln(amount: Decimal, exchange_rate: Decimal) -> Decimal:
    """An amount in a foreign currency converted to PLN at the NBP rate, rounded half up to grosze."""
    return pricing.round_money(amount * exchange_rate)


def compute_totals(lines: Iterable[Line], currency: str = PLN, exchange_rate: Decimal | None = None) -> InvoiceTotals:
    """Totals of lines: VAT per rate on the sum of that rate's nets; VAT in PLN for a foreign currency."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        if line.rate not in RATE_PERCENT:
            raise ValueError(f"unknown VAT rate {line.rate!r}")
        sums[line.rate] = sums.get(line.rate, ZERO) + line.net
    foreign = currency != PLN
    if foreign and exchange_rate is None:
        raise ValueError("a foreign-currency invoice needs an exchange rate")
    rows: list[RateTotal] = []
    for code in RATE_CODES:
        if code not in sums:
            continue
        net = pricing.round_money(sums[code])
        vat = pricing.round_money(net * RATE_PERCENT[code] / HUNDRED)
        vat_pln = to_pln(vat, exchange_rate) if foreign and exchange_rate is not None else None
        rows.append(RateTotal(rate=code, net=net, vat=vat, gross=net + vat, vat_pln=vat_pln))
    return _summed(rows, currency, exchange_rate)


def _summed(rows: list[RateTotal], currency: str, exchange_rate: Decimal | None) -> InvoiceTotals:
    """InvoiceTotals from its rate rows (sums over the rows)."""
    net = sum((r.net for r in rows), ZERO)
    vat = sum((r.vat for r in rows), ZERO)
    gross = sum((r.gross for r in rows), ZERO)
    foreign = currency != PLN and exchange_rate is not None
    return InvoiceTotals(
        rates=tuple(rows), net=net, vat=vat, gross=gross, currency=currency, exchange_rate=exchange_rate,
        vat_pln=sum((r.vat_pln or ZERO for r in rows), ZERO) if foreign else None,
        gross_pln=to_pln(gross, exchange_rate) if foreign and exchange_rate is not None else None,
    )


def difference(before: InvoiceTotals, after: InvoiceTotals) -> InvoiceTotals:
    """After minus before, per rate (every rate present on either side) and overall."""
    rows: list[RateTotal] = []
    foreign = after.currency != PLN
    for code in RATE_CODES:
        old, new = before.rate(code), after.rate(code)
        if old is None and new is None:
            continue
        o = old or RateTotal(code, ZERO, ZERO, ZERO, ZERO if foreign else None)
        n = new or RateTotal(code, ZERO, ZERO, ZERO, ZERO if foreign else None)
        vat_pln = (n.vat_pln or ZERO) - (o.vat_pln or ZERO) if foreign else None
        rows.append(RateTotal(code, n.net - o.net, n.vat - o.vat, n.gross - o.gross, vat_pln))
    diff = _summed(rows, after.currency, after.exchange_rate)
    if foreign and before.gross_pln is not None and after.gross_pln is not None:
        diff = InvoiceTotals(diff.rates, diff.net, diff.vat, diff.gross, diff.currency, diff.exchange_rate,
                             diff.vat_pln, after.gross_pln - before.gross_pln)
    return diff


def invoice_totals(invoice: Invoice) -> InvoiceTotals:
    """Totals of an invoice's lines (for a correction: its lines after the correction)."""
    return compute_totals(invoice.lines, invoice.currency, invoice.exchange_rate)


def correction_totals(invoice: Invoice) -> CorrectionTotals:
    """Before, after and the difference of a correction (at the correction's exchange rate)."""
    if invoice.correction is None:
        raise ValueError("not a correction")
    before = compute_totals(invoice.correction.before_lines, invoice.currency, invoice.exchange_rate)
    after = invoice_totals(invoice)
    return CorrectionTotals(before=before, after=after, difference=difference(before, after))


def document_totals(invoice: Invoice) -> InvoiceTotals:
    """The amounts a document states: its totals, or for a correction the difference."""
    if invoice.correction is not None:
        return correction_totals(invoice).difference
    return invoice_totals(invoice)


def _gross_pln(totals: InvoiceTotals) -> Decimal:
    """The gross total in PLN (converted at the NBP rate for a foreign currency)."""
    return totals.gross_pln if totals.gross_pln is not None else totals.gross


def split_payment_applies(lines: Iterable[Line], totals: InvoiceTotals, buyer_is_taxpayer: bool = True) -> bool:
    """Mechanizm podzielonej płatności: gross over 15 000 PLN, an Annex 15 line, sold to a taxpayer."""
    return buyer_is_taxpayer and _gross_pln(totals) > SPLIT_PAYMENT_THRESHOLD and any(ln.annex15 for ln in lines)


def split_payment_required(invoice: Invoice) -> bool:
    """Whether the invoice carries "mechanizm podzielonej płatności" (FA(3) P_18A=1).

    The buyer must be a taxpayer (a Polish NIP); for a correction the rule holds when the invoice
    qualifies before or after the correction.
    """
    if invoice.proforma:
        return False
    taxpayer = invoice.buyer.clean_nip is not None
    if invoice.correction is not None:
        both = correction_totals(invoice)
        return (split_payment_applies(invoice.lines, both.after, taxpayer)
                or split_payment_applies(invoice.correction.before_lines, both.before, taxpayer))
    return split_payment_applies(invoice.lines, invoice_totals(invoice), taxpayer)


def amount_in_words(amount: Decimal, currency: str = PLN) -> str:
    """The amount in Polish words as the offers print it ("jeden złoty, jeden grosz"); "minus" below zero."""
    words = pricing.amount_in_words(abs(amount), currency)
    return f"minus {words}" if amount < 0 else words
