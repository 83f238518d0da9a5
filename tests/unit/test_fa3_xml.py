"""FA(3) XML of invoices and corrections (app/services/invoicing/fa3.py), checked against the official schema."""

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from lxml import etree

from app.services import DomainError
from app.services.invoicing import (
    NAMESPACE,
    CorrectionOf,
    Invoice,
    Line,
    Party,
    Payment,
    build_fa3,
    check_document,
    validate,
)
from app.services.invoicing import fa3 as fa3_module

ROOT = Path(__file__).resolve().parents[2]
NS = {"f": NAMESPACE}
GENERATED = dt.datetime(2025, 10, 1, 10, 15, 30, tzinfo=dt.timezone.utc)
SELLER = Party("Alfa sp. z o.o.", "ul. Prosta 1", "00-001 Warszawa", nip="526-025-02-74",
               email="biuro@alfa.pl", phone="+48221234567")
BUYER = Party("Beta S.A.", "ul. Krzywa 2", "31-001 Kraków", nip="PL 677 006 54 06")
PERSON = Party("Jan Kowalski", "ul. Polna 3", "60-001 Poznań")
EU_BUYER = Party("Gamma GmbH", "Hauptstraße 5", "10115 Berlin", country="DE", eu_vat="DE123456789")
EXPORT_BUYER = Party("Delta Inc.", "1 Main Street", "Springfield, IL 62701", country="US", tax_id="12-3456789")
ACCOUNT = "61 1090 1014 0000 0712 1981 2874"


