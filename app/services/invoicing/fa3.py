"""The FA(3) XML of an invoice or a correction, and its validation against the official schema.

``build_fa3`` returns the exact bytes that are stored, downloaded and sent to KSeF: UTF-8 with an
XML declaration, elements in schema order, amounts as plain decimals. The same invoice and the
same ``generated_at`` always give the same bytes. ``validate`` checks bytes against the bundled
schema (``schema/FA3_v1-0E.xsd``, Ministerstwo Finansów, MIT) and explains problems in Polish.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from lxml import etree

from app.services import DomainError, validators
from app.services.invoicing import totals as tot
from app.services.invoicing.documents import EXEMPTION_SOURCES, PAYMENT_METHODS, RATE_CODES, Invoice, Line, Party
from app.services.sales import pricing

NAMESPACE = "http://crd.gov.pl/wzor/2025/06/25/13775/"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "FA3_v1-0E.xsd"
FORM_CODE = "FA"
SYSTEM_CODE = "FA (3)"
SCHEMA_VERSION = "1-0E"
FORM_VARIANT = "3"
SYSTEM_INFO = "Klientela"

#: FA(3) P_12 value of each rate code
P12: dict[str, str] = {code: code for code in RATE_CODES} | {"np": "np I"}
#: rate code -> (net field, VAT field, VAT-in-PLN field) of the Fa summary
SUMMARY_FIELDS: dict[str, tuple[str, str | None, str | None]] = {
    "23": ("P_13_1", "P_14_1", "P_14_1W"),
    "8": ("P_13_2", "P_14_2", "P_14_2W"),
    "5": ("P_13_3", "P_14_3", "P_14_3W"),
    "0 KR": ("P_13_6_1", None, None),
    "0 WDT": ("P_13_6_2", None, None),
    "0 EX": ("P_13_6_3", None, None),
    "zw": ("P_13_7", None, None),
    "np": ("P_13_8", None, None),
    "np II": ("P_13_9", None, None),
    "oo": ("P_13_10", None, None),
}
EXEMPTION_FIELD = dict(zip(EXEMPTION_SOURCES, ("P_19A", "P_19B", "P_19C"), strict=True))
EU_PREFIXES = frozenset(
    "AT BE BG CY CZ DK EE FI FR DE EL HR HU IE IT LV LT LU MT NL PT RO SK SI ES SE XI".split()
)


def _q(name: str) -> str:
    """The qualified name of an FA(3) element."""
    return f"{{{NAMESPACE}}}{name}"


def _sub(parent: etree._Element, name: str, text: Any = None) -> etree._Element:
    """Append a child element, with text when given."""
    child = etree.SubElement(parent, _q(name))
    if text is not None:
        child.text = str(text)
    return child


def money(value: Decimal) -> str:
    """An amount as FA(3) writes it: two decimals, a dot, no "-0.00"."""
    value = pricing.round_money(value)
    if value == 0:
        value = abs(value)
    return f"{value:.2f}"


def plain(value: Decimal) -> str:
    """A quantity, a price or an exchange rate without an exponent or trailing zeros ("2", "4.2512")."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def price(value: Decimal) -> str:
    """A unit price: at least two decimals ("100.00", "0.1234")."""
    text = plain(value)
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _timestamp(value: dt.datetime) -> str:
    """DataWytworzeniaFa: UTC, whole seconds, "Z" (a naive time is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _check_nip(party: Party, role: Any, field: str) -> None:
    """Refuse a NIP that is not 10 digits with a right check digit, naming the seller or the buyer."""
    try:
        validators.clean_nip(party.nip or "", field)
    except DomainError as exc:
        raise DomainError(_l("%(party)s: %(reason)s", party=role, reason=exc.message), field) from None


def check_document(invoice: Invoice) -> None:
    """Refuse, with a Polish message, a document that cannot become an FA(3) invoice."""
    if invoice.proforma:
        raise DomainError(_l("A proforma is not an invoice: it is not sent to KSeF."))
    if not invoice.lines:
        raise DomainError(_l("An invoice needs at least one item."), "lines")
    all_lines = invoice.lines + (invoice.correction.before_lines if invoice.correction else ())
    for line in all_lines:
        if line.rate not in RATE_CODES:
            raise DomainError(_l("Unknown VAT rate: %(rate)s.", rate=line.rate), "lines")
    if invoice.is_foreign and not invoice.exchange_rate:
        raise DomainError(_l("Enter the NBP exchange rate of %(currency)s.", currency=invoice.currency),
                          "exchange_rate")
    if any(line.rate == "zw" for line in all_lines) and not invoice.exemption_basis.strip():
        raise DomainError(_l("Exempt (zw) items need the legal basis of the exemption."), "exemption_basis")
    if invoice.exemption_source not in EXEMPTION_SOURCES:
        raise DomainError(_l("Choose where the legal basis of the exemption comes from."), "exemption_source")
    if not invoice.seller.clean_nip:
        raise DomainError(_l("Enter the seller's NIP in the company data."), "seller")
    _check_nip(invoice.seller, _l("Seller"), "seller")
    if invoice.buyer.clean_nip:
        _check_nip(invoice.buyer, _l("Buyer"), "buyer")
    if invoice.payment is not None and invoice.payment.method not in PAYMENT_METHODS:
        raise DomainError(_l("Choose a payment method."), "payment_method")
    if invoice.correction is not None and not invoice.correction.reason.strip():
        raise DomainError(_l("Enter the reason for the correction."), "reason")


def _header(root: etree._Element, generated_at: dt.datetime) -> None:
    """Naglowek: form code, variant, creation time, system."""
    head = _sub(root, "Naglowek")
    code = _sub(head, "KodFormularza", FORM_CODE)
    code.set("kodSystemowy", SYSTEM_CODE)
    code.set("wersjaSchemy", SCHEMA_VERSION)
    _sub(head, "WariantFormularza", FORM_VARIANT)
    _sub(head, "DataWytworzeniaFa", _timestamp(generated_at))
    _sub(head, "SystemInfo", SYSTEM_INFO)


def _address(parent: etree._Element, party: Party) -> None:
    """Adres: country and one or two address lines."""
    adres = _sub(parent, "Adres")
    _sub(adres, "KodKraju", party.country)
    _sub(adres, "AdresL1", party.address_line1)
    if party.address_line2.strip():
        _sub(adres, "AdresL2", party.address_line2)


def _contact(parent: etree._Element, party: Party) -> None:
    """DaneKontaktowe when the party has an e-mail or a phone."""
    if not (party.email or party.phone):
        return
    contact = _sub(parent, "DaneKontaktowe")
    if party.email:
        _sub(contact, "Email", party.email)
    if party.phone:
        _sub(contact, "Telefon", party.phone)


def _seller(root: etree._Element, invoice: Invoice) -> None:
    """Podmiot1: the seller (NIP, name, address); "PL" prefix for intra-EU sales."""
    seller = invoice.seller
    node = _sub(root, "Podmiot1")
    if any(line.rate == "0 WDT" for line in invoice.lines) or invoice.buyer.eu_vat:
        _sub(node, "PrefiksPodatnika", "PL")
    ident = _sub(node, "DaneIdentyfikacyjne")
    _sub(ident, "NIP", seller.clean_nip)
    _sub(ident, "Nazwa", seller.name)
    _address(node, seller)
    _contact(node, seller)


def _buyer(root: etree._Element, invoice: Invoice) -> None:
    """Podmiot2: the buyer by NIP, EU VAT number, another tax id, or BrakID for a person."""
    buyer = invoice.buyer
    node = _sub(root, "Podmiot2")
    ident = _sub(node, "DaneIdentyfikacyjne")
    if buyer.clean_nip:
        _sub(ident, "NIP", buyer.clean_nip)
    elif buyer.eu_vat:
        vat = buyer.eu_vat.replace(" ", "").upper()
        prefix = vat[:2] if vat[:2] in EU_PREFIXES else buyer.country
        number = vat[2:] if vat[:2] in EU_PREFIXES else vat
        _sub(ident, "KodUE", prefix)
        _sub(ident, "NrVatUE", number)
    elif buyer.tax_id:
        _sub(ident, "KodKraju", buyer.country)
        _sub(ident, "NrID", buyer.tax_id.strip())
    else:
        _sub(ident, "BrakID", "1")
    _sub(ident, "Nazwa", buyer.name)
    if buyer.address_line1.strip():
        _address(node, buyer)
    _contact(node, buyer)
    _sub(node, "JST", "2")
    _sub(node, "GV", "2")


def _summary(fa: etree._Element, amounts: tot.InvoiceTotals, foreign: bool) -> None:
    """P_13_x / P_14_x (/ P_14_xW in PLN) per rate and P_15, in schema order."""
    for code in RATE_CODES:
        row = amounts.rate(code)
        if row is None:
            continue
        net_field, vat_field, pln_field = SUMMARY_FIELDS[code]
        _sub(fa, net_field, money(row.net))
        if vat_field:
            _sub(fa, vat_field, money(row.vat))
            if foreign and pln_field and row.vat_pln is not None:
                _sub(fa, pln_field, money(row.vat_pln))
    _sub(fa, "P_15", money(amounts.gross))


def _annotations(fa: etree._Element, invoice: Invoice) -> None:
    """Adnotacje: cash method, self-billing, reverse charge, split payment, exemption, new vehicles, margin."""
    lines = invoice.lines + (invoice.correction.before_lines if invoice.correction else ())
    notes = _sub(fa, "Adnotacje")
    _sub(notes, "P_16", "2")
    _sub(notes, "P_17", "2")
    _sub(notes, "P_18", "1" if any(line.rate == "oo" for line in lines) else "2")
    _sub(notes, "P_18A", "1" if tot.split_payment_required(invoice) else "2")
    exemption = _sub(notes, "Zwolnienie")
    if any(line.rate == "zw" for line in lines):
        _sub(exemption, "P_19", "1")
        _sub(exemption, EXEMPTION_FIELD[invoice.exemption_source], invoice.exemption_basis.strip())
    else:
        _sub(exemption, "P_19N", "1")
    vehicles = _sub(notes, "NoweSrodkiTransportu")
    _sub(vehicles, "P_22N", "1")
    _sub(notes, "P_23", "2")
    margin = _sub(notes, "PMarzy")
    _sub(margin, "P_PMarzyN", "1")


def _correction(fa: etree._Element, invoice: Invoice) -> None:
    """PrzyczynaKorekty, TypKorekty and DaneFaKorygowanej (with its KSeF number, or NrKSeFN)."""
    corr = invoice.correction
    if corr is None:
        return
    _sub(fa, "PrzyczynaKorekty", corr.reason.strip())
    if corr.effect is not None:
        _sub(fa, "TypKorekty", corr.effect)
    data = _sub(fa, "DaneFaKorygowanej")
    _sub(data, "DataWystFaKorygowanej", corr.issue_date.isoformat())
    _sub(data, "NrFaKorygowanej", corr.number)
    if corr.ksef_number:
        _sub(data, "NrKSeF", "1")
        _sub(data, "NrKSeFFaKorygowanej", corr.ksef_number.strip())
    else:
        _sub(data, "NrKSeFN", "1")


def _extra(fa: etree._Element, invoice: Invoice) -> None:
    """DodatkowyOpis: the NBP table of the exchange rate and the document's notes."""
    entries: list[tuple[str, str]] = []
    if invoice.is_foreign and (invoice.exchange_rate_table or invoice.exchange_rate_date):
        when = invoice.exchange_rate_date.isoformat() if invoice.exchange_rate_date else ""
        table = f"Tabela NBP nr {invoice.exchange_rate_table}".strip() if invoice.exchange_rate_table else "NBP"
        rate = format(invoice.exchange_rate or Decimal(0), "f").replace(".", ",")
        entries.append(("Kurs waluty", f"{rate} PLN, {table}"
                                       + (f" z dnia {when}" if when else "")))
    entries.extend(("Uwagi", note.strip()[:256]) for note in invoice.notes if note.strip())
    for key, value in entries:
        node = _sub(fa, "DodatkowyOpis")
        _sub(node, "Klucz", key)
        _sub(node, "Wartosc", value)


