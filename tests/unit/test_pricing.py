"""Totals and rounding of offers and orders (app/services/sales/pricing.py), without HTTP or a database."""

from decimal import Decimal as D

import pytest

from app.services import DomainError
from app.services.sales import pricing


def totals(*lines):
    """lines: (qty, price, discount, rate) as strings."""
    nets = [(pricing.line_net(D(q), D(p), D(d)), r) for q, p, d, r in lines]
    return pricing.compute_totals(nets)


def test_line_net_rounds_half_up_to_grosze():
    assert pricing.line_net(D(1), D("0.005") * 0 + D("10.00"), D(0)) == D("10.00")
    assert pricing.line_net(D("0.5"), D("0.01")) == D("0.01")          # 0.005 -> 0.01 (half up)
    assert pricing.line_net(D("1.5"), D("0.03")) == D("0.05")          # 0.045 -> 0.05
    assert pricing.line_net(D(3), D("33.33"), D(10)) == D("89.99")  # 89.991
    assert pricing.line_net(D(1), D("99.99"), D("33.33")) == D("66.66")  # 66.6633...
    assert pricing.line_net(D("2.125"), D("19.99"), D("12.5")) == D("37.17")  # 37.1689...
    assert pricing.line_net(D(1), D("100.00"), D(100)) == D("0.00")


def test_vat_is_computed_on_the_sum_of_nets_per_rate_not_per_line():
    # three lines of 0.10 at 23 %: per-line VAT would be 3 x 0.02 = 0.06; on the sum: 0.30 x 23 % = 0.069 -> 0.07
    t = totals(("1", "0.10", "0", "23"), ("1", "0.10", "0", "23"), ("1", "0.10", "0", "23"))
    assert [(r.rate, r.net, r.vat, r.gross) for r in t.rates] == [("23", D("0.30"), D("0.07"), D("0.37"))]
    assert (t.net, t.vat, t.gross) == (D("0.30"), D("0.07"), D("0.37"))


def test_vat_half_up_at_exactly_half_a_grosz():
    # 0.50 x 23 % = 0.115 -> 0.12; 1.50 x 5 % = 0.075 -> 0.08; 0.25 x 8 % = 0.02
    t = totals(("1", "0.50", "0", "23"), ("1", "1.50", "0", "5"), ("1", "0.25", "0", "8"))
    assert {r.rate: r.vat for r in t.rates} == {"23": D("0.12"), "5": D("0.08"), "8": D("0.02")}
    assert t.vat == D("0.22") and t.gross == D("2.47")


def test_mixed_rates_listed_in_fixed_order_with_zw_np_oo_separately_and_zero_vat():
    t = totals(
        ("2", "100.00", "0", "np"), ("1", "50.00", "0", "zw"), ("1", "10.00", "0", "0"),
        ("1", "1000.00", "5", "23"), ("3", "7.77", "0", "8"), ("1", "20.00", "0", "oo"), ("1", "9.99", "0", "5"),
    )
    assert [r.rate for r in t.rates] == ["23", "8", "5", "0", "zw", "np", "oo"]
    rows = {r.rate: (r.net, r.vat, r.gross) for r in t.rates}
    assert rows["23"] == (D("950.00"), D("218.50"), D("1168.50"))
    assert rows["8"] == (D("23.31"), D("1.86"), D("25.17"))       # 1.8648
    assert rows["5"] == (D("9.99"), D("0.50"), D("10.49"))        # 0.4995
    for rate, net in (("0", "10.00"), ("zw", "50.00"), ("np", "200.00"), ("oo", "20.00")):
        assert rows[rate] == (D(net), D("0.00"), D(net))
    assert t.net == D("1263.30")
    assert t.vat == D("220.86")
    assert t.gross == t.net + t.vat == D("1484.16")
    assert [r.label for r in t.rates] == ["23%", "8%", "5%", "0%", "zw", "np", "oo"]


def test_many_lines_sum_exactly():
    lines = [("1", "0.33", "0", "23")] * 300 + [("0.333", "3.00", "33.33", "8")] * 200
    t = totals(*lines)
    rows = {r.rate: r for r in t.rates}
    assert rows["23"].net == D("99.00") and rows["23"].vat == D("22.77")
    # 0.333 x 3.00 x 0.6667 = 0.66603... -> 0.67 per line; x200 = 134.00; VAT 8 % = 10.72
    assert rows["8"].net == D("134.00") and rows["8"].vat == D("10.72")
    assert t.gross == D("266.49")


def test_discounts_per_line():
    t = totals(("10", "12.34", "15", "23"), ("1", "999.99", "0.5", "23"), ("4", "2.50", "100", "23"))
    # 104.89 ; 994.99 (994.98995) ; 0.00
    assert t.rates[0].net == D("1099.88")
    assert t.rates[0].vat == D("252.97")  # 252.9724


def test_empty_document_has_zero_totals():
    t = pricing.compute_totals([])
    assert t.rates == [] and t.gross == D("0.00")


