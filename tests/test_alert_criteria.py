"""Saved-search criteria, rules and notification settings: validation and the CLI rule shorthand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from pipelines.alerts.criteria import (
    CriteriaError,
    NotificationSettings,
    SearchCriteria,
    describe_rule,
    format_validation_error,
    parse_rule,
)
from pipelines.alerts.targets import InvalidTarget, mask_url, redact_text, validate_url


def _error(**data) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        SearchCriteria.model_validate(data)
    return format_validation_error(info.value)


def test_words_are_normalised_and_defaults_apply() -> None:
    c = SearchCriteria(all_words=["iPhone", "Pokémon 58/102", "iphone"], vendors=["Toko"], currency="idr")
    assert c.all_words == ["iphone", "pokemon 58 102"]
    assert c.vendors == ["toko"] and c.currency == "IDR"
    assert [r.kind for r in c.rules] == ["new_match"]
    again = SearchCriteria.model_validate(c.to_json())
    assert again == c


def test_clear_errors() -> None:
    assert "min_price (900) is greater than max_price (500)" in _error(all_words=["x"], min_price=900,
                                                                       max_price=500, currency="USD")
    assert "needs a currency" in _error(all_words=["x"], max_price=5)
    assert "at least one word" in _error(vendors=["toko"])
    assert "unknown currency" in _error(all_words=["x"], currency="XYZ")
    assert "none_words contradicts" in _error(all_words=["case"], none_words=["Case"])
    assert "each rule kind at most once" in _error(all_words=["x"], rules=[{"kind": "new_match"}] * 2)
    assert "price_drop needs min_percent or min_amount" in _error(all_words=["x"], rules=[{"kind": "price_drop"}])
    assert "rules.0.below_market.min_percent" in _error(all_words=["x"], rules=[{"kind": "below_market",
                                                                                  "min_percent": 150}])
    assert "has no letters or digits" in _error(all_words=["!!"])
    assert "Extra inputs" in _error(all_words=["x"], colour="red")


def test_rule_shorthand_round_trips() -> None:
    assert parse_rule("new") == {"kind": "new_match"}
    assert parse_rule("drop:10%") == {"kind": "price_drop", "min_percent": Decimal(10)}
    assert parse_rule("drop:10%,50") == {"kind": "price_drop", "min_percent": Decimal(10), "min_amount": Decimal(50)}
    assert parse_rule("below-market:20%:n=8") == {"kind": "below_market", "min_percent": Decimal(20),
                                                  "min_sample_size": 8}
    c = SearchCriteria(all_words=["x"], rules=[parse_rule(t) for t in ("new", "drop:12.5%,50", "below_market:20%")])
    assert [describe_rule(r) for r in c.rules] == ["new", "drop:12.5%,50", "below-market:20%:n=5"]
    for bad, why in [("drop", "say how much"), ("below-market:n=3", "how far below"), ("sometimes", "unknown rule"),
                     ("drop:ten%", "not a number"), ("new:3", "no arguments")]:
        with pytest.raises(CriteriaError, match=why):
            parse_rule(bad)


SECRET = "hunter2secret"


def test_apprise_urls_validated_by_apprise_and_never_echoed() -> None:
    ok = NotificationSettings(urls=[f"json://bob:{SECRET}@127.0.0.1:9/hook", "mailtos://me:pw@example.com",
                                    "tgram://123456789:ABCdefGhIJKlmnOpq/987654", f"json://bob:{SECRET}@127.0.0.1:9/hook"])
    assert len(ok.urls) == 3  # duplicates dropped
    with pytest.raises(ValidationError) as info:
        NotificationSettings(urls=["json://127.0.0.1/ok", f"jsn://user:{SECRET}@host/x"])
    message = format_validation_error(info.value)
    assert message == "urls: entry 2: Apprise cannot use the URL jsn://*** (unknown scheme 'jsn')"
    assert SECRET not in message and SECRET not in str(info.value.errors(include_input=False))
    with pytest.raises(InvalidTarget, match="not an Apprise URL"):
        validate_url("hooks.example.com/x")
    with pytest.raises(ValidationError):
        NotificationSettings(urls=[])


@pytest.mark.parametrize(("url", "token"), [
    (f"json://bob:{SECRET}@127.0.0.1:8080/hook", SECRET),
    (f"jsons://hooks.example.com/services/{SECRET}1234", f"{SECRET}1234"),
    (f"mailtos://alerts:{SECRET}@smtp.example.com?to=a@example.com", SECRET),
    (f"slack://T1JJ3T3L2/A1BRTD4JD/{SECRET}XyZ123", f"{SECRET}XyZ123"),
    (f"tgram://123456789:{SECRET}AAbb/987654", f"{SECRET}AAbb"),
    (f"discord://4174216298/{SECRET}ZwO5U711o3dV", f"{SECRET}ZwO5U711o3dV"),
    (f"json://127.0.0.1:8080/hook?token={SECRET}", SECRET),
])
def test_masked_urls_hide_secrets(url: str, token: str) -> None:
    masked = mask_url(url)
    assert SECRET not in masked
    assert masked.split("://")[0] == url.split("://")[0]
    redacted = redact_text(f"error talking to {url}: refused (token {token})", [url])
    assert SECRET not in redacted and "error talking to" in redacted


def test_mask_keeps_harmless_parts() -> None:
    assert mask_url("json://127.0.0.1:8765/alerts-inbox") == "json://127.0.0.1:8765/alerts-inbox"
    assert mask_url("not a url") == "?://***"
