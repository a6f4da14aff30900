"""Product identity rules: the rule-based key of one listing.

Pure domain logic (no Dagster, no SQL). :func:`identify` gives a listing its *rule key*
(``Identity.key``), one of the methods :mod:`pipelines.products.matching` decides by (the
others: GTIN, part number, title similarity):

* **Trading cards**: ``card:<set>:<number>:<variant>:<grade>``; the number comes from the vendor
  code (``58/102``) or the title.
* **Goods**: a normalised title key (:mod:`pipelines.products.normalise`); per-category synonyms
  fold model spellings (``PS5`` = ``PlayStation 5``); seller noise (``new``, ``original``,
  ``garansi resmi``), brand names and (where configured) colour words are left out; the
  remaining words, as a sorted set, are the key (so word order does not matter).

The rules are data (:mod:`pipelines.products.rules`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pipelines.products.identifiers import (
    gtin_check_digit_ok,
    gtin_lookup_forms,
    normalise_gtin,
)
from pipelines.products.normalise import clean_display, normalise_text, strip_marks
from pipelines.products.rules import (
    DEFAULT_RULES_PATH,
    CompiledCategory,
    CompiledRules,
    Grades,
    RulesError,
    compile_rules,
    load_rules,
    plain_words,
)

__all__ = [
    "DEFAULT_RULES_PATH", "CompiledRules", "Identity", "ListingText", "RulesError", "compile_rules",
    "gtin_check_digit_ok", "gtin_lookup_forms", "identify", "load_rules", "normalise_card_number",
    "normalise_gtin", "normalise_text",
]


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
    text = strip_marks(code).casefold().strip().lstrip("#").strip("() ")
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
                    raw: str = "") -> CompiledCategory:
    """The first category whose vendor list, words or patterns match (``raw``: the title with its
    punctuation, for patterns such as ``58/102``); the last category is the fallback."""
    words = None
    for category in rules.categories:
        if vendor is not None and vendor in category.detect_vendors:
            return category
        if category.detect_words:
            if words is None:  # the title's words, as the word pattern would find them in either spelling
                words = set(text.split()) | set(_RAW_WORD.findall(raw))
            if not words.isdisjoint(category.detect_words):
                return category
        rest = category.detect_rest
        if rest is not None and (rest.search(text) or rest.search(raw)):
            return category
    return rules.categories[-1]


_RAW_WORD = re.compile(r"[0-9a-z]+(?:\.[0-9a-z]+)*")


def _slashed(title: str, rules: CompiledRules) -> str:
    """Marks and symbols stripped and casefolded, punctuation kept (``58/102``, ``#58``)."""
    return " ".join(strip_marks(title, rules.translit).casefold().split())


def identify(listing: ListingText, rules: CompiledRules | None = None, *, named: bool = True) -> Identity:
    """The identity of one listing on its own.

    ``named=False`` leaves ``name`` empty: the display name is only needed for listings that
    found a product (:func:`product_name`), and it is a fifth of the cost."""
    rules = rules or load_rules()
    return identify_read(listing, rules, normalise_text(listing.title, rules.translit),
                         _slashed(listing.title, rules), named=named)


def identify_read(listing: ListingText, rules: CompiledRules, text: str, raw: str, *, named: bool = True) -> Identity:
    """:func:`identify` of a title already read: ``text`` normalised, ``raw`` with its punctuation
    (the matcher reads both anyway: reading them once is a good part of its cost)."""
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


def _goods_identity(listing: ListingText, text: str, category: CompiledCategory,
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
            words.update(w for phrase in phrase_words for w in plain_words(phrase).split())
        if drop_colours:
            words |= rules.colour_words
        noise = rules.display_noise[cache_key] = frozenset(words)
    return noise


def display_name(title: str, vendor: str | None, category: CompiledCategory, rules: CompiledRules) -> str:
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


def _card_identity(listing: ListingText, text: str, slashed: str, category: CompiledCategory,
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


def _card_grade(text: str, condition: str | None, category: CompiledCategory, grades: Grades) -> str:
    assert category.grade is not None
    for source in (text, normalise_text(condition or "")):
        if m := category.grade.search(source):
            return f"{m.group(1)}-{m.group(2)}"
    if category.sealed is not None and category.sealed.search(text):
        return "sealed"
    return grades.default
