"""Alert matching, pure Python: does a listing match a saved search, and which rule fires.

Three layers, each usable alone:

- :func:`matches` — the reference semantics of :class:`~pipelines.alerts.criteria.SearchCriteria`
  against one listing.
- :class:`CriteriaIndex` — the same answers for many searches at once: every search is indexed
  under one character trigram its title must contain (taken from its rarest required word), so
  a listing is only checked against the searches whose trigram occurs in its title. Tested to
  agree with :func:`matches` on every pair.
- :func:`decide` — given a matching listing, what is already known about it for this search
  (its ``alert_matches`` row, if any) and its product's market, which event happens: a new
  match, a price drop, a below-market price, a silent baseline, or nothing.

Nothing here touches SQL, Dagster or the network.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pipelines.alerts.criteria import SearchCriteria
from pipelines.alerts.text import normalize

K = TypeVar("K", bound=Hashable)  # what a caller keys its searches by (an id, a name)

HUNDRED = Decimal(100)


@dataclass(slots=True)
class Listing:
    """A listing new or changed in an evaluated partition, in its current state."""

    id: int
    vendor: str
    title: str
    price: Decimal | None
    currency: str
    condition: str | None = None
    location: str | None = None
    attributes: Mapping[str, str | None] = field(default_factory=dict)
    product_id: int | None = None
    url: str | None = None
    first_seen: bool = False
    """True when the evaluated partition is the listing's first sighting."""


class Prepared:
    """A listing with its text normalised once (matching many searches against it is then cheap).

    The title is normalised up front; condition, location and attributes only when a search asks."""

    __slots__ = ("_attributes", "_condition", "_location", "listing", "title")

    def __init__(self, listing: Listing) -> None:
        self.listing = listing
        self.title = normalize(listing.title)
        self._condition: str | None = None
        self._location: str | None = None
        self._attributes: dict[str, str] | None = None

    @classmethod
    def of(cls, listing: Listing) -> Prepared:
        return cls(listing)

    @property
    def condition(self) -> str:
        if self._condition is None:
            self._condition = normalize(self.listing.condition)
        return self._condition

    @property
    def location(self) -> str:
        if self._location is None:
            self._location = normalize(self.listing.location)
        return self._location

    @property
    def attributes(self) -> dict[str, str]:
        if self._attributes is None:
            self._attributes = {normalize(k): normalize(v) for k, v in self.listing.attributes.items()}
        return self._attributes


def _matches(c: SearchCriteria, p: Prepared) -> bool:
    listing = p.listing
    if c.vendors and listing.vendor not in c.vendors:
        return False
    if c.currency is not None and listing.currency != c.currency:
        return False
    if c.min_price is not None or c.max_price is not None:
        if listing.price is None:
            return False
        if c.min_price is not None and listing.price < c.min_price:
            return False
        if c.max_price is not None and listing.price > c.max_price:
            return False
    title = p.title
    if any(word not in title for word in c.all_words):
        return False
    if c.any_words and not any(word in title for word in c.any_words):
        return False
    if any(word in title for word in c.none_words):
        return False
    if c.conditions and not any(word in p.condition for word in c.conditions):
        return False
    if c.locations and not any(word in p.location for word in c.locations):
        return False
    return all(wanted in p.attributes.get(key, "") for key, wanted in c.attributes.items())


def matches(criteria: SearchCriteria, listing: Listing | Prepared) -> bool:
    """The reference semantics: vendor, currency, price range (inclusive), all/any/none words in the
    normalised title, condition/location containing any given word, attributes containing their value."""
    return _matches(criteria, listing if isinstance(listing, Prepared) else Prepared.of(listing))


# --- many searches at once ------------------------------------------------------------------------


def _trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)}


class CriteriaIndex(Generic[K]):
    """Saved searches indexed by a trigram each must find in a title; answers like :func:`matches`.

    A search with required words is filed under one trigram of its longest required word (a title
    lacking the trigram cannot match); a search with only ``any_words`` under one trigram of each;
    a search whose words are all shorter than three characters is checked against every listing.
    Within a bucket, the anchor word itself is checked (a C-speed substring test) before the full
    criteria, so most non-matching searches cost one ``in``.
    """

    def __init__(self, searches: Iterable[tuple[K, SearchCriteria]]) -> None:
        self._searches: list[tuple[K, SearchCriteria]] = list(searches)
        gram_counts: Counter[str] = Counter()
        for _, criteria in self._searches:
            for word in (*criteria.all_words, *criteria.any_words):
                gram_counts.update(_trigrams(word))
        self._by_gram: dict[str, list[tuple[int, str]]] = {}
        self._always: list[int] = []
        for i, (_, criteria) in enumerate(self._searches):
            anchors = self._anchors(criteria, gram_counts)
            if anchors is None:
                self._always.append(i)
            for gram, word in anchors or ():
                self._by_gram.setdefault(gram, []).append((i, word))
        self._gram_set = frozenset(self._by_gram)

    @staticmethod
    def _anchors(criteria: SearchCriteria, counts: Counter[str]) -> list[tuple[str, str]] | None:
        def rarest(word: str) -> str:
            return min(sorted(_trigrams(word)), key=lambda g: counts[g])

        long_all = [w for w in criteria.all_words if len(w) >= 3]
        if long_all:
            longest = max(long_all, key=len)
            return [(rarest(longest), longest)]
        if criteria.any_words and all(len(w) >= 3 for w in criteria.any_words):
            return sorted({(rarest(w), w) for w in criteria.any_words})
        return None

    def __len__(self) -> int:
        return len(self._searches)

    @property
    def unindexed(self) -> int:
        """How many searches are checked against every listing."""
        return len(self._always)

    def candidates(self, prepared: Prepared) -> list[int]:
        """Indexes of the searches that may match: their anchor word occurs in the title."""
        title = prepared.title
        hits = _trigrams(title) & self._gram_set
        if not hits:
            return list(self._always)
        found = {i for gram in hits for i, word in self._by_gram[gram] if word in title}
        found.update(self._always)
        return sorted(found)

    def match(self, listing: Listing | Prepared) -> list[K]:
        """Keys of every indexed search the listing matches, in index order."""
        prepared = listing if isinstance(listing, Prepared) else Prepared.of(listing)
        searches = self._searches
        return [searches[i][0] for i in self.candidates(prepared) if _matches(searches[i][1], prepared)]


