"""Product identity rules: the rule-based key of one listing, and the rules file itself.

Pure domain logic (no Dagster, no SQL). :func:`identify` gives a listing its *rule key*
(``Identity.key``), one of the methods :mod:`pipelines.products.matching` decides by (the
others: GTIN, part number, title similarity):

* **Trading cards**: ``card:<set>:<number>:<variant>:<grade>``; the number comes from the vendor
  code (``58/102``) or the title.
* **Goods**: a normalised title key. Unicode NFKD, accents, symbols (™, ®, emoji,
  zero-width), case and punctuation are dropped; storage sizes are spelled one way
  (``128GB`` = ``128 gb`` = ``128 Gb``); per-category synonyms fold model spellings
  (``PS5`` = ``PlayStation 5``); seller noise (``new``, ``original``, ``garansi resmi``),
  brand names and (where configured) colour words are left out; the remaining words, as a
  sorted set, are the key (so word order does not matter).

:func:`resolve` (GTIN agreement over many listings) is the earlier, key-only way of grouping
listings, kept for tools that only need keys. The rules are data: ``config/product_rules.yaml``
(categories, plus the ``identifiers`` and ``matching`` sections), loaded and validated by
:func:`load_rules`.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.products.identifiers import (
    CompiledIdentifierRules,
    IdentifierRules,
    gtin_check_digit_ok,
    gtin_lookup_forms,
    normalise_gtin,
)

__all__ = [
    "DEFAULT_RULES_PATH", "CompiledRules", "Identity", "ListingText", "MatchingRules", "ProductRules",
    "RulesError", "compile_rules", "gtin_check_digit_ok", "gtin_lookup_forms", "identify", "load_rules",
    "normalise_card_number", "normalise_gtin", "normalise_text", "resolve",
]

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "config" / "product_rules.yaml"

# --- configuration --------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


class Detect(_Strict):
    """When a listing belongs to a category: its vendor, a whole word/phrase, or a pattern."""

    vendors: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            _compile(pattern)
        return value


class Grades(_Strict):
    pattern: str
    sealed_words: list[str] = Field(default_factory=list)
    default: str = "raw"

    @field_validator("pattern")
    @classmethod
    def _pattern_has_two_groups(cls, value: str) -> str:
        if _compile(value).groups != 2:
            raise ValueError("grades.pattern needs two groups: grader and grade")
        return value


class CardSet(_Strict):
    slug: str
    names: list[str] = Field(min_length=1)
    total: str | None = None
    """The set's card count as printed after the slash (``102`` in ``58/102``)."""
    bare_numbers: bool = False
    """Cards numbered without a total (promos: ``085``)."""