@pytest.fixture()
def polish():
    """A request context with the product's Polish catalog (as the app configures Flask-Babel)."""
    from config import BaseConfig as Config

    app = Flask(__name__)
    app.config.update(BABEL_DEFAULT_LOCALE=Config.BABEL_DEFAULT_LOCALE,
                      BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"))
    Babel(app)
    with app.test_request_context():
        yield


def line(name: str, qty: str, price: str, rate: str, discount: str = "0", **kw) -> Line:
    """An invoice line from strings."""
    return Line(name=name, quantity=D(qty), unit_price=D(price), rate=rate, discount=D(discount), **kw)


def invoice(*lines: Line, **kw) -> Invoice:
    """A VAT invoice of Alfa to Beta paid by transfer, with overrides."""
    base = dict(number="FV/12/10/2025", issue_date=dt.date(2025, 10, 1), sale_date=dt.date(2025, 9, 30),
                place_of_issue="Warszawa", seller=SELLER, buyer=BUYER,
                lines=lines or (line("Wdrożenie systemu", "1", "1000.00", "23"),),
                payment=Payment("transfer", dt.date(2025, 10, 15), ACCOUNT, bank_name="Santander Bank Polska"))
    base.update(kw)
    return Invoice(**base)


def xml(doc: Invoice) -> etree._Element:
    """Build, check validity, and parse."""
    data = build_fa3(doc, GENERATED)
    assert validate(data) == []
    return etree.fromstring(data)


def texts(root: etree._Element, path: str) -> list[str]:
    """Texts of the elements at an XPath (prefix f: for FA(3))."""
    return [e.text for e in root.xpath(path, namespaces=NS)]


def text(root: etree._Element, path: str) -> str | None:
    """Text of the one element at an XPath, or None."""
    found = texts(root, path)
    assert len(found) <= 1, found
    return found[0] if found else None


def summary(root: etree._Element) -> dict[str, str]:
    """The P_13_x / P_14_x / P_15 fields of Fa."""
    fa = root.find("f:Fa", NS)
    return {etree.QName(e).localname: e.text for e in fa if etree.QName(e).localname.startswith(("P_13", "P_14", "P_15"))}


def test_header_parties_and_payment_of_a_plain_invoice():
    root = xml(invoice())
    assert root.tag == f"{{{NAMESPACE}}}Faktura"
    code = root.find("f:Naglowek/f:KodFormularza", NS)
    assert (code.text, code.get("kodSystemowy"), code.get("wersjaSchemy")) == ("FA", "FA (3)", "1-0E")
    assert text(root, "f:Naglowek/f:WariantFormularza") == "3"
    assert text(root, "f:Naglowek/f:DataWytworzeniaFa") == "2025-10-01T10:15:30Z"
    assert text(root, "f:Naglowek/f:SystemInfo") == "Klientela"
    assert text(root, "f:Podmiot1/f:DaneIdentyfikacyjne/f:NIP") == "5260250274"
    assert text(root, "f:Podmiot1/f:Adres/f:AdresL2") == "00-001 Warszawa"
    assert text(root, "f:Podmiot1/f:DaneKontaktowe/f:Email") == "biuro@alfa.pl"
    assert text(root, "f:Podmiot2/f:DaneIdentyfikacyjne/f:NIP") == "6770065406"
    assert text(root, "f:Podmiot2/f:DaneIdentyfikacyjne/f:Nazwa") == "Beta S.A."
    assert (text(root, "f:Podmiot2/f:JST"), text(root, "f:Podmiot2/f:GV")) == ("2", "2")
    assert [text(root, f"f:Fa/f:{n}") for n in ("KodWaluty", "P_1", "P_1M", "P_2", "P_6", "RodzajFaktury")] == [
        "PLN", "2025-10-01", "Warszawa", "FV/12/10/2025", "2025-09-30", "VAT"]
    assert summary(root) == {"P_13_1": "1000.00", "P_14_1": "230.00", "P_15": "1230.00"}
    notes = root.find("f:Fa/f:Adnotacje", NS)
    assert [(etree.QName(e).localname, e.text) for e in notes.iter() if e.text and e.text.strip()] == [
        ("P_16", "2"), ("P_17", "2"), ("P_18", "2"), ("P_18A", "2"), ("P_19N", "1"), ("P_22N", "1"), ("P_23", "2"),
        ("P_PMarzyN", "1")]
    assert text(root, "f:Fa/f:Platnosc/f:TerminPlatnosci/f:Termin") == "2025-10-15"
    assert text(root, "f:Fa/f:Platnosc/f:FormaPlatnosci") == "6"
    assert text(root, "f:Fa/f:Platnosc/f:RachunekBankowy/f:NrRB") == "61109010140000071219812874"
    assert text(root, "f:Fa/f:Platnosc/f:RachunekBankowy/f:NazwaBanku") == "Santander Bank Polska"


def test_mixed_rates_lines_and_totals():
    root = xml(invoice(
        line("Konsultacja", "2", "150.00", "23", "10", unit="godz."), line("Książka", "3", "39.90", "5"),
        line("Catering", "1", "200.00", "8"), line("Usługa w kraju 0%", "1", "10.00", "0 KR"),
        line("Usługa poza krajem", "1", "300.00", "np"), line("Usługa art. 100", "1", "70.00", "np II"),
        line("Dostawa na eksport", "1", "500.00", "0 EX"),
    ))
    assert summary(root) == {
        "P_13_1": "270.00", "P_14_1": "62.10", "P_13_2": "200.00", "P_14_2": "16.00", "P_13_3": "119.70",
        "P_14_3": "5.99", "P_13_6_1": "10.00", "P_13_6_3": "500.00", "P_13_8": "300.00", "P_13_9": "70.00",
        "P_15": "1553.79",
    }
    assert texts(root, "f:Fa/f:FaWiersz/f:P_12") == ["23", "5", "8", "0 KR", "np I", "np II", "0 EX"]
    assert texts(root, "f:Fa/f:FaWiersz/f:NrWierszaFa") == ["1", "2", "3", "4", "5", "6", "7"]
    first = root.find("f:Fa/f:FaWiersz", NS)
    assert [(etree.QName(e).localname, e.text) for e in first] == [
        ("NrWierszaFa", "1"), ("P_7", "Konsultacja"), ("P_8A", "godz."), ("P_8B", "2"), ("P_9A", "150.00"),
        ("P_10", "30.00"), ("P_11", "270.00"), ("P_12", "23")]


def test_exempt_items_carry_their_legal_basis():
    basis = "art. 43 ust. 1 pkt 29 lit. c ustawy o VAT"
    root = xml(invoice(line("Szkolenie zawodowe", "1", "2000.00", "zw"), line("Materiały", "1", "100.00", "23"),
                       exemption_basis=basis))
    assert text(root, "f:Fa/f:Adnotacje/f:Zwolnienie/f:P_19") == "1"
    assert text(root, "f:Fa/f:Adnotacje/f:Zwolnienie/f:P_19A") == basis
    assert text(root, "f:Fa/f:Adnotacje/f:Zwolnienie/f:P_19N") is None
    assert summary(root) == {"P_13_1": "100.00", "P_14_1": "23.00", "P_13_7": "2000.00", "P_15": "2123.00"}
    directive = xml(invoice(line("Usługa", "1", "10.00", "zw"), exemption_basis="art. 132 ust. 1 lit. i dyrektywy",
                            exemption_source="directive"))
    assert text(directive, "f:Fa/f:Adnotacje/f:Zwolnienie/f:P_19B") == "art. 132 ust. 1 lit. i dyrektywy"


def test_reverse_charge():
    root = xml(invoice(line("Roboty budowlane", "1", "8000.00", "oo")))
    assert text(root, "f:Fa/f:Adnotacje/f:P_18") == "1"
    assert texts(root, "f:Fa/f:FaWiersz/f:P_12") == ["oo"]
    assert summary(root) == {"P_13_10": "8000.00", "P_15": "8000.00"}


def test_split_payment_over_15000_with_an_annex_15_item():
    root = xml(invoice(line("Telefon komórkowy", "1", "12195.13", "23", annex15=True, gtu="GTU_06")))
    assert text(root, "f:Fa/f:P_15") == "15000.01"
    assert text(root, "f:Fa/f:Adnotacje/f:P_18A") == "1"
    assert text(root, "f:Fa/f:FaWiersz/f:P_12_Zal_15") == "1"
    assert text(root, "f:Fa/f:FaWiersz/f:GTU") == "GTU_06"
    at_threshold = xml(invoice(line("Telefon komórkowy", "1", "12195.12", "23", annex15=True)))
    assert text(at_threshold, "f:Fa/f:P_15") == "15000.00"
    assert text(at_threshold, "f:Fa/f:Adnotacje/f:P_18A") == "2"


def test_foreign_currency_has_vat_in_pln_and_the_rate_on_every_line():
    root = xml(invoice(line("Licencja", "1", "1000.00", "23"), line("Wsparcie", "1", "12.50", "8"),
                       currency="EUR", exchange_rate=D("4.3250"), exchange_rate_date=dt.date(2025, 9, 30),
                       exchange_rate_table="189/A/NBP/2025"))
    assert text(root, "f:Fa/f:KodWaluty") == "EUR"
    assert summary(root) == {"P_13_1": "1000.00", "P_14_1": "230.00", "P_14_1W": "994.75",
                             "P_13_2": "12.50", "P_14_2": "1.00", "P_14_2W": "4.33", "P_15": "1243.50"}
    assert texts(root, "f:Fa/f:FaWiersz/f:KursWaluty") == ["4.325", "4.325"]
    assert text(root, "f:Fa/f:DodatkowyOpis/f:Wartosc") == "4,3250 PLN, Tabela NBP nr 189/A/NBP/2025 z dnia 2025-09-30"


def test_intra_eu_supply_and_export_buyers():
    wdt = xml(invoice(line("Maszyna", "1", "50000.00", "0 WDT"), buyer=EU_BUYER, currency="EUR",
                      exchange_rate=D("4.25")))
    assert text(wdt, "f:Podmiot1/f:PrefiksPodatnika") == "PL"
    assert (text(wdt, "f:Podmiot2/f:DaneIdentyfikacyjne/f:KodUE"),
            text(wdt, "f:Podmiot2/f:DaneIdentyfikacyjne/f:NrVatUE")) == ("DE", "123456789")
    assert text(wdt, "f:Podmiot2/f:Adres/f:KodKraju") == "DE"
    assert summary(wdt) == {"P_13_6_2": "50000.00", "P_15": "50000.00"}
    ex = xml(invoice(line("Dostawa", "2", "700.00", "0 EX"), buyer=EXPORT_BUYER, currency="USD",
                     exchange_rate=D("3.6512")))
    assert (text(ex, "f:Podmiot2/f:DaneIdentyfikacyjne/f:KodKraju"),
            text(ex, "f:Podmiot2/f:DaneIdentyfikacyjne/f:NrID")) == ("US", "12-3456789")
    assert summary(ex) == {"P_13_6_3": "1400.00", "P_15": "1400.00"}


def test_person_buyer_without_nip():
    root = xml(invoice(buyer=PERSON))
    assert text(root, "f:Podmiot2/f:DaneIdentyfikacyjne/f:BrakID") == "1"
    assert text(root, "f:Podmiot2/f:DaneIdentyfikacyjne/f:NIP") is None
    assert text(root, "f:Podmiot2/f:DaneIdentyfikacyjne/f:Nazwa") == "Jan Kowalski"


def test_person_buyer_without_address():
    root = xml(invoice(buyer=Party("Anna Nowak")))
    assert root.find("f:Podmiot2/f:Adres", NS) is None


@pytest.mark.parametrize("payment, expected", [
    (Payment("cash", paid_amount=D("1230.00"), paid_date=dt.date(2025, 10, 1)),
     [("Zaplacono", "1"), ("DataZaplaty", "2025-10-01"), ("FormaPlatnosci", "1")]),
    (Payment("card", paid_amount=D("1230.00"), paid_date=dt.date(2025, 10, 1)),
     [("Zaplacono", "1"), ("DataZaplaty", "2025-10-01"), ("FormaPlatnosci", "2")]),
    (Payment("blik", dt.date(2025, 10, 8)), [("Termin", "2025-10-08"), ("FormaPlatnosci", "7")]),
    (Payment("transfer", dt.date(2025, 10, 15), ACCOUNT, paid_amount=D("230.00"), paid_date=dt.date(2025, 10, 2)),
     [("ZnacznikZaplatyCzesciowej", "1"), ("KwotaZaplatyCzesciowej", "230.00"),
      ("DataZaplatyCzesciowej", "2025-10-02"), ("Termin", "2025-10-15"), ("FormaPlatnosci", "6"),
      ("NrRB", "61109010140000071219812874")]),
    (Payment("other", dt.date(2025, 10, 31), description="kompensata"),
     [("Termin", "2025-10-31"), ("PlatnoscInna", "1"), ("OpisPlatnosci", "kompensata")]),
])
def test_payment_methods_and_paid_amounts(payment, expected):
    root = xml(invoice(payment=payment))
    node = root.find("f:Fa/f:Platnosc", NS)
    assert [(etree.QName(e).localname, e.text) for e in node.iter() if e.text and e.text.strip()] == expected


def correction_of(ksef_number: str | None) -> CorrectionOf:
    """A correction of FV/12/10/2025: two hours of consulting and a book before."""
    return CorrectionOf(number="FV/12/10/2025", issue_date=dt.date(2025, 10, 1), reason="Błędna ilość godzin",
                        before_lines=(line("Konsultacja", "2", "150.00", "23"), line("Książka", "1", "40.00", "5")),
                        ksef_number=ksef_number, effect=2)


def test_correction_refers_to_the_original_and_states_the_differences():
    ksef = "5260250274-20251001-0A1B2C-3D4E5F-AB"
    root = xml(invoice(line("Konsultacja", "1", "150.00", "23"), line("Książka", "1", "40.00", "5"),
                       number="KOR/1/10/2025", issue_date=dt.date(2025, 10, 20), correction=correction_of(ksef)))
    assert text(root, "f:Fa/f:RodzajFaktury") == "KOR"
    assert text(root, "f:Fa/f:PrzyczynaKorekty") == "Błędna ilość godzin"
    assert text(root, "f:Fa/f:TypKorekty") == "2"
    assert [text(root, f"f:Fa/f:DaneFaKorygowanej/f:{n}") for n in
            ("DataWystFaKorygowanej", "NrFaKorygowanej", "NrKSeF", "NrKSeFFaKorygowanej", "NrKSeFN")] == [
        "2025-10-01", "FV/12/10/2025", "1", ksef, None]
    assert summary(root) == {"P_13_1": "-150.00", "P_14_1": "-34.50", "P_13_3": "0.00", "P_14_3": "0.00",
                             "P_15": "-184.50"}
    rows = [(text(r, "f:NrWierszaFa"), text(r, "f:P_8B"), text(r, "f:P_11"), text(r, "f:StanPrzed"))
            for r in root.findall("f:Fa/f:FaWiersz", NS)]
    assert rows == [("1", "2", "300.00", "1"), ("2", "1", "40.00", "1"), ("3", "1", "150.00", None),
                    ("4", "1", "40.00", None)]


def test_correction_of_an_invoice_issued_outside_ksef():
    root = xml(invoice(line("Konsultacja", "3", "150.00", "23"), line("Książka", "1", "40.00", "5"),
                       number="KOR/2/10/2025", correction=correction_of(None), payment=None))
    assert text(root, "f:Fa/f:DaneFaKorygowanej/f:NrKSeFN") == "1"
    assert text(root, "f:Fa/f:DaneFaKorygowanej/f:NrKSeF") is None
    assert text(root, "f:Fa/f:P_15") == "184.50"
    assert root.find("f:Fa/f:Platnosc", NS) is None


def test_correction_in_foreign_currency_states_the_pln_vat_difference():
    before = (line("Licencja", "1", "1000.00", "23"),)
    corr = CorrectionOf("FV/9/2025", dt.date(2025, 9, 1), "Rabat posprzedażowy", before)
    root = xml(invoice(line("Licencja", "1", "900.00", "23"), currency="EUR", exchange_rate=D("4.2512"),
                       correction=corr))
    assert summary(root) == {"P_13_1": "-100.00", "P_14_1": "-23.00", "P_14_1W": "-97.78", "P_15": "-123.00"}


def test_the_same_invoice_gives_the_same_bytes():
    doc = invoice(line("Zażółć gęślą jaźń", "1.5", "33.33", "23", "12.5"), line("Usługa", "1", "1", "zw"),
                  exemption_basis="art. 113 ust. 1 ustawy o VAT", buyer=PERSON)
    first = build_fa3(doc, GENERATED)
    assert build_fa3(doc, GENERATED) == first
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<Faktura xmlns=\"" + NAMESPACE.encode())
    assert "Zażółć gęślą jaźń".encode() in first  # UTF-8, not character references
    later = build_fa3(doc, GENERATED + dt.timedelta(hours=1))
    assert later == first.replace(b"2025-10-01T10:15:30Z", b"2025-10-01T11:15:30Z")
    # a local time is written in UTC
    warsaw = dt.timezone(dt.timedelta(hours=2))
    assert build_fa3(doc, dt.datetime(2025, 10, 1, 12, 15, 30, tzinfo=warsaw)) == first


