"""Vendor files: the default ones load, and every kind of mistake gets a precise message."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.config.fields import FieldType
from pipelines.vendors.config.loading import load_vendor_file, load_vendors
from pipelines.vendors.config.vendor import AsOfNotSupportedError, VendorConfig, ensure_asof_supported, parse_vendor

VENDORS_DIR = Path(__file__).resolve().parents[1] / "vendors"
TOKO_TEXT = (VENDORS_DIR / "toko.yaml").read_text(encoding="utf-8")


# -- the default vendor files ---------------------------------------------------------------


def test_default_vendor_files_load_sorted_by_name() -> None:
    vendors = load_vendors(VENDORS_DIR)
    assert [v.name for v in vendors] == ["cardvault", "chapin", "fynda", "mercado", "toko"]
    assert all(v.base_url.startswith("http://127.0.0.1:8765/") for v in vendors)
    assert all(v.accepts_asof and v.enabled for v in vendors)


def test_default_vendor_files_describe_the_demo_shops() -> None:
    vendors = {v.name: v for v in load_vendors(VENDORS_DIR)}
    toko, chapin, mercado, cardvault = (vendors[n] for n in ("toko", "chapin", "mercado", "cardvault"))

    assert (toko.currency, toko.decimal_separator, toko.country) == ("IDR", ",", "ID")
    assert toko.pagination.kind == "page_number" and toko.pagination.start == 1
    assert toko.extract.format == "html" and toko.html_engine == "lexbor"

    assert (chapin.currency, chapin.decimal_separator) == ("GTQ", ".")
    assert chapin.pagination.kind == "cursor" and chapin.extract.format == "json"
    assert chapin.extract.fields.product_code.json_path == "gtin"

    assert (mercado.currency, mercado.decimal_separator) == ("EUR", ",")
    assert mercado.fetch.mode == "browser" and mercado.fetch.wait_for == '#app[data-ready="1"]'
    assert mercado.pagination.kind == "next_link"
    assert mercado.extract.fields.product_code.attribute == ["data-ean"]

    assert (cardvault.currency, cardvault.timezone) == ("USD", "America/Chicago")
    assert cardvault.extract.fields.product_code.css == "td.cardno"
    assert cardvault.extract.fields.images.attribute == ["data-src", "src"]  # lazy images first


def test_tracked_queries_match_the_spec() -> None:
    vendors = {v.name: v for v in load_vendors(VENDORS_DIR)}
    assert vendors["toko"].queries == ["iphone", "samsung galaxy", "playstation"]
    assert vendors["chapin"].queries == ["iphone", "samsung galaxy", "nintendo switch"]
    assert vendors["mercado"].queries == ["iphone", "playstation", "canon"]
    assert vendors["cardvault"].queries == ["pikachu", "charizard", "base set"]
    assert vendors["fynda"].queries == ["iphone", "playstation", "canon"]


def test_field_types_default_from_the_field_name() -> None:
    fields = load_vendor_file(VENDORS_DIR / "toko.yaml").extract.fields
    assert fields.title.type == FieldType.TEXT
    assert fields.external_id.type == FieldType.ATTRIBUTE  # has `attribute:`, so not text
    assert fields.price.type == FieldType.PRICE
    assert fields.url.type == FieldType.URL and fields.url.attribute == ["href"]
    assert fields.sold.type == FieldType.FLAG
    assert fields.attributes.type == FieldType.ATTRIBUTES


def test_search_url_is_relative_to_base_url_and_base_url_is_overridable() -> None:
    toko = load_vendor_file(VENDORS_DIR / "toko.yaml")
    assert toko.search_url_template == "http://127.0.0.1:8765/toko/search?q={query}&page={page}&asof={asof}"
    moved = toko.with_base_url("http://demo.internal:9000/toko/")
    assert moved.search_url_template == "http://demo.internal:9000/toko/search?q={query}&page={page}&asof={asof}"
    assert moved.extract == toko.extract
    with pytest.raises(VendorConfigError, match=r"base_url: must be an absolute http\(s\) URL"):
        toko.with_base_url("demo.internal:9000")


def test_vendor_config_is_immutable() -> None:
    toko = load_vendor_file(VENDORS_DIR / "toko.yaml")
    with pytest.raises(ValueError, match="frozen"):
        toko.name = "other"  # type: ignore[misc]


# -- as-of (history) ------------------------------------------------------------------------


def _live(vendor: VendorConfig) -> VendorConfig:
    data = vendor.model_dump(by_alias=True, exclude_unset=True)
    data["history"] = "live"
    data["search"]["url"] = "/search?q={query}&page={page}"
    return VendorConfig.model_validate(data)


def test_past_day_scrape_of_live_only_vendor_is_refused() -> None:
    live = _live(load_vendor_file(VENDORS_DIR / "toko.yaml"))
    today = dt.date(2026, 11, 2)
    ensure_asof_supported(live, None, today=today)
    ensure_asof_supported(live, today, today=today)
    with pytest.raises(AsOfNotSupportedError, match="history is live"):
        ensure_asof_supported(live, dt.date(2026, 11, 1), today=today)


def test_asof_vendor_accepts_past_days_but_not_future_ones() -> None:
    toko = load_vendor_file(VENDORS_DIR / "toko.yaml")
    today = dt.date(2026, 11, 2)
    ensure_asof_supported(toko, dt.date(2025, 1, 1), today=today)
    with pytest.raises(AsOfNotSupportedError, match="future"):
        ensure_asof_supported(toko, dt.date(2026, 11, 3), today=today)


# -- bad files: one test per kind of mistake ------------------------------------------------


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in a temp dir so messages show the short ``vendors/x.yaml`` path users see."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vendors").mkdir()
    return tmp_path


def _load_error(text: str, name: str = "x.yaml") -> str:
    path = Path("vendors") / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VendorConfigError) as info:
        load_vendor_file(path)
    return str(info.value)


def _edit(old: str, new: str) -> str:
    assert old in TOKO_TEXT, old
    return TOKO_TEXT.replace(old, new, 1)


@pytest.mark.usefixtures("in_tmp")
class TestBadFiles:
    def test_missing_selector(self) -> None:
        message = _load_error(_edit("price: {css: span.price}", "price: {type: price}"))
        assert message == (
            "vendors/x.yaml: extract.fields.price.selector: field required (give one of css, xpath, embedded, json)"
        )

    def test_missing_required_field(self) -> None:
        text = re.sub(r"\n    price: .*\n", "\n", TOKO_TEXT)
        assert _load_error(text) == "vendors/x.yaml: extract.fields.price: field required"

    def test_missing_top_level_field(self) -> None:
        text = re.sub(r"\ncurrency: IDR\n", "\n", TOKO_TEXT)
        assert _load_error(text) == "vendors/x.yaml: currency: field required"

    def test_unknown_placeholder(self) -> None:
        message = _load_error(_edit("page={page}", "page={pag}"))
        assert message == (
            "vendors/x.yaml: search.url: unknown placeholder {pag}; allowed: {query}, {page}, {cursor}, {asof}"
        )

    def test_placeholder_that_does_not_fit_the_pagination(self) -> None:
        message = _load_error(_edit("&page={page}", "&cursor={cursor}&page={page}"))
        assert message == (
            "vendors/x.yaml: search.url: {cursor} is only for pagination kind cursor (kind is page_number)"
        )

    def test_asof_placeholder_on_live_vendor(self) -> None:
        message = _load_error(_edit("history: asof", "history: live"))
        assert message == "vendors/x.yaml: search.url: uses {asof} but history is live; set history: asof"

    def test_unknown_key_lists_the_allowed_ones(self) -> None:
        message = _load_error(_edit("  max_pages: 20", "  max_page: 20"))
        assert message == (
            "vendors/x.yaml: pagination.max_page: unknown field; allowed: cursor, has_next, kind, max_pages, "
            "next_link, page_size, start, step, total"
        )

    def test_invalid_yaml_reports_the_line(self) -> None:
        message = _load_error(_edit("country: ID", "country: [ID"))
        assert re.fullmatch(r"vendors/x\.yaml: line \d+, column \d+: invalid YAML: .+", message), message

    def test_duplicate_yaml_key(self) -> None:
        message = _load_error(_edit("currency: IDR", "currency: IDR\ncurrency: USD"))
        assert message == "vendors/x.yaml: line 8, column 1: invalid YAML: duplicate key 'currency'"

    def test_empty_file(self) -> None:
        assert _load_error("# nothing yet\n") == (
            "vendors/x.yaml: (top level): expected a mapping of vendor fields, got empty"
        )

    def test_invalid_css_selector(self) -> None:
        message = _load_error(_edit("title: {css: a.title}", "title: {css: 'a.title['}"))
        assert message.startswith("vendors/x.yaml: extract.fields.title.css: invalid CSS selector 'a.title['")

    def test_invalid_xpath(self) -> None:
        message = _load_error(_edit("title: {css: a.title}", "title: {xpath: './/a[@class='}"))
        assert message.startswith("vendors/x.yaml: extract.fields.title.xpath: invalid XPath expression")

    def test_unknown_xpath_function_fails_at_load_time(self) -> None:
        message = _load_error(_edit("title: {css: a.title}", "title: {xpath: 'nosuch(.)'}"))
        assert message.startswith("vendors/x.yaml: extract.fields.title.xpath: invalid XPath expression")

    def test_invalid_jmespath(self) -> None:
        text = (
            (VENDORS_DIR / "chapin.yaml")
            .read_text(encoding="utf-8")
            .replace("{json: seller.name}", "{json: 'seller.['}")
        )
        message = _load_error(text)
        assert message.startswith("vendors/x.yaml: extract.fields.seller.json: invalid JMESPath expression 'seller.['")

    def test_selector_language_must_match_the_format(self) -> None:
        message = _load_error(_edit("title: {css: a.title}", "title: {json: title}"))
        assert message == (
            "vendors/x.yaml: extract.fields.title.json: the items are HTML elements; use a css or xpath selector "
            "(followed by json to read data inside the element)"
        )

    def test_two_selectors_for_one_field(self) -> None:
        message = _load_error(_edit("title: {css: a.title}", "title: {css: a.title, xpath: './/a'}"))
        assert (
            message
            == "vendors/x.yaml: extract.fields.title.selector: give only one of css, xpath, embedded (got css, xpath)"
        )

    def test_field_type_that_does_not_fit_the_field(self) -> None:
        message = _load_error(_edit("title: {css: a.title}", "title: {css: a.title, type: price}"))
        assert (
            message
            == "vendors/x.yaml: extract.fields.title.type: 'price' is not allowed for title; use attribute, text"
        )

    def test_bad_cron(self) -> None:
        message = _load_error(_edit('schedule: "0 6 * * *"', 'schedule: "0 25 * * *"'))
        assert message == "vendors/x.yaml: schedule: invalid cron expression '0 25 * * *': hour 25 out of range 0-23"

    def test_cron_with_wrong_number_of_fields(self) -> None:
        message = _load_error(_edit('schedule: "0 6 * * *"', 'schedule: "daily"'))
        assert message.startswith("vendors/x.yaml: schedule: invalid cron expression 'daily': expected 5 fields")

    def test_bad_currency_code(self) -> None:
        message = _load_error(_edit("currency: IDR", "currency: RUPIAH"))
        assert message == (
            "vendors/x.yaml: currency: invalid currency code 'RUPIAH': expected 3 letters (ISO 4217), e.g. 'USD'"
        )

    def test_unknown_currency_code(self) -> None:
        message = _load_error(_edit("currency: IDR", "currency: IDX"))
        assert message == "vendors/x.yaml: currency: unknown currency code 'IDX' (not an ISO 4217 currency)"

    def test_bad_country(self) -> None:
        message = _load_error(_edit("country: ID", "country: IDN"))
        assert message.startswith("vendors/x.yaml: country: invalid country code 'IDN'")

    def test_yaml_boolean_where_a_string_is_expected(self) -> None:
        message = _load_error(_edit("country: ID", "country: NO"))  # YAML 1.1 reads NO as false
        assert message == (
            "vendors/x.yaml: country: input should be a valid string (YAML read this as a boolean; put it in quotes)"
        )

    def test_unknown_timezone_suggests_the_closest(self) -> None:
        message = _load_error(_edit("timezone: Asia/Jakarta", "timezone: Asia/Jakata"))
        assert message == "vendors/x.yaml: timezone: unknown timezone 'Asia/Jakata'; did you mean 'Asia/Jakarta'?"

    def test_bad_enum_value_shows_what_was_given(self) -> None:
        message = _load_error(_edit("  mode: http", "  mode: curl"))
        assert message == "vendors/x.yaml: fetch.mode: input should be 'http' or 'browser' (got 'curl')"

    def test_wait_for_needs_browser_mode(self) -> None:
        message = _load_error(_edit("  mode: http", "  mode: http\n  wait_for: '#app'"))
        assert message == "vendors/x.yaml: fetch.wait_for: only used with mode browser"

    def test_bad_slug(self) -> None:
        message = _load_error(_edit("name: toko", "name: Toko Gadget"))
        assert message.startswith("vendors/x.yaml: name: string should match pattern")

    def test_flag_takes_no_default(self) -> None:
        message = _load_error(_edit("sold: {css: span.badge.sold}", "sold: {css: span.badge.sold, default: 'no'}"))
        assert (
            message
            == "vendors/x.yaml: extract.fields.sold.default: not used by a flag (a flag is simply false when absent)"
        )

    def test_bad_regex(self) -> None:
        message = _load_error(_edit("location: {css: span.location}", "location: {css: span.location, regex: '(['}"))
        assert message.startswith("vendors/x.yaml: extract.fields.location.regex: invalid regular expression '(['")

    def test_several_problems_are_all_reported(self) -> None:
        message = _load_error(_edit("currency: IDR", "currency: IDX").replace("country: ID", "country: XX"))
        assert message.splitlines() == [
            "vendors/x.yaml: country: unknown country code 'XX' (not an ISO 3166-1 alpha-2 code)",
            "vendors/x.yaml: currency: unknown currency code 'IDX' (not an ISO 4217 currency)",
        ]


# -- directories: all or nothing ------------------------------------------------------------


def test_one_bad_file_fails_the_whole_directory(in_tmp: Path) -> None:
    (in_tmp / "vendors" / "good.yaml").write_text(TOKO_TEXT, encoding="utf-8")
    (in_tmp / "vendors" / "bad.yaml").write_text(_edit("name: toko", "name: bad").replace("IDR", "IDX"))
    with pytest.raises(VendorConfigError) as info:
        load_vendors("vendors")
    assert info.value.errors == ["vendors/bad.yaml: currency: unknown currency code 'IDX' (not an ISO 4217 currency)"]


def test_duplicate_vendor_names_are_rejected(in_tmp: Path) -> None:
    (in_tmp / "vendors" / "a.yaml").write_text(TOKO_TEXT, encoding="utf-8")
    (in_tmp / "vendors" / "b.yaml").write_text(TOKO_TEXT, encoding="utf-8")
    with pytest.raises(VendorConfigError) as info:
        load_vendors("vendors")
    assert str(info.value) == "vendors/b.yaml: name: duplicate vendor name 'toko' (also in vendors/a.yaml)"


def test_non_yaml_files_are_ignored(in_tmp: Path) -> None:
    (in_tmp / "vendors" / "toko.yaml").write_text(TOKO_TEXT, encoding="utf-8")
    (in_tmp / "vendors" / "README.md").write_text("# not a vendor", encoding="utf-8")
    assert [v.name for v in load_vendors("vendors")] == ["toko"]


def test_missing_directory(in_tmp: Path) -> None:
    with pytest.raises(VendorConfigError, match="nowhere: not a directory"):
        load_vendors("nowhere")


def test_readme_example_is_a_valid_vendor_file() -> None:
    readme = (VENDORS_DIR / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert block is not None
    data = yaml.safe_load(block.group(1))
    example = parse_vendor(data, source="vendors/README.md")
    assert example.name == "example-shop" and example.html_engine == "lxml"  # it uses one XPath rule
    assert example.search_url_template == "https://shop.example.com/id/search?q={query}&page={page}&asof={asof}"


def test_every_worked_example_in_the_readme_is_valid() -> None:
    """The five per-source examples are fragments: each completes a minimal vendor and must load."""
    readme = (VENDORS_DIR / "README.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", readme, re.S)[1:]]
    assert len(blocks) == 5
    base = {"name": "example", "display_name": "Example", "base_url": "https://shop.example", "country": "SE",
            "currency": "SEK", "decimal_separator": ",", "timezone": "Europe/Stockholm", "history": "live",
            "queries": ["x"]}
    for block in blocks:
        data = {**base, **block}
        kind = data.get("pagination", {}).get("kind", "none")
        data["search"] = {"url": "/s?q={query}" + {"page_number": "&p={page}", "cursor": "&c={cursor}"}.get(kind, "")}
        parse_vendor(data, source="vendors/README.md example")
