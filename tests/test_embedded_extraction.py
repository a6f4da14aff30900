"""Extraction the real web needs: data inside pages, chained selectors, money in minor units,
paging by flag or total, vocabulary, and pages too deep to parse (fixtures from the demo's fynda
shop, plus small pages written the way real shops write them)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo.catalogue import get_catalogue
from pipelines.extraction.pages import extract_page, probe_page
from pipelines.extraction.search_requests import first_request, next_request
from pipelines.parsing.price_text import PriceKind
from pipelines.parsing.text import clean_text
from pipelines.vendors.config.errors import VendorConfigError
from pipelines.vendors.config.loading import load_vendor_file
from pipelines.vendors.config.vendor import VendorConfig, parse_vendor

ROOT = Path(__file__).resolve().parents[1]
PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
DEMO = "http://127.0.0.1:8765"
DAY = dt.date(2026, 3, 14)


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def shop(extract: dict[str, Any], **changes: Any) -> VendorConfig:
    """A small vendor around ``extract`` (an HTML shop in EUR unless ``changes`` say otherwise)."""
    data: dict[str, Any] = {
        "name": "shop", "display_name": "Shop", "base_url": "https://shop.example", "country": "DE",
        "currency": "EUR", "decimal_separator": ",", "timezone": "Europe/Berlin", "history": "live",
        "search": {"url": "/s?q={query}"}, "queries": ["x"], "extract": extract,
    }
    data.update(changes)
    return parse_vendor(copy.deepcopy(data), source="shop")


def refused(extract: dict[str, Any], **changes: Any) -> str:
    with pytest.raises(VendorConfigError) as info:
        shop(extract, **changes)
    return str(info.value)


# -- fynda: results only as __NEXT_DATA__ JSON ----------------------------------------------------


def test_next_data_search_page_every_field_matches_the_demo() -> None:
    fynda = load_vendor_file(ROOT / "vendors" / "fynda.yaml")
    url = f"{DEMO}/fynda/sok?q=iphone&page=1&asof={DAY}"
    result = extract_page(fynda, page("demo_fynda_search.html"), url=url)
    assert (result.error, result.failures, result.has_next, len(result.items)) == (None, [], True, 24)
    truth = {s.id: s for s in get_catalogue(42).search("fynda", "iphone", DAY)}
    conditions = {"Ny": "new", "Som ny": "like_new", "Begagnad": "used", "Renoverad": "refurbished",
                  "Reservdelar": "for_parts"}
    for item in result.items:
        state, listing = truth[item.external_id], truth[item.external_id].listing
        assert (item.title, item.price, item.currency, item.sold) == (
            clean_text(listing.title), state.price, "SEK", state.sold)
        assert (item.condition, item.location, item.seller, item.product_code) == (
            conditions[listing.condition], listing.location, listing.seller, listing.gtin)
        assert item.images == [DEMO + path for path in listing.images]
        assert item.attributes == dict(listing.attributes)
        assert item.url == f"{DEMO}/fynda/annons/{listing.id}"
    assert any(item.price != item.price.to_integral() for item in result.items)  # öre kept exactly


def test_next_data_flag_ends_the_crawl_without_an_empty_page() -> None:
    fynda = load_vendor_file(ROOT / "vendors" / "fynda.yaml")
    request = first_request(fynda, "iphone", asof=DAY)
    full = probe_page(fynda, page("demo_fynda_search.html"), url=request.url)
    second = next_request(fynda, request, full)
    assert second is not None and second.url.endswith(f"page=2&asof={DAY}")
    last = probe_page(fynda, page("demo_fynda_search_last.html"), url=second.url)
    assert last.has_next is False and last.item_count_seen > 0
    assert next_request(fynda, second, last) is None


def test_json_ld_product_page_with_price_on_request() -> None:
    vendor = load_vendor_file(ROOT / "vendors" / "examples" / "fynda-annons.yaml")
    state = get_catalogue(42).get("fynda", "FY-023125", DAY)
    assert state is not None and state.listing.price_kind == "contact"
    result = extract_page(vendor, page("demo_fynda_product.html"), url=f"{DEMO}/fynda/annons/FY-023125?asof={DAY}")
    assert result.error is None and result.failures == []
    [item] = result.items
    assert (item.external_id, item.title, item.price, item.price_kind) == (
        "FY-023125", clean_text(state.listing.title), None, PriceKind.ON_REQUEST)
    assert item.attributes == dict(state.listing.attributes)
    assert item.images == [DEMO + path for path in state.listing.images]


def test_a_page_without_the_script_is_a_page_error() -> None:
    fynda = load_vendor_file(ROOT / "vendors" / "fynda.yaml")
    body = page("demo_fynda_search.html").replace(b'id="__NEXT_DATA__"', b'id="__NUXT__"')
    result = extract_page(fynda, body, url=f"{DEMO}/fynda/sok?q=iphone&page=1")
    assert result.items == [] and result.error is not None
    assert result.error.startswith("page marker 'script#__NEXT_DATA__ | props.pageProps.search' not found")


def test_broken_embedded_json_is_a_page_error_naming_it() -> None:
    fynda = load_vendor_file(ROOT / "vendors" / "fynda.yaml")
    body = page("demo_fynda_search.html").replace(b'{"props":', b'{props:', 1)
    result = extract_page(fynda, body, url=f"{DEMO}/fynda/sok?q=iphone&page=1")
    assert result.error is not None and result.error.startswith("embedded data is not JSON")


# -- other embedded sources ------------------------------------------------------------------------

STATE_PAGE = b"""<!doctype html><html><head><title>s</title></head><body><div id="app"></div>
<script>window.__INITIAL_STATE__ = {search: {results: [
  {id: 'a-1', name: "Lamp \\"Ola\\"", price: {cents: 1999}, tags: ['x',], sold: false},
  {id: 'a-2', name: 'Chair', price: {cents: 4500}, tags: [], sold: true},
], total: 2, hasMore: false}};</script></body></html>"""


def test_javascript_object_literal_through_chompjs() -> None:
    vendor = shop({
        "items": {"css": "script:not([src])", "parse": "javascript", "json": "search.results"},
        "fields": {"external_id": {"json": "id"}, "title": {"json": "name"},
                   "price": {"json": "price.cents", "minor_units": True}, "sold": {"json": "sold"}},
    }, pagination={"kind": "next_link", "next_link": {"css": "a.next"},
                   "has_next": {"css": "script:not([src])", "parse": "javascript", "json": "search.hasMore"}})
    result = extract_page(vendor, STATE_PAGE, url="https://shop.example/s?q=x")
    assert [(i.external_id, i.title, i.price, i.sold) for i in result.items] == [
        ("a-1", 'Lamp "Ola"', Decimal("19.99"), False), ("a-2", "Chair", Decimal("45.00"), True)]
    assert result.has_next is False


MICRODATA_PAGE = b"""<!doctype html><html><head>
<meta property="og:title" content="Kaffebryggare Moccamaster"><meta property="og:type" content="product">
<meta property="product:price:amount" content="2.499,00"><meta property="product:price:currency" content="SEK">
</head><body>
<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Moccamaster KBG</span>
  <meta itemprop="sku" content="MM-1"><div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
  <span itemprop="price" content="2499.00">2 499 kr</span><meta itemprop="priceCurrency" content="SEK">
  <link itemprop="itemCondition" href="https://schema.org/RefurbishedCondition"></div></div>
