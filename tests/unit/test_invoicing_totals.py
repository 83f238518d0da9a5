"""Invoice totals (app/services/invoicing/totals.py): rounding per rate, VAT in PLN, split payment, corrections, words."""

import datetime as dt
from decimal import Decimal as D

import pytest

from app.services.invoicing import (
    CorrectionOf,
    Invoice,
    Line,
    Party,
    amount_in_words,
    compute_totals,
    correction_totals,
    document_totals,
    invoice_totals,
    normalize_rate,
    split_payment_required,
)

SELLER = Party("Alfa sp. z o.o.", "ul. Prosta 1", "00-001 Warszawa", nip="5260250274")
BUYER = Party("Beta S.A.", "ul. Krzywa 2", "31-001 Kraków", nip="6770065406")
PERSON = Party("Jan Kowalski", "ul. Polna 3", "60-001 Poznań")


def line(qty: str, price: str, rate: str, discount: str = "0", **kw) -> Line:
    """An invoice line from strings."""
    return Line(name="Pozycja", quantity=D(qty), unit_price=D(price), rate=rate, discount=D(discount), **kw)


def invoice(*lines: Line, buyer: Party = BUYER, currency: str = "PLN", rate: str | None = None,
            correction: CorrectionOf | None = None) -> Invoice:
    """An invoice with the given lines."""
    return Invoice(number="FV/1/2025", issue_date=dt.date(2025, 10, 1), seller=SELLER, buyer=buyer,
                   lines=lines, currency=currency, exchange_rate=D(rate) if rate else None, correction=correction,
                   exemption_basis="art. 43 ust. 1 pkt 37 ustawy o VAT")


def rows(totals) -> dict:
    """rate -> (net, vat, gross) of a summary."""
    return {r.rate: (r.net, r.vat, r.gross) for r in totals.rates}


def test_line_net_applies_the_discount_then_rounds_half_up():
    assert line("3", "33.33", "23", "10").net == D("89.99")        # 89.991
    assert line("1", "99.99", "23", "33.33").net == D("66.66")     # 66.6633
    assert line("0.5", "0.01", "23").net == D("0.01")              # 0.005 -> 0.01, half up
    assert line("2.125", "19.99", "23", "12.5").net == D("37.17")  # 37.1689
    assert line("3", "33.33", "23", "10").discount_amount == D("10.00")  # 99.99 - 89.99


def test_vat_per_rate_on_the_sum_of_nets_differs_from_summing_per_line_vat():
    # per line: 0.55 x 23 % = 0.1265 -> 0.13, twice 0.26; on the sum: 1.10 x 23 % = 0.253 -> 0.25
    t = compute_totals([line("1", "0.55", "23"), line("1", "0.55", "23")])
    assert rows(t) == {"23": (D("1.10"), D("0.25"), D("1.35"))}
    # per line: 3 x 0.02 = 0.06; on the sum: 0.30 x 23 % = 0.069 -> 0.07
    t = compute_totals([line("1", "0.10", "23")] * 3)
    assert rows(t) == {"23": (D("0.30"), D("0.07"), D("0.37"))}


def test_vat_rounds_half_up_at_half_a_grosz():
    # 0.50 x 23 % = 0.115 -> 0.12 ; 1.50 x 5 % = 0.075 -> 0.08 (banker's rounding would give 0.12 and 0.08/0.07)
    t = compute_totals([line("1", "0.50", "23"), line("1", "1.50", "5"), line("1", "0.25", "8")])
    assert {r.rate: r.vat for r in t.rates} == {"23": D("0.12"), "5": D("0.08"), "8": D("0.02")}
    assert (t.net, t.vat, t.gross) == (D("2.25"), D("0.22"), D("2.47"))


