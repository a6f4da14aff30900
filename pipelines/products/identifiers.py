"""Product identifiers: GTIN/EAN/UPC and manufacturer part numbers (MPNs), found and normalised.

Pure domain logic (stdlib and pydantic only). Identifiers are the strongest evidence that two
listings are the same product, but real shops write them differently:

* **GTINs** come as EAN-13, UPC-A, GTIN-14 or EAN-8, with or without leading zeros; all are
  normalised to GTIN-14 after their GS1 check digit is verified, so a typo never matches.
* **Part numbers** are written with or without separators (``KDL-46V3000`` = ``KDL46V3000``,
  ``910-006556`` = ``910006556``), with a region or packaging suffix on one side only
  (``QN55Q80CAFXZA`` = ``QN55Q80C``, ``5803C002AA`` = ``5803C002``, ``…-100NAS``), with a colour
  suffix (``WH1000XM4/B``: black) and with the brand glued in front. A :class:`PartNumber`
  keeps the code as written, its ``root`` (upper case, separators dropped), its ``stem`` (root
  without the suffixes the rules know) and the colour suffix it had, so two codes can be
  compared as *same*, *same up to a suffix*, or *different* (:func:`compare_part_numbers`).
  Two different colour suffixes are different products; one side without a colour is not.

Which suffixes exist, per brand or for every brand, and which brands are known, is data:
the ``identifiers`` section of ``config/product_rules.yaml`` (:class:`IdentifierRules`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

# --- GTIN / EAN / UPC ---------------------------------------------------------------------------


def gtin_check_digit_ok(digits: str) -> bool:
    """GS1 mod-10: weights 3,1,3,... from the right, excluding the check digit."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def normalise_gtin(code: str | None) -> str | None:
    """GTIN-8/12/13/14 (EAN, UPC-A) as 14 digits, or None when it is not a valid GTIN.

    ``194252707296`` (UPC-A), ``0194252707296`` (EAN-13) and ``00194252707296`` are one GTIN.
    Spaces and hyphens are ignored; all-zero codes and bad check digits are rejected.
    """
    if not code:
        return None
    digits = re.sub(r"[\s\-]", "", code)
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14) or not digits.strip("0"):
        return None
    if not gtin_check_digit_ok(digits):
        return None
    return digits.rjust(14, "0")


def gtin_lookup_forms(gtin14: str) -> list[str]:
    """The spellings a vendor may have stored a GTIN-14 under (14, 13, 12 and 8 digits)."""
    forms = {gtin14}
    for width in (13, 12, 8):
        if gtin14[: 14 - width].strip("0") == "":
            forms.add(gtin14[14 - width:])
    return sorted(forms)


_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])(\d{12,14})(?![0-9A-Za-z])")


def gtins_in_text(text: str) -> list[str]:
    """Valid GTIN-12/13/14 written in a title or description (``UPC 194252707296``); 8-digit
    codes are left out, as in free text they are far more often part numbers or dates."""
    found = []
    for m in _LONG_DIGITS.finditer(text):
        gtin = normalise_gtin(m.group(1))
        if gtin and gtin not in found:
            found.append(gtin)
    return found


# --- rules --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_patterns(value: list[str]) -> list[str]:
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return value


class IdentifierRules(_Strict):
    """The ``identifiers`` section of the product rules.

    ``brands``: canonical brand name -> lower-case aliases written in titles (the name itself is
    always an alias). ``region_suffixes`` / ``packaging_suffixes``: patterns (on the upper-case
    code without separators, anchored at its end) that a shop may add or leave out for the
    same product; ``brand_suffixes`` adds patterns that only hold for one brand (Samsung's
    ``FXZA``). ``colour_suffixes``: colour codes written after ``/`` or ``-`` (or glued, for
    the multi-letter ones in ``glued_colour_suffixes``). ``not_codes``: patterns of
    tokens that look like codes but are specifications (``DDR5-6000``, ``802.11ac``, ``1080p``).
    """

    brands: dict[str, list[str]] = Field(default_factory=dict)
    region_suffixes: list[str] = Field(default_factory=list)
    packaging_suffixes: list[str] = Field(default_factory=list)
    brand_suffixes: dict[str, list[str]] = Field(default_factory=dict)
    colour_suffixes: list[str] = Field(default_factory=list)
    glued_colour_suffixes: list[str] = Field(default_factory=list)
    not_codes: list[str] = Field(default_factory=list)

    _patterns = field_validator("region_suffixes", "packaging_suffixes", "not_codes")(_check_patterns)

    @field_validator("brand_suffixes")
    @classmethod
    def _brand_patterns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for patterns in value.values():
            _check_patterns(patterns)
        return value


