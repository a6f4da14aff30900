"""Which product a listing belongs to: identifiers first, then a scored title comparison.

Pure domain logic (no Dagster, no SQL). A :class:`Catalogue` holds products, each with an
*anchor* (the features of the listing that founded it) and the identifiers it has been
confirmed to carry. A listing is matched against the catalogue in three steps:

1. **Blocking**: only products sharing a key with the listing are compared: a GTIN, a
   part-number stem, the rule-based title key, a model word (``q80c``), a rarer title word
   with the brand (:func:`~pipelines.products.features.blocking_keys`). Keys shared by more
   than ``block_cap`` products say nothing and are skipped. This keeps matching linear: a day's
   new listings are compared with a few candidates each, never with the whole catalogue.
2. **Comparison** with each candidate product (:func:`compare`), most decisive evidence first:
   a shared GTIN (``gtin``), the same part number up to known suffixes (``mpn``), the same
   rule-based key (``rules``), or a title similarity from `rapidfuzz` (``title``) at or above
   ``title_threshold``. Vetoes come before any of them: a refurbished unit, an accessory *for*
   a product and a bundle never join a product of another kind; two different GTINs, part
   numbers, brands, colours (where colours matter), specifications (55" vs 65", 128 GB vs
   256 GB), model words or variant words (``pro``, ``mini``) keep titles apart.
3. **Decision**: the best-scoring product wins. A listing joins a product only when it is
   close to the product's anchor and identifiers - never because it resembles one other
   member - so products do not chain (A~B, B~C does not put A with C). A title-only match
   with a runner-up within ``ambiguity_margin`` stays apart: a wrong merge corrupts a market
   value, a miss only leaves a singleton. Otherwise the listing founds a new product.

Every decision carries its method and score, which are stored with the listing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from pipelines.products.features import Features, blocking_keys
from pipelines.products.identifiers import CodeMatch, PartNumber, compare_part_numbers
from pipelines.products.identity import CompiledRules, ListingText

METHOD_SCORES = {"gtin": 1.0, "mpn_same": 0.99, "mpn_suffix": 0.96, "rules": 0.93}
METHOD_RANK = {"manual": 5, "gtin": 4, "mpn": 3, "rules": 2, "title": 1}
"""Decisive evidence beats a higher title similarity: candidates are ranked by method, then score."""


@dataclass(frozen=True)
class Verdict:
    method: str
    """``gtin``, ``mpn``, ``rules`` or ``title``."""
    score: float


@dataclass
class Product:
    """One catalogue entry: the anchor it is compared by and the identifiers it carries."""

    key: str
    anchor: Features
    gtins: set[str] = field(default_factory=set)
    codes: list[PartNumber] = field(default_factory=list)
    product_id: int | None = None
    members: int = 0


def _codes_relation(a: Iterable[PartNumber], b: Iterable[PartNumber],
                    glued_colours: frozenset[str] = frozenset()) -> CodeMatch | None:
    """The best relation between any two codes of two sides, or None when a side has none."""
    a, b = list(a), list(b)
    if not a or not b:
        return None
    best = CodeMatch.DIFFERENT
    for x in a:
        for y in b:
            relation = compare_part_numbers(x, y, glued_colours)
            if relation is CodeMatch.SAME:
                return relation
            if relation is CodeMatch.SUFFIX:
                best = relation
    return best


def _specs_conflict(a: Features, b: Features) -> bool:
    """Both titles give a value in the same unit and share none (55" vs 65", 2 vs 4 pack).
    Screen sizes within half an inch are one size, rounded by one shop (23.8" = 24")."""
    mine = a.spec_map
    for unit, values in b.specs:
        if unit not in mine or mine[unit] & values:
            continue
        if unit == "inch" and any(abs(float(x) - float(y)) <= 0.5 for x in mine[unit] for y in values):
            continue
        return True
    return False


def _model_words_conflict(a: Features, b: Features) -> bool:
    """Both titles name model words and neither set contains the other (``15`` vs ``14``)."""
    return bool(a.model_words and b.model_words
                and not (a.model_words <= b.model_words or b.model_words <= a.model_words))


def _title_conflict(a: Features, b: Features) -> bool:
    """Evidence in the titles that these are different products, whatever else agrees."""
    if _model_words_conflict(a, b):
        return True
    if a.variant_words != b.variant_words:
        return True
    if (a.colours_matter or b.colours_matter) and a.colours and b.colours and not (a.colours & b.colours):
        return True
    return _specs_conflict(a, b)


def title_similarity(a: str, b: str) -> float:
    """0..1: the mean of rapidfuzz's token-set and token-sort ratios (order-free; the set ratio
    forgives extra words on one side, the sort ratio makes them cost something)."""
    if not a or not b:
        return 0.0
    return (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 200.0


def compare(listing: Features, product: Product, rules: CompiledRules) -> Verdict | None:
    """Whether ``listing`` is ``product`` (its anchor and identifiers), and how sure we are."""
    anchor = product.anchor
    if listing.flags != anchor.flags or listing.kind != anchor.kind:
        return None
    if listing.kind == "card":  # set, number, variant and grade make the key: nothing is fuzzy
        return Verdict("rules", METHOD_SCORES["rules"]) if listing.identity.key == anchor.identity.key else None
    if listing.gtins & product.gtins:
        return Verdict("gtin", METHOD_SCORES["gtin"])
    if listing.brand and anchor.brand and listing.brand != anchor.brand:
        return None
    # where colours are one product (a category with `colours: drop`), each colour still has its
    # own GTIN and part number: different identifiers are then no evidence of another product
    identifiers_veto = listing.colours_matter or anchor.colours_matter
    relation = _codes_relation(listing.codes, product.codes, rules.identifiers.single_colours)
    if relation is CodeMatch.SAME and not _specs_conflict(listing, anchor):
        return Verdict("mpn", METHOD_SCORES["mpn_same"])
    if relation is CodeMatch.SUFFIX and not _specs_conflict(listing, anchor):
        return Verdict("mpn", METHOD_SCORES["mpn_suffix"])
    identifiers_differ = relation is CodeMatch.DIFFERENT or bool(listing.gtins and product.gtins)
    if identifiers_differ and identifiers_veto:
        return None
    if listing.identity.key == anchor.identity.key:
        # the category's rules already decided which words matter (``5G``, ``edition``, colours,
        # ``PS5`` = ``PlayStation 5``); what they drop on purpose may still differ: storage sizes,
        # and what an accessory is for (``case for iPhone 15`` vs ``... 14``)
        if _specs_conflict(listing, anchor) or (listing.accessory and _model_words_conflict(listing, anchor)):
            return None
        return Verdict("rules", METHOD_SCORES["rules"])
    if identifiers_differ or _title_conflict(listing, anchor):  # a similar title never outweighs them
        return None
    score = title_similarity(listing.text, anchor.text)
    if score >= rules.matching.title_threshold:
        return Verdict("title", round(score, 4))
    if _same_model(listing, anchor):
        # the same distinctive model words (``509266``, ``a063s``): the rest may be worded freely
        overlap = fuzz.token_set_ratio(listing.text, anchor.text) / 100.0
        if overlap >= rules.matching.model_threshold:
            return Verdict("title", round(overlap, 4))
    return None


def _same_model(a: Features, b: Features) -> bool:
    """Both titles name the same model words, and at least one of them is distinctive (three or
    more characters: ``3s`` or ``4`` alone say little)."""
    return bool(a.model_words) and a.model_words == b.model_words and any(len(w) >= 3 for w in a.model_words)


@dataclass(frozen=True)
class Assignment:
    product: Product
    verdict: Verdict | None
    """None when the listing founded the product."""


class Catalogue:
    """Products and the blocking index that finds candidates for a listing."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self.products: list[Product] = []
        self.index: dict[str, list[int]] = defaultdict(list)
        self.by_key: dict[str, int] = {}
        self.changed: set[int] = set()
        """Positions of products founded or given new identifiers since loading: what to store."""
        self.keys_of: dict[int, list[str]] = {}
        """Each product's blocking keys (derived once, stored with it)."""

    def add(self, product: Product, keys: Iterable[str] | None = None) -> int:
        """Put a product in the catalogue (indexed under its anchor's keys and identifiers)."""
        position = len(self.products)
        self.products.append(product)
        self.by_key[product.key] = position
        own = self.keys_of[position] = list(keys) if keys is not None else self.product_keys(product)
        for key in own:
            self.index[key].append(position)
        return position

    def product_keys(self, product: Product) -> list[str]:
        keys = blocking_keys(product.anchor, self.rules)
        keys += [f"g:{g}" for g in sorted(product.gtins)]
        keys += [f"c:{stem}" for pn in product.codes for stem in sorted(pn.stems)]
        return list(dict.fromkeys(keys))

    def _reindex(self, position: int, keys: Iterable[str]) -> list[str]:
        added = []
        for key in keys:
            if position not in self.index[key]:
                self.index[key].append(position)
                added.append(key)
        self.keys_of[position] = list(dict.fromkeys([*self.keys_of.get(position, []), *added]))
        return added

    def candidates(self, listing: Features, keys: list[str] | None = None) -> list[int]:
        cap, limit = self.rules.matching.block_cap, self.rules.matching.candidates
        shared: Counter[int] = Counter()
        for key in keys if keys is not None else blocking_keys(listing, self.rules):
            positions = self.index.get(key)
            if not positions:
                continue
            strong = key[0] in "gcr"
            if not strong and len(positions) > cap:
                continue
            for position in positions:
                shared[position] += 10 if strong else 1
        return [position for position, _ in shared.most_common(limit)]

    def best(self, listing: Features, keys: list[str] | None = None) -> tuple[int, Verdict] | None:
        """The product this listing belongs to, or None (new product, or too close to call)."""
        scored = []
        for position in self.candidates(listing, keys):
            verdict = compare(listing, self.products[position], self.rules)
            if verdict is not None:
                scored.append((METHOD_RANK[verdict.method], verdict.score, -position, position, verdict))
        if not scored:
            return None
        scored.sort(reverse=True)
        rank, score, _, position, verdict = scored[0]
        if verdict.method == "title" and len(scored) > 1 and scored[1][0] == rank \
                and scored[1][1] >= score - self.rules.matching.ambiguity_margin:
            return None  # two products about as close: too close to call
        return position, verdict

    def assign(self, listing: Features, new_key: str) -> tuple[Assignment, list[str]]:
        """Match ``listing``; found a product keyed ``new_key`` when nothing matches. Returns the
        assignment and the blocking keys the product gained (to store)."""
        keys = blocking_keys(listing, self.rules)  # once: to find candidates, and to index a new product
        found = self.best(listing, keys)
        if found is None:
            product = Product(key=new_key, anchor=listing, gtins=set(listing.gtins), codes=list(listing.codes),
                              members=1)
            own = list(dict.fromkeys([*keys, *(f"g:{g}" for g in sorted(product.gtins)),
                                      *(f"c:{stem}" for pn in product.codes for stem in sorted(pn.stems))]))
            position = self.add(product, own)
            self.changed.add(position)
            return Assignment(product, None), own
        position, verdict = found
        product = self.products[position]
        product.members += 1
        gained: list[str] = []
        if verdict.method in ("gtin", "mpn") or (verdict.method == "rules" and not product.gtins):
            # identifiers confirmed by a decisive match become the product's own, so a shop that
            # only gives the GTIN (or only the part number) finds it next time
            new_gtins = listing.gtins - product.gtins
            product.gtins |= new_gtins
            gained += [f"g:{g}" for g in sorted(new_gtins)]
            if not product.codes and listing.codes and verdict.method != "rules":
                product.codes = list(listing.codes)
                gained += [f"c:{stem}" for pn in listing.codes for stem in sorted(pn.stems)]
        added = self._reindex(position, gained)
        if added:
            self.changed.add(position)
        return Assignment(product, verdict), added

    def pin(self, listing: Features, key: str) -> Product:
        """A person's decision: the listing belongs to the product ``key`` (created if new)."""
        position = self.by_key.get(key)
        if position is None:
            position = self.add(Product(key=key, anchor=listing, gtins=set(listing.gtins), codes=list(listing.codes)))
            self.changed.add(position)
        product = self.products[position]
        product.members += 1
        return product