@pytest.mark.parametrize("raw,expected", [
    ("1 234,50", D("1234.50")), ("1234.5", D("1234.50")), ("0", D("0.00")), ("\u00a012,3 ", D("12.30")),
])
def test_parse_decimal_accepts_polish_and_english_notation(raw, expected):
    assert pricing.parse_decimal(raw, "f", "Cena", 2) == expected


@pytest.mark.parametrize("raw", ["", "abc", "1.234", "-1", "NaN", "Infinity", "1e400", "12,3,4"])
def test_parse_decimal_refuses_bad_input(raw):
    with pytest.raises(DomainError):
        pricing.parse_decimal(raw, "f", "Cena", 2)


@pytest.mark.parametrize("raw,rate", [("23", "23"), ("23%", "23"), (" ZW ", "zw"), ("np", "np"), ("oo", "oo"), ("0", "0")])
def test_vat_rates(raw, rate):
    assert pricing.clean_vat_rate(raw) == rate


@pytest.mark.parametrize("raw", ["22", "7", "", None, "zwolniony"])
def test_unknown_vat_rate_refused(raw):
    with pytest.raises(DomainError):
        pricing.clean_vat_rate(raw)


def test_amount_in_words_polish_zlote_and_grosze():
    assert pricing.amount_in_words(D("1484.16")) == "tysiąc czterysta osiemdziesiąt cztery złote, szesnaście groszy"
    assert pricing.amount_in_words(D("1.01")) == "jeden złoty, jeden grosz"
    assert pricing.amount_in_words(D(5)) == "pięć złotych, zero groszy"
    assert pricing.amount_in_words(D("22.22")) == "dwadzieścia dwa złote, dwadzieścia dwa grosze"
    assert "euro" in pricing.amount_in_words(D("10.00"), "EUR")


def test_money_and_quantity_formatting():
    assert pricing.format_money(D("1234567.5")) == "1\u00a0234\u00a0567,50"
    assert pricing.format_money(None) == "—"
    assert pricing.format_quantity(D("2.000")) == "2"
    assert pricing.format_quantity(D("1.250")) == "1,25"
    assert pricing.format_quantity(D(100)) == "100"


@pytest.mark.parametrize("amount, words", [
    ("1", "jeden złoty, zero groszy"),
    ("2", "dwa złote, zero groszy"),
    ("5", "pięć złotych, zero groszy"),
    ("12", "dwanaście złotych, zero groszy"),
    ("22", "dwadzieścia dwa złote, zero groszy"),
    ("101.01", "sto jeden złotych, jeden grosz"),
    ("112.14", "sto dwanaście złotych, czternaście groszy"),
    ("1002.02", "tysiąc dwa złote, dwa grosze"),
    ("1234567.89", "milion dwieście trzydzieści cztery tysiące pięćset sześćdziesiąt siedem złotych, "
                   "osiemdziesiąt dziewięć groszy"),
    ("0.01", "zero złotych, jeden grosz"),
])
def test_amount_in_words_polish_grammar_of_zloty_and_grosze(amount, words):
    assert pricing.amount_in_words(D(amount)) == words


@pytest.mark.parametrize("amount, currency, words", [
    ("1.01", "EUR", "jedno euro, jeden cent"),
    ("22.05", "EUR", "dwadzieścia dwa euro, pięć centów"),
    ("2.02", "USD", "dwa dolary amerykańskie, dwa centy"),
    ("5.12", "GBP", "pięć funtów szterlingów, dwanaście pensów"),
    ("21.22", "CHF", "dwadzieścia jeden franków szwajcarskich, dwadzieścia dwa centymy"),
    ("1.01", "CZK", "jedna korona czeska, jeden halerz"),
    ("22.05", "CZK", "dwadzieścia dwie korony czeskie, pięć halerzy"),
])
def test_amount_in_words_foreign_currencies_never_say_zloty(amount, currency, words):
    assert pricing.amount_in_words(D(amount), currency) == words


@pytest.mark.parametrize("amount, currency, words", [
    ("1.01", "PLN", "one zloty, one grosz"),
    ("1234567.89", "PLN", "one million, two hundred and thirty-four thousand, five hundred and sixty-seven zlotys, "
                          "eighty-nine groszy"),
    ("2.02", "GBP", "two pounds sterling, two pence"),
    ("22.05", "CHF", "twenty-two Swiss francs, five centimes"),
    ("1.00", "CZK", "one Czech koruna, zero halers"),
])
def test_amount_in_words_english(amount, currency, words):
    assert pricing.amount_in_words(D(amount), currency, "en") == words


def test_vat_labels_in_english_documents():
    assert [pricing.vat_label(r) for r in ("23", "zw", "np", "oo")] == ["23%", "zw", "np", "oo"]
    assert [pricing.vat_label(r, "en") for r in ("8", "zw", "np", "oo")] == ["8%", "exempt", "out of scope",
                                                                             "reverse charge"]


def test_large_quantities_are_grouped_polish_style():
    assert pricing.format_quantity(D("1234.500")) == "1\u00a0234,5"
    assert pricing.format_quantity(D("1000000")) == "1\u00a0000\u00a0000"
    assert pricing.format_quantity(D("0.125")) == "0,125"