class CompiledIdentifierRules:
    """:class:`IdentifierRules` with every pattern compiled once."""

    def __init__(self, rules: IdentifierRules) -> None:
        self.rules = rules
        aliases: dict[str, str] = {}
        for brand, names in rules.brands.items():
            for name in [brand, *names]:
                aliases[" ".join(re.sub(r"[^0-9a-z]+", " ", name.casefold()).split())] = brand
        self.brand_of_alias = aliases
        longest = sorted(aliases, key=lambda a: (-len(a), a))
        self.brand_pattern = (re.compile(r"(?<![0-9a-z])(" + "|".join(re.escape(a) for a in longest) + r")(?![0-9a-z])")
                              if longest else None)
        prefixes = sorted({a.replace(" ", "").upper() for a in aliases if len(a.replace(" ", "")) >= 3},
                          key=lambda a: (-len(a), a))
        self.glued_brand_prefix = re.compile("^(?:" + "|".join(map(re.escape, prefixes)) + ")") if prefixes else None
        self.generic_suffix = _suffix_pattern([*rules.region_suffixes, *rules.packaging_suffixes])
        self.brand_suffix = {brand: p for brand, patterns in rules.brand_suffixes.items()
                             if (p := _suffix_pattern(patterns)) is not None}
        colours = sorted({c.upper() for c in rules.colour_suffixes}, key=len, reverse=True)
        self.single_colours = frozenset(c.upper() for c in rules.colour_suffixes if len(c) == 1)
        self.colour_suffix = (re.compile(r"[/\-](" + "|".join(map(re.escape, colours)) + r")$") if colours else None)
        glued = sorted({c.upper() for c in rules.glued_colour_suffixes}, key=len, reverse=True)
        self.glued_colour = re.compile(r"(?<=\d|[A-Z])(" + "|".join(map(re.escape, glued)) + r")$") if glued else None
        self.not_code = re.compile("|".join(f"(?:{p})" for p in rules.not_codes), re.IGNORECASE) \
            if rules.not_codes else None

    def brand_in(self, text: str) -> str | None:
        """The first known brand named in ``text`` (normalised lower-case words)."""
        if self.brand_pattern is None:
            return None
        m = self.brand_pattern.search(text)
        return self.brand_of_alias[m.group(1)] if m else None

    def canonical_brand(self, name: str | None) -> str | None:
        """A brand as a vendor field gives it (``SAMSUNG``, ``Hewlett Packard``) in canonical form;
        a manufacturer field naming a known brand with more words (``Canon Inc.``, ``Yamaha
        Electronics Corporation``, ``Linksys (a division of Cisco)``) is that brand."""
        if not name:
            return None
        plain = " ".join(re.sub(r"[^0-9a-z]+", " ", name.casefold()).split())
        known = self.brand_of_alias.get(plain)
        if known is None and (m := self.brand_pattern.search(plain) if self.brand_pattern else None):
            known = self.brand_of_alias[m.group(1)] if m.start() == 0 else None
        return known or name.strip()


def _suffix_pattern(patterns: Iterable[str]) -> re.Pattern[str] | None:
    patterns = list(patterns)
    if not patterns:
        return None
    return re.compile("(?:" + "|".join(f"(?:{p})" for p in patterns) + ")$")


# --- part numbers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartNumber:
    """One manufacturer part number as found, and the forms it is compared in."""

    raw: str
    """As written (``QN-55Q80CAFXZA``)."""
    root: str
    """Upper case, separators dropped, brand prefix dropped (``QN55Q80CAFXZA``)."""
    stems: frozenset[str]
    """``root`` and the forms left after dropping known region/packaging suffixes (``QN55Q80C``)."""
    colour: str | None
    """A colour suffix it carried (``B`` of ``WH1000XM4/B``), if any."""

    @property
    def stem(self) -> str:
        """The shortest form: what the code is indexed under."""
        return min(self.stems, key=lambda s: (len(s), s))


class CodeMatch(Enum):
    SAME = "same"
    """Identical once case and separators are ignored."""
    SUFFIX = "suffix"
    """Identical once known region/packaging/colour suffixes present on one side are dropped."""
    DIFFERENT = "different"


_SPLIT = re.compile(r"[\s,;|()\[\]{}<>\"\u201c\u201d'\u2019]+")
_EDGE = re.compile(r"^[^0-9A-Za-z]+|[^0-9A-Za-z/]+$")
_SEPARATORS = re.compile(r"[\-/._\s]")
_HAS_DIGIT = re.compile(r"\d")


_GLUED_WORD = re.compile(r"[A-Z]{5,}\d{1,2}")