def _line(fa: etree._Element, number: int, line: Line, invoice: Invoice, before: bool) -> None:
    """One FaWiersz, in schema order; StanPrzed=1 for a correction's line before the correction."""
    row = _sub(fa, "FaWiersz")
    _sub(row, "NrWierszaFa", number)
    _sub(row, "P_7", line.name)
    if line.unit.strip():
        _sub(row, "P_8A", line.unit)
    _sub(row, "P_8B", plain(line.quantity))
    _sub(row, "P_9A", price(line.unit_price))
    if line.discount:
        _sub(row, "P_10", money(line.discount_amount))
    _sub(row, "P_11", money(line.net))
    _sub(row, "P_12", P12[line.rate])
    if line.annex15:
        _sub(row, "P_12_Zal_15", "1")
    if line.gtu:
        _sub(row, "GTU", line.gtu)
    if invoice.is_foreign and invoice.exchange_rate:
        _sub(row, "KursWaluty", plain(invoice.exchange_rate))
    if before:
        _sub(row, "StanPrzed", "1")


def _payment(fa: etree._Element, invoice: Invoice, gross: Decimal) -> None:
    """Platnosc: paid (fully or in part), due date, method, the seller's bank account."""
    pay = invoice.payment
    if pay is None:
        return
    node = _sub(fa, "Platnosc")
    code = PAYMENT_METHODS[pay.method]
    if pay.paid_amount > 0 and pay.paid_date is not None:
        if gross > 0 and pay.paid_amount >= gross:
            _sub(node, "Zaplacono", "1")
            _sub(node, "DataZaplaty", pay.paid_date.isoformat())
        else:
            _sub(node, "ZnacznikZaplatyCzesciowej", "1")
            part = _sub(node, "ZaplataCzesciowa")
            _sub(part, "KwotaZaplatyCzesciowej", money(pay.paid_amount))
            _sub(part, "DataZaplatyCzesciowej", pay.paid_date.isoformat())
    if pay.due_date is not None:
        term = _sub(node, "TerminPlatnosci")
        _sub(term, "Termin", pay.due_date.isoformat())
    if code is not None:
        _sub(node, "FormaPlatnosci", code)
    else:
        _sub(node, "PlatnoscInna", "1")
        _sub(node, "OpisPlatnosci", pay.description.strip() or "inna")
    if pay.clean_account:
        account = _sub(node, "RachunekBankowy")
        _sub(account, "NrRB", pay.clean_account)
        if pay.swift.strip():
            _sub(account, "SWIFT", pay.swift.strip().upper())
        if pay.bank_name.strip():
            _sub(account, "NazwaBanku", pay.bank_name.strip())