def test_a_nip_with_letters_is_reported_in_polish(polish):
    data = build_fa3(invoice(), GENERATED)
    tampered = data.replace(b"<NIP>6770065406</NIP>", b"<NIP>67700A5406</NIP>")
    assert validate(tampered) == ["Nabywca, NIP: wartość „67700A5406” ma nieprawidłowy format"]
    with pytest.raises(DomainError) as refused:
        build_fa3(invoice(buyer=Party("Beta S.A.", "ul. Krzywa 2", nip="67700A5406")), GENERATED)
    assert str(refused.value) == "Nabywca: NIP musi mieć 10 cyfr."


def test_schema_errors_name_the_item_and_the_field(polish):
    doc = invoice(line("Pozycja", "1", "1.00", "23"), line("Druga", "1.1234567", "1.00", "23"))
    data = build_fa3(doc, GENERATED, check=False)
    assert validate(data) == ["Pozycja 2, ilość: wartość „1.1234567” ma za dużo cyfr"]
    with pytest.raises(DomainError) as refused:
        build_fa3(doc, GENERATED)
    assert str(refused.value) == ("Faktura nie jest zgodna ze strukturą KSeF FA(3): "
                                  "Pozycja 2, ilość: wartość „1.1234567” ma za dużo cyfr")
    without_number = data.replace(b"<P_2>FV/12/10/2025</P_2>", b"")
    assert validate(without_number) == [
        "Faktura: pole data sprzedaży nie jest tu oczekiwane (oczekiwano: numer faktury)"]
    without_country = data.replace(b"<KodKraju>PL</KodKraju>", b"", 1)
    assert validate(without_country) == ["Sprzedawca: pole adres nie jest tu oczekiwane (oczekiwano: kod kraju)",
                                         "Pozycja 2, ilość: wartość „1.1234567” ma za dużo cyfr"]
    broken = validate(b"<Faktura>")
    assert len(broken) == 1 and broken[0].startswith("Plik nie jest poprawnym XML:")