def _looks_like_code(alnum: str, placed: bool = False) -> bool:
    """Strong enough to identify a product on its own: at least five characters with at least
    two digits and a letter (``KDL46V3000``), seven with one digit (``MTJV3AMA``), or seven to
    eleven digits (``910006556``); a word with a number glued on (``IPHONE15``) is not one.

    ``placed``: the shop put the token where part numbers go (after a final `` - `` of the
    title, or written with a separator inside, ``MDR-NC60``): then a glued word (``MDRNC60``)
    and five characters with one digit (``DCRSR4``) are codes too."""
    digits = sum(ch.isdigit() for ch in alnum)
    letters = len(alnum) - digits
    if alnum.isdigit():
        return 7 <= len(alnum) <= 11
    if placed and len(alnum) >= 5 and digits >= 1 and letters >= 1:
        return True
    if _GLUED_WORD.fullmatch(alnum):
        return False
    return (len(alnum) >= 5 and digits >= 2 and letters >= 1) or (len(alnum) >= 7 and digits >= 1 and letters >= 3)


_INNER_SEPARATOR = re.compile(r"[A-Z]{2}[\-/.][A-Z]*\d")
"""A separator between a letter and a digit part (``MDR-NC60``, ``DCR-SR47``): written as a code."""
_LAST_SEGMENT = re.compile(r"(?:/[A-Z0-9]{1,2}|-(?:[A-Z][A-Z0-9]?|[0-9][A-Z]))$")
"""A last segment of one or two characters a shop adds or leaves out (``DVP3980/37``,
``CHDHX-901-RW``, ``…-RK``); after a dash it has a letter (``DECT2060-2`` vs ``-3`` are two
products), and a longer one (``AT-LP120-USB``) is part of the model."""


def _drop_brand_prefix(root: str, rules: CompiledIdentifierRules) -> str:
    m = rules.glued_brand_prefix.match(root) if rules.glued_brand_prefix is not None else None
    if m and len(root) - m.end() >= 5 and _looks_like_code(root[m.end():]):
        return root[m.end():]
    return root


def normalise_part_number(text: str, rules: CompiledIdentifierRules, brand: str | None = None,
                          placed: bool = False) -> PartNumber | None:
    """``text`` as a :class:`PartNumber`, or None when it does not look like one (``placed``:
    found where a shop puts its part number, see :func:`_looks_like_code`)."""
    raw = _EDGE.sub("", text.strip())
    if not raw or (rules.not_code is not None and rules.not_code.fullmatch(raw)):
        return None
    upper = raw.upper()
    colour = None
    if rules.colour_suffix is not None and (m := rules.colour_suffix.search(upper)):
        colour, upper = m.group(1), upper[: m.start()]
    placed = placed or (bool(_INNER_SEPARATOR.search(upper)) and sum(ch.isdigit() for ch in upper) >= 2)
    root = _SEPARATORS.sub("", upper)
    if not root.isalnum() or not root.isascii() or not _looks_like_code(root, placed):
        return None
    root = _drop_brand_prefix(root, rules)
    shorter = None
    if (m := _LAST_SEGMENT.search(upper)) and m.start() > 0:
        rest = _SEPARATORS.sub("", upper[: m.start()])
        if rest.isalnum() and _looks_like_code(rest, placed):
            shorter = _drop_brand_prefix(rest, rules)
    glued = rules.glued_colour.search(root) if colour is None and rules.glued_colour is not None else None
    if glued is not None and _looks_like_code(root[: glued.start()]):
        colour, root = glued.group(1), root[: glued.start()]
    stems = {root} if shorter is None else {root, shorter}
    patterns = [rules.generic_suffix, *(rules.brand_suffix.values() if brand is None
                                       else [rules.brand_suffix.get(brand)])]
    for pattern in patterns:
        if pattern is None:
            continue
        for form in list(stems):
            m = pattern.search(form)
            if m and m.start() > 0 and _looks_like_code(form[: m.start()]):
                stems.add(form[: m.start()])
    if rules.glued_colour is not None:  # WDBPKJ0040BBK-WESN: the colour was inside the suffix
        for form in list(stems):
            m = rules.glued_colour.search(form)
            if m and form != root and _looks_like_code(form[: m.start()]):
                stems.add(form[: m.start()])
    return PartNumber(raw=raw, root=root, stems=frozenset(stems), colour=colour)


_UNIT_WORD = re.compile(r"(?i)gb|tb|mb|mm|cm|in|inch|hz|w|watts?|mah|mp|ft|lbs?|oz|kg|ml|rpm|dpi|btu")
"""A unit after a number: the number is a size (``MAX 256 GB``), not the second half of a code."""
_TRAILING_CODE = re.compile(r"\s[-\u2013\u2014]\s+([0-9A-Za-z][0-9A-Za-z/\-.]*[0-9A-Za-z])\s*$")
"""``Sony Turntable - PSLX350H``: one token after a final dash, where retailers put the code."""


