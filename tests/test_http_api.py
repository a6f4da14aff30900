"""The HTTP API on a real server with a real client: keys and scopes, the caller's own objects,
keyset pages, Problem Details, rate limits and usage, and answers checked against the warehouse."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from infra.database import connect, engine_for
from infra.settings import PROJECT_ROOT
from tests.support.api_server import ApiWorld, add_users_and_keys, api_server, seed_api_market
from tests.support.databases import SessionRoles, warehouse_name
from web.api_keys import create_key, revoke_key

READ_PATHS = ["/api/v1/vendors", "/api/v1/products", "/api/v1/products/1", "/api/v1/products/1/price-history",
              "/api/v1/listings", "/api/v1/listings/1", "/api/v1/comps?q=listing",
              "/api/v1/analytics/popular-searches", "/api/v1/analytics/vendor-performance", "/api/v1/saved-searches",
              "/api/v1/saved-searches/1", "/api/v1/notifications", "/api/v1/me"]


@pytest.fixture(scope="module")
def world(database_url: str, test_roles: SessionRoles) -> Iterator[ApiWorld]:
    market = seed_api_market(database_url)
    keys = add_users_and_keys(database_url)
    with api_server(database_url, test_roles) as (url, readonly_url):
        yield ApiWorld(url=url, database_url=database_url, readonly_url=readonly_url, market=market, keys=keys)


def get(world: ApiWorld, path: str, key: str | None = "ana_read", **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world.keys[key]}"} if key else {}
    return httpx.get(f"{world.url}{path}", params=params, headers=headers, timeout=30)


def send(world: ApiWorld, method: str, path: str, key: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{world.url}{path}", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {world.keys[key]}"})


def rows(world: ApiWorld, sql: str, **params: Any) -> list[Any]:
    with engine_for(world.database_url).connect() as conn:
        return list(conn.execute(text(sql), params))


def assert_problem(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text and "File \"" not in response.text
    for word in words:
        assert word in body["detail"], body
    return body


# --- health, keys, scopes -----------------------------------------------------------------------------


def test_health_needs_no_key_and_says_nothing_more(world: ApiWorld) -> None:
    for path, status in (("/api/v1/health", "ok"), ("/api/v1/health/ready", "ready")):
        response = httpx.get(world.url + path, timeout=10)
        assert response.status_code == 200 and response.json() == {"status": status}


def test_every_read_endpoint_needs_a_key(world: ApiWorld) -> None:
    for path in READ_PATHS:
        assert_problem(httpx.get(world.url + path, timeout=10), 401, "API key")
        response = httpx.get(world.url + path, headers={"Authorization": "Bearer mpk_aaaaaaaaaaaa_" + "x" * 43},
                             timeout=10)
        assert_problem(response, 401)


def test_write_needs_the_write_scope(world: ApiWorld) -> None:
    body = {"name": "n", "query": "listing", "notify": {"urls": ["json://localhost/hook"]}}
    assert_problem(send(world, "POST", "/api/v1/saved-searches", "ana_read", body), 403, "write")
    assert_problem(send(world, "DELETE", "/api/v1/saved-searches/1", "vic_read"), 403, "write")


def test_revoked_and_expired_keys_are_refused(world: ApiWorld) -> None:
    with engine_for(world.database_url).begin() as conn:
        revoked = create_key(conn, "ana", "read", expires_at=None)
        expiring = create_key(conn, "ana", "read", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    for made in (revoked, expiring):
        ok = httpx.get(world.url + "/api/v1/vendors", headers={"Authorization": f"Bearer {made.key}"}, timeout=10)
        assert ok.status_code == 200, ok.text
    with engine_for(world.database_url).begin() as conn:
        revoke_key(conn, str(revoked.id))
        conn.execute(text("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :id"),
                     {"id": expiring.id})
    for made in (revoked, expiring):  # an accepted key is remembered for 2 s (web/key_cache.py)
        deadline = time.monotonic() + 10
        while (refused := httpx.get(world.url + "/api/v1/vendors", headers={"Authorization": f"Bearer {made.key}"},
                                    timeout=10)).status_code == 200:
            assert time.monotonic() < deadline, "a revoked or expired key is still accepted"
            time.sleep(0.2)
        assert_problem(refused, 401, "not valid")


def test_a_read_whose_connection_was_closed_is_run_again(world: ApiWorld, test_roles: SessionRoles) -> None:
    """The read pool does not ping connections before lending them: a read that finds its connection
    closed by the server (a restart, an administrator) runs again on a fresh one."""
    assert get(world, "/api/v1/vendors").status_code == 200
    with connect(test_roles.admin, autocommit=True) as conn:
        closed = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE usename = %s AND datname = %s",
                              (test_roles.names.readonly, warehouse_name(world.database_url))).fetchone()
    assert closed is not None and closed[0] >= 1, "the pool kept no connection to close"
    for path in ("/api/v1/vendors", "/api/v1/listings", "/api/v1/health/ready"):
        response = get(world, path)
        assert response.status_code == 200, response.text


def test_reads_go_through_the_read_only_role(world: ApiWorld, test_roles: SessionRoles) -> None:
    with engine_for(world.readonly_url).connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == test_roles.names.readonly
    assert get(world, "/api/v1/me").json()["user"] == "ana"


# --- reads checked against the warehouse ----------------------------------------------------------------


def test_vendors_and_products(world: ApiWorld) -> None:
    vendors = get(world, "/api/v1/vendors").json()
    assert [v["name"] for v in vendors] == [r.name for r in rows(world, "SELECT name FROM vendors ORDER BY name")]
    products = get(world, "/api/v1/products", limit=2).json()
    assert len(products["items"]) == 2 and products["next_cursor"]
    rest = get(world, "/api/v1/products", limit=100, cursor=products["next_cursor"]).json()
    ids = [p["id"] for p in products["items"] + rest["items"]]
    assert ids == sorted(world.market.product_ids) and rest["next_cursor"] is None
    found = get(world, "/api/v1/products", q="product 3").json()["items"]
    assert [p["name"] for p in found] == ["Product 3"]
    one = get(world, f"/api/v1/products/{ids[0]}").json()
    assert one["listings"] == rows(world, "SELECT count(*) AS n FROM listings WHERE product_id = :p", p=ids[0])[0].n
    assert_problem(get(world, "/api/v1/products/999999999"), 404, "no product")


def test_price_history_is_the_snapshots(world: ApiWorld) -> None:
    product = world.market.product_ids[0]
    history = get(world, f"/api/v1/products/{product}/price-history", days=30, observations="true").json()
    expected = rows(world, "SELECT snapshot_date, currency, market_value, fmv_low, fmv_high, sample_size "
                    "FROM price_snapshots WHERE product_id = :p ORDER BY 1, 2", p=product)
    assert len(expected) >= 4
    got = [(dt.date.fromisoformat(s["snapshot_date"]), s["currency"], Decimal(s["market_value"]),
            Decimal(s["fmv_low"]), Decimal(s["fmv_high"]), s["sample_size"]) for s in history["snapshots"]]
    assert got == [tuple(r) for r in expected]
    assert history["observations"] and all(o["listing_id"] for o in history["observations"])
    one_day = get(world, f"/api/v1/products/{product}/price-history", days=1).json()
    assert {s["snapshot_date"] for s in one_day["snapshots"]} == {str(dt.datetime.now(dt.UTC).date())}
    assert one_day["observations"] is None
    assert_problem(get(world, "/api/v1/products/999999999/price-history"), 404)


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
def test_listing_pages_walk_every_row_once(world: ApiWorld, sort: str) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 7, "sort": sort, **({"cursor": cursor} if cursor else {})}
        page = get(world, "/api/v1/listings", **params).json()
        assert len(page["items"]) <= 7
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    where = "" if sort == "newest" else "WHERE price IS NOT NULL"
    expected = rows(world, f"SELECT id FROM listings {where}")
    assert sorted(i["id"] for i in seen) == sorted(r.id for r in expected)
    assert pages == -(-len(expected) // 7)
    if sort == "newest":
        keys = [(i["last_seen_at"], i["id"]) for i in seen]
        assert keys == sorted(keys, reverse=True)
    else:
        keys = [(Decimal(i["price"]), i["id"]) for i in seen]
        assert keys == sorted(keys, reverse=sort == "price_desc")


def test_listing_filters(world: ApiWorld) -> None:
    page = get(world, "/api/v1/listings", vendor="chapin", currency="GTQ", min_price="500", max_price="2000",
               limit=100).json()
    expected = rows(world, "SELECT l.id FROM listings l JOIN vendors v ON v.id = l.vendor_id WHERE v.name = 'chapin' "
                    "AND l.currency = 'GTQ' AND l.price BETWEEN 500 AND 2000")
    assert expected and sorted(i["id"] for i in page["items"]) == sorted(r.id for r in expected)
    sold = get(world, "/api/v1/listings", sold="true", limit=100).json()["items"]
    assert sold and all(i["is_sold"] for i in sold)
    assert len(sold) == len(rows(world, "SELECT id FROM listings WHERE is_sold"))
    titled = get(world, "/api/v1/listings", q="listing 1", vendor="toko", limit=100).json()["items"]
    # the words in this order, anywhere: "Listing 1", "Listing 16", "Listing 21"
    assert titled and all(re.search(r"listing.*1", i["title"], re.IGNORECASE) for i in titled)
    assert len(titled) == len(rows(world, "SELECT l.id FROM listings l JOIN vendors v ON v.id = l.vendor_id "
                                   "WHERE v.name = 'toko' AND l.title ~* 'listing.*1'"))
    assert get(world, "/api/v1/listings", q="100%_off").json()["items"] == []


def test_listing_with_its_price_history(world: ApiWorld) -> None:
    listing_id = rows(world, "SELECT listing_id FROM price_observations GROUP BY 1 "
                      "ORDER BY count(*) DESC LIMIT 1")[0][0]
    listing = get(world, f"/api/v1/listings/{listing_id}").json()
    expected = rows(world, "SELECT observed_at, price FROM price_observations WHERE listing_id = :l ORDER BY 1",
                    l=listing_id)
    assert [(o["observed_at"], Decimal(o["price"])) for o in listing["price_history"]] == \
        [(r.observed_at.isoformat().replace("+00:00", "Z"), r.price) for r in expected] or \
        [Decimal(o["price"]) for o in listing["price_history"]] == [r.price for r in expected]
    assert_problem(get(world, "/api/v1/listings/999999999"), 404, "no listing")


def _percentile(values: list[Decimal], q: float) -> float:
    position = q * (len(values) - 1)
    low, high = int(position), min(int(position) + 1, len(values) - 1)
    return float(values[low]) + (position - low) * (float(values[high]) - float(values[low]))


def test_comps_band_is_the_trimmed_percentiles(world: ApiWorld) -> None:
    comps = get(world, "/api/v1/comps", q="Listing", currency="USD", days=30).json()
    prices = sorted(r.price for r in rows(
        world, "SELECT price FROM listings WHERE currency = 'USD' AND price IS NOT NULL AND price_kind = 'priced' "
        "AND ((NOT is_sold AND NOT is_removed) OR (is_sold AND sold_at > now() - interval '30 days'))"))
    q1, q3 = _percentile(prices, 0.25), _percentile(prices, 0.75)
    kept = [p for p in prices if q1 - 1.5 * (q3 - q1) <= float(p) <= q3 + 1.5 * (q3 - q1)]
    assert len(kept) < len(prices), "the market has outliers to trim"
    [band] = comps["bands"]
    assert band["sample_size"] == len(prices) and band["kept"] == len(kept)
    for name, q in (("fmv_low", 0.25), ("market_value", 0.5), ("fmv_high", 0.75), ("quick_sale", 0.2),
                    ("patient_sale", 0.8)):
        assert abs(float(band[name]) - _percentile(kept, q)) <= 0.005, name
    assert comps["listings"] and comps["as_of"]
    assert_problem(get(world, "/api/v1/comps"), 422, "q")


def test_analytics(world: ApiWorld) -> None:
    popular = get(world, "/api/v1/analytics/popular-searches", days=7).json()
    expected = rows(world, "SELECT query, sum(searches) AS n FROM search_query_stats GROUP BY 1 ORDER BY 2 DESC, 1")
    assert [(p["query"], p["searches"]) for p in popular] == [(r.query, r.n) for r in expected]
    toko = get(world, "/api/v1/analytics/vendor-performance", vendor="toko", days=30).json()
    assert len(toko) == 4 and {d["vendor"] for d in toko} == {"toko"}
    assert len(get(world, "/api/v1/analytics/vendor-performance").json()) == 12
    assert_problem(get(world, "/api/v1/analytics/vendor-performance", vendor="nope"), 404, "nope")


# --- the caller's own objects ----------------------------------------------------------------------------


def test_saved_searches_are_the_callers_own(world: ApiWorld, secret_key: str) -> None:
    body = {"name": "cheap iphones", "query": "iphone 15", "price": {"max": "900", "currency": "USD"},
            "rules": ["new", "drop:10%"], "notify": {"urls": ["json://alice:hunter2@localhost:9/hook"]}}
    created = send(world, "POST", "/api/v1/saved-searches", "ana_write", body)
    assert created.status_code == 201, created.text
    mine = created.json()
    assert mine["name"] == "cheap iphones" and mine["is_active"]
    assert "hunter2" not in created.text and mine["targets"][0]["label"]
    sid = mine["id"]
    assert_problem(send(world, "POST", "/api/v1/saved-searches", "ana_write", body), 409, "already")
    # bob sees none of it: 404, as if it did not exist
    assert get(world, "/api/v1/saved-searches", "bob_read").json() == []
    assert_problem(get(world, f"/api/v1/saved-searches/{sid}", "bob_read"), 404)
    assert_problem(send(world, "PATCH", f"/api/v1/saved-searches/{sid}", "bob_write", {"active": False}), 404)
    assert_problem(send(world, "DELETE", f"/api/v1/saved-searches/{sid}", "bob_write"), 404)
    assert get(world, f"/api/v1/saved-searches/{sid}").json()["is_active"] is True
    paused = send(world, "PATCH", f"/api/v1/saved-searches/{sid}", "ana_write", {"active": False, "name": "later"})
    assert paused.status_code == 200 and paused.json()["is_active"] is False and paused.json()["name"] == "later"
    assert [s["id"] for s in get(world, "/api/v1/saved-searches").json()] == [sid]
    bad = send(world, "POST", "/api/v1/saved-searches", "ana_write", {**body, "name": "x", "rules": ["sometimes"]})
    assert_problem(bad, 422, "rules")
    leak = send(world, "POST", "/api/v1/saved-searches", "ana_write",
                {**body, "name": "y", "notify": {"urls": ["json://localhost/${MARKET_PULSE_SECRET_KEY}"]}})
    assert_problem(leak, 422, "notify.urls")
    assert_problem(send(world, "POST", "/api/v1/saved-searches", "ana_write", {"name": "z"}), 422, "query", "notify")
    assert send(world, "DELETE", f"/api/v1/saved-searches/{sid}", "ana_write").status_code == 204
    assert_problem(get(world, f"/api/v1/saved-searches/{sid}"), 404)


def test_notifications_are_the_callers_own(world: ApiWorld) -> None:
    with engine_for(world.database_url).begin() as conn:
        for user in ("ana", "bob"):
            for i in range(3):
                conn.execute(text(
                    "INSERT INTO notifications (user_id, dedupe_key, target, target_label, title, body) "
                    "SELECT id, :k, 'sealed', 'json://****@host', :t, 'body' FROM users WHERE username = :u"),
                    {"k": f"{user}-{i}", "t": f"for {user} {i}", "u": user})
    first = get(world, "/api/v1/notifications", "bob_read", limit=2).json()
    rest = get(world, "/api/v1/notifications", "bob_read", limit=2, cursor=first["next_cursor"]).json()
    titles = [n["title"] for n in first["items"] + rest["items"]]
    assert titles == ["for bob 2", "for bob 1", "for bob 0"] and rest["next_cursor"] is None
    assert "sealed" not in str(first)


# --- input, errors, limits, usage -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/listings", {"limit": 101}, "limit"),
    ("/api/v1/listings", {"limit": 0}, "limit"),
    ("/api/v1/listings", {"min_price": "abc"}, "min_price"),
    ("/api/v1/listings", {"min_price": "5", "max_price": "1"}, "min_price"),
    ("/api/v1/listings", {"sort": "random"}, "sort"),
    ("/api/v1/listings", {"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ("/api/v1/listings", {"currency": "usd"}, "currency"),
    ("/api/v1/listings", {"q": "a\x00b"}, "q"),
    ("/api/v1/products/0", {}, "product_id"),
    ("/api/v1/products/99999999999999999999", {}, "product_id"),
    ("/api/v1/products/1/price-history", {"days": 0}, "days"),
    ("/api/v1/analytics/popular-searches", {"days": 9999}, "days"),
])
def test_bad_input_is_a_422_naming_the_field(world: ApiWorld, path: str, params: dict[str, Any], field: str) -> None:
    assert_problem(get(world, path, **params), 422, field)


def test_a_cursor_of_another_sort_is_refused(world: ApiWorld) -> None:
    cursor = get(world, "/api/v1/listings", limit=1).json()["next_cursor"]
    assert_problem(get(world, "/api/v1/listings", sort="price_asc", cursor=cursor), 422, "cursor")


def test_unknown_paths_are_problems_too(world: ApiWorld) -> None:
    assert_problem(get(world, "/api/v1/nothing-here"), 404)
    assert_problem(httpx.put(world.url + "/api/v1/vendors", timeout=10,
                             headers={"Authorization": f"Bearer {world.keys['ana_read']}"}), 405)


def test_docs_and_schema_are_served(world: ApiWorld) -> None:
    spec = httpx.get(world.url + "/api/v1/openapi.json", timeout=10).json()
    assert "/api/v1/listings" in spec["paths"] and "/api/v1/comps" in spec["paths"]
    page = httpx.get(world.url + "/api/v1/docs", timeout=10)
    assert page.status_code == 200 and "<script" not in page.text
    for path in spec["paths"]:
        assert path in page.text


def test_rate_limit_answers_429_with_retry_after(database_url: str, test_roles: SessionRoles,
                                                 world: ApiWorld) -> None:
    with api_server(database_url, test_roles, rate_limit="3/minute") as (url, _):
        headers = {"Authorization": f"Bearer {world.keys['vic_read']}"}
        assert [httpx.get(url + "/api/v1/vendors", headers=headers, timeout=10).status_code for _ in range(3)] == \
            [200] * 3
        refused = httpx.get(url + "/api/v1/vendors", headers=headers, timeout=10)
        assert_problem(refused, 429, "3 per 1 minute")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        other = httpx.get(url + "/api/v1/vendors", headers={"Authorization": f"Bearer {world.keys['bob_read']}"},
                          timeout=10)
        assert other.status_code == 200, "limits are per key"


def test_the_rate_limit_is_a_moving_window_per_key() -> None:
    from web.api_v1.metering import RateLimits

    now = [1000.0]
    limits = RateLimits("3/minute", clock=lambda: now[0])
    assert [limits.retry_after(1) for _ in range(3)] == [None] * 3
    now[0] += 20
    assert limits.retry_after(1) == 40, "the first request leaves the window 60 s after it was made"
    assert limits.retry_after(2) is None, "limits are per key"
    now[0] += 40
    assert [limits.retry_after(1) for _ in range(4)] == [None, None, None, 60], "refused requests are not counted"


def test_usage_is_counted_per_key_and_day_and_shown_by_the_cli(world: ApiWorld) -> None:
    key = world.keys["bob_read"]
    before = _requests_of(world, key)
    for _ in range(5):
        assert get(world, "/api/v1/vendors", "bob_read").status_code == 200
    deadline = time.monotonic() + 10
    while _requests_of(world, key) < before + 5:
        assert time.monotonic() < deadline, "usage not recorded"
        time.sleep(0.1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_PULSE_", "DAGSTER_"))}
    env["MARKET_PULSE_DATABASE_URL"] = world.database_url
    shown = subprocess.run([sys.executable, "-m", "cli", "keys", "usage", "--user", "bob"], cwd=PROJECT_ROOT,
                           env=env, capture_output=True, text=True, timeout=120, check=False)
    assert shown.returncode == 0, shown.stderr
    assert key.split("_")[1] in shown.stdout and "requests" in shown.stdout
    assert "ana" not in shown.stdout


def _requests_of(world: ApiWorld, key: str) -> int:
    prefix = "_".join(key.split("_")[:2])
    found = rows(world, "SELECT coalesce(sum(u.requests), 0) AS n FROM api_key_usage u JOIN api_keys k "
                 "ON k.id = u.api_key_id WHERE k.key_prefix = :p", p=prefix)
    return int(found[0].n)


def test_the_api_usage_rollup_sums_each_users_keys(world: ApiWorld) -> None:
    from dagster import DagsterInstance, materialize

    from pipelines.analytics.assets import api_usage
    from pipelines.shared.warehouse import Warehouse

    today = dt.datetime.now(dt.UTC).date()
    for key in ("ana_read", "ana_write"):
        assert get(world, "/api/v1/vendors", key).status_code == 200
    deadline = time.monotonic() + 10
    while rows(world, "SELECT count(*) AS n FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id "
               "JOIN users us ON us.id = k.user_id WHERE us.username = 'ana' AND u.usage_date = :d", d=today)[0].n < 2:
        assert time.monotonic() < deadline, "usage not recorded"
        time.sleep(0.1)
    for _ in range(2):  # idempotent: a re-run replaces the day
        result = materialize([api_usage], partition_key=today.isoformat(), instance=DagsterInstance.ephemeral(),
                             resources={"warehouse": Warehouse(database_url=world.database_url)})
        assert result.success
    expected = rows(world, "SELECT k.user_id, count(*) AS keys, sum(u.requests) AS requests FROM api_key_usage u "
                    "JOIN api_keys k ON k.id = u.api_key_id WHERE u.usage_date = :d GROUP BY 1 ORDER BY 1", d=today)
    got = rows(world, "SELECT user_id, keys, requests FROM api_usage_daily WHERE usage_date = :d ORDER BY 1", d=today)
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]
    assert any(r.keys >= 2 for r in got)


def test_more_concurrent_requests_than_connections_all_answer(world: ApiWorld) -> None:
    """60 at once against pools of 10 connections and 40 worker threads: no request may hold a
    connection while it waits for a thread (that deadlocks until the pool's timeout)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(n: int) -> int:
        path = ("/api/v1/listings", "/api/v1/comps", "/api/v1/vendors")[n % 3]
        return get(world, path, q="listing", limit=5).status_code if n % 3 < 2 else get(world, path).status_code

    with ThreadPoolExecutor(60) as pool:
        statuses = list(pool.map(one, range(120)))
    assert statuses == [200] * 120  # a deadlock ends in 500s when the pool's 30 s timeout strikes
