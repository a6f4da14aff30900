"""What one listing says about its product, read once: identifiers, brand, kind, model words.

Pure domain logic. :func:`features` turns a :class:`~pipelines.products.identity.ListingText`
into :class:`Features`, the only thing :mod:`pipelines.products.matching` compares:

* the rule-based :class:`~pipelines.products.identity.Identity` (category and title key);
* GTINs (vendor field, product code, or written in the title) and part numbers
  (:mod:`pipelines.products.identifiers`);
* the brand (vendor field, else the first known brand in the title);
* its *kind*: refurbished, an accessory made for another product (``case for iPhone 15``), a
  bundle (``PS5 + 2 games``) - listings of different kinds never join one product;
* model words (``q80c``, ``15``, ``3s``), variant words (``pro``, ``mini``), specifications by
  unit (``55`` inch, ``256`` GB) and colours: evidence that two similar titles are different;
* the title's remaining words, for the fuzzy comparison and for blocking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipelines.products.identifiers import PartNumber, gtins_in_text, normalise_gtin, part_numbers
from pipelines.products.identity import (
    CompiledRules,
    Identity,
    ListingText,
    _remove_noise,
    identify_read,
    normalise_text,
    strip_marks,
)


@dataclass(frozen=True)
class Features:
    identity: Identity
    kind: str
    """``card`` or ``goods`` (cards are identified by set, number and grade only)."""
    brand: str | None
    gtins: frozenset[str]
    codes: tuple[PartNumber, ...]
    refurbished: bool
    accessory: bool
    bundle: bool
    model_words: frozenset[str]
    variant_words: frozenset[str]
    specs: tuple[tuple[str, frozenset[str]], ...]
    colours: frozenset[str]
    colours_matter: bool
    text: str
    """Normalised title without brand, codes, noise (and colours where the category ignores them)."""
    source: ListingText | None = None
    """The listing these features were read from (a product's anchor is stored as it)."""

    @property
    def flags(self) -> tuple[bool, bool, bool]:
        return self.refurbished, self.accessory, self.bundle

    @property
    def spec_map(self) -> dict[str, frozenset[str]]:
        return dict(self.specs)


class _Patterns:
    """The matching section's word lists as compiled patterns (built once per rules object)."""

    def __init__(self, rules: CompiledRules) -> None:
        m = rules.matching
        self.refurbished = _phrases(m.refurbished_words)
        self.accessory = _phrases(m.accessory_words)
        with_words = _alternation(m.accessory_with)
        self.with_phrase = (re.compile(r"(?<![0-9a-z])(?:" + with_words + r")(?![0-9a-z])(.*)$")
                            if with_words else None)
        compat = _alternation(m.compat_words)
        self.compat = re.compile(r"(?<![0-9a-z])(?:" + compat + r")\s+(\S+(?:\s+\S+){0,2})") if compat else None
        self.bundle = re.compile("|".join(f"(?:{p})" for p in m.bundle_patterns)) if m.bundle_patterns else None
        self.variant = frozenset(normalise_text(w) for w in m.variant_words)
        self.generic = frozenset(normalise_text(w) for w in m.generic_words)


def _alternation(words: list[str]) -> str:
    plain = sorted({normalise_text(w) for w in words if normalise_text(w)}, key=lambda w: (-len(w), w))
    return "|".join(re.escape(w) for w in plain)


def _phrases(words: list[str]) -> re.Pattern[str] | None:
    alternation = _alternation(words)
    return re.compile(r"(?<![0-9a-z])(?:" + alternation + r")(?![0-9a-z])") if alternation else None


@cache
def _patterns(rules: CompiledRules) -> _Patterns:
    return _Patterns(rules)


# Specifications by unit, read from the lower-cased title with its punctuation.
_NUMBER = r"(\d+(?:\.\d+)?)"
_SPECS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("gb", re.compile(_NUMBER + r"\s?(gb|tb)(?![0-9a-z])")),
    ("inch", re.compile(_NUMBER + r"\s?(?:\"|”|''|″|-?inch(?:es)?(?![a-z])|-?in(?![0-9a-z])|-?class(?![a-z]))")),
    ("mm", re.compile(r"(\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?)\s?mm(?![0-9a-z])")),
    ("mp", re.compile(_NUMBER + r"\s?(?:mp|megapixels?)(?![0-9a-z])")),
    ("w", re.compile(_NUMBER + r"\s?(?:w|watts?)(?![0-9a-z])")),
    ("mah", re.compile(_NUMBER + r"\s?mah(?![0-9a-z])")),
    ("hz", re.compile(_NUMBER + r"\s?hz(?![0-9a-z])")),
    ("pack", re.compile(r"(?:(\d+)[- ]?(?:pack|pk|count|ct)|pack of (\d+))(?![0-9a-z])")),
    ("cuft", re.compile(_NUMBER + r"\s?cu\.?\s?ft")),
)
_ORDINAL_GEN = re.compile(r"(\d+)(?:st|nd|rd|th) gen(?:eration)?\b")
_WORD = re.compile(r"[0-9a-z]+(?:\.[0-9]+)?")
_SPEC_WORD = re.compile(
    r"\d+(?:\.\d+)?(?:gb|tb|mb|mp|mm|cm|in|inch|hz|khz|mhz|ghz|w|kw|v|mah|wh|ah|p|i|k|x|ft|m|lb|lbs|oz|g|kg|ml|l|rpm|"
    r"db|fps|ms|nm|th|st|nd|rd|pk|pack|pc|pcs|ch|bit|core|cores|dpi|qt|btu|a|mbps|gbps|cuft|gen)")


