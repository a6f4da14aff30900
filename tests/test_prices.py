"""Price texts as shops write them, parsed into Decimal + ISO currency + kind."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from pipelines.parsing.price_text import (
    MAX_AMOUNT,
    ParsedPrice,
    PriceKind,
    PriceParseError,
    currency_from_text,
    parse_price,
)

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"

# Keep Hypothesis' caches out of the work tree (it would create ./.hypothesis otherwise).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "market-pulse-hypothesis")


def parse(text: str, currency: str = "USD", separator: str = ".") -> ParsedPrice:
    return parse_price(text, default_currency=currency, decimal_separator=separator)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "currency", "separator", "amount", "iso"),
    [
        ("Rp 1.234.567", "IDR", ",", "1234567.00", "IDR"),
        ("Rp1.234.567,00", "IDR", ",", "1234567.00", "IDR"),
        ("Rp 8.499.000", "IDR", ",", "8499000.00", "IDR"),
        ("Rp. 10.000", "IDR", ",", "10000.00", "IDR"),
        ("Q1,234.50", "GTQ", ".", "1234.50", "GTQ"),
        ("Q5,499.00", "GTQ", ".", "5499.00", "GTQ"),
        ("1.234,56 €", "EUR", ",", "1234.56", "EUR"),
        ("749,00 €", "EUR", ",", "749.00", "EUR"),
        ("€ 1.234,56", "EUR", ",", "1234.56", "EUR"),
        ("$1,234.56", "USD", ".", "1234.56", "USD"),
        ("$ 12", "USD", ".", "12.00", "USD"),
        (f"1{NBSP}234,56{NBSP}€", "EUR", ",", "1234.56", "EUR"),
        (f"1{NNBSP}234,56 €", "EUR", ",", "1234.56", "EUR"),
        (f"1{THIN}234,56 €", "EUR", ",", "1234.56", "EUR"),
        ("USD 1,234.56", "USD", ".", "1234.56", "USD"),
        ("1.234,56 EUR", "EUR", ",", "1234.56", "EUR"),
        ("Now only $12.99!", "USD", ".", "12.99", "USD"),
        ("12 items for $5", "USD", ".", "5.00", "USD"),  # the number next to the currency wins
        ("20% off: 1.234,56 €", "EUR", ",", "1234.56", "EUR"),  # discounts are not prices
        ("CHF 1'234.50", "CHF", ".", "1234.50", "CHF"),
        ("£12", "USD", ".", "12.00", "GBP"),
        ("¥1,200", "CNY", ".", "1200.00", "CNY"),
        ("¥1,200", "USD", ".", "1200.00", "JPY"),
        ("R$ 1.299,90", "BRL", ",", "1299.90", "BRL"),
        ("US$ 99", "MXN", ".", "99.00", "USD"),
        ("1234.5", "USD", ".", "1234.50", "USD"),
        ("$0.995", "USD", ".", "1.00", "USD"),  # half-up to cents
    ],
)
def test_formats(text: str, currency: str, separator: str, amount: str, iso: str) -> None:
    price = parse(text, currency, separator)
    assert price == ParsedPrice(Decimal(amount), iso, PriceKind.PRICED, text)
    assert price.amount is not None and price.amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "separator", "amount"),
    [
        ("1.234", ",", "1234.00"),  # a thousands group where "," is the decimal separator
        ("1,234", ".", "1234.00"),
        ("1.234", ".", "1.23"),  # ambiguous: the vendor's separator decides
        ("12,99", ".", "12.99"),  # two digits after: can only be decimals, whatever the vendor says
        ("12.99", ",", "12.99"),
        ("1.234,56", ".", "1234.56"),  # both present: the last one is the decimal separator
        ("1,234.56", ",", "1234.56"),
        ("1.234.567", ".", "1234567.00"),  # used twice: groups thousands
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


@pytest.mark.parametrize("text", ["Free", "FREE", "Gratis", "gratuit", "Gratuito", "Kostenlos", "0", "$0.00", "Rp 0"])
def test_free(text: str) -> None:
    price = parse(text, "USD", ".")
    assert (price.amount, price.kind) == (Decimal("0.00"), PriceKind.FREE)


@pytest.mark.parametrize(
    "text",
    ["Contact seller", "Hubungi penjual", "Consultar", "Precio a consultar", "Call for price", "Price on request"],
)
def test_on_request(text: str) -> None:
    price = parse(text, "IDR", ",")
    assert (price.amount, price.kind, price.currency) == (None, PriceKind.ON_REQUEST, "IDR")


def test_free_shipping_with_a_price_is_priced() -> None:
    assert parse("Free shipping! $12", "USD").kind == PriceKind.PRICED


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "no amount found"),
        ("Rp abc", "no amount found"),
        ("", "empty"),
        ("   ", "empty"),
        ("-$5", "negative amount"),
        ("$ -5.00", "negative amount"),
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
    assert currency_from_text("dollars", default_currency="USD") is None


# -- round trips: format a Decimal the way each locale does, parse it back -------------------


def _group(whole: int, separator: str) -> str:
    return f"{whole:,}".replace(",", separator)


def _en(amount: Decimal) -> tuple[str, str]:  # 1,234.56
    whole, cents = divmod(int(amount * 100), 100)
    return f"{_group(whole, ',')}.{cents:02d}", "."


def _de(amount: Decimal) -> tuple[str, str]:  # 1.234,56
    whole, cents = divmod(int(amount * 100), 100)
    return f"{_group(whole, '.')},{cents:02d}", ","


def _fr(space: str):  # 1 234,56 with some kind of space
    def fmt(amount: Decimal) -> tuple[str, str]:
        whole, cents = divmod(int(amount * 100), 100)
        return f"{_group(whole, space)},{cents:02d}", ","

    return fmt


def _ch(amount: Decimal) -> tuple[str, str]:  # 1'234.56
    whole, cents = divmod(int(amount * 100), 100)
    return f"{_group(whole, chr(39))}.{cents:02d}", "."


def _plain_comma(amount: Decimal) -> tuple[str, str]:  # 1234,56
    return f"{amount:.2f}".replace(".", ","), ","


STYLES = [_en, _de, _fr(" "), _fr(NBSP), _fr(NNBSP), _fr(THIN), _ch, _plain_comma]
DECORATIONS = [
    ("{}", "USD"),
    ("${}", "USD"),
    ("$ {}", "USD"),
    ("US$ {}", "USD"),
    ("USD {}", "USD"),
    ("{} €", "EUR"),
    ("€{}", "EUR"),
    (f"{{}}{NBSP}€", "EUR"),
    ("Q{}", "GTQ"),
    ("Rp {}", "IDR"),
    ("{} EUR", "EUR"),
    ("Now only {}!", "USD"),
    ("£{} incl. VAT", "GBP"),
]

cents = st.integers(min_value=1, max_value=99_999_999_999).map(lambda c: Decimal(c).scaleb(-2))


@settings(max_examples=300, deadline=None, database=None)
@given(amount=cents, style=st.sampled_from(STYLES), decoration=st.sampled_from(DECORATIONS))
def test_round_trip_locale_styles(amount: Decimal, style, decoration: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    number, separator = style(amount)
    template, iso = decoration
    price = parse_price(template.format(number), default_currency="USD", decimal_separator=separator)  # type: ignore[arg-type]
    assert (price.amount, price.currency, price.kind) == (amount, iso, PriceKind.PRICED)


@settings(max_examples=200, deadline=None, database=None)
@given(whole=st.integers(min_value=1, max_value=99_999_999_999))
def test_round_trip_rupiah_without_decimals(whole: int) -> None:
    text = "Rp " + _group(whole, ".")
    assert parse_price(text, default_currency="IDR", decimal_separator=",").amount == Decimal(whole)


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
        assert price.amount.as_tuple().exponent == -2
