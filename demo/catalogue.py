"""Deterministic, day-by-day evolving catalogue of the demo marketplace (pure, no web imports).

Model: every shop gets a stream of new listings per day ("births"). A listing lives a drawn
number of days, then either sells (visible with a sold marker on its sale day and the day
after, gone from the third day) or is removed (just gone). While it lives its price moves on
a few days (random walk). Everything about a listing is drawn once, at birth, from a
`random.Random` seeded with (seed, shop, listing number): the state on any day is then a
cheap lookup, independent of which days were asked before and of the process (string seeds
go through sha512 in `random`, unlike the per-process salted `hash()`).

Because lifetimes are capped, the listings visible on day D were all born within the last
`WINDOW` days, so any as-of date costs O(WINDOW x births/day), cached per birth day.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from random import Random

from demo.products import CARD, Product, universe
from demo.shops import AMOUNT, CONTACT, FREE, SHOPS, Shop
from demo.spelling import make_attributes, make_description, make_title

EPOCH = date(2025, 1, 1)
LIFE_CAP = 150  # no listing stays up longer than this many days
SOLD_VISIBLE_DAYS = 2  # sold listings show the sold marker on the sale day and the day after
WINDOW = LIFE_CAP + SOLD_VISIBLE_DAYS
MAX_BIRTHS = 40  # listing numbers are (birth day + WINDOW) * MAX_BIRTHS + index: unique and ordered
PRICE_MOVE_RATE = 0.025  # mean share of live listings whose price moves on a given day

ACTIVE = "active"
SOLD = "sold"


def day_index(d: date) -> int:
    """Days since the catalogue epoch (2025-01-01 is day 0)."""
    return (d - EPOCH).days


@dataclass(frozen=True, slots=True, eq=False)
class Listing:
    """Everything about one listing that does not change while it is up.

    `eq=False` keeps hashing by identity: listings are cached and used as cache keys by the
    renderers, and hashing all fields each time would be slow.
    """

    id: str
    number: int
    shop: str
    product: Product
    title: str
    brand: str
    category: str  # localised category name
    condition: str
    location: str
    seller: str
    seller_rating: float
    images: tuple[str, ...]  # site-relative URLs
    attributes: tuple[tuple[str, str], ...]
    description: str
    gtin: str | None  # as the seller entered it (may be missing or a 12-digit UPC)
    price_kind: str  # AMOUNT, FREE or CONTACT
    first_day: int  # day index the listing appears
    end_day: int | None  # day it sold or was removed (None = outlives the window cap never)
    end_kind: str | None  # "sold" | "removed" | None
    price_events: tuple[tuple[int, int], ...]  # (from day, price in minor units), ascending
    search_text: str = field(repr=False)

    @property
    def card_number(self) -> str | None:
        return self.product.card_number

    @property
    def grade(self) -> str | None:
        return self.product.grade

    def visible_on(self, day: int) -> bool:
        if day < self.first_day:
            return False
        if self.end_day is None or day < self.end_day:
            return True
        return self.end_kind == SOLD and day < self.end_day + SOLD_VISIBLE_DAYS

    def price_minor_on(self, day: int) -> int | None:
        if self.price_kind != AMOUNT:
            return None
        current = self.price_events[0][1]
        for from_day, minor in self.price_events:
            if from_day > day:
                break
            current = minor
        return current


@dataclass(frozen=True, slots=True, eq=False)
class ListingState:
    """A listing as it is shown on one day: its price then and whether it is marked sold."""

    listing: Listing
    price_minor: int | None
    sold: bool
    price_text: str  # exactly as the shop renders it, e.g. "Rp 8.499.000", "Gratis"

    @property
    def id(self) -> str:
        return self.listing.id

    @property
    def status(self) -> str:
        return SOLD if self.sold else ACTIVE

    @property
    def price(self) -> Decimal | None:
        """Numeric price a correct parser should extract (0 for free, None for 'contact seller')."""
        return SHOPS[self.listing.shop].price_value(self.listing.price_kind, self.price_minor)

    @property
    def currency(self) -> str:
        return SHOPS[self.listing.shop].currency


_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize_text(text: str) -> str:
    """Search normalisation: compatibility-decompose, drop accents/marks/emoji, casefold.

    Both the query and the searched text go through this, so "POKÉMON", "Poke\\u0301mon" and
    "pokemon" match each other, and NBSP / ™ / dashes do not split or glue words.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " " + _NON_WORD.sub(" ", ascii_only).strip() + " "


