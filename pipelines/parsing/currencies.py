"""Currencies as prices write them: symbols and codes next to a number, how many decimals each
currency is written with, and amounts counted in a currency's minor unit.

Two sources, each for what it is right about, neither a hand-kept list:

* **Decimals as written** (JPY 0, USD 2, KWD 3) come from the Unicode CLDR data that Babel
  ships. CLDR follows ISO 4217 except where everyday use differs (IDR, COP, HUF, IQD … are
  written without decimals), which is what matters when reading a shop's price text, storing
  the amount and showing it again (:func:`decimals`, :func:`with_decimals`).
* **ISO 4217 exponents**, from the ``iso4217`` package (the maintenance agency's own list), for
  amounts a shop's API counts in minor units (``{"amount": 129900, "currency": "SEK"}`` is 1299.00
  kronor): that is what payment and shop APIs mean by "minor units" (:func:`iso_exponent`,
  :func:`from_minor_units`).

The symbol table is ours: it says which *candidates* a symbol may stand for, and the vendor's own
currency picks among them ("$" is MXN on a Mexican shop, "kr" is NOK on a Norwegian one).
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision
from iso4217 import Currency

from pipelines.parsing.standards import ISO_4217_CURRENCIES

__all__ = [
    "MONEY_SCALE",
    "SYMBOLS",
    "currency_from_text",
    "decimals",
    "decimals_table",
    "format_money",
    "from_minor_units",
    "iso_exponent",
    "iso_for_token",
    "number_amount",
    "token_anywhere",
    "token_ending_at",
    "token_starting_at",
    "with_decimals",
]

MONEY_SCALE = 3
"""Decimals the warehouse stores for every amount: enough for the three-decimal currencies
(KWD, BHD, OMR, JOD, TND, LYD); ``tests/test_prices.py`` checks no currency in use needs more."""


@lru_cache(maxsize=512)
def decimals(currency: str) -> int:
    """How many decimals ``currency`` is written with (CLDR via Babel; 2 when CLDR does not know it)."""
    return int(get_currency_precision(currency.upper()))


def with_decimals(amount: Decimal, currency: str) -> Decimal:
    """``amount`` written with the currency's decimals, or with more where it has them.

    The warehouse stores three decimals for every currency; read back, 5000 GTQ is 5000.000 and
    should be shown as 5000.00, 8499000 IDR as 8499000, 12.345 KWD as it is and a 3.999 USD fuel
    price as it is too.
    """
    exponent = amount.normalize().as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity: nothing to round
        return amount
    significant = max(0, -exponent)
    return amount.quantize(Decimal(1).scaleb(-max(decimals(currency), significant)))


def format_money(amount: Decimal, currency: str) -> str:
    """``8,499,000 IDR``, ``1,234.50 GTQ``, ``12.345 KWD``; whole amounts without decimals (``10 USD``)."""
    text = f"{with_decimals(amount, currency):,f}"
    whole, _, fraction = text.partition(".")
    return f"{whole if not fraction.strip('0') else text} {currency}"


def decimals_table() -> dict[str, int]:
    """Decimals of every ISO 4217 currency in circulation, for SQL that rounds per currency."""
    return {code: decimals(code) for code in sorted(ISO_4217_CURRENCIES)}


@lru_cache(maxsize=512)
def iso_exponent(currency: str) -> int | None:
    """Decimals of ``currency``'s minor unit per ISO 4217, or ``None`` (unknown, or no minor unit)."""
    try:
        return Currency(currency.upper()).exponent
    except ValueError:
        return None


