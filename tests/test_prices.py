"""Price texts as shops write them, parsed into Decimal + ISO currency + kind."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from pipelines.parsing.currencies import MONEY_SCALE, decimals, decimals_table
from pipelines.parsing.price_text import (
    MAX_AMOUNT,
    ParsedPrice,
    PriceKind,
    PriceParseError,
    currency_from_text,
    parse_price,
)
from pipelines.parsing.standards import ISO_4217_CURRENCIES
from tests.support.price_strings import ASK, BAD, CASES, FREE, HELD_OUT, NBSP, NNBSP, THIN, PriceCase

# Keep Hypothesis' caches out of the work tree (it would create ./.hypothesis otherwise).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "market-pulse-hypothesis")


def parse(text: str, currency: str = "USD", separator: str = ".") -> ParsedPrice:
    return parse_price(text, default_currency=currency, decimal_separator=separator)  # type: ignore[arg-type]


# -- the evaluation set: real-world formats ------------------------------------------------------


@pytest.mark.parametrize("case", [*CASES, *HELD_OUT], ids=lambda c: f"{c.text!r}/{c.currency}{c.separator}")
def test_real_world_price_texts(case: PriceCase) -> None:
    if case.expected == BAD:
        with pytest.raises(PriceParseError):
            parse(case.text, case.currency, case.separator)
        return
    price = parse(case.text, case.currency, case.separator)
    assert price.currency == case.iso
    if case.expected in (FREE, ASK):
        assert price.kind == case.expected
        assert price.amount == (None if case.expected == ASK else 0)
        return
    assert (price.kind, price.amount) == (PriceKind.PRICED, Decimal(case.expected))
    assert price.amount is not None and -price.amount.as_tuple().exponent >= decimals(case.iso)


def test_the_evaluation_set_covers_the_world() -> None:
    cases = [*CASES, *HELD_OUT]
    assert len(cases) >= 250
    assert {decimals(c.iso) for c in cases} == {0, 2, 3}
    assert len({c.iso for c in cases}) >= 50
    assert {c.expected for c in cases} >= {FREE, ASK, BAD}


@pytest.mark.parametrize(
    ("text", "currency", "separator", "amount", "iso"),
    [
        (".75 €", "EUR", ",", "0.75", "EUR"),
        ("$.75", "USD", ".", "0.75", "USD"),
        ("$119. 95", "USD", ".", "119.95", "USD"),
        ("36. 24", "USD", ".", "36.24", "USD"),
        ("36. 24", "EUR", ",", "36.24", "EUR"),
        ("118, 99 TL", "TRY", ",", "118.99", "TRY"),
        ("1.837, 32 €", "EUR", ",", "1837.32", "EUR"),
        ("35€ 99", "EUR", ",", "35.99", "EUR"),
        ("1.899,-", "EUR", ".", "1899.00", "EUR"),
        ("12.500 ₫", "USD", ".", "12500", "VND"),
        ("Rp 12.500", "USD", ".", "12500", "IDR"),
        ("₩12.800", "USD", ".", "12800", "KRW"),
        ("¥12.800", "JPY", ".", "12800", "JPY"),
        ("$12.990", "CLP", ".", "12990", "CLP"),
        ("12.990 kr", "ISK", ".", "12990", "ISK"),
        ("₲ 12.500", "PYG", ".", "12500", "PYG"),
        ("KWD 12.345", "KWD", ".", "12.345", "KWD"),
        ("BHD 0.125", "BHD", ".", "0.125", "BHD"),
        ("OMR 1,234.567", "OMR", ".", "1234.567", "OMR"),
        ("JOD 9.995", "JOD", ".", "9.995", "JOD"),
        ("TND 45,900", "TND", ",", "45.900", "TND"),
    ],
)
def test_reported_wrong_amounts(text: str, currency: str, separator: str, amount: str, iso: str) -> None:
    """Each of these was read wrong before: 100x too much, cents or thousands lost, or cut to cents."""
    price = parse(text, currency, separator)
    assert (price.amount, price.currency, price.kind) == (Decimal(amount), iso, PriceKind.PRICED)
    assert str(price.amount) == amount  # the currency's own number of decimals, nothing cut


@pytest.mark.parametrize(
    ("text", "currency", "separator", "amount", "iso"),
    [
        ("Rp 1.234.567", "IDR", ",", "1234567", "IDR"),
        ("Rp1.234.567,00", "IDR", ",", "1234567.00", "IDR"),
        ("Rp 8.499.000", "IDR", ",", "8499000", "IDR"),
        ("Q1,234.50", "GTQ", ".", "1234.50", "GTQ"),
        ("1.234,56 €", "EUR", ",", "1234.56", "EUR"),
        ("749,00 €", "EUR", ",", "749.00", "EUR"),
        ("$ 12", "USD", ".", "12.00", "USD"),
        ("Now only $12.99!", "USD", ".", "12.99", "USD"),
        ("12 items for $5", "USD", ".", "5.00", "USD"),  # the number next to the currency wins
        ("20% off: 1.234,56 €", "EUR", ",", "1234.56", "EUR"),  # discounts are not prices
        ("£12", "USD", ".", "12.00", "GBP"),
        ("¥1,200", "CNY", ".", "1200.00", "CNY"),
        ("¥1,200", "USD", ".", "1200", "JPY"),
        ("US$ 99", "MXN", ".", "99.00", "USD"),
        ("1234.5", "USD", ".", "1234.50", "USD"),
        ("$0.995", "USD", ".", "0.995", "USD"),  # written decimals are kept, up to MONEY_SCALE …
        ("$0.9995", "USD", ".", "1.000", "USD"),  # … and rounded half up beyond it
        ("KD 12.5", "KWD", ".", "12.500", "KWD"),
        ("Rp 1,5 jt", "IDR", ",", "1500000", "IDR"),
        ("$15K", "USD", ".", "15000.00", "USD"),
        ("1,5万円", "JPY", ",", "15000", "JPY"),
    ],
)
def test_amount_and_scale(text: str, currency: str, separator: str, amount: str, iso: str) -> None:
    price = parse(text, currency, separator)
    assert price == ParsedPrice(Decimal(amount), iso, PriceKind.PRICED, text)
    assert str(price.amount) == amount


@pytest.mark.parametrize(
    ("text", "separator", "amount"),
    [
        ("1.234", ",", "1234"),  # a thousands group where "," is the decimal separator
        ("1,234", ".", "1234"),
        ("1.234", ".", "1.234"),  # ambiguous: the vendor's separator decides
        ("1,234", ",", "1.234"),
        ("12,99", ".", "12.99"),  # two digits after: can only be decimals, whatever the vendor says
        ("12.99", ",", "12.99"),
        ("1.234,56", ".", "1234.56"),  # both present: the last one is the decimal separator
        ("1,234.56", ",", "1234.56"),
        ("1.234.567", ".", "1234567"),  # used twice: groups thousands
        ("1.234.56", ",", "1234.56"),  # … unless the last group cannot be one
        ("0,500", ".", "0.5"),  # nobody groups a leading zero
        ("1234,567", ".", "1234.567"),  # nor four leading digits
        ("1'234,567", ".", "1234.567"),  # an apostrophe already groups: the comma is the decimal
    ],
)
def test_decimal_separator_resolution(text: str, separator: str, amount: str) -> None:
    assert parse(text, "USD", separator).amount == Decimal(amount)


@pytest.mark.parametrize(
    ("default", "iso"),
    [("USD", "USD"), ("MXN", "MXN"), ("CAD", "CAD"), ("EUR", "USD"), ("IDR", "USD")],
)
def test_dollar_sign_means_the_vendor_dollar_or_usd(default: str, iso: str) -> None:
    assert parse("$ 12", default).currency == iso


def test_q_glued_to_letters_is_not_a_quetzal() -> None:
    assert parse("IQ 5", "USD").currency == "USD"


@pytest.mark.parametrize("text", ["Free", "FREE", "Gratis", "gratuit", "Gratuito", "Kostenlos", "0", "$0.00", "Rp 0",
                                  "FREE (reg. $9.99)", "Miễn phí", "無料"])
def test_free(text: str) -> None:
    price = parse(text, "USD", ".")
    assert (price.amount, price.kind) == (Decimal(0), PriceKind.FREE)


@pytest.mark.parametrize(
    "text",
    ["Contact seller", "Hubungi penjual", "Consultar", "Precio a consultar", "Call for price", "Price on request",
     "POA", "Liên hệ", "Preis auf Anfrage", "Call for price: 555-1234"],
)
def test_on_request(text: str) -> None:
    price = parse(text, "IDR", ",")
    assert (price.amount, price.kind, price.currency) == (None, PriceKind.ON_REQUEST, "IDR")


def test_free_shipping_or_a_contact_note_with_a_price_is_priced() -> None:
    assert parse("Free shipping! $12", "USD").kind == PriceKind.PRICED
    assert parse("Contact us for bulk orders. $12.99", "USD").amount == Decimal("12.99")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "no amount found"),
        ("Rp abc", "no amount found"),
        ("", "empty"),
        ("   ", "empty"),
        ("-$5", "negative amount"),
        ("$ -5.00", "negative amount"),
        ("−5 €", "negative amount"),
        ("Rp 1.234.567.890.123.456", "amount implausibly large"),
        ("$0.0001", "amount rounds to zero"),
    ],
)
def test_unparseable(text: str, reason: str) -> None:
    with pytest.raises(PriceParseError) as info:
        parse(text, "USD", ",")
    assert (info.value.text, info.value.reason) == (text, reason)
    assert str(info.value) == f"cannot parse {text!r} ({reason})"


def test_currency_from_text() -> None:
    assert currency_from_text("usd", default_currency="EUR") == "USD"
    assert currency_from_text(" Rp ", default_currency="USD") == "IDR"
    assert currency_from_text("$", default_currency="CAD") == "CAD"
    assert currency_from_text("KD", default_currency="USD") == "KWD"
    assert currency_from_text("dollars", default_currency="USD") is None


# -- minor units ------------------------------------------------------------------------------------


def test_decimals_come_from_cldr_and_fit_the_warehouse() -> None:
    table = decimals_table()
    assert set(table) == ISO_4217_CURRENCIES
    assert max(table.values()) <= MONEY_SCALE  # NUMERIC(16, 3) holds every currency in use
    assert {c for c, n in table.items() if n == 3} >= {"KWD", "BHD", "OMR", "JOD", "TND"}
    assert {c for c, n in table.items() if n == 0} >= {"IDR", "VND", "KRW", "JPY", "CLP", "ISK", "PYG"}
    assert table["USD"] == table["EUR"] == 2


# -- properties: any amount, written in any supported convention, parses back exactly ---------------

SYMBOLS = {
    "USD": ["$", "US$", "USD"], "EUR": ["€", "EUR"], "GBP": ["£", "GBP"], "CHF": ["CHF", "Fr."],
    "INR": ["₹", "Rs.", "INR"], "BRL": ["R$"], "SEK": ["kr", "SEK"], "PLN": ["zł"], "CZK": ["Kč"],
    "JPY": ["¥", "円", "JPY"], "KRW": ["₩", "원"], "VND": ["₫", "đ", "VND"], "IDR": ["Rp", "IDR"],
    "CLP": ["$", "CLP"], "ISK": ["kr", "ISK"], "PYG": ["₲", "Gs."], "HUF": ["Ft"],
    "KWD": ["KD", "KWD", "د.ك"], "BHD": ["BD", "BHD"], "OMR": ["OMR", "ر.ع."], "JOD": ["JD", "JOD"],
    "TND": ["DT", "TND"],
}  # fmt: skip
GROUPINGS = ["", ".", ",", "'", "\u2019", " ", NBSP, NNBSP, THIN, "lakh"]
WHOLE_SUFFIXES = ["-", "\u2013", "\u2014", "--"]
SPACES = ["", " ", NBSP]


def _group(digits: str, separator: str) -> str:
    if separator == "lakh":  # 12,34,567: threes at the end, then twos
        head, tail = digits[:-3], digits[-3:]
        pairs = [head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1]
        return ",".join([*pairs, tail]) if head else tail
    return f"{int(digits):,}".replace(",", separator)


@st.composite
def written_prices(draw: st.DrawFn) -> tuple[str, str, str, Decimal]:
    """(text, vendor currency, vendor decimal separator, the amount it says)."""
    currency = draw(st.sampled_from(sorted(SYMBOLS)))
    minor = decimals(currency)
    amount = Decimal(draw(st.integers(min_value=1, max_value=10**11 * 10**minor - 1))).scaleb(-minor)
    decimal = draw(st.sampled_from([".", ","]))
    grouping = draw(st.sampled_from([g for g in GROUPINGS if g != decimal and not (g == "lakh" and decimal == ",")]))
    whole, _, fraction = f"{amount:f}".partition(".")
    number = _group(whole, grouping)
    if fraction:
        number += decimal + fraction
    elif minor and draw(st.booleans()):
        ending = draw(st.sampled_from(["zeros", "suffix", "none"]))
        if ending == "zeros":
            number += decimal + "0" * minor  # 12,00
        elif ending == "suffix":
            number += draw(st.sampled_from([decimal, ":"])) + draw(st.sampled_from(WHOLE_SUFFIXES))  # 12,- 12.– 12:-
    symbol = draw(st.sampled_from(SYMBOLS[currency]))
    space = draw(st.sampled_from(SPACES))
    text = f"{symbol}{space}{number}" if draw(st.booleans()) else f"{number}{space}{symbol}"
    return text, currency, decimal, amount


@settings(max_examples=1500, deadline=None, database=None)
@given(written=written_prices())
def test_any_amount_in_any_convention_parses_back_exactly(written: tuple[str, str, str, Decimal]) -> None:
    text, currency, separator, amount = written
    price = parse(text, currency, separator)
    assert (price.amount, price.currency, price.kind) == (amount, currency, PriceKind.PRICED), text


@settings(max_examples=300, deadline=None, database=None)
@given(euros=st.integers(min_value=0, max_value=9_999_999), cents=st.integers(min_value=0, max_value=99),
       grouping=st.sampled_from(["", ".", " ", NBSP]), space=st.sampled_from(["", " "]))
def test_cents_after_the_euro_sign_parse_back(euros: int, cents: int, grouping: str, space: str) -> None:
    """French shops print 35€99 and 35€ 99 for 35,99 €."""
    text = f"{_group(str(euros), grouping)}€{space}{cents:02d}"
    amount = Decimal(euros * 100 + cents).scaleb(-2)
    if amount == 0:
        return
    assert parse(text, "EUR", ",").amount == amount, text


@settings(max_examples=500, deadline=None, database=None)
@given(text=st.text(max_size=40), separator=st.sampled_from([".", ","]))
def test_any_text_parses_or_raises_price_parse_error(text: str, separator: str) -> None:
    try:
        price = parse_price(text, default_currency="EUR", decimal_separator=separator)  # type: ignore[arg-type]
    except PriceParseError as exc:
        assert exc.text == text
        return
    assert len(price.currency) == 3
    if price.kind == PriceKind.ON_REQUEST:
        assert price.amount is None
    else:
        assert price.amount is not None and Decimal(0) <= price.amount <= MAX_AMOUNT
        assert -price.amount.as_tuple().exponent <= MONEY_SCALE