# --- which event ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchState:
    """What ``alert_matches`` knows about (search, listing): the row exists when this is given."""

    rule: str
    last_notified_price: Decimal | None
    last_notified_currency: str | None = None
    below_market_notified: bool = False


@dataclass(frozen=True, slots=True)
class Market:
    """The product's latest ``price_snapshots`` row in the listing's currency."""

    market_value: Decimal
    sample_size: int
    snapshot_date: dt.date | None = None


Rule = Literal["new_match", "price_drop", "below_market", "watch", "baseline"]


@dataclass(frozen=True, slots=True)
class Event:
    """What happens for (search, listing): ``insert`` a match row or ``update`` the existing one,
    and whether a notification is due. ``expected_price`` is the ``last_notified_price`` the update
    was decided against (the write only applies when it is still that, so a raced or repeated
    evaluation cannot notify twice)."""

    action: Literal["insert", "update"]
    rule: Rule
    notify: bool
    price: Decimal | None
    currency: str
    expected_price: Decimal | None = None
    drop_amount: Decimal | None = None
    drop_percent: Decimal | None = None
    market: Market | None = None
    below_percent: Decimal | None = None
    below_market_notified: bool = False


def _below_market(criteria: SearchCriteria, price: Decimal | None, market: Market | None) -> Decimal | None:
    """How many percent under market the price is, when the below_market rule fires; else None."""
    rule = criteria.rule("below_market")
    if rule is None or price is None or market is None or market.market_value is None:
        return None
    if market.sample_size < rule.min_sample_size or market.market_value <= 0:
        return None
    below = (market.market_value - price) / market.market_value * HUNDRED
    return below.quantize(Decimal("0.1")) if below >= rule.min_percent else None


def decide(criteria: SearchCriteria, listing: Listing, state: MatchState | None,
           market: Market | None = None) -> Event | None:
    """The event for a listing that matches ``criteria`` (call only for matches).

    No row yet: below market → ``below_market``; else ``new_match`` when that rule is on; else,
    when ``price_drop`` is on, a silent ``watch`` row (the baseline later drops are measured from).
    Row exists: a big enough drop since the last notified price → ``price_drop``; a first
    below-market price → ``below_market``; a missing or other-currency baseline → silent
    ``baseline`` update. Anything else → None, so re-evaluating the same state never notifies.
    """
    price, currency = listing.price, listing.currency
    below = _below_market(criteria, price, market)
    if state is None:
        if below is not None:
            return Event("insert", "below_market", True, price, currency, market=market, below_percent=below,
                         below_market_notified=True)
        if criteria.rule("new_match") is not None:
            return Event("insert", "new_match", True, price, currency)
        if criteria.rule("price_drop") is not None:
            return Event("insert", "watch", False, price, currency)
        return None
    last = state.last_notified_price
    same_currency = state.last_notified_currency in (None, currency)
    drop_rule = criteria.rule("price_drop")
    if drop_rule is not None and price is not None and last is not None and last > 0 and same_currency:
        drop = last - price
        percent = (drop / last * HUNDRED).quantize(Decimal("0.1"))
        by_amount = drop_rule.min_amount is not None and drop >= drop_rule.min_amount
        by_percent = drop_rule.min_percent is not None and percent >= drop_rule.min_percent
        if drop > 0 and (by_amount or by_percent):
            return Event("update", "price_drop", True, price, currency, expected_price=last, drop_amount=drop,
                         drop_percent=percent, market=market if below is not None else None, below_percent=below,
                         below_market_notified=state.below_market_notified or below is not None)
    if below is not None and not state.below_market_notified:
        return Event("update", "below_market", True, price, currency, expected_price=last, market=market,
                     below_percent=below, below_market_notified=True)
    if price is not None and (last is None or not same_currency):
        return Event("update", "baseline", False, price, currency, expected_price=last,
                     below_market_notified=state.below_market_notified)
    return None


def evaluate(index: CriteriaIndex[K], criteria_by_key: Mapping[K, SearchCriteria],
             listings: Sequence[Listing], states: Mapping[tuple[K, int], MatchState],
             markets: Mapping[tuple[int, str], Market]) -> list[tuple[K, Listing, Event]]:
    """Every (search key, listing, event) for a batch of listings: match through the index, then decide."""
    events: list[tuple[K, Listing, Event]] = []
    for listing in listings:
        prepared = Prepared.of(listing)
        keys = index.match(prepared)
        if not keys:
            continue
        market = markets.get((listing.product_id, listing.currency)) if listing.product_id is not None else None
        for key in keys:
            event = decide(criteria_by_key[key], listing, states.get((key, listing.id)), market)
            if event is not None:
                events.append((key, listing, event))
    return events