_GLUED_NAME = re.compile(r"([a-z]{5,})(\d+)")
_GLUED_VARIANT = re.compile(r"(\d+)([a-z]+)")


def _split_glued(words: list[str], variants: frozenset[str]) -> list[str]:
    """``playstation5`` -> ``playstation 5`` and ``8pro`` -> ``8 pro``, so both spellings compare;
    short prefixes stay glued: they are model names (``s23``, ``r8``, ``buds2``)."""
    out: list[str] = []
    for word in words:
        if (m := _GLUED_NAME.fullmatch(word)) or ((m := _GLUED_VARIANT.fullmatch(word)) and m.group(2) in variants):
            out += [m.group(1), m.group(2)]
        else:
            out.append(word)
    return out


def _made_for(text: str, brand: str | None, p: _Patterns, rules: CompiledRules) -> bool:
    """An accessory: an accessory noun names the thing itself (``case``, ``charger``; not in a
    ``with ...`` tail, which lists what is in the box), or the title says what it is *for* and
    that is another brand's product (``Spigen Ultra Hybrid for iPhone 15``)."""
    before_with = text
    if p.with_phrase is not None and (m := p.with_phrase.search(text)) and m.start() > 0:
        before_with = text[: m.start()]
    if p.accessory is not None and p.accessory.search(before_with):
        return True
    if p.compat is None or not (m := p.compat.search(text)) or m.start() == 0:
        return False
    target_brand = rules.identifiers.brand_in(m.group(1))
    own_brand = rules.identifiers.brand_in(text[: m.start()])
    if target_brand is None:
        return False
    return own_brand is None or own_brand != target_brand


_SPEC_HINTS = {"gb": ("gb", "tb"), "inch": ('"', "”", "''", "″", "in", "class"), "mm": ("mm",),
               "mp": ("mp", "megapixel"), "w": ("w",), "mah": ("mah",), "hz": ("hz",),
               "pack": ("pack", "pk", "count", "ct"), "cuft": ("cu",)}
"""Text each unit's pattern needs: most titles name few units, and a substring test is cheap."""


def _specs(lowered: str) -> tuple[tuple[str, frozenset[str]], ...]:
    found: dict[str, set[str]] = {}
    for unit, pattern in _SPECS:
        if not any(hint in lowered for hint in _SPEC_HINTS[unit]):
            continue
        for m in pattern.finditer(lowered):
            value = next(g for g in m.groups() if g is not None)
            if unit == "gb" and len(m.groups()) > 1 and m.group(2) == "tb":
                value = f"{float(value) * 1024:g}"
            elif unit != "mm":
                value = f"{float(value):g}"
            found.setdefault(unit, set()).add(value)
    return tuple(sorted((unit, frozenset(values)) for unit, values in found.items()))


def features(listing: ListingText, rules: CompiledRules) -> Features:
    """Everything the matcher needs from one listing (no comparison yet)."""
    lowered = " ".join(strip_marks(listing.title, rules.translit).casefold().split())
    text = normalise_text(listing.title, rules.translit)
    identity = identify_read(listing, rules, text, lowered, named=False)
    ids = rules.identifiers
    p = _patterns(rules)
    category = rules.by_slug.get(identity.category) or rules.categories[-1]
    brand = ids.canonical_brand(listing.brand) or ids.brand_in(text)

    gtins = {g for g in (normalise_gtin(listing.gtin), normalise_gtin(listing.product_code)) if g}
    gtins.update(gtins_in_text(listing.title))
    given = [c for c in (listing.mpn, listing.product_code) if c and not normalise_gtin(c)]
    codes = tuple(part_numbers(listing.title, ids, brand, given=given))
    if category.spec.kind == "card":  # a card number is not a part number
        codes = ()

    condition = normalise_text(listing.condition) if listing.condition else ""
    refurbished = bool(p.refurbished and (p.refurbished.search(text) or p.refurbished.search(condition)))
    accessory = _made_for(text, brand, p, rules)
    bundle = bool(p.bundle and p.bundle.search(lowered))

    code_words = {w for pn in codes for w in _WORD.findall(pn.raw.casefold())}
    code_words |= {pn.root.casefold() for pn in codes}
    words = _split_glued(_ORDINAL_GEN.sub(r"\1", _remove_noise(text, listing.vendor, rules)).split(), p.variant)
    brand_words = set(rules.normalise_token(brand).split()) if brand else set()
    colour_words = rules.colour_words
    specs = _specs(lowered)
    spec_values = {v for _, values in specs for value in values for v in value.split("-")}
    model_words = frozenset(w for w in words if not w.isalpha() and w not in code_words  # words have a digit
                            and w not in spec_values and not _SPEC_WORD.fullmatch(w))
    variant_words = frozenset(w for w in words if w in p.variant)
    colours = frozenset(w for w in words if w in colour_words)
    colours_matter = category.spec.colours == "keep"
    stop = rules.stop_words
    core = [w for w in words if w not in stop and w not in brand_words and w not in code_words
            and (colours_matter or w not in colour_words)]
    return Features(
        identity=identity, kind=category.spec.kind, brand=brand, gtins=frozenset(gtins), codes=codes,
        refurbished=refurbished, accessory=accessory, bundle=bundle, model_words=model_words,
        variant_words=variant_words, specs=specs, colours=colours, colours_matter=colours_matter,
        text=" ".join(core), source=listing,
    )