def test_mixed_rates_each_in_its_own_row_in_fixed_order_with_zero_vat_for_the_non_percentage_rates():
    t = invoice_totals(invoice(
        line("1", "20.00", "oo"), line("2", "100.00", "np"), line("1", "30.00", "np II"), line("1", "50.00", "zw"),
        line("1", "40.00", "0 EX"), line("1", "60.00", "0 WDT"), line("1", "10.00", "0 KR"),
        line("1", "1000.00", "23", "5"), line("3", "7.77", "8"), line("1", "9.99", "5"),
    ))
    assert [r.rate for r in t.rates] == ["23", "8", "5", "0 KR", "0 WDT", "0 EX", "zw", "np", "np II", "oo"]
    r = rows(t)
    assert r["23"] == (D("950.00"), D("218.50"), D("1168.50"))
    assert r["8"] == (D("23.31"), D("1.86"), D("25.17"))    # 1.8648
    assert r["5"] == (D("9.99"), D("0.50"), D("10.49"))     # 0.4995
    for code, net in (("0 KR", "10.00"), ("0 WDT", "60.00"), ("0 EX", "40.00"), ("zw", "50.00"),
                      ("np", "200.00"), ("np II", "30.00"), ("oo", "20.00")):
        assert r[code] == (D(net), D("0.00"), D(net))
    assert (t.net, t.vat, t.gross) == (D("1393.30"), D("220.86"), D("1614.16"))
    assert [x.label for x in t.rates][:6] == ["23%", "8%", "5%", "0%", "0% WDT", "0% eksport"]
    assert t.vat_pln is None and t.gross_pln is None


def test_discounts_across_lines_of_one_rate():
    t = compute_totals([line("10", "12.34", "23", "15"), line("1", "999.99", "23", "0.5"), line("4", "2.50", "23", "100")])
    # 104.89 (104.89) ; 994.99 (994.98995) ; 0.00
    assert rows(t) == {"23": (D("1099.88"), D("252.97"), D("1352.85"))}  # 252.9724


def test_offer_rates_map_to_invoice_rates():
    assert [normalize_rate(r) for r in ("23", "0", "zw", "np", "np I", "oo")] == ["23", "0 KR", "zw", "np", "np", "oo"]


def test_unknown_rate_and_foreign_currency_without_rate_are_refused():
    with pytest.raises(ValueError):
        compute_totals([line("1", "1.00", "22")])
    with pytest.raises(ValueError):
        compute_totals([line("1", "1.00", "23")], "EUR", None)


def test_foreign_currency_vat_per_rate_converted_to_pln_half_up():
    t = invoice_totals(invoice(line("1", "1000.00", "23"), line("1", "333.33", "8"), line("1", "12.50", "8"),
                               line("1", "100.00", "zw"), currency="EUR", rate="4.3250"))
    r = {x.rate: x for x in t.rates}
    assert (r["23"].net, r["23"].vat, r["23"].vat_pln) == (D("1000.00"), D("230.00"), D("994.75"))
    # 8 %: (333.33 + 12.50) x 8 % = 27.6664 -> 27.67 EUR; x 4.3250 = 119.672750 -> 119.67 PLN
    assert (r["8"].net, r["8"].vat, r["8"].vat_pln) == (D("345.83"), D("27.67"), D("119.67"))
    assert r["zw"].vat_pln == D("0.00")
    assert t.vat == D("257.67") and t.vat_pln == D("1114.42")
    assert t.gross == D("1703.50") and t.gross_pln == D("7367.64")  # 7 367.6375


def test_conversion_of_vat_to_pln_rounds_half_up_not_to_even():
    # 12.50 EUR at 8 % = 1.00 EUR; x 4.3250 = 4.325 -> 4.33 (half-even would give 4.32)
    t = compute_totals([line("1", "12.50", "8")], "EUR", D("4.3250"))
    assert t.rates[0].vat_pln == D("4.33")


def test_split_payment_only_over_15000_pln_with_an_annex_15_item():
    # 12 195.12 + 23 % (2 804.8776 -> 2 804.88) = 15 000.00: not over the threshold
    at = invoice(line("1", "12195.12", "23", annex15=True))
    assert invoice_totals(at).gross == D("15000.00")
    assert split_payment_required(at) is False
    over = invoice(line("1", "12195.13", "23", annex15=True))
    assert invoice_totals(over).gross == D("15000.01")
    assert split_payment_required(over) is True
    assert split_payment_required(invoice(line("1", "12195.13", "23"))) is False  # no Annex 15 item
    # Annex 15 item on another line than the big one still counts: the rule is about the invoice total
    assert split_payment_required(invoice(line("1", "14000.00", "23"), line("1", "1.00", "23", annex15=True))) is True


