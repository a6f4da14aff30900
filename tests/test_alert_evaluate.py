"""Evaluating saved searches against partitions in a real warehouse: matches and outbox, exactly once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text

from pipelines.alerts import saved_search_queries
from pipelines.alerts.evaluate import evaluate_partitions
from pipelines.alerts.targets import mask_url
from pipelines.alerts.vault import open_url
from pipelines.shared.warehouse import Warehouse
from tests.support.alert_data import (
    add_product,
    add_search,
    add_snapshot,
    add_user,
    add_vendor,
    rows,
    sealing_box,
    see,
)

pytestmark = pytest.mark.usefixtures("secret_key")

D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
HOOK = "json://127.0.0.1:9/hook"
MAIL = "mailto://127.0.0.1:25?from=alerts@example.com&to=alice@example.com"


@pytest.fixture
def wh(fresh_database: str) -> Warehouse:
    return Warehouse(database_url=fresh_database)


def evaluate(wh: Warehouse, *partitions: tuple[dt.date, str]):  # type: ignore[no-untyped-def]
    with wh.begin() as conn:
        return evaluate_partitions(conn, list(partitions))


def outbox(wh: Warehouse) -> list:  # type: ignore[type-arg]
    with wh.connect() as conn:
        return rows(conn, "SELECT * FROM notifications ORDER BY id")


def test_new_match_queues_one_message_per_target_once(wh: Warehouse) -> None:
    with wh.begin() as conn:
        toko = add_vendor(conn, "toko", "IDR")
        uid = add_user(conn)
        sid = add_search(conn, uid, "iPhones", "iphone 13", urls=[HOOK, MAIL], vendors=["toko"], max_price=9_000_000,
                         currency="IDR", none_words=["case"])
        hit = see(conn, toko, "TG-1", D1, title="Apple iPhone 13 128GB", price=8_499_000, currency="IDR")
        see(conn, toko, "TG-2", D1, title="iPhone 13 silicone case", price=99_000, currency="IDR")
        see(conn, toko, "TG-3", D1, title="Apple iPhone 13 Pro", price=12_000_000, currency="IDR")
        see(conn, toko, "TG-4", D1, title="Samsung Galaxy", price=1_000_000, currency="IDR")
    summary = evaluate(wh, (D1, "toko"))
    assert (summary.listings, summary.matched_pairs, summary.matches_written, summary.notifications_queued) == (
        4, 1, 1, 2)
    assert "4 listings new or changed" in summary.describe() and "2 notifications queued" in summary.describe()
    queued = outbox(wh)
    # the outbox holds the targets sealed, labelled with their masked form
    assert sorted(open_url(sealing_box(), n.target) for n in queued) == sorted([HOOK, MAIL])
    assert sorted(n.target_label for n in queued) == sorted([mask_url(HOOK), mask_url(MAIL)])
    assert not any("127.0.0.1" in n.target for n in queued)
    assert {n.status for n in queued} == {"pending"} and queued[0].alert_match_id is not None
    assert queued[0].dedupe_key.startswith(f"alert:{sid}:{hit}:new_match:8499000:IDR:")  # whole rupiah
    assert queued[0].title == "New match: Apple iPhone 13 128GB"
    assert "8,499,000 IDR at toko" in queued[0].body and queued[0].data["idempotency_key"] in queued[0].body
    with wh.connect() as conn:
        match = rows(conn, "SELECT * FROM alert_matches")[0]
        search = rows(conn, "SELECT * FROM saved_searches")[0]
    assert (match.rule, match.price_at_match, match.last_notified_price) == ("new_match", 8_499_000, 8_499_000)
    assert search.last_checked_at is not None and search.last_matched_at is not None

    # The same partition again (a re-run of listings, or a sensor tick replayed): nothing new.
    again = evaluate(wh, (D1, "toko"))
    assert (again.matched_pairs, again.matches_written, again.notifications_queued) == (1, 0, 0)
    # A later day where nothing changed is not even a candidate.
    with wh.begin() as conn:
        see(conn, toko, "TG-1", D2, title="Apple iPhone 13 128GB", price=8_499_000, currency="IDR")
    assert evaluate(wh, (D2, "toko")).listings == 0
    assert len(outbox(wh)) == 2


def test_price_drop_since_last_notified(wh: Warehouse) -> None:
    with wh.begin() as conn:
        v = add_vendor(conn, "mercado")
        uid = add_user(conn)
        add_search(conn, uid, "ps5", "playstation", urls=[HOOK],
                   rules=[{"kind": "new_match"}, {"kind": "price_drop", "min_percent": 10}])
        see(conn, v, "MC-1", D1, title="PlayStation 5", price=500)
    evaluate(wh, (D1, "mercado"))
    with wh.begin() as conn:
        see(conn, v, "MC-1", D2, title="PlayStation 5", price=460)  # -8 %: below the threshold
    assert evaluate(wh, (D2, "mercado")).notifications_queued == 0
    with wh.begin() as conn:
        see(conn, v, "MC-1", D3, title="PlayStation 5", price=440)  # -12 % since the last *notified* 500
    drop = evaluate(wh, (D3, "mercado"))
    assert drop.events["price_drop"] == 1 and drop.notifications_queued == 1
    latest = outbox(wh)[-1]
    assert latest.title == "Price drop -12.0%: PlayStation 5"
    assert "440 EUR at mercado (was 500 EUR, -12.0%)" in latest.body
    for day in (D1, D2, D3):  # replaying any day changes nothing
        assert evaluate(wh, (day, "mercado")).notifications_queued == 0
    with wh.connect() as conn:
        assert rows(conn, "SELECT last_notified_price FROM alert_matches")[0][0] == Decimal(440)


def test_price_drop_in_a_three_decimal_currency_is_exact_and_sent_once(wh: Warehouse) -> None:
    """Fils count: 12.345 -> 11.105 KWD is a drop of 1.240 (10.0%), and its match row still compares
    equal to the staged price afterwards, so replays notify nothing."""
    with wh.begin() as conn:
        v = add_vendor(conn, "souq", "KWD")
        uid = add_user(conn)
        add_search(conn, uid, "ps5", "playstation", urls=[HOOK],
                   rules=[{"kind": "new_match"}, {"kind": "price_drop", "min_amount": "1.24"}])
        see(conn, v, "KW-1", D1, title="PlayStation 5", price=Decimal("12.345"), currency="KWD")
    assert evaluate(wh, (D1, "souq")).notifications_queued == 1
    with wh.begin() as conn:
        see(conn, v, "KW-1", D2, title="PlayStation 5", price=Decimal("11.106"), currency="KWD")  # 1.239: too little
    assert evaluate(wh, (D2, "souq")).notifications_queued == 0
    with wh.begin() as conn:
        see(conn, v, "KW-1", D3, title="PlayStation 5", price=Decimal("11.105"), currency="KWD")
    drop = evaluate(wh, (D3, "souq"))
    assert drop.events["price_drop"] == 1 and drop.notifications_queued == 1
    latest = outbox(wh)[-1]
    assert "11.105 KWD at souq (was 12.345 KWD, -10.0%)" in latest.body
    assert (latest.data["price"], latest.data["previous_price"]) == ("11.105", "12.345")
    assert ":price_drop:11.105:KWD:" in latest.dedupe_key
    for day in (D1, D2, D3):
        assert evaluate(wh, (day, "souq")).notifications_queued == 0
    with wh.connect() as conn:
        assert rows(conn, "SELECT last_notified_price FROM alert_matches")[0][0] == Decimal("11.105")


def test_price_drop_only_search_keeps_a_silent_baseline(wh: Warehouse) -> None:
    with wh.begin() as conn:
        v = add_vendor(conn, "mercado")
        uid = add_user(conn)
        add_search(conn, uid, "drops", "switch", urls=[HOOK], rules=[{"kind": "price_drop", "min_amount": 20}])
        see(conn, v, "MC-2", D1, title="Nintendo Switch OLED", price=300)
    first = evaluate(wh, (D1, "mercado"))
    assert (first.events["watch"], first.notifications_queued) == (1, 0)
    with wh.begin() as conn:
        see(conn, v, "MC-2", D2, title="Nintendo Switch OLED", price=279)
    assert evaluate(wh, (D2, "mercado")).notifications_queued == 1


def test_below_market_needs_a_big_enough_sample(wh: Warehouse) -> None:
    with wh.begin() as conn:
        v = add_vendor(conn, "chapin", "GTQ")
        product = add_product(conn, "apple-iphone-13-128")
        add_snapshot(conn, product, D1, "GTQ", 5000, sample_size=3)
        add_snapshot(conn, product, D1, "USD", 100, sample_size=50)  # other currency: never used
        uid = add_user(conn)
        add_search(conn, uid, "deals", "iphone", urls=[HOOK],
                   rules=[{"kind": "below_market", "min_percent": 20, "min_sample_size": 5}])
        see(conn, v, "CH-1", D2, title="iPhone 13 (128 GB)", price=3500, currency="GTQ", product_id=product)
    assert evaluate(wh, (D2, "chapin")).notifications_queued == 0  # sample of 3 < 5
    with wh.begin() as conn:
        add_snapshot(conn, product, D2, "GTQ", 5000, sample_size=8)
        see(conn, v, "CH-1", D3, title="iPhone 13 (128 GB)", price=3900, currency="GTQ", product_id=product)
    summary = evaluate(wh, (D3, "chapin"))
    assert summary.events["below_market"] == 1 and summary.notifications_queued == 1
    message = outbox(wh)[0]
    assert message.title == "22.0% below market: iPhone 13 (128 GB)"
    assert message.data["market_value"] == "5000.00" and message.data["market_sample_size"] == 8
    assert evaluate(wh, (D3, "chapin")).notifications_queued == 0


def test_digest_sends_one_message_per_evaluation(wh: Warehouse) -> None:
    with wh.begin() as conn:
        v = add_vendor(conn, "cardvault", "USD")
        uid = add_user(conn)
        add_search(conn, uid, "pikachu", "pikachu", urls=[HOOK, MAIL], digest=True)
        for i in range(5):
            see(conn, v, f"cv-{i}", D1, title=f"Pikachu 58/102 #{i}", price=10 + i, currency="USD")
    summary = evaluate(wh, (D1, "cardvault"))
    assert (summary.matches_written, summary.notifications_queued) == (5, 2)
    digest = outbox(wh)[0]
    assert digest.title == "pikachu: 5 alerts (5 new match)" and digest.alert_match_id is None
    assert digest.body.count("• New match") == 5 and len(digest.data["listing_ids"]) == 5
    assert evaluate(wh, (D1, "cardvault")).notifications_queued == 0


def test_inactive_searches_and_users_are_skipped(wh: Warehouse) -> None:
    with wh.begin() as conn:
        v = add_vendor(conn, "toko", "IDR")
        alice, bob = add_user(conn, "alice"), add_user(conn, "bob")
        add_search(conn, alice, "paused", "iphone", urls=[HOOK], active=False)
        add_search(conn, bob, "bob's", "iphone", urls=[HOOK], vendors=["toko"])
        conn.execute(text("UPDATE users SET is_active = false WHERE id = :id"), {"id": bob})
        see(conn, v, "TG-9", D1, title="iPhone 12", price=1, currency="IDR")
    summary = evaluate(wh, (D1, "toko"), (D1, "nowhere"))
    assert (summary.searches, summary.matched_pairs) == (0, 0)
    with wh.begin() as conn:
        conn.execute(text("UPDATE users SET is_active = true"))
    summary = evaluate(wh, (D1, "toko"), (D1, "nowhere"))
    assert summary.notifications_queued == 1 and summary.unknown_partitions == [(D1, "nowhere")]


def test_matches_and_outbox_commit_together(wh: Warehouse) -> None:
    with wh.begin() as conn:
        v = add_vendor(conn, "toko", "IDR")
        add_search(conn, add_user(conn), "s", "iphone", urls=[HOOK])
        see(conn, v, "TG-1", D1, title="iPhone 12", price=1, currency="IDR")
    with pytest.raises(RuntimeError), wh.begin() as conn:
        assert evaluate_partitions(conn, [(D1, "toko")]).notifications_queued == 1
        raise RuntimeError("crash before commit")
    with wh.connect() as conn:
        assert rows(conn, "SELECT count(*) FROM alert_matches")[0][0] == 0
    assert not outbox(wh)
    assert evaluate(wh, (D1, "toko")).notifications_queued == 1  # nothing was lost


def test_saved_search_queries_for_the_crawler(wh: Warehouse) -> None:
    with wh.begin() as conn:
        alice, bob = add_user(conn, "alice"), add_user(conn, "bob")
        add_search(conn, alice, "a", "iPhone 13", urls=[HOOK])
        add_search(conn, bob, "b", "iphone   13", urls=[HOOK])
        add_search(conn, alice, "c", "pikachu", urls=[HOOK], vendors=["cardvault"])
        add_search(conn, alice, "d", "switch", urls=[HOOK], vendors=["toko", "mercado"])
        add_search(conn, bob, "e", "paused", urls=[HOOK], active=False)
        assert saved_search_queries(conn) == {None: ["iPhone 13"], "cardvault": ["pikachu"], "toko": ["switch"],
                                              "mercado": ["switch"]}


def test_a_new_snapshot_day_reevaluates_below_market(wh: Warehouse) -> None:
    """Products and snapshots are computed after the listings: a price_snapshots day re-evaluates it."""
    with wh.begin() as conn:
        v = add_vendor(conn, "chapin", "GTQ")
        add_search(conn, add_user(conn), "deals", "iphone", urls=[HOOK],
                   rules=[{"kind": "new_match"}, {"kind": "below_market", "min_percent": 20, "min_sample_size": 3}])
        listing = see(conn, v, "CH-1", D1, title="iPhone 13", price=3500, currency="GTQ")
    assert evaluate(wh, (D1, "chapin")).events["new_match"] == 1  # no product, no snapshot yet
    with wh.begin() as conn:
        product = add_product(conn, "apple-iphone-13")
        conn.execute(text("UPDATE listings SET product_id = :p WHERE id = :l"), {"p": product, "l": listing})
        add_snapshot(conn, product, D1, "GTQ", 5000, sample_size=4)
    summary = evaluate(wh, (D1, None))
    assert summary.partitions == [(D1, "chapin")] and summary.events["below_market"] == 1
    assert [n.title for n in outbox(wh)] == ["New match: iPhone 13", "30.0% below market: iPhone 13"]
    assert evaluate(wh, (D1, None)).notifications_queued == 0