def product_key(f: Features, taken: set[str] | dict[str, int]) -> str:
    """A readable, stable natural key for a product founded by ``f``: its category and its
    strongest identifier (``other:mpn:sony:kdl46v3000``, ``phone:gtin:00194252707296``), else the
    rule-based title key; with the listing's kind, and a counter when the key is taken."""
    identity = f.identity
    if f.kind == "card" or not f.colours_matter:  # colour variants share the product: not its codes
        base = identity.key
    elif f.codes:
        brand = (f.brand or "-").casefold().replace(" ", "-")
        base = f"{identity.category}:mpn:{brand}:{f.codes[0].stem.casefold()}"
        if f.codes[0].colour:
            base += f"/{f.codes[0].colour.casefold()}"
    elif f.gtins:
        base = f"{identity.category}:gtin:{min(f.gtins)}"
    else:
        base = identity.key
    suffix = "".join(f" ~{name}" for name, flag in (("refurbished", f.refurbished), ("accessory", f.accessory),
                                                    ("bundle", f.bundle)) if flag)
    key = base + suffix if suffix and identity.category != "accessory" else base + suffix.replace(" ~accessory", "")
    candidate, n = key, 2
    while candidate in taken:
        candidate, n = f"{key} #{n}", n + 1
    return candidate