def blocking_keys(f: Features, rules: CompiledRules) -> list[str]:
    """Keys under which a listing's product is found again: identifiers, its rule key, model
    words (with and without the brand) and, for titles without model words, brand + words."""
    keys = [f"g:{g}" for g in sorted(f.gtins)]
    keys += sorted({f"c:{stem}" for pn in f.codes for stem in pn.stems})
    keys.append(f"r:{f.identity.key}")
    if f.kind == "card":
        return keys
    brand = (f.brand or "").casefold()
    for word in sorted(f.model_words):
        keys.append(f"m:{word}" if len(word) >= 3 else f"m:{brand}:{word}")
    generic = _patterns(rules).generic
    rare = [w for w in f.text.split() if w not in generic and len(w) >= 3 and not w.isdigit()]
    for word in sorted(set(rare), key=lambda w: (-len(w), w))[:6]:
        keys.append(f"w:{brand}:{word}")
    return keys


def to_json(f: Features) -> dict[str, object]:
    """The features as JSON (kept with a product: loading the catalogue reads them instead of
    deriving them again from the anchor's title)."""
    i = f.identity
    return {
        "identity": {"key": i.key, "category": i.category, "method": i.method, "code": i.code, "brand": i.brand,
                     "name": i.name, "attributes": i.attributes},
        "kind": f.kind, "brand": f.brand, "gtins": sorted(f.gtins),
        "codes": [[pn.raw, pn.root, sorted(pn.stems), pn.colour] for pn in f.codes],
        "flags": [f.refurbished, f.accessory, f.bundle], "model_words": sorted(f.model_words),
        "variant_words": sorted(f.variant_words), "specs": [[u, sorted(v)] for u, v in f.specs],
        "colours": sorted(f.colours), "colours_matter": f.colours_matter, "text": f.text,
    }


def from_json(data: dict[str, Any], source: ListingText | None = None) -> Features:
    i = data["identity"]
    refurbished, accessory, bundle = data["flags"]
    return Features(
        identity=Identity(key=i["key"], category=i["category"], method=i["method"], code=i["code"], brand=i["brand"],
                          name=i["name"], attributes=i["attributes"]),
        kind=data["kind"], brand=data["brand"], gtins=frozenset(data["gtins"]),
        codes=tuple(PartNumber(raw=c[0], root=c[1], stems=frozenset(c[2]), colour=c[3]) for c in data["codes"]),
        refurbished=refurbished, accessory=accessory, bundle=bundle, model_words=frozenset(data["model_words"]),
        variant_words=frozenset(data["variant_words"]),
        specs=tuple((u, frozenset(v)) for u, v in data["specs"]), colours=frozenset(data["colours"]),
        colours_matter=data["colours_matter"], text=data["text"], source=source,
    )


def features_many(listings: list[ListingText], rules: CompiledRules, workers: int = 1) -> list[Features]:
    """:func:`features` of many listings; with ``workers`` > 1 and enough listings, spread over
    that many processes (a first match of a large catalogue is CPU-bound here)."""
    if workers <= 1 or len(listings) < 4_000:
        return [features(t, rules) for t in listings]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(listings) // (workers * 4))
    chunks = [listings[i:i + size] for i in range(0, len(listings), size)]
    raw = rules.rules.model_dump(mode="json")
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = pool.map(_features_chunk, [(rules.version, raw, chunk) for chunk in chunks])
        return [f for part in parts for f in part]


_WORKER_RULES: dict[str, CompiledRules] = {}


def _features_chunk(job: tuple[str, dict[str, Any], list[ListingText]]) -> list[Features]:
    """One worker's share: the rules are compiled once per worker process (per rules version)."""
    from pipelines.products.identity import compile_rules

    version, raw, chunk = job
    if version not in _WORKER_RULES:
        _WORKER_RULES.clear()
        _WORKER_RULES[version] = compile_rules(raw)
    rules = _WORKER_RULES[version]
    return [features(t, rules) for t in chunk]