<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Filter 1x4</span>
  <meta itemprop="sku" content="F-14"><div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
  <meta itemprop="price" content="39"><meta itemprop="priceCurrency" content="SEK"></div></div>
</body></html>"""


def test_microdata_products_through_extruct() -> None:
    vendor = shop({
        "items": {"embedded": "microdata", "json": "[?\"@type\" == 'Product']"},
        "fields": {"external_id": {"json": "sku"}, "title": {"json": "name"}, "price": {"json": "offers.price"},
                   "currency": {"json": "offers.priceCurrency"}, "condition": {"json": "offers.itemCondition"}},
    }, decimal_separator=".")
    result = extract_page(vendor, MICRODATA_PAGE, url="https://shop.example/p/1")
    assert [(i.external_id, i.title, i.price, i.currency, i.condition) for i in result.items] == [
        ("MM-1", "Moccamaster KBG", Decimal("2499.00"), "SEK", "refurbished"),
        ("F-14", "Filter 1x4", Decimal("39.00"), "SEK", None)]


ITEM_LIST_PAGE = b"""<!doctype html><html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []}</script>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "ItemList", "numberOfItems": 41,
 "itemListElement": [
  {"@type": "ListItem", "position": 1, "item": {"@type": "Product", "sku": "B-1", "name": "Bike \\u00e9",
   "url": "/p/B-1", "offers": {"@type": "Offer", "price": 499.5, "priceCurrency": "EUR"}}},
  {"@type": "ListItem", "position": 2, "item": {"@type": "Product", "sku": "B-2", "name": "Helmet", "url": "/p/B-2",
   "offers": {"@type": "Offer", "price": "39.90", "priceCurrency": "EUR",
              "availability": "https://schema.org/SoldOut"}}}]}</script></head><body></body></html>"""


def test_json_ld_item_list_of_a_search_page() -> None:
    vendor = shop({
        "items": {"embedded": "json-ld", "json": "[?\"@type\" == 'ItemList'].itemListElement[].item"},
        "fields": {"external_id": {"json": "sku"}, "title": {"json": "name"}, "price": {"json": "offers.price"},
                   "url": {"json": "url"},
                   "sold": {"json": "offers.availability == 'https://schema.org/SoldOut'"}},
    }, pagination={"kind": "page_number", "total": {"embedded": "json-ld",
                                                    "json": "[?\"@type\" == 'ItemList'] | [0].numberOfItems"}},
       search={"url": "/s?q={query}&page={page}"})
    result = extract_page(vendor, ITEM_LIST_PAGE, url="https://shop.example/s?q=x&page=1")
    assert [(i.external_id, i.title, i.price, i.url, i.sold) for i in result.items] == [
        ("B-1", "Bike \u00e9", Decimal("499.50"), "https://shop.example/p/B-1", False),
        ("B-2", "Helmet", Decimal("39.90"), "https://shop.example/p/B-2", True)]
    assert result.total == 41


def test_opengraph_through_extruct() -> None:
    vendor = shop({
        "items": {"embedded": "opengraph"},
        "fields": {"external_id": {"json": "\"og:title\""}, "title": {"json": "\"og:title\""},
                   "price": {"json": "\"product:price:amount\""}, "currency": {"json": "\"product:price:currency\""}},
    })
    [item] = extract_page(vendor, MICRODATA_PAGE, url="https://shop.example/p/1").items
    assert (item.title, item.price, item.currency) == ("Kaffebryggare Moccamaster", Decimal("2499.00"), "SEK")


def test_item_fields_chain_an_attribute_with_json() -> None:
    body = b"""<html><body><ul>
      <li class="p" data-product='{"sku": "K-1", "price": {"value": 1234.5}, "cond": "B-Ware"}'><h2>Kettle</h2></li>
      <li class="p" data-product='{"sku": "K-2", "price": {"value": "1.234,50 \xe2\x82\xac"}}'><h2>Toaster</h2></li>
      <li class="p" data-product='not json'><h2>Broken</h2></li></ul></body></html>"""
    vendor = shop({
        "items": {"css": "li.p"},
        "fields": {"external_id": {"css": ":scope", "attribute": "data-product", "json": "sku"},
                   "title": {"css": "h2"},
                   "price": {"css": ":scope", "attribute": "data-product", "json": "price.value"},
                   "condition": {"css": ":scope", "attribute": "data-product", "json": "cond"}},
    })
    result = extract_page(vendor, body, url="https://shop.example/s?q=x")
    assert [(i.external_id, i.price, i.condition, i.unmapped_condition) for i in result.items] == [
        ("K-1", Decimal("1234.50"), None, "B-Ware"),  # a JSON number: no separator guessing
        ("K-2", Decimal("1234.50"), None, None)]
    assert result.failures[0].reason.startswith("external_id: text of ':scope @data-product | sku' is not JSON")


# -- money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "exponent", "units", "amount"), [
    ("SEK", None, 129950, Decimal("1299.50")),
    ("JPY", None, 1500, Decimal("1500")),       # ISO 4217: no minor unit
    ("KWD", None, 1234567, Decimal("1234.567")),  # three decimals
    ("IDR", 0, 8499000, Decimal("8499000")),   # declared: this shop counts whole rupiah
])
def test_minor_units_use_the_iso_4217_exponent_or_the_declared_one(currency: str, exponent: int | None,
                                                                  units: int, amount: Decimal) -> None:
    price: dict[str, Any] = {"json": "p", "minor_units": True}
    if exponent is not None:
        price["exponent"] = exponent
    vendor = shop({"items": {"json": "hits"}, "format": "json",
                   "fields": {"external_id": {"json": "id"}, "title": {"json": "id"}, "price": price}},
                  currency=currency)
    body = f'{{"hits": [{{"id": "a", "p": {units}}}, {{"id": "b", "p": "12.5"}}]}}'.encode()
    result = extract_page(vendor, body, url="https://shop.example/s")
    assert [(i.price, i.currency) for i in result.items] == [(amount, currency)]
    assert result.failures[0].reason == "price: cannot read '12.5' (minor units must be a whole number, got '12.5')"


def test_per_vendor_price_on_request_phrases() -> None:
    body = b"""<html><body><div class="i" id="1"><b>A</b><i>Pris p\xc3\xa5 beg\xc3\xa4ran</i></div>
      <div class="i" id="2"><b>B</b><i>Ring f\xc3\xb6r pris</i></div><div class="i" id="3"><b>C</b><i>99 kr</i></div>
      </body></html>"""
    fields = {"external_id": {"css": ":scope", "attribute": "id"}, "title": {"css": "b"},
              "price": {"css": "i", "on_request": ["Pris på begäran", "ring för pris"]}}
    result = extract_page(shop({"items": {"css": "div.i"}, "fields": fields}, currency="SEK"), body,
                          url="https://shop.example/s")
    assert [(i.external_id, i.price, i.price_kind) for i in result.items] == [
        ("1", None, PriceKind.ON_REQUEST), ("2", None, PriceKind.ON_REQUEST), ("3", Decimal("99.00"), PriceKind.PRICED)]
    without = extract_page(shop({"items": {"css": "div.i"}, "fields": {**fields, "price": {"css": "i"}}},
                                currency="SEK"), body, url="https://shop.example/s")
    assert [f.field for f in without.failures] == ["price", "price"]  # not guessed without the phrases


# -- paging by flag or total ------------------------------------------------------------------------


def test_total_stops_a_json_crawl_at_the_last_full_page() -> None:
    chapin = yaml.safe_load((ROOT / "vendors" / "chapin.yaml").read_text())
    chapin["pagination"]["total"] = {"json": "total"}
    vendor = parse_vendor(chapin, source="chapin")
    body = page("demo_chapin_search.json")
    request = first_request(vendor, "iphone")
    extraction = probe_page(vendor, body, url=request.url)
    assert extraction.total is not None and extraction.total > extraction.item_count_seen
    assert next_request(vendor, request, extraction) is not None
    near_the_end = request.__class__(url=request.url, query="iphone", items_seen=extraction.total - 25)
    assert next_request(vendor, near_the_end, extraction) is None  # 25 more seen: all of them


def test_has_next_from_markup_and_total_from_text_in_an_html_vendor() -> None:
    toko = yaml.safe_load((ROOT / "vendors" / "toko.yaml").read_text())
    toko["pagination"].pop("page_size")
    toko["pagination"]["has_next"] = {"css": "nav.pagination a.next"}
    # "Menampilkan 1-20 dari 117 produk": the number after "dari" (an XPath string result)
    toko["pagination"]["total"] = {"xpath": "substring-after(//p[@class='summary'], 'dari ')"}
    vendor = parse_vendor(toko, source="toko")
    extraction = probe_page(vendor, page("demo_toko_search.html"), url=f"{DEMO}/toko/search?q=iphone&page=1")
    assert extraction.has_next is True
    assert extraction.total == int(page("demo_toko_search.html").split(b" dari ")[1].split(b" ")[0])
    last = page("demo_toko_search.html").replace(b'class="next"', b'class="nope"')
    final = probe_page(vendor, last, url=f"{DEMO}/toko/search?q=iphone&page=1")
    assert final.has_next is False
    assert next_request(vendor, first_request(vendor, "iphone"), final) is None


def test_paging_options_are_refused_where_there_is_no_paging() -> None:
    message = refused({"items": {"css": "li"}, "fields": {"external_id": {"css": "a"}, "title": {"css": "a"},
                                                          "price": {"css": "b"}}},
                      pagination={"kind": "none", "has_next": {"css": "a.next"}})
    assert message == "shop: pagination.has_next: not used by kind none (a single page is fetched)"


# -- the condition vocabulary ---------------------------------------------------------------------


def test_condition_map_must_target_the_vocabulary() -> None:
    message = refused({"items": {"css": "li"}, "fields": {
        "external_id": {"css": "a"}, "title": {"css": "a"}, "price": {"css": "b"},
        "condition": {"css": "i", "map": {"Neu": "new", "Gebraucht": "gebraucht"}}}})
    assert message == ("shop: extract.fields.condition.map.Gebraucht: 'gebraucht' is not a condition; use one of "
                       "new, open_box, like_new, used, refurbished, for_parts")


def test_vocabulary_words_need_no_map_and_others_are_reported() -> None:
    body = b"""<html><body><li id="1"><a>A</a><b>5</b><i>Like New</i></li><li id="2"><a>B</a><b>5</b>
      <i>open-box</i></li><li id="3"><a>C</a><b>5</b><i>Wie neu</i></li></body></html>"""
    vendor = shop({"items": {"css": "li"}, "fields": {
        "external_id": {"css": ":scope", "attribute": "id"}, "title": {"css": "a"}, "price": {"css": "b"},
        "condition": {"css": "i"}}})
    items = extract_page(vendor, body, url="https://shop.example/s").items
    assert [(i.condition, i.unmapped_condition) for i in items] == [
        ("like_new", None), ("open_box", None), (None, "Wie neu")]


# -- pathological pages ------------------------------------------------------------------------------


@pytest.mark.timeout(20)  # the unbounded parser spent minutes on this page
def test_deeply_nested_markup_fails_the_page_quickly_with_a_clear_error() -> None:
    depth = 2_200_000 // 11
    body = ("<html><body><ul class='results'>" + "<div>" * depth + "x" + "</div>" * depth + "</ul></body></html>")
    for name in ("toko", "cardvault"):
        vendor = load_vendor_file(ROOT / "vendors" / f"{name}.yaml")
        result = extract_page(vendor, body.encode(), url=f"{DEMO}/{name}/search?q=x")
        assert result.items == [] and result.error is not None
        assert result.error == "markup nested deeper than 512 levels (not a results page; refused before parsing)"


def test_large_but_ordinary_pages_still_parse() -> None:
    html = page("demo_toko_search.html").decode()
    start, end = html.index('<li class="listing"'), html.index("</ul>")
    body = html[:start] + html[start:end] * 12 + html[end:]  # ~160 KB: scanned, and fine
    assert len(body) > 100_000
    result = extract_page(load_vendor_file(ROOT / "vendors" / "toko.yaml"), body.encode(), url=f"{DEMO}/toko/s")
    assert result.error is None and result.item_count_seen == 240


def test_extraction_and_vendor_config_stay_pure() -> None:
    """The rules, the selector engine and extraction import no I/O framework (checked in a fresh
    interpreter, after reading every kind of page, so lazy imports count too)."""
    import subprocess
    import sys

    code = """
import sys
from pathlib import Path
from pipelines.extraction.pages import extract_page
from pipelines.vendors.config.loading import load_vendor_file
pages = Path("tests/fixtures/pages")
for vendor, page in [("fynda", "demo_fynda_search.html"), ("examples/fynda-annons", "demo_fynda_product.html"),
                     ("chapin", "demo_chapin_search.json"), ("toko", "demo_toko_search.html")]:
    assert extract_page(load_vendor_file(f"vendors/{vendor}.yaml"), (pages / page).read_bytes(),
                        url="http://127.0.0.1:8765/x").items
print(sorted({m.split(".")[0] for m in sys.modules} & {"dagster", "sqlalchemy", "httpx", "playwright", "downloader"}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