def build_tree(invoice: Invoice, generated_at: dt.datetime) -> etree._Element:
    """The FA(3) element tree of an invoice or a correction (no checks; see ``build_fa3``)."""
    root = etree.Element(_q("Faktura"), nsmap={None: NAMESPACE})
    _header(root, generated_at)
    _seller(root, invoice)
    _buyer(root, invoice)
    fa = _sub(root, "Fa")
    _sub(fa, "KodWaluty", invoice.currency)
    _sub(fa, "P_1", invoice.issue_date.isoformat())
    if invoice.place_of_issue.strip():
        _sub(fa, "P_1M", invoice.place_of_issue.strip())
    _sub(fa, "P_2", invoice.number)
    if invoice.sale_date is not None:
        _sub(fa, "P_6", invoice.sale_date.isoformat())
    amounts = tot.document_totals(invoice)
    _summary(fa, amounts, invoice.is_foreign)
    _annotations(fa, invoice)
    _sub(fa, "RodzajFaktury", invoice.kind)
    _correction(fa, invoice)
    _extra(fa, invoice)
    number = 0
    if invoice.correction is not None:
        for line in invoice.correction.before_lines:
            number += 1
            _line(fa, number, line, invoice, before=True)
    for line in invoice.lines:
        number += 1
        _line(fa, number, line, invoice, before=False)
    after_gross = tot.invoice_totals(invoice).gross
    _payment(fa, invoice, after_gross if invoice.correction is None else amounts.gross)
    return root