@pytest.mark.parametrize("doc, message", [
    (invoice(proforma=True), "Proforma nie jest fakturą: nie jest wysyłana do KSeF."),
    (invoice(line("Szkolenie", "1", "100.00", "zw")), "Pozycje zwolnione (zw) wymagają podstawy prawnej zwolnienia."),
    (invoice(currency="EUR"), "Podaj kurs NBP waluty EUR."),
    (invoice(lines=()), "Faktura musi mieć co najmniej jedną pozycję."),
    (invoice(seller=Party("Alfa", "ul. Prosta 1")), "Podaj NIP sprzedawcy w danych firmy."),
    (invoice(seller=Party("Alfa", "ul. Prosta 1", nip="5260250275")), "Sprzedawca: NIP ma nieprawidłową cyfrę kontrolną."),
    (invoice(payment=Payment("barter")), "Wybierz sposób płatności."),
    (invoice(correction=CorrectionOf("FV/1", dt.date(2025, 10, 1), " ", ())), "Podaj przyczynę korekty."),
])
def test_documents_that_cannot_be_fa3_are_refused_with_a_reason(polish, doc, message):
    with pytest.raises(DomainError) as refused:
        check_document(doc)
    assert str(refused.value) == message


def test_the_schema_is_bundled_with_the_application():
    folder = ROOT / "app" / "services" / "invoicing" / "schema"
    assert fa3_module.SCHEMA_PATH.parent == folder
    assert {p.name for p in folder.iterdir()} >= {"FA3_v1-0E.xsd", "StrukturyDanych_v10-0E.xsd",
                                                 "ElementarneTypyDanych_v10-0E.xsd", "KodyKrajow_v10-0E.xsd",
                                                 "LICENSE.txt"}
    assert f'targetNamespace="{NAMESPACE}"' in (folder / "FA3_v1-0E.xsd").read_text(encoding="utf-8")
