"""The API's busiest reads answered in front of FastAPI (web/api_v1/fast_reads.py) answer exactly
what the FastAPI routes answer: each request is sent once with its key forgotten (so the route
checks the key and answers) and once with the key cached (so the short path may answer), on a real
server, and the two answers must be the same bytes. Requests the short path must leave to the route
(bad parameters, unknown keys, other methods) are checked to reach the route."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from infra.database import engine_for
from infra.settings import READONLY
from tests.support.api_server import add_users_and_keys, seed_api_market
from tests.support.databases import SessionRoles, warehouse_name
from tests.support.servers import app_in_thread
from web.app import FrontDoor, create_front_door
from web.config import load_config


class CountingApp:
    """The FastAPI app, counting the requests that reach it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.calls = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


@dataclass
class Served:
    url: str
    door: FrontDoor
    route: CountingApp
    keys: dict[str, str]


@pytest.fixture(scope="module")
def served(database_url: str, test_roles: SessionRoles) -> Iterator[Served]:
    seed_api_market(database_url)
    keys = add_users_and_keys(database_url)
    door = create_front_door(load_config({"MARKET_PULSE_API_RATE_LIMIT": "10000/minute"}), database_url,
                             readonly_url=test_roles.url(warehouse_name(database_url), READONLY))
    # Remembered for a minute, not 2 s: on a slow machine a key could otherwise expire between the
    # call that caches it and the one meant to take the short path.
    door.pages.state.key_cache.ttl_seconds = 60
    route = CountingApp(door.public.app)
    door.public.app = route
    with app_in_thread(door) as url:
        yield Served(url, door, route, keys)


def fetch(served: Served, path: str, params: Any, key: str | None, *, cached: bool) -> tuple[httpx.Response, bool]:
    """The answer, and whether the FastAPI route gave it. ``cached``: the key is in the cache
    (a first call puts it there); else it is forgotten first."""
    headers = {"Authorization": f"Bearer {served.keys[key]}"} if key else {}
    cache = served.door.pages.state.key_cache
    if cached and key:
        httpx.get(served.url + "/api/v1/me", headers=headers, timeout=10)
    else:
        cache.clear()
    before = served.route.calls
    response = httpx.get(served.url + path, params=params, headers=headers, timeout=30)
    return response, served.route.calls > before


