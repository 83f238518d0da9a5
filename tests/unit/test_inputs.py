"""Rules for request data: the one id parser, the control-character rule, bounded CSV cells, bounded URL ids."""

from __future__ import annotations

import csv

import pytest
from flask import Flask

from app.security.inputs import install_id_converter
from app.services import DomainError, inputs
from app.services import validators as v


@pytest.mark.parametrize("value, expected", [
    ("1", 1), (" 42 ", 42), (7, 7), (str(2**31 - 1), 2**31 - 1),
    (str(2**31), None), (str(2**63), None), (str(10**20), None), (2**31, None),
    ("-1", None), ("0", None), (0, None), (-5, None), ("²", None), ("١٢", None), ("1e5", None),
    ("0x10", None), ("1.0", None), ("abc", None), ("", None), (None, None), (True, None), ("1\x00", None),
])
def test_to_id_accepts_only_positive_ascii_integers_within_the_id_range(value: object, expected: int | None) -> None:
    assert inputs.to_id(value) == expected


def test_parse_id_gives_none_for_empty_and_invalid_value_for_anything_else() -> None:
    assert inputs.parse_id("") is None
    assert inputs.parse_id(None) is None
    assert inputs.parse_id("0") is None
    assert inputs.parse_id("12") == 12
    with pytest.raises(DomainError) as err:
        inputs.parse_id(str(2**63), "binder_id")
    assert err.value.field == "binder_id"
    assert str(err.value) == "Invalid value."


def test_parse_id_keeps_the_callers_message() -> None:
    with pytest.raises(DomainError) as err:
        inputs.parse_id("2147483648", "contact_id", "This contact does not exist.")
    assert str(err.value) == "This contact does not exist."
    assert err.value.field == "contact_id"


def test_parse_ids_dedups_sorts_skips_empty_and_refuses_one_bad_id() -> None:
    assert inputs.parse_ids(["3", "", "1", "3"]) == [1, 3]
    assert inputs.parse_ids(None) == []
    with pytest.raises(DomainError):
        inputs.parse_ids(["1", "99999999999999999999"], "ids")


def test_parse_ids_refuses_too_many_ids() -> None:
    with pytest.raises(DomainError) as err:
        inputs.parse_ids([str(i) for i in range(1, inputs.MAX_IDS + 2)], "ids")
    assert str(err.value) == "Too many rows chosen at once."


@pytest.mark.parametrize("text", ["a\x00b", "\x01", "x\x08", "x\x0b", "x\x0c", "x\x1b[31m", "x\x1f", "x\x7f"])
def test_control_characters_are_found_and_refused(text: str) -> None:
    assert inputs.has_control_chars(text)
    with pytest.raises(DomainError) as err:
        inputs.check_text(text, "name")
    assert err.value.field == "name"
    assert "control characters" in str(err.value)


@pytest.mark.parametrize("text", ["Zażółć gęślą jaźń", "a\tb", "line 1\nline 2\r\n", "", "€ – „cudzysłów”"])
def test_tab_newlines_and_polish_text_are_allowed(text: str) -> None:
    assert not inputs.has_control_chars(text)
    assert inputs.check_text(text) == text


def test_strip_control_chars_keeps_tab_and_newlines() -> None:
    assert inputs.strip_control_chars("a\x00b\tc\nd\x7f\x1be") == "ab\tc\nde"


def test_clean_text_refuses_a_nul_with_the_polish_rule() -> None:
    with pytest.raises(DomainError) as err:
        v.clean_text("Firma\x00", "name", "Name", 100)
    assert err.value.field == "name"
    assert "control characters" in str(err.value)


def test_csv_reader_bounds_cells_and_drops_control_characters() -> None:
    rows = list(inputs.csv_reader("a;b\x00c\n1;2\n", delimiter=";"))
    assert rows == [["a", "bc"], ["1", "2"]]
    with pytest.raises(csv.Error):
        list(inputs.csv_reader("name;price\n" + "x" * (inputs.MAX_CELL + 1) + ";1\n", delimiter=";"))


def test_column_index() -> None:
    assert inputs.column_index("0") == 0
    assert inputs.column_index("12") == 12
    assert inputs.column_index("²") is None
    assert inputs.column_index("-1") is None
    assert inputs.column_index("99999999999") is None


def test_int_urls_match_only_ids_within_the_range() -> None:
    app = Flask(__name__)
    install_id_converter(app)

    @app.route("/things/<int:thing_id>")
    def thing(thing_id: int) -> str:
        return str(thing_id)

    client = app.test_client()
    assert client.get(f"/things/{2**31 - 1}").get_data(as_text=True) == str(2**31 - 1)
    for bad in (str(2**31), str(2**63), "99999999999999999999", "0", "-1", "%C2%B2"):
        assert client.get(f"/things/{bad}").status_code == 404, bad
