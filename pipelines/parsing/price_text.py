"""Turning a shop's price text ("Rp 8.499.000", "1.234,56 €", "Contact seller") into a price.

Price text is where scrapes silently go wrong: "1.234" is one thousand two hundred and thirty
four in Jakarta and one point two three four in Austin. So the vendor's decimal separator is
always passed in, and the few cases where the text itself is unambiguous override it (both
separators present: the last one is the decimal; a single separator followed by other than three
digits cannot be a thousands separator). The number itself is read by the ``price-parser``
library; this module adds what a price history needs on top: an ISO currency, a ``Decimal``
with two places, and an explicit *kind* so "free" and "price on request" are not confused with
a parse failure or a zero.

Anything that is not clearly a price (no digits, negative, absurdly large) raises
``PriceParseError`` rather than guessing: a skipped listing is better than a wrong price.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal

from price_parser.parser import parse_number

from pipelines.parsing.standards import ISO_4217_CURRENCIES

__all__ = [
    "MAX_AMOUNT",
    "ParsedPrice",
    "PriceKind",
    "PriceParseError",
    "currency_from_text",
    "parse_price",
]

MAX_AMOUNT = Decimal("1000000000000")
"""Anything above a trillion (in any currency, IDR included) is a parsing accident."""

_CENTS = Decimal("0.01")


class PriceKind(StrEnum):
    """What a price text means: an amount, explicitly free, or "ask the seller"."""

    PRICED = "priced"
    FREE = "free"
    ON_REQUEST = "on_request"


@dataclass(frozen=True, slots=True)
class ParsedPrice:
    """A parsed price. ``amount`` is ``None`` only for ``on_request`` and ``0.00`` for ``free``."""

    amount: Decimal | None
    currency: str
    kind: PriceKind
    text: str


class PriceParseError(ValueError):
    """The text is not a price; ``text`` is the offending input and ``reason`` says why."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"cannot parse {text!r} ({reason})")


# -- words ----------------------------------------------------------------------------------

# Compared against lower-cased, accent-stripped text.
_ON_REQUEST_PHRASES = (
    "contact seller",
    "contact the seller",
    "contact us",
    "call for price",
    "ask for price",
    "price on request",
    "on request",
    "hubungi penjual",
    "hubungi kami",
    "tanya harga",
    "consultar",
    "a consultar",
    "sur demande",
    "auf anfrage",
    "su richiesta",
    "sob consulta",
)
_FREE_WORDS = re.compile(r"\b(free|gratis|gratuit|gratuite|gratuito|gratuita|kostenlos|umsonst)\b")

# -- currencies -----------------------------------------------------------------------------

_DOLLAR_CURRENCIES = (
    "USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN", "ARS", "CLP", "COP", "UYU", "BSD",
    "BBD", "BZD", "BMD", "BND", "KYD", "FJD", "GYD", "JMD", "LRD", "NAD", "SBD", "SRD", "TTD",
    "XCD", "CUP", "DOP", "NIO",
)  # fmt: skip