class Category(_Strict):
    slug: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    kind: Literal["goods", "card"]
    brand: str | None = None
    detect: Detect = Field(default_factory=Detect)
    colours: Literal["drop", "keep"] = "drop"
    storage: Literal["drop", "keep"] = "keep"
    drop_after: list[str] = Field(default_factory=list)
    synonyms: list[tuple[str, str]] = Field(default_factory=list)
    drop_words: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list)
    # cards only
    grades: Grades | None = None
    variants: dict[str, list[str]] = Field(default_factory=dict)
    default_variant: str = "unlimited"
    sets: list[CardSet] = Field(default_factory=list)

    @field_validator("synonyms")
    @classmethod
    def _synonyms_compile(cls, value: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for pattern, _ in value:
            _compile(pattern)
        return value

    @model_validator(mode="after")
    def _card_rules(self) -> Category:
        if self.kind == "card" and self.grades is None:
            raise ValueError(f"category {self.slug}: a card category needs `grades`")
        if self.kind == "goods" and (self.sets or self.variants or self.grades):
            raise ValueError(f"category {self.slug}: sets, variants and grades are for card categories")
        totals = [s.total for s in self.sets if s.total]
        if len(totals) != len(set(totals)):
            raise ValueError(f"category {self.slug}: two sets share a card total; set inference would be ambiguous")
        return self


class MatchingRules(_Strict):
    """The ``matching`` section: what keeps listings apart and how close a title must be.

    ``refurbished_words``, ``accessory_words``, ``compat_words`` and ``bundle_patterns`` mark
    listings that never join a product of the other kind (a refurbished unit, a case *for* a
    phone, a console *with* a game). ``variant_words`` name a different model when only one
    side has them (``pro``, ``mini``, ``ii``). ``title_threshold`` is the least title similarity
    (0..1) for a match without identifiers (``model_threshold`` when both name the same distinctive
    model words); ``ambiguity_margin``: when two products are that
    close to the best score, the listing stays apart. ``block_cap``: blocking keys shared by
    more products than this are too common to find candidates with.
    """

    title_threshold: float = Field(default=0.86, ge=0.5, le=1.0)
    model_threshold: float = Field(default=0.8, ge=0.5, le=1.0)
    """With the same distinctive model words on both sides, the least token-set similarity."""
    ambiguity_margin: float = Field(default=0.03, ge=0.0, le=0.5)
    block_cap: int = Field(default=60, ge=5)
    candidates: int = Field(default=25, ge=1)
    refurbished_words: list[str] = Field(default_factory=list)
    accessory_words: list[str] = Field(default_factory=list)
    accessory_with: list[str] = Field(default_factory=list)
    compat_words: list[str] = Field(default_factory=list)
    bundle_patterns: list[str] = Field(default_factory=list)
    variant_words: list[str] = Field(default_factory=list)
    generic_words: list[str] = Field(default_factory=list)

    @field_validator("bundle_patterns")
    @classmethod
    def _bundle_patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            _compile(pattern)
        return value


class ProductRules(_Strict):
    version: Literal[1]
    identifiers: IdentifierRules = Field(default_factory=IdentifierRules)
    matching: MatchingRules = Field(default_factory=MatchingRules)
    transliterate: dict[str, str] = Field(default_factory=dict)
    stop_phrases: list[str] = Field(default_factory=list)
    stop_words: list[str] = Field(default_factory=list)
    vendor_noise: dict[str, list[str]] = Field(default_factory=dict)
    colour_words: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _categories(self) -> ProductRules:
        slugs = [c.slug for c in self.categories]
        if len(slugs) != len(set(slugs)):
            raise ValueError(f"duplicate category slugs: {slugs}")
        last = self.categories[-1]
        if last.detect.vendors or last.detect.words or last.detect.patterns:
            raise ValueError(f"the last category ({last.slug}) is the fallback: give it no `detect`")
        if last.kind != "goods":
            raise ValueError("the fallback category must be of kind goods")
        return self


class RulesError(ValueError):
    """The rules file is missing or invalid; the message names the file and the problem."""


def load_rules(path: str | Path | None = None) -> CompiledRules:
    """Read and validate a rules file (default ``config/product_rules.yaml``); cached per path."""
    return _load_rules(str(Path(path or DEFAULT_RULES_PATH).resolve()))


@cache
def _load_rules(path: str) -> CompiledRules:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: {exc}") from None
    return compile_rules(raw, source=path)


def compile_rules(raw: Mapping[str, Any], source: str = "<rules>") -> CompiledRules:
    try:
        rules = ProductRules.model_validate(raw)
    except Exception as exc:  # pydantic.ValidationError, ValueError from validators
        raise RulesError(f"{source}: {exc}") from None
    compiled = CompiledRules(rules)
    compiled.version = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return compiled


def _words_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of the (normalised) phrases as whole words, longest first."""
    normalised = sorted({_plain(p) for p in phrases if _plain(p)}, key=lambda p: (-len(p), p))
    if not normalised:
        return None
    return re.compile(r"(?<![0-9a-z])(?:" + "|".join(re.escape(p) for p in normalised) + r")(?![0-9a-z])")


def _plain(text: str) -> str:
    """Normalise a rule phrase the way titles are normalised (without transliteration rules)."""
    return normalise_text(text)


@dataclass(frozen=True)
class _CompiledCategory:
    spec: Category
    detect_vendors: frozenset[str]
    detect: re.Pattern[str] | None
    synonyms: tuple[tuple[re.Pattern[str], str], ...]
    drop_after: re.Pattern[str] | None
    drop_words: frozenset[str]
    brands: frozenset[str]
    grade: re.Pattern[str] | None
    sealed: re.Pattern[str] | None
    variants: tuple[tuple[str, re.Pattern[str]], ...]
    sets: tuple[tuple[CardSet, re.Pattern[str]], ...]
    set_by_total: Mapping[str, CardSet]


class CompiledRules:
    """Validated rules with every pattern compiled once."""

    def __init__(self, rules: ProductRules) -> None:
        self.rules = rules
        self.translit = str.maketrans(rules.transliterate) if rules.transliterate else None
        self.stop_phrases = _words_pattern(rules.stop_phrases)
        self.stop_words = frozenset(_plain(w) for w in rules.stop_words)
        self.vendor_noise = {vendor: _words_pattern(words) for vendor, words in rules.vendor_noise.items()}
        self.colour_words = frozenset(_plain(w) for w in rules.colour_words)
        self.categories = tuple(self._compile_category(c) for c in rules.categories)
        self.by_slug = {c.spec.slug: c for c in self.categories}
        self.identifiers = CompiledIdentifierRules(rules.identifiers)
        self.matching = rules.matching
        self.version = ""
        """A digest of the rules: listings matched under other rules are matched again."""
        self.display_noise: dict[tuple[str | None, bool], frozenset[str]] = {}
        self.normalise_token = lru_cache(maxsize=200_000)(lambda token: normalise_text(token, self.translit))

    @staticmethod
    def _compile_category(c: Category) -> _CompiledCategory:
        alternatives = []
        words = _words_pattern(c.detect.words)
        if words is not None:
            alternatives.append(words.pattern)
        alternatives += c.detect.patterns
        detect = re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None
        return _CompiledCategory(
            spec=c,
            detect_vendors=frozenset(c.detect.vendors),
            detect=detect,
            synonyms=tuple((re.compile(p), r) for p, r in c.synonyms),
            drop_after=_words_pattern(c.drop_after),
            drop_words=frozenset(w for word in c.drop_words for w in _plain(word).split()),
            brands=frozenset(w for brand in c.brands for w in _plain(brand).split()),
            grade=re.compile(c.grades.pattern) if c.grades else None,
            sealed=_words_pattern(c.grades.sealed_words) if c.grades else None,
            variants=tuple((slug, p) for slug, names in c.variants.items()
                           if (p := _words_pattern(names)) is not None),
            sets=tuple((s, p) for s in c.sets if (p := _words_pattern(s.names)) is not None),
            set_by_total={s.total.lower(): s for s in c.sets if s.total},
        )


# --- text normalisation -----------------------------------------------------------------------

_SYMBOLS = {"So", "Sk", "Cf", "Co", "Cs", "Cn"}
"""Unicode categories dropped: other/modifier symbols (emoji, ™, ®), format (zero-width), private."""
_MARKS = {"Mn", "Me"}
_NON_WORD = re.compile(r"[^0-9a-z.]+")
_STRAY_DOTS = re.compile(r"(?<![0-9])\.|\.(?![0-9])")
_STORAGE = re.compile(r"(?<![0-9a-z.])(\d+(?:\.\d+)?) ?(gb|tb)(?![0-9a-z])")


def _strip_marks(text: str, translit: dict[int, str] | None = None) -> str:
    """Symbols and invisible characters dropped first (NFKD would turn ™ into "TM"), then NFKD
    without its combining marks (accents)."""
    if translit:
        text = text.translate(translit)
    if text.isascii():  # most titles: NFKD changes nothing, the only ASCII symbols are ^ and `
        return text.replace("^", "").replace("`", "")
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in _SYMBOLS)
    decomposed = unicodedata.normalize("NFKD", kept)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) not in _MARKS)


def normalise_text(text: str, translit: dict[int, str] | None = None) -> str:
    """Lower-case ASCII words separated by single spaces; a '.' survives only between digits.

    Symbols (emoji, ™, ®) and invisible characters go *before* NFKD, so ``iPhone™`` does not
    become ``iphonetm``. Then accents are stripped, the text is casefolded, and storage sizes
    are spelled ``<n>gb`` (terabytes converted), e.g. ``1 TB`` → ``1024gb``.
    """
    folded = _strip_marks(text, translit).casefold()
    folded = _NON_WORD.sub(" ", folded)
    folded = _STRAY_DOTS.sub(" ", folded)
    folded = " ".join(folded.split())
    return _STORAGE.sub(_storage_gb, folded)


def _storage_gb(match: re.Match[str]) -> str:
    amount, unit = match.group(1), match.group(2)
    try:
        gb = float(amount) * (1024 if unit == "tb" else 1)
    except ValueError:  # pragma: no cover - the regex only lets digits through
        return match.group(0)
    return f"{int(gb)}gb" if gb.is_integer() else f"{gb:g}gb"


def clean_display(title: str) -> str:
    """A title fit for display: symbols, emoji and odd spacing removed, case and accents kept."""
    kept = "".join(" " if unicodedata.category(ch) in _SYMBOLS else ch
                   for ch in unicodedata.normalize("NFC", title))
    return " ".join(kept.split()).strip(" -\u2013\u2014|\u00b7/,")  # dashes, pipes, middle dots


# --- vendor identifiers -------------------------------------------------------------------------


_CARD_NUMBER = re.compile(r"(?<![0-9a-z])([a-z]{0,3}\d{1,3}) ?/ ?([a-z]{0,3}\d{1,3})(?![0-9a-z])")
_HASH_NUMBER = re.compile(r"#\s?([a-z]{0,3}\d{1,3})(?![0-9a-z])")
_BARE_NUMBER = re.compile(r"(?<![0-9a-z#/.])(\d{1,3})(?![0-9a-z/.])")


def _number_part(text: str) -> str:
    """``044`` → ``44``, ``SV049`` → ``sv49``: letters kept, leading zeros of the digits dropped."""
    m = re.fullmatch(r"([a-z]*)0*(\d+)", text.lower())
    return f"{m.group(1)}{m.group(2)}" if m else text.lower()


def normalise_card_number(code: str | None) -> tuple[str, str | None] | None:
    """``58/102`` → (``58``, ``102``); ``#85`` / ``085`` → (``85``, None); anything else → None."""
    if not code:
        return None
    text = _strip_marks(code).casefold().strip().lstrip("#").strip("() ")
    m = re.fullmatch(r"([a-z]{0,3}\d{1,3}) ?/ ?([a-z]{0,3}\d{1,3})", text)
    if m:
        return _number_part(m.group(1)), _number_part(m.group(2))
    if re.fullmatch(r"[a-z]{0,3}\d{1,3}", text):
        return _number_part(text), None
    return None


# --- identity ---------------------------------------------------------------------------------

UNKNOWN_SET = "unknown-set"


@dataclass(frozen=True)
class ListingText:
    """What identity is derived from: one listing's title and vendor-given fields."""

    title: str
    vendor: str | None = None
    product_code: str | None = None
    condition: str | None = None
    mpn: str | None = None
    """A manufacturer part number the vendor gives in its own field (vendor YAML ``mpn``)."""
    gtin: str | None = None
    """A GTIN/EAN/UPC the vendor gives in its own field (vendor YAML ``gtin``)."""
    brand: str | None = None
    """The brand the vendor gives in its own field (attribute ``brand``), if any."""


@dataclass(frozen=True)
class Identity:
    key: str
    """``products.product_key``: ``<category>:<identity>``; stable, human-readable."""
    category: str
    method: Literal["gtin", "card_number", "title"]
    code: str | None
    """The vendor identifier it was matched on, normalised (GTIN-14, or card ``58/102``)."""
    brand: str | None
    name: str
    attributes: dict[str, str] = field(default_factory=dict)


def detect_category(text: str, vendor: str | None, rules: CompiledRules,
                    raw: str = "") -> _CompiledCategory:
    """The first category whose vendor list, words or patterns match (``raw``: the title with its
    punctuation, for patterns such as ``58/102``); the last category is the fallback."""
    for category in rules.categories:
        if vendor is not None and vendor in category.detect_vendors:
            return category
        if category.detect is not None and (category.detect.search(text) or category.detect.search(raw)):
            return category
    return rules.categories[-1]


def _slashed(title: str, rules: CompiledRules) -> str:
    """Marks and symbols stripped and casefolded, punctuation kept (``58/102``, ``#58``)."""
    return " ".join(_strip_marks(title, rules.translit).casefold().split())


def identify(listing: ListingText, rules: CompiledRules | None = None, *, named: bool = True) -> Identity:
    """The identity of one listing on its own (see :func:`resolve` for GTIN agreement).

    ``named=False`` leaves ``name`` empty: the display name is only needed for listings that
    found a product (:func:`product_name`), and it is a fifth of the cost."""
    rules = rules or load_rules()
    text = normalise_text(listing.title, rules.translit)
    raw = _slashed(listing.title, rules)
    category = detect_category(text, listing.vendor, rules, raw)
    if category.spec.kind == "card":
        return _card_identity(listing, text, raw, category, rules)
    return _goods_identity(listing, text, category, rules, named)


def product_name(listing: ListingText, identity: Identity, rules: CompiledRules | None = None) -> str:
    """The display name of a product founded by ``listing``."""
    rules = rules or load_rules()
    if identity.name:
        return identity.name
    category = rules.by_slug.get(identity.category) or rules.categories[-1]
    return display_name(listing.title, listing.vendor, category, rules)


def _remove_noise(text: str, vendor: str | None, rules: CompiledRules) -> str:
    if rules.stop_phrases is not None:
        text = rules.stop_phrases.sub(" ", text)
    noise = rules.vendor_noise.get(vendor or "")
    if noise is not None:
        text = noise.sub(" ", text)
    return text


def _goods_identity(listing: ListingText, text: str, category: _CompiledCategory,
                    rules: CompiledRules, named: bool = True) -> Identity:
    spec = category.spec
    text = _remove_noise(text, listing.vendor, rules)
    if category.drop_after is not None:
        m = category.drop_after.search(text)
        if m is not None and m.start() > 0:
            text = text[: m.start()]
    for pattern, replacement in category.synonyms:
        text = pattern.sub(replacement, text)
    brand = next((w for w in text.split() if w in category.brands), None)
    words: set[str] = set()
    for word in text.split():
        if word in rules.stop_words or word in category.drop_words or word in category.brands:
            continue
        if spec.colours == "drop" and word in rules.colour_words:
            continue
        if spec.storage == "drop" and word.endswith("gb") and word[:-2].replace(".", "").isdigit():
            continue
        words.add(word)
    if not words:  # nothing but noise: keep the listing apart rather than merging it with others
        words = set(text.split()) or {"untitled"}
    gtin = normalise_gtin(listing.product_code)
    return Identity(
        key=f"{spec.slug}:{' '.join(sorted(words))}",
        category=spec.slug,
        method="gtin" if gtin else "title",
        code=gtin,
        brand=_display_brand(brand),
        name=display_name(listing.title, listing.vendor, category, rules) if named else "",
    )


def _display_noise(rules: CompiledRules, vendor: str | None, drop_colours: bool) -> frozenset[str]:
    """Words left out of display names (per vendor and colour policy; computed once)."""
    cache_key = (vendor, drop_colours)
    noise = rules.display_noise.get(cache_key)
    if noise is None:
        words = set(rules.stop_words)
        for phrase_words in (rules.rules.stop_phrases, rules.rules.vendor_noise.get(vendor or "", [])):
            words.update(w for phrase in phrase_words for w in _plain(phrase).split())
        if drop_colours:
            words |= rules.colour_words
        noise = rules.display_noise[cache_key] = frozenset(words)
    return noise


def display_name(title: str, vendor: str | None, category: _CompiledCategory, rules: CompiledRules) -> str:
    """The title as a product name: seller noise, colours (when the category ignores them) and
    compatibility tails dropped; the seller's casing and accents kept."""
    noise = _display_noise(rules, vendor, category.spec.colours == "drop")
    kept: list[str] = []
    for token in clean_display(title).split():
        words = rules.normalise_token(token).split()
        if words and category.drop_after is not None and category.drop_after.fullmatch(words[0]) and kept:
            break
        if not words:  # punctuation only: keep separators out of names
            continue
        if all(w in noise for w in words):
            continue
        kept.append(token.strip("()[],"))
    name = " ".join(t for t in kept if t)
    return name or clean_display(title)


def _display_brand(word: str | None) -> str | None:
    if word is None:
        return None
    return {"sandisk": "SanDisk", "fujifilm": "Fujifilm"}.get(word, word.capitalize())


def _card_identity(listing: ListingText, text: str, slashed: str, category: _CompiledCategory,
                   rules: CompiledRules) -> Identity:
    spec = category.spec
    assert spec.grades is not None and category.grade is not None

    card_set = next((s for s, pattern in category.sets if pattern.search(text)), None)
    number: tuple[str, str | None] | None = None
    method: Literal["card_number", "title"] = "title"
    code_number = normalise_card_number(listing.product_code)
    if code_number is not None:
        number, method = code_number, "card_number"
    elif m := _CARD_NUMBER.search(slashed):
        number = _number_part(m.group(1)), _number_part(m.group(2))
    elif m := _HASH_NUMBER.search(slashed):
        number = _number_part(m.group(1)), None
    if card_set is None and number is not None and number[1] is not None:
        card_set = category.set_by_total.get(number[1])
    if number is None and card_set is not None and card_set.bare_numbers:
        rest = text
        for _, pattern in category.sets:
            rest = pattern.sub(" ", rest)
        rest = category.grade.sub(" ", rest)
        if m := _BARE_NUMBER.search(rest):
            number = _number_part(m.group(1)), None

    grade = _card_grade(text, listing.condition, category, spec.grades)
    variant = next((slug for slug, pattern in category.variants if pattern.search(text)), spec.default_variant)

    if number is not None:
        what = number[0] if card_set is not None or number[1] is None else f"{number[0]}/{number[1]}"
    else:  # sealed products and cards without a number: their remaining words
        rest = _remove_noise(text, listing.vendor, rules)
        for _, pattern in category.sets:
            rest = pattern.sub(" ", rest)
        rest = category.grade.sub(" ", rest)
        for _, pattern in category.variants:
            rest = pattern.sub(" ", rest)
        words = sorted({w for w in rest.split()
                        if w not in rules.stop_words and w not in category.drop_words
                        and not re.fullmatch(r"(19|20)\d\d", w)})
        what = "-".join(words) or "untitled"
    set_slug = card_set.slug if card_set is not None else UNKNOWN_SET
    code = None
    if number is not None:
        code = number[0] if number[1] is None else f"{number[0]}/{number[1]}"
    return Identity(
        key=f"{spec.slug}:{set_slug}:{what}:{variant}:{grade}",
        category=spec.slug,
        method=method,
        code=code,
        brand=spec.brand,
        name=clean_display(listing.title),
        attributes={k: v for k, v in (("set", set_slug), ("number", code or ""), ("variant", variant),
                                      ("grade", grade)) if v},
    )


def _card_grade(text: str, condition: str | None, category: _CompiledCategory, grades: Grades) -> str:
    assert category.grade is not None
    for source in (text, normalise_text(condition or "")):
        if m := category.grade.search(source):
            return f"{m.group(1)}-{m.group(2)}"
    if category.sealed is not None and category.sealed.search(text):
        return "sealed"
    return grades.default


# --- resolution over many listings --------------------------------------------------------------


def resolve(listings: Mapping[int, ListingText], rules: CompiledRules | None = None,
            extra_gtin_evidence: Mapping[int, ListingText] | None = None) -> dict[int, Identity]:
    """Identities of many listings, GTINs agreeing: every listing with a GTIN takes the key most
    listings of that GTIN have on their own (ties: the smallest key), so titles in other shops
    meet it. ``extra_gtin_evidence`` are further listings (e.g. older ones in the warehouse) that
    vote but are not returned.
    """
    rules = rules or load_rules()
    own = {listing_id: identify(listing, rules) for listing_id, listing in listings.items()}
    evidence = dict(own)
    for listing_id, listing in (extra_gtin_evidence or {}).items():
        if listing_id not in evidence and normalise_gtin(listing.product_code):
            evidence[listing_id] = identify(listing, rules)
    _place_unknown_sets(own, evidence.values())
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for identity in evidence.values():
        if identity.method == "gtin" and identity.code:
            votes[identity.code][identity.key] += 1
    winner = {gtin: min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0] for gtin, counter in votes.items()}
    out: dict[int, Identity] = {}
    for listing_id, identity in own.items():
        if identity.method == "gtin" and identity.code and winner[identity.code] != identity.key:
            key = winner[identity.code]
            identity = Identity(key=key, category=key.split(":", 1)[0], method="gtin", code=identity.code,
                                brand=identity.brand, name=identity.name, attributes=identity.attributes)
        out[listing_id] = identity
    return out


def _place_unknown_sets(identities: dict[int, Identity], evidence: Iterable[Identity]) -> None:
    """A card whose set the title does not say (``Mew ex #232 PSA 10``) joins the set that every
    other listing with that card number names, when exactly one set does."""
    sets_by_number: dict[tuple[str, str], set[str]] = defaultdict(set)
    for identity in evidence:
        parts = identity.key.split(":")
        if len(parts) == 5 and parts[1] != UNKNOWN_SET and identity.attributes.get("number"):
            sets_by_number[(parts[0], parts[2])].add(parts[1])
    for listing_id, identity in list(identities.items()):
        parts = identity.key.split(":")
        if len(parts) != 5 or parts[1] != UNKNOWN_SET or not identity.attributes.get("number"):
            continue
        number = identity.attributes["number"].split("/")[0]
        candidates = sets_by_number.get((parts[0], number), set())
        if len(candidates) == 1:
            card_set = next(iter(candidates))
            key = ":".join([parts[0], card_set, number, parts[3], parts[4]])
            identities[listing_id] = Identity(key=key, category=identity.category, method=identity.method,
                                              code=identity.code, brand=identity.brand, name=identity.name,
                                              attributes={**identity.attributes, "set": card_set})