def same_answer(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    assert a.headers["content-type"] == b.headers["content-type"]
    assert a.content == b.content, (a.text, b.text)
    for name in ("x-content-type-options", "x-frame-options", "content-length"):
        assert a.headers.get(name) == b.headers.get(name), name


def next_cursor(served: Served, path: str, params: dict[str, Any]) -> str:
    response, _ = fetch(served, path, params, "ana_read", cached=False)
    cursor = response.json()["next_cursor"]
    assert cursor, response.text
    return str(cursor)


ANSWERED = [
    ("/api/v1/products/1/price-history", {}),
    ("/api/v1/products/1/price-history", {"days": "2", "observations": "true"}),
    ("/api/v1/products/2/price-history", {"days": "365", "observations": "0"}),
    ("/api/v1/products/999999/price-history", {}),  # unknown: the read's own 404
    ("/api/v1/listings", {}),
    ("/api/v1/listings", {"q": "listing", "limit": "2"}),
    ("/api/v1/listings", {"sort": "price_asc", "limit": "3", "min_price": "0", "max_price": "1000.5"}),
    ("/api/v1/listings", {"sort": "price_desc", "sold": "false", "currency": "USD", "condition": " New "}),
    ("/api/v1/listings", {"q": "", "vendor": "alpha", "unknown": "ignored"}),
    ("/api/v1/listings", [("limit", "1"), ("limit", "4")]),  # repeated: the last one counts, as in the route
    ("/api/v1/comps", {"q": "listing"}),
    ("/api/v1/comps", {"q": "  listing  ", "days": "1", "limit": "1", "currency": "USD"}),
    ("/api/v1/comps", {"q": "no such words at all"}),
]

LEFT_TO_THE_ROUTE = [
    ("/api/v1/products/0/price-history", {}),
    ("/api/v1/products/99999999999999999999/price-history", {}),
    ("/api/v1/products/1/price-history", {"days": "0"}),
    ("/api/v1/products/1/price-history", {"observations": "maybe"}),
    ("/api/v1/listings", {"limit": "101"}),
    ("/api/v1/listings", {"min_price": "5", "max_price": "1"}),
    ("/api/v1/listings", {"cursor": "bm90LWEtY3Vyc29y"}),
    ("/api/v1/listings", {"sort": "sideways"}),
    ("/api/v1/listings", {"q": "a\x00b"}),
    ("/api/v1/comps", {}),
    ("/api/v1/comps", {"q": "   "}),
]


@pytest.mark.parametrize(("path", "params"), ANSWERED)
def test_the_short_path_answers_what_the_route_answers(served: Served, path: str, params: Any) -> None:
    by_route, via_route = fetch(served, path, params, "ana_read", cached=False)
    short, via_route_again = fetch(served, path, params, "ana_read", cached=True)
    assert via_route and not via_route_again, "the cached key should have been answered in front of FastAPI"
    same_answer(by_route, short)


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
def test_a_second_page_is_the_same_either_way(served: Served, sort: str) -> None:
    first = {"sort": sort, "limit": "2"}
    params = {**first, "cursor": next_cursor(served, "/api/v1/listings", first)}
    by_route, _ = fetch(served, "/api/v1/listings", params, "ana_read", cached=False)
    short, via_route = fetch(served, "/api/v1/listings", params, "ana_read", cached=True)
    assert not via_route
    same_answer(by_route, short)
    assert by_route.json()["items"], "the second page is empty: the test proves nothing"


@pytest.mark.parametrize(("path", "params"), LEFT_TO_THE_ROUTE)
def test_bad_input_is_left_to_the_route(served: Served, path: str, params: Any) -> None:
    response, via_route = fetch(served, path, params, "ana_read", cached=True)
    assert via_route, "bad input must get the route's own error"
    assert response.status_code in (404, 422) and response.headers["content-type"] == "application/problem+json"


def test_keys_the_cache_does_not_hold_and_other_methods_go_to_the_route(served: Served) -> None:
    for key in (None, "ana_read"):
        response, via_route = fetch(served, "/api/v1/listings", {}, key, cached=False)
        assert via_route and response.status_code == (401 if key is None else 200)
    bogus = httpx.get(served.url + "/api/v1/listings", headers={"Authorization": "Bearer mpk_nope"}, timeout=10)
    assert bogus.status_code == 401
    head = httpx.head(served.url + "/api/v1/listings", headers={"Authorization": f"Bearer {served.keys['ana_read']}"},
                      timeout=10)
    assert head.status_code in (200, 405)


def test_the_short_path_counts_usage_like_the_route(served: Served, database_url: str) -> None:
    key = served.keys["vic_read"]
    before = requests_of(database_url, key)
    first, via_route = fetch(served, "/api/v1/comps", {"q": "listing"}, "vic_read", cached=False)
    assert first.status_code == 200 and via_route
    calls = served.route.calls
    for _ in range(3):
        response = httpx.get(served.url + "/api/v1/comps", params={"q": "listing"},
                             headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert response.status_code == 200
    assert served.route.calls == calls, "the three reads should have been answered in front of FastAPI"
    served.door.pages.state.meter.flush()
    assert requests_of(database_url, key) - before == 1 + 3


def requests_of(database_url: str, key: str) -> int:
    prefix = "_".join(key.split("_")[:2])
    with engine_for(database_url).connect() as conn:
        return int(conn.execute(text("SELECT coalesce(sum(u.requests), 0) FROM api_key_usage u JOIN api_keys k "
                                     "ON k.id = u.api_key_id WHERE k.key_prefix = :p"), {"p": prefix}).scalar_one())