def part_numbers(text: str, rules: CompiledIdentifierRules, brand: str | None = None,
                 given: Iterable[str] = ()) -> list[PartNumber]:
    """Part numbers in a title (or description), vendor-given ones (``given``) first.

    A token is a candidate when it mixes letters and digits (or is a long run of digits that is
    not a GTIN) and is not a specification (``not_codes``). Pairs written with a space inside
    (``910 006556``, ``KDL 46V3000``, ``AVR 254``) are tried joined when the halves alone are not
    codes. One token after a title's final `` - `` is read as the shop's part number.
    """
    found: list[PartNumber] = []
    seen: set[str] = set()

    def add(candidate: str) -> bool:
        pn = normalise_part_number(candidate, rules, brand)
        if pn is None:
            return False
        if pn.root not in seen:
            seen.add(pn.root)
            found.append(pn)
        return True

    for code in given:
        if code:
            add(code)
    tail = _TRAILING_CODE.search(text)
    if tail is not None:
        pn = normalise_part_number(tail.group(1), rules, brand, placed=True)
        if pn is not None and pn.root not in seen and not (pn.root.isdigit() and normalise_gtin(pn.root)):
            seen.add(pn.root)
            found.append(pn)
    tokens = [t for t in (_EDGE.sub("", raw) for raw in _SPLIT.split(text)) if t]
    taken = [False] * len(tokens)
    for i, token in enumerate(tokens):
        if not _HAS_DIGIT.search(token):  # every code has a digit: most words are skipped here
            continue
        if _LONG_DIGITS.fullmatch(token) and normalise_gtin(token):
            taken[i] = True
            continue
        taken[i] = add(token)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if taken[i] and 2 <= len(nxt) <= 3 and nxt.isalpha() and nxt.isupper() and found[-1].root.endswith(
                _SEPARATORS.sub("", token.upper())):
            # ``SX110 IS``: a shop that drops separators writes ``SX110IS``; both are the code
            found[-1] = replace(found[-1], stems=found[-1].stems | {found[-1].root + nxt})
    mixed_case = text != text.upper()  # in a title in capitals, ``MAX 256`` is two words

    def following(j: int) -> str:
        return tokens[j] if j < len(tokens) else ""

    for i in range(len(tokens) - 1):
        left, right = tokens[i], tokens[i + 1]
        if taken[i] or taken[i + 1] or not any(ch.isdigit() for ch in right):
            continue
        joinable = (left.isdigit() and right.isdigit() and len(left) <= 4) or \
                   (left.isalpha() and left.isupper() and 2 <= len(left) <= 4
                    and (any(ch.isalpha() for ch in right) or (right.isdigit() and len(right) >= 3 and mixed_case
                                                               and not _UNIT_WORD.fullmatch(following(i + 2)))))
        spec = rules.not_code is not None and rules.not_code.fullmatch(right)
        if joinable and not spec and rules.brand_of_alias.get(left.casefold()) is None:
            add(f"{left}{right}")
    return found


def compare_part_numbers(a: PartNumber, b: PartNumber, glued_colours: frozenset[str] = frozenset()) -> CodeMatch:
    """Whether two part numbers name the same product.

    ``SAME`` when the roots are equal and no two different colours are given; ``SUFFIX`` when
    they share a stem (a region/packaging suffix on one side) or one has a colour and the other
    none; ``DIFFERENT`` otherwise, including the same model in two colours (``/B`` vs ``/S``).
    ``glued_colours``: one-letter colour codes a shop may glue on when it drops separators
    (``DSCW220S`` = ``DSC-W220`` in silver; ``WH1000XM4S`` is not ``WH-1000XM4/B``).
    """
    if a.colour and b.colour and a.colour != b.colour:
        return CodeMatch.DIFFERENT
    if a.root == b.root:
        return CodeMatch.SAME if a.colour == b.colour else CodeMatch.SUFFIX
    if not a.stems.isdisjoint(b.stems):
        return CodeMatch.SUFFIX
    if abs(len(a.root) - len(b.root)) != 1:  # most pairs: nothing else to check
        return CodeMatch.DIFFERENT
    for longer, shorter in ((a, b), (b, a)):
        letter = longer.root[len(shorter.root):]
        if (len(letter) == 1 and letter in glued_colours and longer.colour is None
                and longer.root.startswith(shorter.root) and len(shorter.root) >= 5):
            return CodeMatch.DIFFERENT if shorter.colour and shorter.colour != letter else CodeMatch.SUFFIX
    return CodeMatch.DIFFERENT


@dataclass(frozen=True)
class Identifiers:
    """What a listing says about its product's identity, before any comparison."""

    gtins: frozenset[str]
    part_numbers: tuple[PartNumber, ...]

    @cached_property
    def stems(self) -> frozenset[str]:
        return frozenset(s for pn in self.part_numbers for s in pn.stems)
