"""Checks against external standards used by vendor files: ISO codes, IANA zones and cron.

These live apart from the vendor models so that the models read as a description of the
format, and so that other modules (price parsing, per-item currency overrides) can reuse the
same code lists. The lists are embedded rather than pulled from a package (pycountry, babel)
because they change rarely, and a vendor file must validate the same way on every machine.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from functools import lru_cache

# ISO 4217 codes of currencies in circulation (funds, precious metals and test codes left out:
# no shop prices a phone in XAU). Withdrawn codes are absent on purpose.
_ISO_4217_TEXT = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF
    SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
    TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
"""
ISO_4217_CURRENCIES: frozenset[str] = frozenset(_ISO_4217_TEXT.split())

# ISO 3166-1 alpha-2 country codes (all 249 officially assigned).
_ISO_3166_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
"""
ISO_3166_COUNTRIES: frozenset[str] = frozenset(_ISO_3166_TEXT.split())


def check_currency(code: str) -> str:
    """Return ``code`` upper-cased if it is an ISO 4217 currency, else raise ``ValueError``."""
    upper = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", upper):
        raise ValueError(f"invalid currency code {code!r}: expected 3 letters (ISO 4217), e.g. 'USD'")
    if upper not in ISO_4217_CURRENCIES:
        raise ValueError(f"unknown currency code {code!r} (not an ISO 4217 currency)")
    return upper


def check_country(code: str) -> str:
    """Return ``code`` upper-cased if it is an ISO 3166-1 alpha-2 country, else raise ``ValueError``."""
    upper = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", upper):
        raise ValueError(f"invalid country code {code!r}: expected 2 letters (ISO 3166-1 alpha-2), e.g. 'ID'")
    if upper not in ISO_3166_COUNTRIES:
        raise ValueError(f"unknown country code {code!r} (not an ISO 3166-1 alpha-2 code)")
    return upper


@lru_cache(maxsize=1)
def _all_timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def check_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone known to this system, else raise ``ValueError``.

    The error suggests the closest known names because typos ("Asia/Jakata") are the usual cause.
    """
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, _all_timezones(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; use an IANA name like 'Asia/Jakarta'"
        raise ValueError(f"unknown timezone {name!r}{hint}") from None
    return name


# -- cron -----------------------------------------------------------------------------------

CRON_MACROS = frozenset({"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"})

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_WEEKDAYS = {d: i for i, d in enumerate(_WEEKDAY_NAMES)}

# (name, low, high, names) for the five standard fields.
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
)


def _cron_value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if token.lower() in names:
        return names[token.lower()]
    if not token.isdigit():
        raise ValueError(f"{name} {token!r} is not a number")
    value = int(token)
    if not low <= value <= high:
        raise ValueError(f"{name} {value} out of range {low}-{high}")
    return value


def _check_cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> None:
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"{name} step {step!r} must be a positive number")
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        first = _cron_value(start, name, low, high, names)
        if dash:
            last = _cron_value(end, name, low, high, names)
            if last < first:
                raise ValueError(f"{name} range {base!r} runs backwards")


def check_cron(expression: str) -> str:
    """Validate a five-field cron expression (or a macro such as ``@daily``); return it stripped.

    This is the subset Dagster schedules accept: minute, hour, day of month, month, day of week,
    with ``*``, lists, ranges, steps and month/weekday names. Seconds or years are rejected.
    """
    expr = " ".join(expression.split())
    if expr.lower() in CRON_MACROS:
        return expr.lower()
    parts = expr.split(" ")
    if len(parts) != 5:
        raise ValueError(
            f"invalid cron expression {expression!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week), e.g. '0 6 * * *'"
        )
    for text, (name, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        try:
            _check_cron_field(text, name, low, high, names)
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
    return expr