@dataclass(frozen=True)
class Match:
    """Where one listing went: the product's key, and how it got there."""

    key: str
    method: str
    """``gtin``, ``mpn``, ``rules``, ``title``, ``manual``, or ``new`` (founded the product)."""
    score: float


def matching_order(items: Iterable[tuple[int, Features]]) -> list[tuple[int, Features]]:
    """Listings with identifiers first (they make the best anchors), then by id: deterministic."""
    return sorted(items, key=lambda item: (not (item[1].gtins or item[1].codes), item[0]))


def match_features(items: Iterable[tuple[int, Features]], catalogue: Catalogue,
                   pins: dict[int, str] | None = None) -> dict[int, Match]:
    """Match listings (id, features) into ``catalogue``, founding products where needed."""
    pins = pins or {}
    out: dict[int, Match] = {}
    ordered = matching_order(items)
    for listing_id, f in ordered:  # people's decisions first: they anchor their products
        if listing_id in pins:
            out[listing_id] = Match(catalogue.pin(f, pins[listing_id]).key, "manual", 1.0)
    for listing_id, f in ordered:
        if listing_id in pins:
            continue
        assignment, _ = catalogue.assign(f, product_key(f, catalogue.by_key))
        verdict = assignment.verdict
        out[listing_id] = Match(assignment.product.key, verdict.method if verdict else "new",
                                verdict.score if verdict else 1.0)
    return out


def match_listings(listings: Mapping[int, ListingText], rules: CompiledRules,
                   pins: dict[int, str] | None = None) -> dict[int, Match]:
    """Every listing of ``listings`` ({id: ListingText}) matched from an empty catalogue."""
    from pipelines.products.features import features

    return match_features(((i, features(t, rules)) for i, t in listings.items()), Catalogue(rules), pins)
