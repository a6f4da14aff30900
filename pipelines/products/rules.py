"""The product rules file (``config/product_rules.yaml``): its model, validation and compiled form.

The rules are data: categories (detection words, synonyms, noise and colour words, card sets
and grades), plus the ``identifiers`` and ``matching`` sections that the part-number reader and
the matcher use. :func:`load_rules` validates a file once per path and says what is wrong with it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.products.identifiers import (
    CompiledIdentifierRules,
    IdentifierRules,
)
from pipelines.products.normalise import normalise_text

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "config" / "product_rules.yaml"

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


def _all_compile(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        _compile(pattern)
    return patterns


Patterns = Annotated[list[str], AfterValidator(_all_compile)]
"""Regular expressions, each checked to compile when the rules file is read."""


class Detect(_Strict):
    """When a listing belongs to a category: its vendor, a whole word/phrase, or a pattern."""

    vendors: list[str] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list)
    patterns: Patterns = Field(default_factory=list)


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
    bundle_patterns: Patterns = Field(default_factory=list)
    variant_words: list[str] = Field(default_factory=list)
    generic_words: list[str] = Field(default_factory=list)


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
    normalised = sorted({plain_words(p) for p in phrases if plain_words(p)}, key=lambda p: (-len(p), p))
    if not normalised:
        return None
    return re.compile(r"(?<![0-9a-z])(?:" + "|".join(re.escape(p) for p in normalised) + r")(?![0-9a-z])")


def plain_words(text: str) -> str:
    """Normalise a rule phrase the way titles are normalised (without transliteration rules)."""
    return normalise_text(text)


@dataclass(frozen=True)
class CompiledCategory:
    spec: Category
    detect_vendors: frozenset[str]
    detect: re.Pattern[str] | None
    detect_words: frozenset[str]
    """The one-word detection words: looked up in a title's word set, not searched for."""
    detect_rest: re.Pattern[str] | None
    """Detection phrases of several words and the patterns: searched for."""
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
        self.stop_words = frozenset(plain_words(w) for w in rules.stop_words)
        self.vendor_noise = {vendor: _words_pattern(words) for vendor, words in rules.vendor_noise.items()}
        self.colour_words = frozenset(plain_words(w) for w in rules.colour_words)
        self.categories = tuple(self._compile_category(c) for c in rules.categories)
        self.by_slug = {c.spec.slug: c for c in self.categories}
        self.identifiers = CompiledIdentifierRules(rules.identifiers)
        self.matching = rules.matching
        self.version = ""
        """A digest of the rules: listings matched under other rules are matched again."""
        self.display_noise: dict[tuple[str | None, bool], frozenset[str]] = {}
        self.normalise_token = lru_cache(maxsize=200_000)(lambda token: normalise_text(token, self.translit))

    @staticmethod
    def _compile_category(c: Category) -> CompiledCategory:
        alternatives = []
        words = _words_pattern(c.detect.words)
        if words is not None:
            alternatives.append(words.pattern)
        alternatives += c.detect.patterns
        detect = re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None
        one_word = frozenset(w for w in map(plain_words, c.detect.words) if w and " " not in w)
        phrases = _words_pattern([w for w in c.detect.words if plain_words(w) and " " in plain_words(w)])
        rest = [*([phrases.pattern] if phrases is not None else []), *c.detect.patterns]
        return CompiledCategory(
            spec=c,
            detect_vendors=frozenset(c.detect.vendors),
            detect=detect,
            detect_words=one_word,
            detect_rest=re.compile("|".join(f"(?:{a})" for a in rest)) if rest else None,
            synonyms=tuple((re.compile(p), r) for p, r in c.synonyms),
            drop_after=_words_pattern(c.drop_after),
            drop_words=frozenset(w for word in c.drop_words for w in plain_words(word).split()),
            brands=frozenset(w for brand in c.brands for w in plain_words(brand).split()),
            grade=re.compile(c.grades.pattern) if c.grades else None,
            sealed=_words_pattern(c.grades.sealed_words) if c.grades else None,
            variants=tuple((slug, p) for slug, names in c.variants.items()
                           if (p := _words_pattern(names)) is not None),
            sets=tuple((s, p) for s in c.sets if (p := _words_pattern(s.names)) is not None),
            set_by_total={s.total.lower(): s for s in c.sets if s.total},
        )
