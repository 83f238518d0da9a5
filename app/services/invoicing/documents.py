"""An invoice as a plain value, independent of the ORM: parties, lines, payment, correction.

The invoice model and its screens build these frozen dataclasses; totals (``totals.py``) and the
FA(3) XML (``fa3.py``) are computed from them alone, so the same input always gives the same
amounts and the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from app.services.sales import pricing

#: the VAT rates an invoice line may carry, in the order of the summary table.
#: "np" is a supply outside Poland (FA(3) "np I"), "np II" a service of art. 100 ust. 1 pkt 4.
RATE_CODES: tuple[str, ...] = ("23", "8", "5", "0 KR", "0 WDT", "0 EX", "zw", "np", "np II", "oo")

#: numeric percentage of each rate; every rate other than 23/8/5 carries no VAT
RATE_PERCENT: dict[str, Decimal] = {code: Decimal(0) for code in RATE_CODES} | {
    "23": Decimal(23), "8": Decimal(8), "5": Decimal(5),
}

#: how an invoice prints a rate
RATE_LABELS: dict[str, str] = {
    "23": "23%", "8": "8%", "5": "5%", "0 KR": "0%", "0 WDT": "0% WDT", "0 EX": "0% eksport",
    "zw": "zw", "np": "np", "np II": "np", "oo": "oo",
}

#: payment methods -> FA(3) FormaPlatnosci code; "other" is sent as PlatnoscInna with a description
PAYMENT_METHODS: dict[str, int | None] = {
    "cash": 1, "card": 2, "voucher": 3, "cheque": 4, "credit": 5, "transfer": 6, "blik": 7, "mobile": 7,
    "other": None,
}

#: where the legal basis of an exemption comes from: FA(3) P_19A (Polish act), P_19B (EU directive), P_19C (other)
EXEMPTION_SOURCES: tuple[str, ...] = ("act", "directive", "other")

#: invoice kinds: a VAT invoice, a correction, a proforma (not an invoice: no KSeF data)
KINDS: tuple[str, ...] = ("VAT", "KOR", "PROFORMA")

PLN = "PLN"


def normalize_rate(raw: str) -> str:
    """An invoice rate code from an offer's rate ("0" -> "0 KR", "np I" -> "np"); unknown codes pass unchanged."""
    text = str(raw or "").strip()
    return {"0": "0 KR", "np I": "np"}.get(text, text)


@dataclass(frozen=True)
class Party:
    """A seller or a buyer as the invoice shows it."""

    name: str
    address_line1: str = ""
    address_line2: str = ""
    country: str = "PL"
    #: Polish NIP (10 digits); spaces, dashes and a "PL" prefix are ignored
    nip: str | None = None
    #: EU VAT number with its country prefix ("DE123456789") of a buyer from another member state
    eu_vat: str | None = None
    #: any other tax identifier of a foreign buyer (sent with the address country)
    tax_id: str | None = None
    email: str = ""
    phone: str = ""

    @property
    def clean_nip(self) -> str | None:
        """The NIP without spaces, dashes and the "PL" prefix (letters other than the prefix stay)."""
        if not self.nip:
            return None
        text = self.nip.replace(" ", "").replace("-", "").strip()
        if text.upper().startswith("PL"):
            text = text[2:]
        return text or None

    @property
    def is_person(self) -> bool:
        """A buyer with no tax identifier at all (a consumer): FA(3) BrakID."""
        return not (self.clean_nip or self.eu_vat or self.tax_id)


@dataclass(frozen=True)
class Line:
    """One item of an invoice."""

    name: str
    quantity: Decimal
    unit_price: Decimal
    rate: str
    unit: str = "szt."
    discount: Decimal = Decimal(0)
    #: goods or services listed in Annex 15 of the VAT Act (split payment)
    annex15: bool = False
    #: optional GTU_01..GTU_13 code
    gtu: str | None = None

    @property
    def gross_before_discount(self) -> Decimal:
        """Quantity x unit price, rounded to grosze (the value before the discount)."""
        return pricing.round_money(self.quantity * self.unit_price)

    @property
    def net(self) -> Decimal:
        """Net value: round(quantity x price x (1 - discount/100), 2) half up (the offers' rule)."""
        return pricing.line_net(self.quantity, self.unit_price, self.discount)

    @property
    def discount_amount(self) -> Decimal:
        """The discount in money: value before the discount minus the net value."""
        return self.gross_before_discount - self.net


@dataclass(frozen=True)
class Payment:
    """How and when the buyer pays."""

    method: str = "transfer"
    due_date: dt.date | None = None
    #: the seller's account from "Dane firmy" (NRB or IBAN; spaces are ignored)
    bank_account: str = ""
    bank_name: str = ""
    swift: str = ""
    #: already paid (in the invoice currency) and when; paid in full when it reaches the gross total
    paid_amount: Decimal = Decimal(0)
    paid_date: dt.date | None = None
    #: shown for method "other"
    description: str = ""

    @property
    def clean_account(self) -> str:
        """The account number without spaces."""
        return self.bank_account.replace(" ", "").replace("\u00a0", "")


@dataclass(frozen=True)
class CorrectionOf:
    """What a correction (faktura korygująca) refers to, and the lines of the original before it."""

    number: str
    issue_date: dt.date
    reason: str
    before_lines: tuple[Line, ...]
    #: the KSeF number of the original; None when the original was issued outside KSeF
    ksef_number: str | None = None
    #: FA(3) TypKorekty: 1 in the original's period, 2 in the correction's, 3 another date; None: not stated
    effect: int | None = None


@dataclass(frozen=True)
class Invoice:
    """An invoice, a correction or a proforma, with everything the PDF and the FA(3) XML need."""

    number: str
    issue_date: dt.date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    sale_date: dt.date | None = None
    place_of_issue: str = ""
    currency: str = PLN
    #: NBP average rate (PLN for 1 unit of the currency) entered by the user; required for EUR/USD
    exchange_rate: Decimal | None = None
    exchange_rate_date: dt.date | None = None
    #: NBP table number as the user entered it ("123/A/NBP/2025")
    exchange_rate_table: str = ""
    payment: Payment | None = None
    #: legal basis of the "zw" lines (e.g. "art. 43 ust. 1 pkt 37 ustawy o VAT") and where it comes from
    exemption_basis: str = ""
    exemption_source: str = "act"
    correction: CorrectionOf | None = None
    proforma: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def kind(self) -> str:
        """The kind: "VAT", "KOR" (a correction) or "PROFORMA"."""
        if self.proforma:
            return "PROFORMA"
        return "KOR" if self.correction is not None else "VAT"

    @property
    def is_foreign(self) -> bool:
        """Issued in a currency other than PLN."""
        return self.currency != PLN
