"""Turning a shop's price text ("Rp 8.499.000", "1.234,56 €", "Contact seller") into a price.

Price text is where scrapes silently go wrong: "1.234" is one thousand two hundred and thirty
four in Jakarta and one point two three four in Austin. So the vendor's decimal separator is
always passed in and is the default, and the text overrides it only where it is unambiguous:

- both "." and "," present: the last one is the decimal separator (``1.234,56``, ``1,234.56``);
- one separator used twice, or next to other grouping (``'``, spaces): it groups thousands;
- one separator followed by other than three digits: it is the decimal one (``12,99``, ``.75``);
- a whole-unit suffix (``1.899,-``, ``CHF 1'234.–``, ``1 299:-``, ``Rs. 500/-``): no decimals;
- a currency without minor units (JPY, VND, KRW, IDR, CLP, ISK, PYG …, from CLDR via
  ``currencies.minor_units``): a separator before three digits groups them (``12.500 ₫``).

Spaces shops (or their templates) put inside numbers are read through: ``$119. 95``,
``1.837, 32 €``, ``35€ 99`` (the cents after the symbol). A range or "from" price is its lower
bound; a price after "was"/"statt"/"UVP" loses to another price in the same text; a number
followed by "%" is a discount, never a price.

The result is a ``Decimal`` with the currency's minor units as its scale (at least; more when the
text writes more, up to ``MONEY_SCALE``), an ISO currency, and an explicit *kind* so "free" and
"price on request" are not confused with a parse failure or a zero. Anything that is not clearly
a price (no digits, negative, absurdly large) raises ``PriceParseError`` rather than guessing: a
skipped listing is better than a wrong price.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from pipelines.parsing.currencies import (
    MONEY_SCALE,
    currency_from_text,
    iso_for_token,
    token_anywhere,
    token_ending_at,
    token_starting_at,
)
from pipelines.parsing.currencies import (
    decimals as currency_decimals,
)

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


class PriceKind(StrEnum):
    """What a price text means: an amount, explicitly free, or "ask the seller"."""

    PRICED = "priced"
    FREE = "free"
    ON_REQUEST = "on_request"


@dataclass(frozen=True, slots=True)
class ParsedPrice:
    """A parsed price. ``amount`` is ``None`` only for ``on_request`` and zero for ``free``."""

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
    "contact seller", "contact the seller", "contact us", "call for price", "ask for price",
    "price on request", "price upon request", "on request", "upon request", "request a quote",
    "price on application", "hubungi penjual", "hubungi kami", "tanya harga", "consultar",
    "sur demande", "auf anfrage", "su richiesta", "sob consulta", "na zapytanie", "op aanvraag",
    "lien he", "お問い合わせ", "문의", "询价", "по запросу",
)  # fmt: skip
_ON_REQUEST_WORDS = re.compile(r"\b(poa|p\.o\.a\.?)(?!\w)")
_FREE_WORDS = re.compile(
    r"\b(free|gratis|gratuit|gratuite|gratuito|gratuita|kostenlos|umsonst|mien phi|ucretsiz|bezplatne|"
    r"бесплатно)\b|無料|免费")
# A price right after one of these is the old price or a saving ("was $20 now $15", "save $5");
# one after the second kind is the current one ("de R$ 1.299 por R$ 999").
_OLD_PRICE = re.compile(
    r"\b(?:was|save|you save|sie sparen|rabatt|sconto|descuento|remise|korting|zlava|statt|uvp|rrp|msrp|mrp|"
    r"reg\.?|regular(?: price)?|list price|instead of|au lieu de|antes|vorher|before|originally|avant|prima|"
    r"zuvor|normalpreis)\s*:?\s*$")
_NOW_PRICE = re.compile(r"\b(?:now|only|por|jetzt|nur|ahora|maintenant|agora|sale|deal|special price)\s*:?\s*$")
_RANGE = re.compile(r"\s*(?:-|–|—|~|to|bis|a|à|až|до)\s*")
# Counting words after a number: "Rp 15rb", "Rp 1,5 jt", "$15K", "₹1.2 crore", "1,5万円".
_MULTIPLIERS = {
    "k": 1_000, "rb": 1_000, "ribu": 1_000, "mil": 1_000, "nghin": 1_000, "ngan": 1_000, "万": 10_000,
    "lakh": 100_000, "lac": 100_000, "jt": 1_000_000, "juta": 1_000_000, "tr": 1_000_000,
    "trieu": 1_000_000, "crore": 10_000_000, "cr": 10_000_000,
}  # fmt: skip
_MULTIPLIER = re.compile(r" ?(万|[^\W\d_]+(?!\w))")
_UNIT_AFTER = re.compile(r"\s*(?:ml|cl|l|g|kg|mg|cm|mm|m|oz|lb|lbs|pcs|pc|st|stk|x)\b")

# -- numbers --------------------------------------------------------------------------------

# A number as shops write it: digits in groups ("." "," "'" "’" "٬" or a space before exactly
# three digits), then a decimal part (its separator maybe followed by a stray space before two or
# three digits) or a whole-unit suffix (",-", ".–", ":-", "/-"); or a bare fraction (".75").
_NUMBER = re.compile(
    r"""
    (?P<int>\d+(?:(?:[.,'\u2019\u066c]\d{2,3}|\ \d{3})(?!\d))*)
    (?:
        (?P<frac>\u066b\d+|[.,]\d+|[.,]\ \d{2,3}(?!\d))
      | (?P<whole>[.,:]\ ?[-\u2013\u2014]{1,2}(?![-\u2013\u2014\d])|/-)
    )?
    | (?<![\w.,])(?P<lead>[.,]\d+)
    """,
    re.VERBOSE,
)
_GROUPING_ONLY = "'\u2019\u066c "
"""Characters that only ever group digits (the apostrophes, the Arabic thousands mark, spaces)."""


def _normalise(text: str) -> str:
    """One space for any run of spaces (NBSP, narrow NBSP …), ASCII digits (Arabic-Indic,
    Devanagari, full-width …), no direction marks."""
    if text.isascii():
        return " ".join(text.split())
    cleaned = "".join(plain_words(ch) for ch in unicodedata.normalize("NFKC", text))
    return " ".join(cleaned.replace("\u2212", "-").split())


def plain_words(ch: str) -> str:
    if ch.isascii():
        return ch
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    return "" if unicodedata.category(ch) == "Cf" else ch


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass
class _Candidate:
    """One number in the text and the currency token written next to it (if any)."""

    match: re.Match[str]
    start: int
    end: int
    token: str | None
    cents: str | None = None
    """Minor units written after the currency symbol ("35€ 99")."""
    factor: int = 1
    """A counting word after the number ("15rb" is 15 000)."""
    words_end: int = 0
    """Where the words before the number (and its currency) end: "was", "now", "UVP" …"""
    old: bool = False
    now: bool = False

    def read_markers(self, text: str) -> None:
        words = _fold(text[max(0, self.words_end - 24) : self.words_end]).rstrip()
        self.old = _OLD_PRICE.search(words) is not None
        self.now = _NOW_PRICE.search(words) is not None

    @property
    def rank(self) -> tuple[bool, bool, bool]:
        """Prefer a number not marked as the old price or a saving, then one with a currency, then
        one marked as the current price; among equals the first one written."""
        return (not self.old, self.token is not None, self.now)


def _candidates(text: str, default_currency: str) -> list[_Candidate]:
    found: list[_Candidate] = []
    consumed = 0
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        if start < consumed or text.startswith(("%", " %"), end):
            continue  # the cents of "35€ 99", or a discount
        factor = 1
        if match.group("whole") is None and (counted := _MULTIPLIER.match(text, end)):
            factor = _MULTIPLIERS.get(_fold(counted.group(1)), 1)
            if factor > 1:
                end = counted.end()
        prefix = text[:start].rstrip(" :")
        token = token_ending_at(prefix, len(prefix))
        if token is None and prefix.endswith("."):
            token = token_ending_at(prefix, len(prefix) - 1)  # "Rp. 10.000"
        cents = None
        words_end = start
        if token is not None:
            words_end = prefix.rfind(token)
        else:
            after = end + 1 if text.startswith(" ", end) else end
            token = token_starting_at(text, after)
            if token is not None and match.group("int") and match.group("frac") is None \
                    and match.group("whole") is None:
                cents, consumed = _cents_after(text, after + len(token), iso_for_token(token, default_currency))
        found.append(_Candidate(match, start, end, token, cents, factor, words_end))
    merged = _merge_ranges(text, found)
    if len(merged) > 1:  # markers only matter to choose between numbers
        for candidate in merged:
            candidate.read_markers(text)
    return merged


def _cents_after(text: str, index: int, currency: str) -> tuple[str | None, int]:
    """Minor units written after the currency symbol ("35€ 99", "35€99"), and where they end."""
    digits = currency_decimals(currency)
    start = index + 1 if text.startswith(" ", index) else index
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    if digits == 0 or end - start != digits or _UNIT_AFTER.match(text, end) or re.match(r"[.,]\d", text[end:]):
        return None, 0
    following = end + 1 if text.startswith(" ", end) else end
    if token_starting_at(text, following) is not None:
        return None, 0  # "36 € 78 €" is two prices, not 36.78
    return text[start:end], end


def _merge_ranges(text: str, found: list[_Candidate]) -> list[_Candidate]:
    """"$10 - $20", "10–20 €", "12,99 € bis 19,99 €": keep the lower bound, with the range's currency."""
    merged: list[_Candidate] = []
    skip_next = False
    for i, candidate in enumerate(found):
        if skip_next:
            skip_next = False
            continue
        if i + 1 < len(found) and not candidate.cents:
            following = found[i + 1]
            gap = text[candidate.end : following.start].strip()
            if candidate.token is not None and gap.startswith(candidate.token):
                gap = gap[len(candidate.token) :].strip()
            if following.token is not None and gap.endswith(following.token):
                gap = gap[: -len(following.token)].strip()
            if gap and _RANGE.fullmatch(gap):
                if candidate.token is None:
                    candidate.token = following.token
                skip_next = True
        merged.append(candidate)
    return merged


def _is_negative(text: str, candidate: _Candidate) -> bool:
    prefix = text[: candidate.start].rstrip(" ")
    token = token_ending_at(prefix, len(prefix))
    if token is not None:
        prefix = prefix[: -len(token)].rstrip(" ")
    return prefix.endswith("-")


# -- reading one number ---------------------------------------------------------------------


def _split_number(candidate: _Candidate, vendor_separator: str, minor: int) -> tuple[str, str]:
    """(whole digits, decimal digits) of the candidate, deciding which separator is the decimal."""
    match = candidate.match
    if match.group("lead") is not None:
        return "0", match.group("lead")[1:]
    groups, frac = match.group("int"), match.group("frac")
    if match.group("whole") is not None or candidate.cents is not None:
        return _digits(groups), candidate.cents or ""
    if frac is not None and frac[0] == "\u066b":  # the Arabic decimal separator says so itself
        return _digits(groups), frac[1:]
    number = groups + (frac or "").replace(" ", "")
    other_grouping = any(ch in number for ch in _GROUPING_ONLY)
    number = "".join(ch for ch in number if ch not in _GROUPING_ONLY)
    positions = [i for i, ch in enumerate(number) if ch in ".,"]
    if not positions:
        return number, ""
    if _is_decimal(number, positions, other_grouping, vendor_separator, minor):
        return _digits(number[: positions[-1]]), number[positions[-1] + 1 :]
    return _digits(number), ""


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _is_decimal(number: str, positions: list[int], other_grouping: bool, vendor_separator: str, minor: int) -> bool:
    """Whether the last separator in ``number`` (grouping characters removed) is the decimal one."""
    separator = number[positions[-1]]
    digits_after = len(number) - positions[-1] - 1
    if len({number[i] for i in positions}) == 2:
        return True  # "1.234,56" / "1,234.56": the last one is the decimal
    if len(positions) > 1 or other_grouping:
        # Grouped digits ("1.234.567", Indian "1,23,456", "1'234.50"): the last separator is the
        # decimal one only when what follows it cannot be a group ("1.234.56" is 1234.56).
        return digits_after != 3 or other_grouping
    if digits_after != 3:
        return True  # "12,99", "12,5", "12.9999": three digits after is the only ambiguous case
    whole = number[: positions[0]]
    if whole == "0" or len(whole) > 3:
        return True  # nobody writes "0,500" or "1234,567" meaning thousands
    if minor == 0:
        return False  # "12.500 ₫": no decimals in this currency
    return separator == vendor_separator


@lru_cache(maxsize=8192)
def parse_price(
    text: str,
    *,
    default_currency: str,
    decimal_separator: Literal[".", ","],
) -> ParsedPrice:
    """Parse one price text as a shop writes it.

    ``default_currency`` (the vendor's ISO currency) is used when the text has no currency or
    an ambiguous one ("$" on a Mexican shop is MXN); ``decimal_separator`` is how the vendor
    writes decimals, used whenever the text itself does not settle it. Returns a
    ``ParsedPrice`` whose ``kind`` is ``priced``, ``free`` (words such as Free/Gratis, or zero;
    amount 0) or ``on_request`` (Contact seller, Hubungi penjual, POA …; amount ``None``).
    Raises ``PriceParseError`` for anything else.

    Cached: a shop repeats its prices across pages, queries and days (a listing seen by several
    queries, the same price tomorrow), and the result is immutable.
    """
    original = text
    normalised = _normalise(text)
    if not normalised:
        raise PriceParseError(original, "empty")
    folded = _fold(normalised)

    candidates = _candidates(normalised, default_currency)
    chosen = max(candidates, key=lambda c: c.rank) if candidates else None  # max keeps the first of ties
    token = chosen.token if chosen is not None else token_anywhere(normalised)
    currency = iso_for_token(token, default_currency) if token else default_currency
    minor = currency_decimals(currency)

    # "Call for price: 555-1234" asks the seller; "Contact us for bulk orders. $12.99" is a price.
    if (chosen is None or chosen.token is None) and (
            any(phrase in folded for phrase in _ON_REQUEST_PHRASES) or _ON_REQUEST_WORDS.search(folded)):
        return ParsedPrice(None, currency, PriceKind.ON_REQUEST, original)
    # "Free" with nothing else, or with only a crossed-out price ("FREE (reg. $9.99)")
    if _FREE_WORDS.search(folded):
        if chosen is not None and len(candidates) == 1:
            chosen.read_markers(normalised)
        if chosen is None or chosen.old:
            return ParsedPrice(Decimal(0).scaleb(-minor), currency, PriceKind.FREE, original)
    if chosen is None:
        raise PriceParseError(original, "no amount found")
    if _is_negative(normalised, chosen):
        raise PriceParseError(original, "negative amount")
    if chosen.end - chosen.start > 32:
        raise PriceParseError(original, "amount too long")

    whole, decimals = _split_number(chosen, decimal_separator, minor)
    amount = Decimal(f"{whole or '0'}.{decimals or '0'}") * chosen.factor
    if amount > MAX_AMOUNT:
        raise PriceParseError(original, "amount implausibly large")
    if amount == 0:
        return ParsedPrice(Decimal(0).scaleb(-minor), currency, PriceKind.FREE, original)
    # The currency's decimals, or more when the text writes more ($3.999 a gallon), up to what
    # the warehouse stores.
    scale = min(MONEY_SCALE, max(minor, len(decimals) if chosen.factor == 1 else 0))
    quantised = amount.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if quantised == 0:
        raise PriceParseError(original, "amount rounds to zero")
    return ParsedPrice(quantised, currency, PriceKind.PRICED, original)
