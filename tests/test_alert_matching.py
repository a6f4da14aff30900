"""Matching, pure: criteria semantics, the trigram index agreeing with them, and which rule fires."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.alerts.criteria import SearchCriteria
from pipelines.alerts.matching import CriteriaIndex, Listing, Market, MatchState, decide, evaluate, matches
from pipelines.alerts.messages import digest_message, idempotency_key, single_message
from pipelines.alerts.text import normalize

D = Decimal


def listing(title: str = "Apple iPhone 13 128GB - Midnight", **kw) -> Listing:  # type: ignore[no-untyped-def]
    base = dict(id=1, vendor="toko", title=title, price=D("8499000"), currency="IDR", condition="used",
                location="Jakarta Selatan", attributes={"Penyimpanan": "128 GB", "Warna": "Midnight"}, product_id=7,
                url="http://127.0.0.1:8765/toko/item/TG-000001")
    base.update(kw)
    return Listing(**base)  # type: ignore[arg-type]


def crit(**kw) -> SearchCriteria:  # type: ignore[no-untyped-def]
    kw.setdefault("all_words", ["iphone"])
    return SearchCriteria(**kw)


def test_normalisation_matches_the_shops_search() -> None:
    assert normalize("Pokémon  Pikachu 58/102™ — PSA\u00a09") == "pokemon pikachu 58 102tm psa 9"
    assert normalize("Poke\u0301mon") == "pokemon"
    assert normalize(None) == ""


def test_word_and_field_semantics() -> None:
    item = listing()
    assert matches(crit(all_words=["iphone 13", "128gb"]), item)
    assert not matches(crit(all_words=["iphone", "14"]), item)
    assert matches(crit(any_words=["galaxy", "midnight"], all_words=[]), item)
    assert not matches(crit(none_words=["midnight"]), item)
    assert matches(crit(vendors=["toko", "chapin"]), item) and not matches(crit(vendors=["chapin"]), item)
    assert matches(crit(min_price=8_000_000, max_price=8_499_000, currency="IDR"), item)  # inclusive
    assert not matches(crit(max_price=8_000_000, currency="IDR"), item)
    assert not matches(crit(min_price=1, currency="EUR"), item)  # never across currencies
    assert not matches(crit(min_price=1, currency="IDR"), listing(price=None))
    assert matches(crit(currency="IDR"), listing(price=None))
    assert matches(crit(conditions=["Used", "new"]), item) and not matches(crit(conditions=["new"]), item)
    assert matches(crit(locations=["jakarta"]), item) and not matches(crit(locations=["bandung"]), item)
    assert matches(crit(attributes={"penyimpanan": "128"}), item)
    assert not matches(crit(attributes={"penyimpanan": "256"}), item)
    assert not matches(crit(attributes={"ram": "8"}), item)


TITLES = ["Apple iPhone 13 128GB", "iPhone 12 mini", "Samsung Galaxy S21", "PlayStation 5 Digital",
          "Pokémon Pikachu 58/102 Base Set", "Charizard 4/102 Holo PSA 9", "Galaxy Buds Pro", "ipad air",
          "Nintendo Switch OLED", "Xbox Series X"]
WORDS = ["iphone", "13", "galaxy", "pro", "pikachu", "58 102", "psa", "x", "series x", "ps", "mini", "air",
         "playstation", "holo", "s21", "nintendo switch", "5"]


@st.composite
def criteria_strategy(draw) -> SearchCriteria:  # type: ignore[no-untyped-def]
    all_words = draw(st.lists(st.sampled_from(WORDS), max_size=3, unique=True))
    any_words = draw(st.lists(st.sampled_from(WORDS), max_size=3, unique=True))
    if not all_words and not any_words:
        all_words = [draw(st.sampled_from(WORDS))]
    none_words = [w for w in draw(st.lists(st.sampled_from(WORDS), max_size=2, unique=True))
                  if w not in all_words and w not in any_words]
    vendors = draw(st.lists(st.sampled_from(["toko", "chapin"]), max_size=1))
    return SearchCriteria(all_words=all_words, any_words=any_words, none_words=none_words, vendors=vendors)


@settings(max_examples=60, deadline=None)
@given(st.lists(criteria_strategy(), min_size=1, max_size=25),
       st.lists(st.tuples(st.sampled_from(TITLES), st.sampled_from(["toko", "chapin"])), min_size=1, max_size=10))
def test_index_agrees_with_reference_semantics(searches: list[SearchCriteria], items: list[tuple[str, str]]) -> None:
    index = CriteriaIndex(enumerate(searches))
    for i, (title, vendor) in enumerate(items):
        item = listing(title=title, vendor=vendor, id=i)
        assert index.match(item) == [k for k, c in enumerate(searches) if matches(c, item)]


def test_index_files_short_words_as_unindexed() -> None:
    index = CriteriaIndex([("a", crit(all_words=["5"])), ("b", crit(all_words=["st", "playstation"]))])
    assert index.unindexed == 1 and len(index) == 2
    assert index.match(listing(title="PlayStation 5")) == ["a", "b"]


def test_decide_without_a_match_row() -> None:
    item = listing(price=D(100), currency="EUR")
    event = decide(crit(), item, None)
    assert event is not None and (event.action, event.rule, event.notify) == ("insert", "new_match", True)
    watch = decide(crit(rules=[{"kind": "price_drop", "min_percent": 10}]), item, None)
    assert watch is not None and (watch.rule, watch.notify) == ("watch", False)
    only_market = crit(rules=[{"kind": "below_market", "min_percent": 20, "min_sample_size": 5}])
    assert decide(only_market, item, None) is None
    assert decide(only_market, item, None, Market(D(200), 4)) is None  # sample too small
    assert decide(only_market, item, None, Market(D(120), 10)) is None  # only 16.7 % below
    below = decide(only_market, item, None, Market(D(125), 5))
    assert below is not None and (below.rule, below.below_percent, below.below_market_notified) == (
        "below_market", D("20.0"), True)
    both = crit(rules=[{"kind": "new_match"}, {"kind": "below_market", "min_percent": 10}])
    assert decide(both, item, None, Market(D(200), 9)).rule == "below_market"  # type: ignore[union-attr]


def test_decide_price_drop_since_last_notified() -> None:
    rules = crit(rules=[{"kind": "new_match"}, {"kind": "price_drop", "min_percent": 10, "min_amount": 30}])
    state = MatchState("new_match", D(100), "EUR")
    assert decide(rules, listing(price=D(95), currency="EUR"), state) is None  # 5 %, 5 EUR
    drop = decide(rules, listing(price=D(90), currency="EUR"), state)
    assert drop is not None and (drop.rule, drop.action, drop.expected_price, drop.drop_percent) == (
        "price_drop", "update", D(100), D("10.0"))
    big = crit(rules=[{"kind": "price_drop", "min_amount": 30}])
    assert decide(big, listing(price=D(1000), currency="EUR"), MatchState("watch", D(1029), "EUR")) is None
    assert decide(big, listing(price=D(999), currency="EUR"), MatchState("watch", D(1029), "EUR")).rule == "price_drop"  # type: ignore[union-attr]
    assert decide(rules, listing(price=D(150), currency="EUR"), state) is None  # a rise is no event
    assert decide(rules, listing(price=D(50), currency="USD"), state).rule == "baseline"  # type: ignore[union-attr]
    assert decide(rules, listing(price=D(50), currency="EUR"), MatchState("new_match", None)).rule == "baseline"  # type: ignore[union-attr]
    # Re-evaluating after the drop was recorded: nothing new.
    assert decide(rules, listing(price=D(90), currency="EUR"), MatchState("new_match", D(90), "EUR")) is None


def test_decide_below_market_once() -> None:
    rules = crit(rules=[{"kind": "new_match"}, {"kind": "below_market", "min_percent": 20}])
    market = Market(D(200), 10)
    first = decide(rules, listing(price=D(150), currency="EUR"), MatchState("new_match", D(180), "EUR"), market)
    assert first is not None and first.rule == "below_market"
    assert decide(rules, listing(price=D(150), currency="EUR"),
                  MatchState("below_market", D(150), "EUR", below_market_notified=True), market) is None


def test_evaluate_and_messages() -> None:
    searches = {1: crit(), 2: crit(all_words=["galaxy"]), 3: crit(rules=[{"kind": "price_drop", "min_percent": 5}])}
    items = [listing(id=10), listing(id=11, title="Samsung Galaxy S21", price=D(5_000_000))]
    states = {(3, 10): MatchState("watch", D(9_500_000))}
    events = evaluate(CriteriaIndex(searches.items()), searches, items, states, {})
    assert [(k, lst.id, e.rule) for k, lst, e in events] == [(1, 10, "new_match"), (3, 10, "price_drop"),
                                                              (2, 11, "new_match")]
    _, item, event = events[1]
    ref = idempotency_key("alert:3:10:price_drop")
    title, body = single_message("Cheap iPhones", item, event, ref)
    assert title.startswith("Price drop -10.5%: Apple iPhone 13")
    assert "8,499,000 IDR at toko (was 9,500,000 IDR, -10.5%)" in body and body.endswith(f"ref: {ref}")
    title, body = digest_message("Phones", [(lst, e) for _, lst, e in events], ref)
    assert title == "Phones: 3 alerts (2 new match, 1 price drop)"
    assert body.count("• ") == 3
