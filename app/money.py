"""Money as integers in minor units: parse user text, format for display.

Invariants:
- an amount is a Python ``int`` of minor units (cents; yen for JPY) plus a
  currency code from ``CURRENCIES``; no float ever touches an amount — parsing
  works on the digits as text and formatting uses integer division;
- ``parse_money`` accepts only plain ASCII decimal text ("12", "12.5", "1,234.56",
  optionally one leading currency symbol of *that* currency), never more decimals
  than the currency has, never more than ``MAX_MINOR_UNITS`` in size, and a
  negative only when the caller allows it; anything else raises
  ``app.errors.ValidationError`` with a message fit to show the user;
- ``format_money`` is exact for every int (``-100`` USD -> ``"-$1.00"``) and is
  the ``money`` Jinja filter: ``{{ amount_cents|money("EUR") }}``.
"""

from __future__ import annotations

import re

from flask import Flask

from app.errors import ValidationError

# Currency code -> number of decimals (ISO 4217 minor unit exponent).
CURRENCIES: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "JPY": 0}

SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}

# What a user may type in front of an amount: the currency's own symbol, and a bare
# "$" for every dollar currency (Canadians and Australians type "$" too).
_ACCEPTED_SYMBOLS: dict[str, frozenset[str]] = {
    code: frozenset({symbol, "$"} if symbol.endswith("$") else {symbol}) for code, symbol in SYMBOLS.items()
}
_SYMBOLS_LONGEST_FIRST = sorted(set(SYMBOLS.values()), key=len, reverse=True)

# 10^12 minor units is $10 billion: far beyond any campaign, small enough that
# sums of many amounts stay well inside a 64-bit BIGINT.
MAX_MINOR_UNITS = 10**12

# Longer input than this cannot be a sensible amount; refuse before any regex work.
_MAX_INPUT_LENGTH = 40

# Plain ASCII digits only ([0-9], not \d, which also matches e.g. Arabic-Indic digits);
# thousands separators only in proper groups of three.
_AMOUNT = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<fraction>[0-9]*))?")


def exponent_of(currency: str) -> int:
    """Decimals of ``currency``; ValidationError for a currency we do not handle."""
    try:
        return CURRENCIES[currency]
    except (KeyError, TypeError):
        raise ValidationError(
            f"Unsupported currency {str(currency)[:10]!r}; use one of {', '.join(CURRENCIES)}.",
            field="currency",
        ) from None


def _strip_symbol(text: str, currency: str) -> str:
    """``text`` without its leading currency symbol; refuses another currency's symbol."""
    for symbol in _SYMBOLS_LONGEST_FIRST:
        if text.startswith(symbol):
            if symbol not in _ACCEPTED_SYMBOLS[currency]:
                raise ValidationError(f"That amount is not in {currency}.", field="amount")
            return text[len(symbol):]
    return text


def parse_money(text: str, currency: str = "USD", *, allow_negative: bool = False) -> int:
    """Minor units for the amount typed in ``text`` (e.g. "1,234.56" USD -> 123456)."""
    exponent = exponent_of(currency)
    if isinstance(text, float):
        raise ValidationError("Amounts must be given as text or integer cents, never as a float.",
                              field="amount")
    if not isinstance(text, str):
        raise ValidationError("Enter the amount as text, for example 12.50.", field="amount")
    if len(text) > _MAX_INPUT_LENGTH:
        raise ValidationError("That amount is too long.", field="amount")
    remaining = text.strip()
    if not remaining:
        raise ValidationError("Enter an amount.", field="amount")

    negative = False
    if remaining.startswith("-"):
        negative, remaining = True, remaining[1:]
    remaining = _strip_symbol(remaining, currency)
    if not negative and remaining.startswith("-"):
        negative, remaining = True, remaining[1:]

    match = _AMOUNT.fullmatch(remaining)
    if not match or not (match.group("whole") or match.group("fraction")):
        raise ValidationError(f"{text.strip()[:20]!r} is not an amount; write it like 1,234.56.",
                              field="amount")
    whole = match.group("whole").replace(",", "") or "0"
    fraction = match.group("fraction")
    if fraction is not None and fraction == "":
        raise ValidationError("Write the decimals after the point, or leave the point out.", field="amount")
    fraction = fraction or ""
    if len(fraction) > exponent:
        if exponent == 0:
            raise ValidationError(f"{currency} amounts have no decimals.", field="amount")
        raise ValidationError(f"{currency} amounts have at most {exponent} decimals.", field="amount")
    if negative and not allow_negative:
        raise ValidationError("The amount cannot be negative.", field="amount")

    minor = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if minor > MAX_MINOR_UNITS:
        raise ValidationError("That amount is too large.", field="amount")
    return -minor if negative else minor


def format_money(amount_cents: int, currency: str = "USD") -> str:
    """Display text for an amount in minor units: 123456 USD -> "$1,234.56"."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise TypeError(f"format_money needs integer minor units, got {type(amount_cents).__name__}")
    exponent = exponent_of(currency)
    sign = "-" if amount_cents < 0 else ""
    whole, fraction = divmod(abs(amount_cents), 10**exponent)
    text = f"{whole:,}"
    if exponent:
        text += f".{fraction:0{exponent}d}"
    return f"{sign}{SYMBOLS[currency]}{text}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
