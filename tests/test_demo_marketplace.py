"""The demo marketplace honours demo/SPEC.md over real HTTP on 127.0.0.1.

These tests are the contract check between `demo/` and the vendor files: pagination of all
three kinds ends, cursors visit every result once, the catalogue evolves day by day, every
price format occurs, the JS shop hides its listings from raw HTML, and two separately started
server processes answer byte-identically.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import sync_playwright
from selectolax.lexbor import LexborHTMLParser as HTMLParser

import demo
from demo.catalogue import EPOCH, day_index, get_catalogue, normalize_text, query_words
from demo.products import universe
from demo.render import encode_cursor
from demo.server import running_demo
from demo.shops import TRACKED_QUERIES
from tests.support.ui_browser import launch_chromium

DAY = date(2026, 11, 1)
ASOF = DAY.isoformat()

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with running_demo() as base, httpx.Client(base_url=base, timeout=10) as http:
        yield http


def catalogue():
    return get_catalogue(42)


# ---- crawling helpers (what a vendor file does) ------------------------------------------------
def crawl_toko(http: httpx.Client, q: str, asof: str = ASOF) -> tuple[list[dict], list[str]]:
    items: list[dict] = []
    url: str | None = f"/toko/search?q={q}&page=1&asof={asof}"
    visited = []
    while url:
        visited.append(url)
        r = http.get(url)
        assert r.status_code == 200
        tree = HTMLParser(r.text)
        for li in tree.css("ul.results > li.listing"):
            sold = li.css_first(".badge.sold")
            items.append({"id": li.attributes["data-id"], "title": li.css_first("a.title").text(),
                          "price": li.css_first("span.price").text(), "sold": sold is not None})
        nxt = tree.css_first("a.next")
        url = nxt.attributes["href"] if nxt else None
    return items, visited


def crawl_chapin(http: httpx.Client, q: str, asof: str = ASOF) -> tuple[list[dict], int]:
    items: list[dict] = []
    cursor: str | None = None
    total = -1
    while True:
        params = {"q": q, "asof": asof}
        if cursor:
            params["cursor"] = cursor
        doc = http.get("/chapin/api/search", params=params).json()
        total = doc["total"]
        items += doc["results"]
        cursor = doc["paging"]["next_cursor"]
        if cursor is None:
            return items, total


def crawl_mercado(http: httpx.Client, q: str, asof: str = ASOF) -> list[dict]:
    items: list[dict] = []
    url: str | None = f"/mercado/search?q={q}&page=1&asof={asof}"
    while url:
        # what app.js does: same query string, data endpoint
        doc = http.get("/mercado/data?" + urlsplit(url).query).json()
        items += doc["items"]
        url = doc["next"]
    return items


def crawl_cardvault(http: httpx.Client, q: str, asof: str = ASOF) -> tuple[list[dict], int]:
    items: list[dict] = []
    url: str | None = f"/cardvault/search?q={q}&asof={asof}"
    pages = 0
    while url:
        pages += 1
        tree = HTMLParser(http.get(url).text)
        for tr in tree.css("table#listings tr.row"):
            items.append({"id": tr.attributes["id"], "title": tr.css_first("td.name a").text(),
                          "price": tr.css_first("td.amount").text(), "sold": tr.css_first("td.status").text()})
        nxt = tree.css_first("a[rel=next]")
        url = nxt.attributes["href"] if nxt else None
    return items, pages


# ---- determinism ------------------------------------------------------------------------------
def _sample_urls() -> list[str]:
    cat = catalogue()
    toko_id = cat.search("toko", "iphone", DAY)[0].id
    chapin_id = cat.search("chapin", "iphone", DAY)[3].id
    mercado_id = cat.search("mercado", "canon", DAY)[1].id
    card = cat.search("cardvault", "pikachu", DAY)
    return [
        f"/toko/search?q=iphone&page=1&asof={ASOF}", f"/toko/search?q=samsung+galaxy&page=3&asof={ASOF}",
        f"/toko/item/{toko_id}?asof={ASOF}",
        f"/chapin/api/search?q=iphone&asof={ASOF}",
        f"/chapin/api/search?q=iphone&cursor={encode_cursor(25)}&asof={ASOF}",
        f"/chapin/p/{chapin_id}?asof={ASOF}", f"/chapin/api/item/{chapin_id}?asof={ASOF}",
        f"/mercado/search?q=canon&asof={ASOF}", f"/mercado/data?q=canon&page=2&asof={ASOF}",
        f"/mercado/data/producto/{mercado_id}?asof={ASOF}", "/mercado/app.js",
        f"/cardvault/search?q=pikachu&asof={ASOF}", f"/cardvault/search?q=pikachu&after={card[29].id}&asof={ASOF}",
        f"/cardvault/card/{card[5].id}?asof={ASOF}", "/toko/img/TG-000001-1.jpg", "/",
        f"/toko/search?q=playstation&asof={(DAY + timedelta(days=37)).isoformat()}",
    ]


def _status_and_body(http: httpx.Client, url: str) -> tuple[int, bytes]:
    r = http.get(url)
    return r.status_code, r.content


def test_two_server_processes_answer_byte_identically(client: httpx.Client) -> None:
    urls = _sample_urls()
    bodies = []
    for _ in range(2):
        with running_demo(subprocess_mode=True) as base, httpx.Client(base_url=base, timeout=10) as http:
            bodies.append([_status_and_body(http, u) for u in urls])
    in_thread = [_status_and_body(client, u) for u in urls]
    assert bodies[0] == bodies[1] == in_thread
    assert all(status == 200 for status, _ in in_thread)


def test_seed_changes_the_catalogue() -> None:
    from demo.catalogue import Catalogue

    ours = [s.listing.title for s in catalogue().listings("toko", DAY)[:50]]
    other = [s.listing.title for s in Catalogue(7).listings("toko", DAY)[:50]]
    assert ours != other


# ---- pagination ---------------------------------------------------------------------------------
def test_toko_page_numbers_end_and_cover_all_results(client: httpx.Client) -> None:
    items, visited = crawl_toko(client, "iphone")
    expected = [s.id for s in catalogue().search("toko", "iphone", DAY)]
    assert [i["id"] for i in items] == expected
    assert len(visited) == -(-len(expected) // 20) >= 3
    past_end = HTMLParser(client.get(f"/toko/search?q=iphone&page={len(visited) + 1}&asof={ASOF}").text)
    assert past_end.css_first("ul.results") is not None
    assert past_end.css("ul.results li") == []
    assert past_end.css_first("a.next") is None
    assert client.get(f"/toko/search?q=iphone&page=0&asof={ASOF}").status_code == 400


def test_chapin_cursor_chain_visits_every_result_once(client: httpx.Client) -> None:
    items, total = crawl_chapin(client, "samsung galaxy")
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == total == len(catalogue().search("chapin", "samsung galaxy", DAY))
    assert total > 50
    first = client.get("/chapin/api/search", params={"q": "samsung galaxy", "asof": ASOF}).json()
    assert first["paging"]["next_cursor"] == encode_cursor(25) == "eyJvIjoyNX0"
    bad = client.get("/chapin/api/search", params={"q": "x", "cursor": "!!nope", "asof": ASOF})
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]


def test_cardvault_next_links_end(client: httpx.Client) -> None:
    items, pages = crawl_cardvault(client, "base set")
    ids = [i["id"] for i in items]
    expected = [s.id for s in catalogue().search("cardvault", "base set", DAY)]
    assert ids == expected and len(set(ids)) == len(ids)
    assert pages == -(-len(expected) // 30) >= 3
    assert ids == sorted(ids), "keyset pagination needs ascending ids"
    tail = HTMLParser(client.get(f"/cardvault/search?q=base+set&after={ids[-1]}&asof={ASOF}").text)
    assert tail.css("tr.row") == [] and tail.css_first("a[rel=next]") is None
    assert client.get(f"/cardvault/search?q=x&after=TG-1&asof={ASOF}").status_code == 400


def test_mercado_next_links_end(client: httpx.Client) -> None:
    items = crawl_mercado(client, "playstation")
    ids = [i["sku"] for i in items]
    assert ids == [s.id for s in catalogue().search("mercado", "playstation", DAY)]
    assert len(set(ids)) == len(ids) > 24


# ---- as-of evolution ----------------------------------------------------------------------------
def test_catalogue_evolves_between_days(client: httpx.Client) -> None:
    today, _ = crawl_chapin(client, "", ASOF)
    tomorrow, _ = crawl_chapin(client, "", (DAY + timedelta(days=1)).isoformat())
    a = {i["id"]: i for i in today}
    b = {i["id"]: i for i in tomorrow}
    new = b.keys() - a.keys()
    gone = a.keys() - b.keys()
    moved = [k for k in a.keys() & b.keys() if a[k]["price"] != b[k]["price"]]
    newly_sold = [k for k in a.keys() & b.keys() if a[k]["status"] == "active" and b[k]["status"] == "sold"]
    assert new and gone and moved and newly_sold
    changed = len(new) + len(gone) + len(moved) + len(newly_sold)
    assert 0.02 < changed / len(a) < 0.25, "a few percent change per day"


def test_sold_marker_shows_two_days_then_listing_disappears(client: httpx.Client) -> None:
    d = day_index(DAY)
    sold_today = [s for s in catalogue().listings("toko", DAY) if s.sold and s.listing.end_day == d]
    removed_today = [s.listing for s in catalogue().listings("toko", DAY - timedelta(days=1))
                     if s.listing.end_kind == "removed" and s.listing.end_day == d]
    assert sold_today and removed_today
    lid = sold_today[0].id

    def badge(day: date) -> int | bool:
        r = client.get(f"/toko/item/{lid}?asof={day.isoformat()}")
        if r.status_code == 404:
            return 404
        return HTMLParser(r.text).css_first(".badge.sold") is not None

    assert [badge(DAY + timedelta(days=k)) for k in (-1, 0, 1, 2)] == [False, True, True, 404]
    gone = removed_today[0].id
    assert client.get(f"/toko/item/{gone}?asof={(DAY - timedelta(days=1)).isoformat()}").status_code == 200
    assert client.get(f"/toko/item/{gone}?asof={ASOF}").status_code == 404


def test_before_epoch_is_empty(client: httpx.Client) -> None:
    before = (EPOCH - timedelta(days=1)).isoformat()
    assert client.get("/chapin/api/search", params={"q": "", "asof": before}).json()["total"] == 0
    assert client.get("/chapin/api/search", params={"q": "", "asof": EPOCH.isoformat()}).json()["total"] > 300


# ---- formats and markup ---------------------------------------------------------------------------
PRICE = {
    "toko": (re.compile(r"Rp \d{1,3}(\.\d{3})*"), {"Hubungi penjual"}),
    "chapin": (re.compile(r"Q\d{1,3}(,\d{3})*\.\d\d"), {"Gratis"}),
    "mercado": (re.compile(r"\d{1,3}(\.\d{3})*,\d\d €"), set()),
    "cardvault": (re.compile(r"\$\d{1,3}(,\d{3})*\.\d\d"), {"Free", "Contact seller"}),
}
THOUSANDS = {"toko": r"Rp \d+\.\d{3}\.\d{3}", "chapin": r"Q\d+,\d{3}\.\d\d", "mercado": r"\d+\.\d{3},\d\d €",
             "cardvault": r"\$\d+,\d{3}\.\d\d"}


def test_every_price_format_occurs(client: httpx.Client) -> None:
    prices = {
        "toko": [i["price"] for i in crawl_toko(client, "")[0]],
        "chapin": [i["price"] for i in crawl_chapin(client, "")[0]],
        "mercado": [i["price"] for i in crawl_mercado(client, "")],
        "cardvault": [i["price"] for i in crawl_cardvault(client, "")[0]],
    }
    for shop, seen in prices.items():
        pattern, labels = PRICE[shop]
        odd = [p for p in seen if not pattern.fullmatch(p) and p not in labels]
        assert not odd, (shop, odd[:5])
        assert labels <= set(seen), (shop, labels - set(seen))
        assert any(re.fullmatch(THOUSANDS[shop], p) for p in seen), shop


def test_mercado_shell_has_no_listings_in_raw_html(client: httpx.Client) -> None:
    html = client.get(f"/mercado/search?q=iphone&asof={ASOF}").text
    assert '<div id="app"></div>' in html and '<script src="/mercado/app.js"></script>' in html
    assert "card" not in html and "MC-" not in html and "€" not in html
    js = client.get("/mercado/app.js")
    assert js.headers["content-type"].startswith("application/javascript")
    assert "/mercado/data" in js.text and "data-ready" in js.text and "flag-sold" in js.text


def test_markup_matches_spec(client: httpx.Client) -> None:
    li = HTMLParser(client.get(f"/toko/search?q=iphone&asof={ASOF}").text).css_first("ul.results li.listing")
    for sel in ("a.title", "span.price", "span.condition", "span.location", "span.seller", "img.photo", "dl.specs"):
        assert li.css_first(sel) is not None, sel
    assert li.css_first("a.title").attributes["href"] == f"/toko/item/{li.attributes['data-id']}"
    row = client.get("/chapin/api/search", params={"q": "iphone", "asof": ASOF}).json()["results"][0]
    assert list(row) == ["id", "title", "price", "gtin", "condition", "location", "seller", "url", "images",
                         "attributes", "status"]
    tr = HTMLParser(client.get(f"/cardvault/search?q=charizard&asof={ASOF}").text).css_first("#listings tr.row")
    for cls in ("name", "cardno", "amount", "grade", "where", "who", "pics", "status"):
        assert tr.css_first(f"td.{cls}") is not None, cls
    assert tr.css_first("td.pics img").attributes["data-src"].startswith(f"/cardvault/img/{tr.attributes['id']}-")
    nxt = HTMLParser(client.get(f"/cardvault/search?q=charizard&asof={ASOF}").text).css_first("a[rel=next]")
    assert parse_qs(urlsplit(nxt.attributes["href"]).query)["asof"] == [ASOF]


def test_detail_pages_images_and_404(client: httpx.Client) -> None:
    cat = catalogue()
    for shop, path in (("toko", "/toko/item/"), ("chapin", "/chapin/p/"), ("chapin", "/chapin/api/item/"),
                       ("mercado", "/mercado/producto/"), ("mercado", "/mercado/data/producto/"),
                       ("cardvault", "/cardvault/card/")):
        state = cat.listings(shop, DAY)[0]
        assert client.get(f"{path}{state.id}?asof={ASOF}").status_code == 200, path
        assert client.get(f"{path}XX-999999?asof={ASOF}").status_code == 404, path
    img = client.get("/mercado/img/whatever-7.jpg")
    assert img.headers["content-type"] == "image/jpeg"
    assert img.content[:2] == b"\xff\xd8" and img.content[-2:] == b"\xff\xd9"


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "20261101", "2026-1-01", "2026-02-30"])
def test_bad_asof_is_400(client: httpx.Client, bad: str) -> None:
    for path in ("/toko/search?q=a", "/chapin/api/search?q=a", "/mercado/search?q=a", "/mercado/data?q=a",
                 "/cardvault/search?q=a", "/toko/item/TG-000001"):
        r = client.get(f"{path}&asof={bad}" if "?" in path else f"{path}?asof={bad}")
        assert r.status_code == 400, path
        assert "asof" in r.text and "YYYY-MM-DD" in r.text


# ---- queries, volumes, identity ---------------------------------------------------------------------
def test_query_matching_rules(client: httpx.Client) -> None:
    cat = catalogue()
    everything = cat.listings("cardvault", DAY)
    assert cat.search("cardvault", "", DAY) == everything
    for q in ("base set", "PIKACHU", "Pokémon charizard", "58/102"):
        words = query_words(q)
        hits = cat.search("cardvault", q, DAY)
        assert hits, q
        assert [s.id for s in hits] == [s.id for s in everything if all(w in s.listing.search_text for w in words)]
    assert cat.search("cardvault", "POKÉMON", DAY) == cat.search("cardvault", "pokemon", DAY)
    assert cat.search("toko", "zzqx nonexistent", DAY) == ()
    items, _ = crawl_toko(client, "IPHONE")
    assert items and all("iphone" in normalize_text(i["title"]) for i in items)
    assert [i["id"] for i in items] == [s.id for s in cat.search("toko", "iphone", DAY)]


def test_tracked_queries_return_several_pages() -> None:
    cat = catalogue()
    for offset in (0, 45, 300):
        day = DAY - timedelta(days=offset)
        for shop, queries in TRACKED_QUERIES.items():
            for q in queries:
                assert 35 <= len(cat.search(shop, q, day)) <= 210, (shop, q, day)


def test_same_product_is_listed_in_several_shops_under_different_spellings() -> None:
    cat = catalogue()
    titles: dict[str, dict[str, set[str]]] = {}
    for shop in TRACKED_QUERIES:
        for s in cat.listings(shop, DAY):
            titles.setdefault(s.listing.product.key, {}).setdefault(shop, set()).add(s.listing.title)
    multi = {k: v for k, v in titles.items() if len(v) >= 3}
    assert len(multi) > 20
    assert any(len(set().union(*v.values())) >= 5 for v in multi.values())
    assert 150 <= len(universe()) <= 300
    all_titles = "".join(s.listing.title for shop in TRACKED_QUERIES for s in cat.listings(shop, DAY))
    for odd in ("\u00a0", "™", "\u2013", "—", "\u0301", "🔥"):
        assert odd in all_titles, repr(odd)


def test_request_counter(client: httpx.Client) -> None:
    client.post("/_stats/reset")
    for page in (1, 2, 3):
        client.get(f"/toko/search?q=iphone&page={page}&asof={ASOF}")
    client.get("/toko/img/TG-000001-1.jpg")
    client.get(f"/chapin/api/search?q=iphone&asof={ASOF}")
    stats = client.get("/_stats").json()
    assert stats["shops"]["toko"] == {"search": 3, "img": 1}
    assert stats["shops"]["chapin"] == {"search": 1}
    assert stats["total"] == 5
    assert client.get("/healthz").json() == {"status": "ok", "seed": 42}


# ---- the JS shop in a real browser ---------------------------------------------------------------
def test_app_js_is_valid_javascript() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    subprocess.run([node, "--check", str(Path(demo.__file__).parent / "assets" / "app.js")], check=True)


@pytest.mark.browser
def test_mercado_renders_listings_in_a_browser(client: httpx.Client) -> None:
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page()
            page.goto(f"{client.base_url}/mercado/search?q=canon&page=1&asof={ASOF}")
            page.wait_for_selector('#app[data-ready="1"]', timeout=10_000)
            skus = [a.get_attribute("data-sku") for a in page.query_selector_all("#app > article.card")]
            assert skus == [s.id for s in catalogue().search("mercado", "canon", DAY)[:24]]
            first = page.query_selector("article.card")
            for sel in ("h2.card-title a", "p.card-price", "span.cond", "span.city", "p.card-seller b",
                        "ul.gallery img", "table.features"):
                assert first.query_selector(sel) is not None, sel
            assert page.get_attribute("#app > a.next", "href") == f"/mercado/search?q=canon&page=2&asof={ASOF}"
            page.goto(f"{client.base_url}/mercado/producto/XX-1?asof={ASOF}")
            page.wait_for_selector("#app[data-ready]", timeout=10_000)
            assert page.get_attribute("#app", "data-ready") == "error"
        finally:
            browser.close()