def query_words(query: str) -> tuple[str, ...]:
    return tuple(normalize_text(query).split())


def parse_asof(value: str | None, today: date | None = None) -> date:
    """Parse the `asof` parameter: strictly YYYY-MM-DD; absent/empty means today (UTC)."""
    if value is None or value == "":
        if today is not None:
            return today
        from datetime import UTC, datetime

        return datetime.now(UTC).date()
    if len(value) != 10 or value[4] != "-" or value[7] != "-" or not (value[:4] + value[5:7] + value[8:]).isdigit():
        raise ValueError(f"invalid asof {value!r}: expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"invalid asof {value!r}: not a calendar date (YYYY-MM-DD)") from None


def _geometric_gap(rng: Random, p: float) -> int:
    """Days until the next event of a daily Bernoulli(p) process (>= 1)."""
    u = 1.0 - rng.random()  # (0, 1]
    return 1 + int(math.log(u) / math.log(1.0 - p))


class _ShopModel:
    """Per-shop precomputed tables (cumulative weights) shared by all days."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        mix = dict(shop.category_mix)
        bias = dict(shop.brand_bias)
        products = [p for p in universe() if p.category in mix]
        per_category: dict[str, float] = {}
        for p in products:
            per_category[p.category] = per_category.get(p.category, 0.0) + p.popularity * bias.get(p.brand, 1.0)
        weights = [mix[p.category] * p.popularity * bias.get(p.brand, 1.0) / per_category[p.category]
                   for p in products]
        self.products: tuple[Product, ...] = tuple(products)
        self.cum_weights: tuple[float, ...] = tuple(accumulate(weights))
        self.conditions = tuple(c[0] for c in shop.conditions)
        self.condition_cum = tuple(accumulate(c[1] for c in shop.conditions))
        self.condition_factor = {c[0]: c[2] for c in shop.conditions}


class Catalogue:
    """The demo marketplace's listings for one seed, queryable per shop and as-of date.

    All public methods are pure functions of (seed, arguments) and cached, so the server can
    call them per request.
    """

    def __init__(self, seed: int = 42) -> None:
        self.seed = seed
        self._models = {code: _ShopModel(shop) for code, shop in SHOPS.items()}
        # Sizes bound memory (a birth day is ~10 listings of ~2 KB): 5 shops x (WINDOW + ~850) days.
        self._births = lru_cache(maxsize=4_096)(self._births_uncached)
        self._day = lru_cache(maxsize=256)(self._day_uncached)
        self._index = lru_cache(maxsize=256)(self._index_uncached)
        self._search = lru_cache(maxsize=4_096)(self._search_uncached)

    # ---- public API ---------------------------------------------------------------------
    def listings(self, shop: str, asof: date) -> Sequence[ListingState]:
        """Every listing visible in `shop` at the end of day `asof`, in the shop's result order."""
        return self._day(shop, day_index(asof))

    def search(self, shop: str, query: str, asof: date) -> Sequence[ListingState]:
        """Listings whose title/brand/category contain every word of `query` (SPEC.md rules)."""
        return self._search(shop, query_words(query), day_index(asof))

    def get(self, shop: str, listing_id: str, asof: date) -> ListingState | None:
        """One listing as shown on `asof`, or None if it is not listed that day."""
        return self._index(shop, day_index(asof)).get(listing_id)

    def births(self, shop: str, asof: date) -> Sequence[Listing]:
        """Listings first shown on `asof` (handy for tests and the evolution statistics)."""
        return self._births(shop, day_index(asof))

    # ---- internals ----------------------------------------------------------------------
    def _births_uncached(self, shop: str, day: int) -> tuple[Listing, ...]:
        model = self._models[shop]
        rng = Random(f"{self.seed}|{shop}|births|{day}")
        mean = model.shop.births_per_day
        count = min(MAX_BIRTHS, max(1, round(rng.gauss(mean, math.sqrt(mean)))))
        base = (day + WINDOW) * MAX_BIRTHS
        return tuple(self._make_listing(model, day, base + i + 1) for i in range(count))

    def _make_listing(self, model: _ShopModel, birth: int, number: int) -> Listing:
        shop = model.shop
        rng = Random(f"{self.seed}|{shop.code}|listing|{number}")
        product = rng.choices(model.products, cum_weights=model.cum_weights)[0]
        if product.category == CARD:
            condition = (product.grade or "Raw") if shop.code == "cardvault" else shop.card_conditions[0][0]
            factor = 1.0
        else:
            condition = rng.choices(model.conditions, cum_weights=model.condition_cum)[0]
            factor = model.condition_factor[condition]

        life = min(1 + int(rng.expovariate(1.0 / shop.mean_life_days)), LIFE_CAP)
        end_day = birth + life
        end_kind = "sold" if life < LIFE_CAP and rng.random() < shop.sold_share else "removed"

        listing_id = f"{shop.id_prefix}-{number:06d}"
        seller = rng.choice(shop.sellers)
        location = seller.city if rng.random() < 0.85 else rng.choice(shop.sellers).city

        roll = rng.random()
        price_kind = AMOUNT
        contact_rate = shop.contact_rate
        if shop.contact_label and product.usd * factor >= 15_000:
            contact_rate = 0.6  # trophy cards: "make an offer"
        if roll < shop.free_rate:
            price_kind = FREE
        elif roll < shop.free_rate + contact_rate:
            price_kind = CONTACT
        events = self._price_walk(rng, shop, product, factor, birth, end_day) if price_kind == AMOUNT else ()

        used = factor < 1.0
        title = make_title(product, shop, rng, condition, factor)
        attributes = make_attributes(product, shop, rng, used)
        images = tuple(f"/{shop.code}/img/{listing_id}-{n}.jpg" for n in range(1, rng.randint(1, 4) + 1))
        gtin = product.gtin if product.gtin and rng.random() < 0.6 else None
        if gtin and gtin.startswith("0") and rng.random() < 0.15:
            gtin = gtin[1:]  # sellers often paste the 12-digit UPC-A form
        category = shop.category_name(product.category)
        description = make_description(shop, rng, condition, location)
        return Listing(
            id=listing_id, number=number, shop=shop.code, product=product, title=title, brand=product.brand,
            category=category, condition=condition, location=location, seller=seller.name,
            seller_rating=seller.rating, images=images, attributes=attributes, description=description,
            gtin=gtin, price_kind=price_kind, first_day=birth, end_day=end_day, end_kind=end_kind,
            price_events=events, search_text=normalize_text(f"{title} {product.brand} {category}"),
        )

    @staticmethod
    def _price_walk(rng: Random, shop: Shop, product: Product, factor: float, birth: int,
                    end_day: int) -> tuple[tuple[int, int], ...]:
        style = rng.randrange(12)
        local = product.usd * factor * shop.usd_rate * shop.price_level
        local *= min(max(rng.gauss(1.0, 0.07), 0.8), 1.25)
        events = [(birth, shop.round_price(local, style))]
        day = birth
        while True:
            day += _geometric_gap(rng, PRICE_MOVE_RATE)
            if day >= end_day:
                break
            step = rng.gauss(-0.01, 0.05)
            step = max(min(step, 0.15), -0.15) or -0.02
            local *= 1.0 + step
            minor = shop.round_price(local, style)
            if minor != events[-1][1]:
                events.append((day, minor))
        return tuple(events)

    def _day_uncached(self, shop: str, day: int) -> tuple[ListingState, ...]:
        if day < 0:
            return ()
        spec = SHOPS[shop]
        out: list[ListingState] = []
        for birth in range(day - WINDOW, day + 1):
            for listing in self._births(shop, birth):
                if not listing.visible_on(day):
                    continue
                minor = listing.price_minor_on(day)
                sold = listing.end_kind == SOLD and listing.end_day is not None and day >= listing.end_day
                out.append(ListingState(listing, minor, sold, spec.format_price(listing.price_kind, minor)))
        if spec.newest_first:
            out.reverse()
        return tuple(out)

    def _index_uncached(self, shop: str, day: int) -> dict[str, ListingState]:
        return {s.listing.id: s for s in self._day(shop, day)}

    def _search_uncached(self, shop: str, words: tuple[str, ...], day: int) -> tuple[ListingState, ...]:
        states = self._day(shop, day)
        if not words:
            return states
        return tuple(s for s in states if all(w in s.listing.search_text for w in words))


@lru_cache(maxsize=8)
def get_catalogue(seed: int = 42) -> Catalogue:
    """Shared catalogue per seed (the server and tests reuse the warm caches)."""
    return Catalogue(seed)