# Symbol -> candidate ISO codes. The vendor's default currency wins when it is a candidate
# (so "$" is MXN on a Mexican shop), otherwise the first candidate is used.
_SYMBOLS: dict[str, tuple[str, ...]] = {
    "$": _DOLLAR_CURRENCIES,
    "US$": ("USD",),
    "U$S": ("USD",),
    "CA$": ("CAD",),
    "C$": ("CAD", "NIO"),
    "A$": ("AUD",),
    "AU$": ("AUD",),
    "NZ$": ("NZD",),
    "HK$": ("HKD",),
    "S$": ("SGD",),
    "NT$": ("TWD",),
    "MX$": ("MXN",),
    "RD$": ("DOP",),
    "R$": ("BRL",),
    "€": ("EUR",),
    "£": ("GBP", "EGP", "GIP", "FKP", "SHP"),
    "¥": ("JPY", "CNY"),
    "円": ("JPY",),
    "元": ("CNY",),
    "₹": ("INR",),
    "Rs": ("INR", "PKR", "LKR", "NPR"),
    "Rs.": ("INR", "PKR", "LKR", "NPR"),
    "₩": ("KRW",),
    "₱": ("PHP",),
    "฿": ("THB",),
    "₫": ("VND",),
    "₺": ("TRY",),
    "₽": ("RUB",),
    "₴": ("UAH",),
    "₪": ("ILS",),
    "₦": ("NGN",),
    "₡": ("CRC",),
    "₲": ("PYG",),
    "zł": ("PLN",),
    "Kč": ("CZK",),
    "Ft": ("HUF",),
    "lei": ("RON",),
    "kr": ("SEK", "NOK", "DKK", "ISK"),
    "Fr": ("CHF",),
    "Fr.": ("CHF",),
    "SFr": ("CHF",),
    "Rp": ("IDR",),
    "RP": ("IDR",),
    "rp": ("IDR",),
    "RM": ("MYR",),
    "Q": ("GTQ",),
    "R": ("ZAR",),
    "S/": ("PEN",),
    "Bs": ("VES", "BOB"),
}
_TOKENS: frozenset[str] = frozenset(_SYMBOLS) | ISO_4217_CURRENCIES
_LONGEST_TOKEN = max(len(token) for token in _TOKENS)


def _token_ending_at(text: str, end: int) -> str | None:
    """The longest currency token that ends right before ``text[end]``.

    Tokens made of letters must not be glued to more letters: the "Q" in "IQ" is no quetzal.
    Plain dictionary look-ups: a regex alternation of ~200 tokens was the slowest part of
    parsing a page.
    """
    for length in range(min(_LONGEST_TOKEN, end), 0, -1):
        start = end - length
        token = text[start:end]
        if token in _TOKENS and not (token[0].isalpha() and start > 0 and text[start - 1].isalpha()):
            return token
    return None


def _token_starting_at(text: str, start: int) -> str | None:
    """The longest currency token that starts at ``text[start]`` (same letter rule)."""
    for length in range(min(_LONGEST_TOKEN, len(text) - start), 0, -1):
        end = start + length
        token = text[start:end]
        if token in _TOKENS and not (token[-1].isalpha() and end < len(text) and text[end].isalpha()):
            return token
    return None


def _token_anywhere(text: str) -> str | None:
    """The first currency token anywhere in ``text`` that stands on its own."""
    for start, ch in enumerate(text):
        if ch.isspace() or ch.isdigit() or (ch.isalpha() and start > 0 and text[start - 1].isalpha()):
            continue
        token = _token_starting_at(text, start)
        if token is not None:
            return token
    return None


def _iso_for_token(token: str, default_currency: str) -> str:
    if token in ISO_4217_CURRENCIES:
        return token
    candidates = _SYMBOLS[token]
    return default_currency if default_currency in candidates else candidates[0]


