"""Checks against external standards used by vendor files: ISO codes, IANA zones and cron (croniter).

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

from croniter import croniter

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

# (name, low, high) of the five standard fields, for messages.
_CRON_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _field_problem(parts: list[str]) -> str:
    """Which field croniter rejects, said the way a person would: each field is tried on its own."""
    for index, (name, low, high) in enumerate(_CRON_FIELDS):
        alone = " ".join(part if i == index else "*" for i, part in enumerate(parts))
        if not croniter.is_valid(alone):
            token = parts[index]
            if token.isdigit() and not low <= int(token) <= high:
                return f"{name} {int(token)} out of range {low}-{high}"
            return f"{name} {token!r} is not valid ({low}-{high}, with *, lists, ranges, steps and names)"
    return "the fields do not combine into a valid schedule"


def _overlong_step(parts: list[str]) -> str | None:
    """A step longer than its range (``*/90`` minutes): cron does not carry it over into the next
    hour, so it would run hourly, not every 90 minutes (Dagster builds it with a warning)."""
    for part, (name, _low, high) in zip(parts, _CRON_FIELDS, strict=True):
        for piece in part.split(","):
            base, slash, step = piece.partition("/")
            if not slash or not step.isdigit():
                continue
            end = base.partition("-")[2]
            top = int(end) if end.isdigit() else high
            if int(step) > top:
                return (f"{name} step {step} is longer than its range (up to {top}): it would not run every "
                        f"{step}; list the times instead")
    return None


def check_cron(expression: str) -> str:
    """Validate a five-field cron expression (or a macro such as ``@daily``); return it normalised.

    Whatever passes here also builds as a Dagster schedule: the expression is parsed with
    croniter, the parser Dagster uses, under Dagster's own rules (exactly five fields: minute,
    hour, day of month, month, day of week; no seconds or years; never the 30th or 31st of
    February). On top of those, what Dagster would build but not run as written is refused: a
    schedule that can never run (``0 0 31 4 *``: April has 30 days, Dagster would wait forever)
    and a step longer than its range (``*/90`` minutes runs hourly; Dagster only warns).
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
    if not croniter.is_valid(expr):
        raise ValueError(f"invalid cron expression {expression!r}: {_field_problem(parts)}")
    overlong = _overlong_step(parts)
    if overlong:
        raise ValueError(f"invalid cron expression {expression!r}: {overlong}")
    fields = croniter.expand(expr)[0]
    if len(fields) != 5:
        raise ValueError(f"invalid cron expression {expression!r}: expected 5 fields, not {len(fields)}")
    days, months, weekdays = fields[2], fields[3], fields[4]
    if months == [2] and len(days) == 1 and days[0] in (30, 31):  # Dagster refuses these outright
        raise ValueError(f"invalid cron expression {expression!r}: February never has a day {days[0]}")
    if weekdays == ["*"] and days != ["*"] and all(isinstance(d, int) for d in days):
        candidates = range(1, 13) if months == ["*"] else [m for m in months if isinstance(m, int)]
        if candidates and not any(day <= _LONGEST_MONTH[m - 1] for m in candidates for day in days):
            shown = ", ".join(_MONTH_NAMES[m - 1] for m in candidates)
            raise ValueError(f"invalid cron expression {expression!r}: never runs (no day "
                             f"{', '.join(map(str, days))} in {shown})")
    return expr