def test_split_payment_needs_a_taxpayer_buyer():
    assert split_payment_required(invoice(line("1", "20000.00", "23", annex15=True), buyer=PERSON)) is False


def test_split_payment_in_foreign_currency_compares_the_gross_converted_to_pln():
    # 3 000.00 EUR + 23 % = 3 690.00 EUR; x 4.0651 = 15 000.22 PLN (over); x 4.0650 = 14 999.85 PLN (not over)
    assert split_payment_required(invoice(line("1", "3000.00", "23", annex15=True), currency="EUR", rate="4.0651"))
    assert not split_payment_required(invoice(line("1", "3000.00", "23", annex15=True), currency="EUR", rate="4.0650"))
    # 4 305.00 USD is far below 15 000 in its own currency, but 15 498.00 PLN
    assert split_payment_required(invoice(line("1", "3500.00", "23", annex15=True), currency="USD", rate="3.6000"))


def correction(before: tuple[Line, ...], after: tuple[Line, ...], **kw) -> Invoice:
    """A correction of FV/1/2025 with the given before and after lines."""
    corr = CorrectionOf(number="FV/1/2025", issue_date=dt.date(2025, 10, 1), reason="Zwrot towaru",
                        before_lines=before)
    return invoice(*after, correction=corr, **kw)


def test_correction_difference_is_after_minus_before_per_rate():
    kor = correction((line("2", "100.00", "23"), line("1", "50.00", "zw")),
                     (line("1", "100.00", "23"), line("1", "50.00", "zw"), line("1", "10.00", "8")))
    both = correction_totals(kor)
    assert rows(both.before) == {"23": (D("200.00"), D("46.00"), D("246.00")), "zw": (D("50.00"), D("0.00"), D("50.00"))}
    assert rows(both.difference) == {
        "23": (D("-100.00"), D("-23.00"), D("-123.00")),
        "8": (D("10.00"), D("0.80"), D("10.80")),
        "zw": (D("0.00"), D("0.00"), D("0.00")),
    }
    assert (both.difference.net, both.difference.vat, both.difference.gross) == (D("-90.00"), D("-22.20"), D("-112.20"))
    assert document_totals(kor) == both.difference
    assert document_totals(invoice(line("1", "1.00", "23"))).gross == D("1.23")


def test_correction_removing_a_rate_shows_it_as_minus_the_whole_row():
    kor = correction((line("1", "100.00", "23"), line("1", "40.00", "5")), (line("1", "100.00", "23"),))
    assert rows(correction_totals(kor).difference) == {
        "23": (D("0.00"), D("0.00"), D("0.00")), "5": (D("-40.00"), D("-2.00"), D("-42.00")),
    }


def test_correction_in_foreign_currency_gives_the_vat_difference_in_pln():
    kor = correction((line("1", "1000.00", "23"),), (line("1", "900.00", "23"),), currency="EUR", rate="4.2512")
    diff = correction_totals(kor).difference
    # before 230.00 EUR -> 977.776 -> 977.78 PLN ; after 207.00 EUR -> 879.9984 -> 880.00 PLN
    assert (diff.rates[0].vat, diff.rates[0].vat_pln) == (D("-23.00"), D("-97.78"))
    assert diff.vat_pln == D("-97.78")


@pytest.mark.parametrize("amount, currency, words", [
    ("1.01", "PLN", "jeden złoty, jeden grosz"),
    ("1000000", "PLN", "milion złotych, zero groszy"),
    ("12.21", "PLN", "dwanaście złotych, dwadzieścia jeden groszy"),
    ("1614.16", "PLN", "tysiąc sześćset czternaście złotych, szesnaście groszy"),
    ("2.22", "PLN", "dwa złote, dwadzieścia dwa grosze"),
    ("1234.56", "EUR", "tysiąc dwieście trzydzieści cztery euro, pięćdziesiąt sześć centów"),
    ("1.01", "EUR", "jedno euro, jeden cent"),
    ("22.02", "USD", "dwadzieścia dwa dolary amerykańskie, dwa centy"),
    ("-123.00", "PLN", "minus sto dwadzieścia trzy złote, zero groszy"),
])
def test_gross_in_polish_words(amount, currency, words):
    assert amount_in_words(D(amount), currency) == words
