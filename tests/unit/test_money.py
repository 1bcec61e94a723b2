"""app.money: parsing what people type into integer minor units, and formatting them back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import ValidationError
from app.money import CURRENCIES, MAX_MINOR_UNITS, format_money, parse_money

ACCEPTED = [
    ("12", "USD", 1200),
    ("12.5", "USD", 1250),
    ("12.34", "USD", 1234),
    ("0.01", "USD", 1),
    ("0", "USD", 0),
    (".99", "USD", 99),
    ("1,234.56", "USD", 123456),
    ("1,234,567", "USD", 123456700),
    ("  7.00\n", "USD", 700),
    ("$1,234.56", "USD", 123456),
    ("€3.10", "EUR", 310),
    ("£0.5", "GBP", 50),
    ("CA$5", "CAD", 500),
    ("$5", "CAD", 500),
    ("A$2.25", "AUD", 225),
    ("¥1,500", "JPY", 1500),
    ("1500", "JPY", 1500),
    ("007.10", "USD", 710),
    ("10000000000", "USD", MAX_MINOR_UNITS),
]


@pytest.mark.parametrize("text, currency, cents", ACCEPTED)
def test_parse_money_accepts_plain_amounts(text, currency, cents):
    assert parse_money(text, currency) == cents


@pytest.mark.parametrize("text, cents", [("-1.00", -100), ("-$1.00", -100), ("$-0.25", -25)])
def test_negatives_only_when_allowed(text, cents):
    assert parse_money(text, allow_negative=True) == cents
    with pytest.raises(ValidationError, match="cannot be negative"):
        parse_money(text)


REFUSED = [
    ("", "USD", "Enter an amount"),
    (" ", "USD", "Enter an amount"),
    ("\t\n", "USD", "Enter an amount"),
    ("abc", "USD", "is not an amount"),
    ("1e9", "USD", "is not an amount"),
    ("1E2", "USD", "is not an amount"),
    ("NaN", "USD", "is not an amount"),
    ("nan", "USD", "is not an amount"),
    ("inf", "USD", "is not an amount"),
    ("-Infinity", "USD", "is not an amount"),
    ("١٢", "USD", "is not an amount"),  # Arabic-Indic digits: int() would take them
    ("１２", "USD", "is not an amount"),  # full-width digits
    ("--1", "USD", "is not an amount"),
    ("+5", "USD", "is not an amount"),
    ("1 000", "USD", "is not an amount"),
    ("1_000", "USD", "is not an amount"),  # int() would take this too
    ("1,23", "USD", "is not an amount"),
    ("12,34.56", "USD", "is not an amount"),
    ("1.2.3", "USD", "is not an amount"),
    ("0x10", "USD", "is not an amount"),
    ("$", "USD", "is not an amount"),
    (".", "USD", "is not an amount"),
    ("12.", "USD", "decimals after the point"),
    ("0.001", "USD", "at most 2 decimals"),
    ("12.340", "USD", "at most 2 decimals"),
    ("12.5", "JPY", "no decimals"),
    ("€5", "USD", "not in USD"),
    ("$5", "EUR", "not in EUR"),
    ("CA$5", "USD", "not in USD"),
    ("10000000000.01", "USD", "too large"),
    ("99999999999999999999", "USD", "too large"),
    ("1" * 10_000, "USD", "too long"),
    ("12; DROP TABLE users", "USD", "is not an amount"),
    ("<script>", "USD", "is not an amount"),
]


@pytest.mark.parametrize("text, currency, message", REFUSED)
def test_parse_money_refuses_with_a_clear_message(text, currency, message):
    with pytest.raises(ValidationError, match=message) as caught:
        parse_money(text, currency)
    assert caught.value.field == "amount"
    assert len(caught.value.message) < 80  # a 10 KB input is not echoed back


@pytest.mark.parametrize("value", [12.5, 0.1, float("nan"), float("inf")])
def test_floats_are_refused_even_when_they_look_exact(value):
    with pytest.raises(ValidationError, match="never as a float"):
        parse_money(value)


@pytest.mark.parametrize("value", [None, 12, Decimal("12.50"), b"12"])
def test_non_text_is_refused(value):
    with pytest.raises(ValidationError, match="as text"):
        parse_money(value)


def test_unknown_currency_is_refused():
    with pytest.raises(ValidationError, match="Unsupported currency") as caught:
        parse_money("12", "BTC")
    assert caught.value.field == "currency"


@pytest.mark.parametrize("cents, currency, text", [
    (0, "USD", "$0.00"),
    (1, "USD", "$0.01"),
    (-100, "USD", "-$1.00"),
    (123456, "USD", "$1,234.56"),
    (100000000, "EUR", "€1,000,000.00"),
    (5, "GBP", "£0.05"),
    (-1, "CAD", "-CA$0.01"),
    (999, "AUD", "A$9.99"),
    (1500, "JPY", "¥1,500"),
    (10**18, "USD", "$10,000,000,000,000,000.00"),
])
def test_format_money(cents, currency, text):
    assert format_money(cents, currency) == text


@pytest.mark.parametrize("value", [1.5, True, "100", Decimal(1), None])
def test_format_money_wants_an_int(value):
    with pytest.raises(TypeError):
        format_money(value)


@given(cents=st.integers(min_value=-MAX_MINOR_UNITS, max_value=MAX_MINOR_UNITS),
       currency=st.sampled_from(sorted(CURRENCIES)))
def test_format_then_parse_is_the_identity(cents, currency):
    assert parse_money(format_money(cents, currency), currency, allow_negative=True) == cents