def from_minor_units(units: int, exponent: int) -> Decimal:
    """``units`` of the minor unit as an amount: ``from_minor_units(129900, 2) == Decimal("1299.00")``."""
    return Decimal(units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def number_amount(amount: Decimal, currency: str) -> Decimal:
    """An amount a shop's data gives as a number (never re-parsed from text), rounded to the
    currency's ISO minor unit with at least two places, as prices are stored."""
    places = max(2, iso_exponent(currency) or 0)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


_DOLLAR_CURRENCIES = (
    "USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN", "ARS", "CLP", "COP", "UYU", "BSD",
    "BBD", "BZD", "BMD", "BND", "KYD", "FJD", "GYD", "JMD", "LRD", "NAD", "SBD", "SRD", "TTD",
    "XCD", "CUP", "DOP", "NIO",
)  # fmt: skip

SYMBOLS: dict[str, tuple[str, ...]] = {
    # dollars and pesos
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
    # Europe
    "€": ("EUR",),
    "£": ("GBP", "EGP", "GIP", "FKP", "SHP"),
    "zł": ("PLN",),
    "Kč": ("CZK",),
    "Ft": ("HUF",),
    "lei": ("RON",),
    "Lei": ("RON",),
    "kr": ("SEK", "NOK", "DKK", "ISK"),
    "Kr": ("SEK", "NOK", "DKK", "ISK"),
    "Fr": ("CHF",),
    "Fr.": ("CHF",),
    "SFr": ("CHF",),
    "лв": ("BGN",),
    "₽": ("RUB",),
    "руб": ("RUB",),
    "р": ("RUB", "BYN"),
    "Р": ("RUB",),
    "din": ("RSD",),
    "₴": ("UAH",),
    "грн": ("UAH",),
    "₺": ("TRY",),
    "TL": ("TRY",),
    "₾": ("GEL",),
    "₼": ("AZN",),
    "֏": ("AMD",),
    "₸": ("KZT",),
    # Asia
    "¥": ("JPY", "CNY"),
    "円": ("JPY",),
    "元": ("CNY",),
    "₹": ("INR",),
    "₨": ("INR", "PKR", "LKR", "NPR"),
    "Rs": ("INR", "PKR", "LKR", "NPR"),
    "Rs.": ("INR", "PKR", "LKR", "NPR"),
    "₩": ("KRW",),
    "원": ("KRW",),
    "₱": ("PHP",),
    "฿": ("THB",),
    "บาท": ("THB",),
    "₫": ("VND",),
    "đ": ("VND",),
    "Đ": ("VND",),
    "VNĐ": ("VND",),
    "₭": ("LAK",),
    "៛": ("KHR",),
    "৳": ("BDT",),
    "₮": ("MNT",),
    "Rp": ("IDR",),
    "RP": ("IDR",),
    "rp": ("IDR",),
    "RM": ("MYR",),
    "₪": ("ILS",),
    "NIS": ("ILS",),
    # the Gulf and North Africa (three-decimal dinars among them)
    "KD": ("KWD",),
    "د.ك": ("KWD",),
    "BD": ("BHD",),
    "د.ب": ("BHD",),
    "RO": ("OMR",),
    "ر.ع": ("OMR",),
    "ر.ع.": ("OMR",),
    "JD": ("JOD",),
    "د.ا": ("JOD",),
    "DT": ("TND",),
    "د.ت": ("TND",),
    "LD": ("LYD",),
    "ل.د": ("LYD",),
    "SR": ("SAR",),
    "ر.س": ("SAR",),
    "QR": ("QAR",),
    "ر.ق": ("QAR",),
    "Dhs": ("AED",),
    "د.إ": ("AED",),
    "DH": ("MAD", "AED"),
    "Dh": ("MAD", "AED"),
    "د.م.": ("MAD",),
    "LE": ("EGP",),
    "ج.م": ("EGP",),
    # Africa and the Americas
    "₦": ("NGN",),
    "KSh": ("KES",),
    "Ksh": ("KES",),
    "R": ("ZAR",),
    "₵": ("GHS",),
    "FCFA": ("XAF", "XOF"),
    "CFA": ("XOF", "XAF"),
    "₡": ("CRC",),
    "₲": ("PYG",),
    "Gs": ("PYG",),
    "Gs.": ("PYG",),
    "Q": ("GTQ",),
    "S/": ("PEN",),
    "S/.": ("PEN",),
    "Bs": ("VES", "BOB"),
    "Bs.": ("VES", "BOB"),
}
"""Symbol -> candidate ISO codes. The vendor's currency wins when it is a candidate, otherwise the
first candidate is used ("$" on a euro shop is USD)."""

_TOKENS: frozenset[str] = frozenset(SYMBOLS) | ISO_4217_CURRENCIES
_LONGEST_TOKEN = max(len(token) for token in _TOKENS)


def _glued(text: str, index: int) -> bool:
    """Whether ``text[index]`` exists and is a letter (a token must not be part of a word)."""
    return 0 <= index < len(text) and text[index].isalpha()


def token_ending_at(text: str, end: int) -> str | None:
    """The longest currency token that ends right before ``text[end]``.

    Tokens made of letters must not be glued to more letters: the "Q" in "IQ" is no quetzal.
    Plain dictionary look-ups: a regex alternation of ~250 tokens was the slowest part of
    parsing a page.
    """
    for length in range(min(_LONGEST_TOKEN, end), 0, -1):
        start = end - length
        token = text[start:end]
        if token in _TOKENS and not (token[0].isalpha() and _glued(text, start - 1)):
            return token
    return None


def token_starting_at(text: str, start: int) -> str | None:
    """The longest currency token that starts at ``text[start]`` (same letter rule)."""
    for length in range(min(_LONGEST_TOKEN, len(text) - start), 0, -1):
        end = start + length
        token = text[start:end]
        if token in _TOKENS and not (token[-1].isalpha() and _glued(text, end)):
            return token
    return None


def token_anywhere(text: str) -> str | None:
    """The first currency token anywhere in ``text`` that stands on its own."""
    for start, ch in enumerate(text):
        if ch.isspace() or ch.isdigit() or (ch.isalpha() and _glued(text, start - 1)):
            continue
        token = token_starting_at(text, start)
        if token is not None:
            return token
    return None


def iso_for_token(token: str, default_currency: str) -> str:
    """The ISO code a token stands for on a vendor whose currency is ``default_currency``."""
    if token in ISO_4217_CURRENCIES:
        return token
    candidates = SYMBOLS[token]
    return default_currency if default_currency in candidates else candidates[0]


def currency_from_text(text: str, *, default_currency: str) -> str | None:
    """The ISO currency a short text names (``"Rp"``, ``"usd"``, ``"€"``), or ``None``.

    Used for per-item currency fields, which may carry a code or a symbol.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if cleaned.upper() in ISO_4217_CURRENCIES:
        return cleaned.upper()
    if cleaned in SYMBOLS:
        return iso_for_token(cleaned, default_currency)
    return None