def currency_from_text(text: str, *, default_currency: str) -> str | None:
    """The ISO currency a short text names (``"Rp"``, ``"usd"``, ``"€"``), or ``None``.

    Used for per-item currency fields, which may carry a code or a symbol.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if cleaned.upper() in ISO_4217_CURRENCIES:
        return cleaned.upper()
    if cleaned in _SYMBOLS:
        return _iso_for_token(cleaned, default_currency)
    return None


# -- numbers --------------------------------------------------------------------------------

# Digits with thousands groups (".", ",", "'", or a space before exactly three digits) and an
# optional decimal part. Ambiguous groupings are resolved later, not by this pattern.
_NUMBER = re.compile(r"\d+(?:(?:[.,'\u2019]\d{2,3}|\s\d{3})(?!\d))*(?:[.,]\d+)?(?!\d)")
_GROUPING = re.compile("[\\s'\u2019]")


def _decimal_separator_for(number: str, vendor_separator: Literal[".", ","]) -> Literal[".", ","]:
    """Which separator is the decimal one in ``number``, trusting the text when it is clear."""
    positions = [i for i, ch in enumerate(number) if ch in ".,"]
    if not positions:
        return vendor_separator
    last = number[positions[-1]]
    other: Literal[".", ","] = "," if last == "." else "."
    if number.count(last) > 1:
        return other  # a separator used twice groups thousands
    if other in number:
        return last  # "1.234,56" / "1,234.56": the last one is the decimal
    digits_after = len(number) - positions[-1] - 1
    if digits_after != 3:
        return last  # thousands groups always have three digits
    return vendor_separator


def _choose_number(text: str) -> tuple[re.Match[str], str | None] | None:
    """The number that is the price, preferring one written next to a currency.

    "12 items for $5" is 5, not 12; numbers followed by "%" are discounts, not prices.
    Returns the match and the currency token found next to it (if any).
    """
    first: re.Match[str] | None = None
    for match in _NUMBER.finditer(text):
        if text[match.end() : match.end() + 1] == "%" or text[match.end() : match.end() + 2] == " %":
            continue
        if first is None:
            first = match
        prefix = text[: match.start()].rstrip(" :.")
        token = _token_ending_at(prefix, len(prefix))
        if token is None:
            after = match.end()
            while after < len(text) and text[after] == " ":
                after += 1
            token = _token_starting_at(text, after)
        if token is not None:
            return match, token
    return (first, None) if first is not None else None


def _is_negative(text: str, match: re.Match[str]) -> bool:
    prefix = text[: match.start()].rstrip(" ")
    token = _token_ending_at(prefix, len(prefix))
    if token is not None:
        prefix = prefix[: -len(token)].rstrip(" ")
    return prefix.endswith(("-", "\u2212"))


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_price(
    text: str,
    *,
    default_currency: str,
    decimal_separator: Literal[".", ","],
) -> ParsedPrice:
    """Parse one price text as a shop writes it.

    ``default_currency`` (the vendor's ISO currency) is used when the text has no currency or
    an ambiguous one ("$" on a Mexican shop is MXN); ``decimal_separator`` is how the vendor
    writes decimals. Returns a ``ParsedPrice`` whose ``kind`` is ``priced``, ``free`` (words
    such as Free/Gratis, or zero; amount 0.00) or ``on_request`` (Contact seller, Hubungi
    penjual, …; amount ``None``). Raises ``PriceParseError`` for anything else.
    """
    original = text
    normalised = " ".join((text if text.isascii() else unicodedata.normalize("NFKC", text)).split())
    if not normalised:
        raise PriceParseError(original, "empty")
    folded = _fold(normalised)

    chosen = _choose_number(normalised)
    token = chosen[1] if chosen else None
    if token is None:
        token = _token_anywhere(normalised)
    currency = _iso_for_token(token, default_currency) if token else default_currency

    if any(phrase in folded for phrase in _ON_REQUEST_PHRASES):
        return ParsedPrice(None, currency, PriceKind.ON_REQUEST, original)
    if chosen is None:
        if _FREE_WORDS.search(folded):
            return ParsedPrice(Decimal("0.00"), currency, PriceKind.FREE, original)
        raise PriceParseError(original, "no amount found")

    match = chosen[0]
    if _is_negative(normalised, match):
        raise PriceParseError(original, "negative amount")
    number = _GROUPING.sub("", match.group(0))
    if len(number) > 24:
        raise PriceParseError(original, "amount too long")
    separator = _decimal_separator_for(number, decimal_separator)
    amount = parse_number(number, decimal_separator=separator)
    if amount is None:
        raise PriceParseError(original, "no amount found")
    if amount > MAX_AMOUNT:
        raise PriceParseError(original, "amount implausibly large")
    if amount == 0:
        return ParsedPrice(Decimal("0.00"), currency, PriceKind.FREE, original)
    quantised = amount.quantize(_CENTS, rounding=ROUND_HALF_UP)
    if quantised == 0:
        raise PriceParseError(original, "amount rounds to zero")
    return ParsedPrice(quantised, currency, PriceKind.PRICED, original)
