"""Amounts given in a currency's minor unit (cents, öre, fils): the exponent comes from ISO 4217.

JSON APIs often send ``{"amount": 129900, "currency": "SEK"}``, where 129900 counts öre: the
amount is 1299.00 kronor. How many decimals a currency has is ISO 4217's "minor unit" (2 for SEK,
0 for JPY and ISK, 3 for KWD), read from the ``iso4217`` package, which ships the maintenance
agency's own list, rather than from a hand-written table; a vendor file may also declare it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from iso4217 import Currency


@lru_cache(maxsize=512)
def minor_unit_exponent(currency: str) -> int | None:
    """Decimals of ``currency``'s minor unit per ISO 4217, or ``None`` (unknown, or no minor unit)."""
    try:
        return Currency(currency.upper()).exponent
    except ValueError:
        return None


def from_minor_units(units: int, exponent: int) -> Decimal:
    """``units`` of the minor unit as an amount: ``from_minor_units(129900, 2) == Decimal("1299.00")``."""
    return Decimal(units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def quantize_amount(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded to the currency's minor unit, with at least two places (as prices are stored)."""
    places = max(2, minor_unit_exponent(currency) or 0)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