def serialize(root: etree._Element) -> bytes:
    """The bytes that are stored, downloaded and sent: UTF-8, XML declaration, indented."""
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_fa3(invoice: Invoice, generated_at: dt.datetime, *, check: bool = True) -> bytes:
    """The FA(3) XML bytes of an invoice or a correction; with ``check``, refused unless schema-valid."""
    check_document(invoice)
    data = serialize(build_tree(invoice, generated_at))
    if check:
        errors = validate(data)
        if errors:
            raise DomainError(_l("The invoice does not match the KSeF FA(3) structure: %(errors)s",
                                 errors="; ".join(errors[:5])))
    return data


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The official FA(3) schema, loaded once from the bundled files."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


#: FA(3) element -> what a user calls it
FIELD_LABELS: dict[str, Any] = {
    "NIP": _l("NIP"), "Nazwa": _l("name"), "KodKraju": _l("country code"), "AdresL1": _l("address"),
    "AdresL2": _l("address (second line)"), "Email": _l("e-mail"), "Telefon": _l("phone"),
    "KodUE": _l("EU country code"), "NrVatUE": _l("EU VAT number"), "NrID": _l("tax identifier"),
    "KodWaluty": _l("currency"), "P_1": _l("issue date"), "P_1M": _l("place of issue"),
    "P_2": _l("invoice number"), "P_6": _l("sale date"), "P_7": _l("item name"), "P_8A": _l("unit"),
    "P_8B": _l("quantity"), "P_9A": _l("net unit price"), "P_10": _l("discount"), "P_11": _l("net value"),
    "P_12": _l("VAT rate"), "P_15": _l("gross total"), "GTU": _l("GTU code"), "KursWaluty": _l("exchange rate"),
    "P_19A": _l("legal basis of the exemption"), "P_19B": _l("legal basis of the exemption"),
    "P_19C": _l("legal basis of the exemption"), "PrzyczynaKorekty": _l("reason for the correction"),
    "NrFaKorygowanej": _l("number of the corrected invoice"),
    "DataWystFaKorygowanej": _l("issue date of the corrected invoice"),
    "NrKSeFFaKorygowanej": _l("KSeF number of the corrected invoice"), "Termin": _l("due date"),
    "NrRB": _l("bank account number"), "SWIFT": _l("SWIFT code"), "FormaPlatnosci": _l("payment method"),
    "DataZaplaty": _l("payment date"), "DataWytworzeniaFa": _l("creation time"),
    "KwotaZaplatyCzesciowej": _l("amount paid"), "OpisPlatnosci": _l("payment description"),
}
#: FA(3) section -> what a user calls it
SECTION_LABELS: dict[str, Any] = {
    "Podmiot1": _l("Seller"), "Podmiot2": _l("Buyer"), "Fa": _l("Invoice"), "Naglowek": _l("Header"),
    "Platnosc": _l("Payment"), "DaneFaKorygowanej": _l("Corrected invoice"), "Adnotacje": _l("Annotations"),
}
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([\w.]+)'")
_VALUE = re.compile(r"The value '([^']*)'|'([^']*)' is not a valid value")
_EXPECTED = re.compile(r"Expected is(?: one of)? \( ([^)]*) \)")


