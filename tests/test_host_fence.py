"""The host fence against real servers on several loopback addresses (127.0.0.1, .2, .3).

Host names (``shop.test``, ``other.test``, ``intranet.test``) are given to the fence through
its resolver, so redirects cross real hosts and real addresses without touching the system's
DNS. Every claim is checked at the server: which host saw which request with which headers.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable
from typing import Any

import pytest

from downloader.fence import HostFence, HostRefused, HostRule, address_kind
from downloader.http import HttpFetcher
from downloader.robots import RobotsPolicy
from downloader.types import FetchedResponse
from pipelines.scraping.sessions import Cookie, to_httpx_cookies
from tests.support.hosts import Hosts, page, redirect, three_hosts

SECRET_KEY = "k-3fd81-vendor-api-key"
BEARER = "Bearer t0ken-for-the-shop"


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


FAST = {"backoff_initial_s": 0.01, "backoff_max_s": 0.02, "max_attempts": 1}
TRANSPORTS = ["aiohttp", "httpcore"]


# -- the rules ------------------------------------------------------------------------------------


def test_addresses_are_classified_after_unwrapping() -> None:
    kinds = {a: address_kind(ipaddress.ip_address(a)) for a in (
        "169.254.169.254", "fd00:ec2::254", "127.0.0.5", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
        "100.64.0.1", "fe80::1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "0.0.0.0",
        "93.184.216.34", "2606:4700::1111")}
    assert kinds["169.254.169.254"] == kinds["fd00:ec2::254"] == "cloud metadata"
    assert kinds["::ffff:169.254.169.254"] == kinds["64:ff9b::a9fe:a9fe"] == "cloud metadata", "no v6 wrapping"
    assert kinds["127.0.0.5"] == kinds["::1"] == "loopback"
    assert kinds["10.1.2.3"] == kinds["172.16.0.1"] == kinds["192.168.1.1"] == kinds["::ffff:10.0.0.1"] == "private"
    assert kinds["fe80::1"] == "link-local" and kinds["100.64.0.1"] == "non-public"
    assert kinds["0.0.0.0"] is not None
    assert kinds["93.184.216.34"] is None and kinds["2606:4700::1111"] is None


def test_url_checks_name_the_host_the_reason_and_the_fix() -> None:
    fence = HostFence("http://127.0.0.1:8765/toko", ["cdn.shop.com", "*.img.shop.com", "10.9.0.0/16:8080"],
                      owner="toko")
    assert fence.check_url("http://127.0.0.1:8765/toko/search?q=a") is None
    assert fence.check_url("https://cdn.shop.com/x.js") is None and fence.check_url("http://a.b.img.shop.com/") is None
    assert fence.check_url("http://10.9.3.4:8080/api") is None, "a listed network allows its addresses"
    metadata = fence.check_url("http://169.254.169.254/latest/meta-data/")
    assert metadata is not None and "169.254.169.254:80 (cloud metadata address)" in metadata
    assert "not one of toko's hosts" in metadata and "allowed_hosts" in metadata
    other_port = fence.check_url("http://127.0.0.1:5432/")
    assert other_port == ("refused 127.0.0.1:5432: a loopback address; toko may reach non-public addresses only at "
                          "its base_url (127.0.0.1:8765) or where allowed_hosts lists the address or network")
    assert "not one of" in (fence.check_url("http://img.shop.com/") or ""), "*. means subdomains only"
    assert "not one of toko's hosts" in (fence.check_url("http://10.9.3.4:8081/") or ""), "listed for :8080 only"
    assert "only http and https" in (fence.check_url("file:///etc/passwd") or "")
    assert "only http and https" in (fence.check_url("gopher://127.0.0.1:8765/") or "")
    assert fence.check_url("http://[::1]:8765/") is not None, "another spelling of loopback is another host"
    with pytest.raises(ValueError, match="not a host name"):
        HostRule.parse("http://x.com")


# -- HTTP fetcher ---------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cross_host_redirect_leaves_vendor_headers_cookies_and_authorization_behind(transport: str) -> None:
    hosts_ref: list[Hosts] = []

    async def main() -> tuple[FetchedResponse, FetchedResponse, Hosts]:
        routes = {
            "/shop/away": redirect(lambda: f"http://other.test:{hosts_ref[0].other}/b", cookie=True),
            "/shop/here": redirect(lambda: "/shop/final"),
            "/shop/final": page(),
        }
        async with three_hosts(routes) as hosts:
            hosts_ref.append(hosts)
            cookies = to_httpx_cookies([Cookie(name="sid", value="shop-session", domain="shop.test")])
            fetcher = HttpFetcher(transport=transport, **FAST)  # type: ignore[arg-type]
            async with fetcher.session(fence=hosts.fence("other.test", "127.0.0.2"), cookies=cookies,
                                       headers={"X-Api-Key": SECRET_KEY, "Authorization": BEARER}) as s:
                away = await s.fetch(f"http://shop.test:{hosts.shop}/shop/away")
                here = await s.fetch(f"http://shop.test:{hosts.shop}/shop/here")
            return away, here, hosts

    away, here, hosts = run(main())
    assert away.ok and away.final_url == f"http://other.test:{hosts.other}/b"
    at_shop = hosts.seen["shop"].headers("/shop/away")
    assert at_shop["x-api-key"] == SECRET_KEY and at_shop["authorization"] == BEARER
    assert "sid=shop-session" in at_shop["cookie"]
    at_other = hosts.seen["other"].headers("/b")
    assert "x-api-key" not in at_other and "authorization" not in at_other and "cookie" not in at_other
    assert at_other["host"] == f"other.test:{hosts.other}" and at_other["user-agent"].startswith("MarketPulse")
    # within one origin a redirect keeps them
    assert here.ok and hosts.seen["shop"].headers("/shop/final")["x-api-key"] == SECRET_KEY
    assert "set_by_shop=v1" in hosts.seen["shop"].headers("/shop/final")["cookie"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_redirects_and_links_to_forbidden_places_are_refused_with_the_reason(transport: str) -> None:
    targets: dict[str, str] = {}

    async def main() -> tuple[dict[str, FetchedResponse], Hosts]:
        routes = {f"/shop/to-{name}": redirect(lambda name=name: targets[name]) for name in
                  ("metadata", "port", "private", "intranet", "other")}
        async with three_hosts(routes) as hosts:
            targets.update({
                "metadata": "http://169.254.169.254/latest/meta-data/iam/",
                "port": f"http://shop.test:{hosts.intranet}/b",  # the shop's name, another loopback port
                "private": "http://10.0.0.7/admin",
                "intranet": f"http://intranet.test:{hosts.intranet}/b",  # allowed by name, resolves to .3
                "other": f"http://other.test:{hosts.other}/b",  # not in allowed_hosts at all
            })
            fetcher = HttpFetcher(transport=transport, **FAST)  # type: ignore[arg-type]
            async with fetcher.session(fence=hosts.fence("intranet.test")) as s:
                results = {name: await s.fetch(f"http://shop.test:{hosts.shop}/shop/to-{name}") for name in targets}
                results["link"] = await s.fetch(f"http://127.0.0.1:{hosts.other}/b")  # a next-page link
            return results, hosts

    results, hosts = run(main())
    for name, response in results.items():
        assert response.error_kind == "blocked" and response.error and response.error.startswith("refused"), name
        assert response.body == b"" and "\n" not in response.error
    assert "169.254.169.254:80 (cloud metadata address): not one of shop's hosts" in (results["metadata"].error or "")
    assert "10.0.0.7:80 (private address)" in (results["private"].error or "")
    assert f"shop.test:{hosts.intranet}: it resolves to 127.0.0.1, a loopback address" in (results["port"].error or "")
    assert f"intranet.test:{hosts.intranet}: it resolves to 127.0.0.3, a loopback address" in (
        results["intranet"].error or "")
    assert "not one of shop's hosts" in (results["other"].error or "")
    assert f"127.0.0.1:{hosts.other}" in (results["link"].error or "")
    assert hosts.seen["other"].paths == [] and hosts.seen["intranet"].paths == [], "nothing reached them"
    assert len(hosts.seen["shop"].paths) == 5, "each redirect was answered, its target never asked"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_name_is_resolved_once_and_only_checked_addresses_are_used(transport: str) -> None:
    """DNS rebinding: the name first answers with an allowed address, then with one that is not.
    Every connection (one per request: the server closes them) goes to the checked address."""

    async def main() -> tuple[list[FetchedResponse], FetchedResponse, Hosts]:
        closing = page(Connection="close")
        async with three_hosts({"/": closing}, {"/b": closing}, {"/b": closing}) as hosts:
            fence = hosts.fence("cdn.test", "mixed.test", "127.0.0.2", answers={
                "cdn.test": [["127.0.0.2"], ["127.0.0.3"]],  # a rebinding answer on the second lookup
                "mixed.test": [["127.0.0.3", "127.0.0.2"]],  # a forbidden address first
            })
            fetcher = HttpFetcher(transport=transport, **FAST)  # type: ignore[arg-type]
            async with fetcher.session(fence=fence) as s:
                pages = [await s.fetch(f"http://cdn.test:{hosts.other}/b") for _ in range(3)]
            async with fetcher.session(fence=fence) as s:
                mixed = await s.fetch(f"http://mixed.test:{hosts.other}/b")
            return pages, mixed, hosts

    pages, mixed, hosts = run(main())
    assert all(p.ok for p in pages) and mixed.ok
    assert hosts.lookups.count("cdn.test") == 1, "resolved once for the fence's life"
    assert len(hosts.seen["other"].paths) == 4 and hosts.seen["intranet"].paths == []


def test_a_forbidden_answer_after_resolution_is_refused_before_connecting() -> None:
    async def main() -> tuple[FetchedResponse, Hosts]:
        async with three_hosts({"/": page()}) as hosts:
            fence = hosts.fence("cdn.test", answers={"cdn.test": [["169.254.169.254"]]})
            async with HttpFetcher(**FAST).session(fence=fence) as s:
                return await s.fetch("http://cdn.test/latest/meta-data/"), hosts

    refused, hosts = run(main())
    assert refused.error_kind == "blocked"
    assert refused.error == (f"refused cdn.test:80: it resolves to 169.254.169.254, a cloud metadata address; shop may "
                             f"reach non-public addresses only at its base_url (shop.test:{hosts.shop}) or where "
                             "allowed_hosts lists the address or network")


def test_a_secure_cookie_is_never_sent_over_http() -> None:
    cookies = [Cookie(name="secure_sid", value="s", domain="shop.test", secure=True, http_only=True),
               Cookie(name="plain", value="p", domain="shop.test"),
               Cookie(name="narrow", value="n", domain="shop.test", path="/account"),
               Cookie(name="elsewhere", value="e", domain="other.test")]

    async def main() -> Hosts:
        async with three_hosts({"/shop/a": page(), "/account/x": page()}) as hosts:
            async with HttpFetcher(**FAST).session(fence=hosts.fence(), cookies=to_httpx_cookies(cookies)) as s:
                await s.fetch(f"http://shop.test:{hosts.shop}/shop/a")
                await s.fetch(f"http://shop.test:{hosts.shop}/account/x")
            return hosts

    hosts = run(main())
    assert hosts.seen["shop"].headers("/shop/a")["cookie"] == "plain=p"
    assert sorted(hosts.seen["shop"].headers("/account/x")["cookie"].split("; ")) == ["narrow=n", "plain=p"]
    jar = to_httpx_cookies(cookies)
    kept = {c.name: c for c in jar.jar}
    assert kept["secure_sid"].secure and kept["secure_sid"].has_nonstandard_attr("HttpOnly")
    assert kept["narrow"].path == "/account"


def test_robots_txt_is_fetched_through_the_fence_too() -> None:
    async def main() -> tuple[FetchedResponse, Hosts]:
        routes = {"/robots.txt": redirect(lambda: "http://169.254.169.254/latest/user-data"), "/shop/a": page()}
        async with three_hosts(routes) as hosts:
            fence = hosts.fence()
            robots = RobotsPolicy("MarketPulse", fence=fence)
            async with HttpFetcher(**FAST).session(fence=fence, hooks=[robots]) as s:
                return await s.fetch(f"http://shop.test:{hosts.shop}/shop/a"), hosts

    response, hosts = run(main())
    assert response.error_kind == "blocked" and "robots.txt unreachable (refused 169.254.169.254:80" in (
        response.error or "")
    assert hosts.seen["shop"].paths == ["/robots.txt"], "the page itself is not fetched either (RFC 9309)"


def test_the_fence_refuses_unknown_hosts_before_any_lookup() -> None:
    looked_up: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.216.34"]

    async def main() -> None:
        fence = HostFence("https://shop.example", owner="shop", resolver=resolve)
        with pytest.raises(HostRefused, match="not one of shop's hosts"):
            await fence.addresses("evil.example", 443)
        assert [str(a) for a in await fence.addresses("shop.example", 443)] == ["93.184.216.34"]

    run(main())
    assert looked_up == ["shop.example"]


def test_a_next_page_link_off_the_vendors_hosts_ends_the_search_with_the_reason() -> None:
    from downloader.browser import BrowserFetcher
    from pipelines.scraping.crawl import crawl_vendor
    from pipelines.scraping.fetching import open_vendor_fetch
    from pipelines.vendors.config.vendor import parse_vendor

    listing = ('<li class="listing" data-id="{n}"><a class="title" href="/i/{n}">Item {n}</a>'
               '<span class="price">{n}</span></li>')
    first = ('<html><body><ul class="results">' + "".join(listing.format(n=n) for n in range(3)) +
             '</ul><a class="next" href="http://169.254.169.254/latest/meta-data/">next</a></body></html>')

    async def main() -> tuple[Any, Hosts]:
        async with three_hosts({"/shop/search": page(first)}) as hosts:
            vendor = parse_vendor({
                "name": "shop", "display_name": "Shop", "base_url": f"http://shop.test:{hosts.shop}/shop",
                "country": "US", "currency": "USD", "decimal_separator": ".", "timezone": "UTC", "history": "live",
                "search": {"url": "/search?q={query}"}, "queries": ["phone"],
                "pagination": {"kind": "next_link", "next_link": {"css": "a.next"}},
                "rate_limit": {"requests_per_second": 50, "concurrency": 2},
                "extract": {"page_marker": {"css": "ul.results"}, "items": {"css": "ul.results > li.listing"},
                            "fields": {"external_id": {"css": ":scope", "attribute": "data-id"},
                                       "title": {"css": "a.title"}, "price": {"css": "span.price"}}},
            }, source="test")
            async with open_vendor_fetch(vendor, HttpFetcher(**FAST), BrowserFetcher(), fence=hosts.fence()) as opened:
                runs = await crawl_vendor(vendor, opened.fetch, asof=None)
            return runs[0], hosts

    search, hosts = run(main())
    assert search.status == "partial" and search.items == 3
    assert search.error == ("page 2: refused 169.254.169.254:80 (cloud metadata address): not one of shop's hosts "
                            "(shop.test, no allowed_hosts); list it under allowed_hosts in the vendor file if it "
                            "belongs to the shop")
    assert hosts.seen["shop"].paths == ["/robots.txt", "/shop/search?q=phone"]


def test_allowed_hosts_are_checked_when_the_vendor_file_loads() -> None:
    import yaml

    from infra.settings import PROJECT_ROOT
    from pipelines.scraping.fetching import fence_for
    from pipelines.vendors.config.errors import VendorConfigError
    from pipelines.vendors.config.vendor import parse_vendor

    data = yaml.safe_load((PROJECT_ROOT / "vendors" / "toko.yaml").read_text(encoding="utf-8"))
    good = parse_vendor({**data, "allowed_hosts": ["cdn.shop.com", "*.shop.com:8443", "10.0.0.0/8", "[fd00::1]:80"]})
    fence = fence_for(good)
    assert fence.check_url("https://x.shop.com:8443/") is None and fence.check_url("http://10.2.3.4/") is None
    assert fence.check_url("https://x.shop.com/") is not None, "that entry is for :8443 only"
    for bad, why in (("shop com", "is not a host name"), ("https://shop.com", "is not a host name"),
                     ("shop.com:0", "port must be from 1 to 65535"), ("*.*.shop.com", "is not a host name")):
        with pytest.raises(VendorConfigError) as error:
            parse_vendor({**data, "allowed_hosts": [bad]}, source="vendors/toko.yaml")
        assert str(error.value).startswith(f"vendors/toko.yaml: allowed_hosts: {bad!r}") and why in str(error.value)


def test_one_spelling_per_host() -> None:
    fence = HostFence("https://Bücher.example./shop", ["CDN.Bücher.example"], owner="shop")
    assert fence.base_host == "xn--bcher-kva.example"
    assert fence.check_url("https://xn--bcher-kva.example/a") is None, "punycode, as transports send it"
    assert fence.check_url("https://bücher.example/a") is None and fence.check_url("https://BÜCHER.example./a") is None
    assert fence.host_allowed("cdn.xn--bcher-kva.example", 443)
    assert fence.check_url("https://bucher.example/a") is not None