def _field(name: str) -> str:
    """The user's word for an element."""
    return str(FIELD_LABELS.get(name, name))


def _where(document: etree._Element, path: str | None) -> str:
    """Where in the document the error is: "Sprzedawca", "Pozycja 2", "Faktura" (from the error's XPath)."""
    try:
        found = document.getroottree().xpath(path) if path else []
    except etree.XPathError:
        found = []
    node = found[0] if found and isinstance(found[0], etree._Element) else None
    place = ""
    while node is not None:
        name = etree.QName(node).localname
        if name == "FaWiersz":
            number = node.findtext(_q("NrWierszaFa")) or ""
            return str(_l("Item %(number)s", number=number.strip()))
        if not place and name in SECTION_LABELS:
            place = str(SECTION_LABELS[name])
        node = node.getparent()
    return place or str(SECTION_LABELS["Fa"])


def _explain(document: etree._Element, error: Any) -> str:
    """One libxml2 schema error in Polish: where, which field, what is wrong."""
    message = error.message or ""
    found = _ELEMENT.search(message)
    name = found.group(1) if found else ""
    value_match = _VALUE.search(message)
    value = next((g for g in value_match.groups() if g is not None), "") if value_match else ""
    kind = error.type_name or ""
    where = _where(document, error.path)
    field = _field(name)
    if "PATTERN" in kind:
        problem = _l("the value \"%(value)s\" has a wrong format", value=value)
    elif "ENUMERATION" in kind:
        problem = _l("the value \"%(value)s\" is not one of the allowed values", value=value)
    elif "MINLENGTH" in kind:
        problem = _l("the value \"%(value)s\" is too short or empty", value=value)
    elif "MAXLENGTH" in kind:
        problem = _l("the value is too long")
    elif "MININCLUSIVE" in kind or "MAXINCLUSIVE" in kind or "MINEXCLUSIVE" in kind:
        problem = _l("the value \"%(value)s\" is out of the allowed range", value=value)
    elif "DIGITS" in kind:
        problem = _l("the value \"%(value)s\" has too many digits", value=value)
    elif "DATATYPE" in kind:
        problem = _l("the value \"%(value)s\" is not valid here", value=value)
    elif "COMPLEX_TYPE_2_4" in kind or "ELEMENT_CONTENT" in kind:
        expected = _EXPECTED.search(message)
        names = [re.sub(r"^\{[^}]*\}", "", n.strip()) for n in expected.group(1).split(",")] if expected else []
        missing = ", ".join(_field(n) for n in names)
        if "Missing child" in message:
            return str(_l("%(where)s: missing %(missing)s", where=where, missing=missing))
        return str(_l("%(where)s: %(field)s is not expected here (expected: %(missing)s)",
                      where=where, field=field, missing=missing or "-"))
    else:
        problem = _l("does not match the FA(3) schema (%(detail)s)", detail=message)
    return str(_l("%(where)s, %(field)s: %(problem)s", where=where, field=field, problem=problem))


def validate(xml_bytes: bytes) -> list[str]:
    """Schema problems of FA(3) XML bytes, in Polish, one per field; empty when the document is valid."""
    try:
        document = etree.fromstring(xml_bytes, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return [str(_l("The file is not well-formed XML: %(detail)s", detail=str(exc)))]
    validator = schema()
    if validator.validate(document):
        return []
    messages: list[str] = []
    seen: set[str] = set()
    for error in validator.error_log:
        key = error.path or f"line {error.line}"
        if key in seen:
            continue
        seen.add(key)
        messages.append(_explain(document, error))
    return messages
