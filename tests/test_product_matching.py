"""Product matching on real shop title styles: identifiers, normalisation, kinds that never
merge (accessories, bundles, refurbished units), no chaining, and the labelled evaluation set."""

from __future__ import annotations

import pytest

from pipelines.products.features import features
from pipelines.products.identifiers import (
    CodeMatch,
    compare_part_numbers,
    gtins_in_text,
    normalise_gtin,
    normalise_part_number,
    part_numbers,
)
from pipelines.products.identity import ListingText, load_rules
from pipelines.products.matching import Catalogue, Product, compare, match_listings

RULES = load_rules()
IDS = RULES.identifiers


def codes(title: str) -> list[str]:
    return [pn.stem for pn in part_numbers(title, IDS, IDS.brand_in(title.lower()))]


def same(*titles: str) -> bool:
    """Whether all titles land on one product when matched together."""
    matches = match_listings({i: ListingText(t, vendor=f"shop{i}") for i, t in enumerate(titles)}, RULES)
    return len({m.key for m in matches.values()}) == 1


# --- identifiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("left", "right"), [
    ("KDL46V3000", "KDL-46V3000"), ("910-006556", "910006556"), ("QN55Q80CAFXZA", "QN-55Q80C"),
    ("5803C002AA", "5803C002"), ("WDBPKJ0040BBK-WESN", "WDBPKJ0040BBK"), ("MTP03LL/A", "MTP03AM/A"),
])
def test_part_numbers_written_differently_are_one(left: str, right: str) -> None:
    brand = {"QN55Q80CAFXZA": "Samsung", "MTP03LL/A": "Apple"}.get(left)
    a, b = normalise_part_number(left, IDS, brand), normalise_part_number(right, IDS, brand)
    assert a is not None and b is not None
    assert compare_part_numbers(a, b) in (CodeMatch.SAME, CodeMatch.SUFFIX)


@pytest.mark.parametrize(("left", "right"), [
    # a retailer's stock code (separators dropped, a colour letter glued on) vs the maker's spelling
    ("Sony Noise Canceling Headphones - MDRNC60", "Sony MDR-NC60 Noise Canceling Headphones"),
    ("Sony Cyber-shot Silver Digital Camera - DSCW220S", "Sony Cyber-shot DSC-W220 12.1MP Digital Camera"),
    ("Philips Progressive Scan DVD Player - DVP3980", "Philips DVP3980/37 DVD Player with 1080p upscaling"),
    ("GoPro HERO9 Black Action Camera - CHDHX901", "GoPro HERO9 Black - Waterproof Action Camera CHDHX-901-RW"),
    ("Harman Kardon 7.1 Channel A/V Receiver - AVR254", "Harman Kardon AVR 254 7.1-Channel Audio/Video Receiver"),
    ('Dell 24" UltraSharp Monitor - U2419H', 'Dell UltraSharp U2419H 23.8" FHD IPS Monitor'),
])
def test_retailer_stock_codes_match_the_makers_part_number(left: str, right: str) -> None:
    assert same(left, right)


@pytest.mark.parametrize(("left", "right"), [
    ("WH1000XM4B", "WH-1000XM4/S"),          # a glued colour letter is still a colour
    ("AT-LP120-USB", "AT-LP120"), ("DECT2060-2", "DECT2060-3"),  # longer or digit segments are the model
    ("WH1000XM5/B", "WH1000XM5/S"),        # one model, two colours: two products
    ("SEL50F18F", "SEL50F18"),              # FE vs E mount lens: a letter that is not a suffix
    ("CMH32GX5M2E6000C36", "CMH64GX5M2B6000C30"), ("910-006556", "910-006558"),
])
def test_different_part_numbers_stay_different(left: str, right: str) -> None:
    a, b = normalise_part_number(left, IDS), normalise_part_number(right, IDS)
    assert a is not None and b is not None
    assert compare_part_numbers(a, b) is CodeMatch.DIFFERENT


def test_specifications_and_words_are_not_part_numbers() -> None:
    assert codes("Corsair Vengeance 32GB (2x16GB) DDR5-6000 CMK32GX5M2B6000C36") == ["CMK32GX5M2B6000C36"]
    assert codes("Nikon Z 50mm f/1.8 S 1920x1080 802.11ac USB-C 2023") == []
    assert codes("Sony PlayStation5 iPhone15 Galaxy S23") == []  # words with numbers are model words
    assert codes("Logitech 910 006556 MX Master 3S") == ["910006556"]  # a code written with a space
    assert codes("Harman Kardon AVR 254 7.1-Channel Receiver") == ["AVR254"]
    assert codes("IPHONE 14 PRO MAX (256 GB) - LIBERADO") == []  # capitals and a size: words, not a code
    assert codes("Sony Noise Canceling Headphones - MDRNC60") == ["MDRNC60"]  # where the shop puts its code


def test_a_manufacturer_field_with_more_words_is_the_known_brand() -> None:
    assert IDS.canonical_brand("Canon Inc.") == "Canon"
    assert IDS.canonical_brand("Yamaha Electronics Corporation") == "Yamaha"
    assert IDS.canonical_brand("SAMSUNG") == "Samsung"
    assert IDS.canonical_brand("Pure Digital") == "Pure Digital"  # unknown: kept as given
    listings = {1: ListingText("Canon PowerShot Digital Camera - SX110IS", vendor="a"),
                2: ListingText("Canon PowerShot SX110 IS 9MP Digital Camera", vendor="b", brand="Canon U.S.A., Inc.")}
    matches = match_listings(listings, RULES)
    assert matches[1].key == matches[2].key


def test_gtins_in_titles_and_fields_are_checked() -> None:
    assert gtins_in_text("Sony WH-1000XM5 UPC 027242923942 black") == ["00027242923942"]
    assert gtins_in_text("order 027242923943") == []  # bad check digit
    assert normalise_gtin("0194252707296") == "00194252707296"


# --- kinds that never merge ---------------------------------------------------------------------------


@pytest.mark.parametrize(("product", "other"), [
    ("Apple iPhone 15 128GB Black - MTP03LL/A", "Spigen Ultra Hybrid Case for iPhone 15 128GB Black"),
    ("Apple iPhone 15 128GB Black", "Tempered Glass Screen Protector for iPhone 15"),
    ("Sony WH-1000XM5 Wireless Headphones Black WH1000XM5/B", "Replacement Ear Pads for Sony WH1000XM5/B"),
    ("Sony PlayStation 5 Slim Console Disc", "Sony PlayStation 5 Slim Console Disc Spider-Man 2 Bundle"),
    ("Sony PlayStation 5 Slim Console Disc", "PlayStation 5 Slim Console Disc + 2 Controllers"),
    ("Canon EOS R8 Body 5803C002", "Canon EOS R8 Body Refurbished 5803C002"),
    ("Apple iPhone 15 128GB Black MTP03LL/A", "Apple iPhone 15 128GB Black MTP03LL/A (Renewed)"),
    ("Seagate IronWolf 8TB NAS HDD ST8000VN004", "Seagate IronWolf 8TB NAS HDD 2-Pack ST8000VN004"),
    # shop-code style: the accessory or bundle names the product's own part number
    ("Onkyo 7.1 Channel Home Theater Receiver - TXSR607", "Onkyo TX-SR607 Receiver + Polk Monitor 40 Speaker Bundle"),
    ("Sony Turntable - PSLX250H", "Sony Turntable Replacement Stylus For PS-LX250H - ND137G"),
    ("Garmin Nuvi 260W Portable GPS Navigator - 0100053920", "Garmin Dashboard Mount For Nuvi 260W - 0101091100"),
    ("Canon PowerShot Silver Digital Camera - SD880IS", "Canon Deluxe Leather Case For PowerShot SD880IS - PSCDC10"),
    ("Nintendo Switch Pro Controller - HACAFSSKA", "PowerA Enhanced Wired Controller for Nintendo Switch Pro"),
    ("Sony PlayStation 3 80GB Console - 98006", "Sony PlayStation 3 80GB with LittleBigPlanet Bundle"),
])
def test_accessories_bundles_and_refurbished_units_never_merge_with_the_product(product: str, other: str) -> None:
    assert not same(product, other)


def test_a_condition_field_saying_refurbished_keeps_the_unit_apart() -> None:
    listings = {1: ListingText("Canon EOS R8 Body 5803C002", vendor="a", condition="new"),
                2: ListingText("Canon EOS R8 Body 5803C002", vendor="b", condition="Refurbished")}
    matches = match_listings(listings, RULES)
    assert matches[1].key != matches[2].key and matches[2].key.endswith("~refurbished")


# --- same product, different shop wording ---------------------------------------------------------------


@pytest.mark.parametrize(("left", "right", "method"), [
    ('Sony Bravia 46" LCD TV - KDL46V3000', 'Sony BRAVIA KDL-46V3000 46" LCD HDTV', "mpn"),
    ('Samsung 55" Class Q80C QLED 4K - QN55Q80CAFXZA', "Samsung QN-55Q80C 55in QLED TV", "mpn"),
    ("Canon EOS R8 Body 5803C002", "Canon EOS R8 Mirrorless Camera (Body Only) - 5803C002AA", "mpn"),
    ("Logitech MX Master 3S Graphite - 910006556", "Logitech 910-006556 MX Master 3S Wireless Mouse", "mpn"),
    ("Sennheiser Momentum 4 Wireless Headphones Black - 509266",
     "Sennheiser MOMENTUM 4 Wireless 509266 Adaptive Noise Cancellation Black", "title"),
])
def test_real_title_pairs_match_with_their_method(left: str, right: str, method: str) -> None:
    matches = match_listings({1: ListingText(left, vendor="a"), 2: ListingText(right, vendor="b")}, RULES)
    assert matches[1].key == matches[2].key
    assert matches[2].method == method and 0.8 <= matches[2].score <= 1.0, matches[2]


def test_a_gtin_on_one_side_joins_the_product_through_its_part_number() -> None:
    listings = {1: ListingText("Canon EOS R8 Body 5803C002", vendor="a", gtin="013803357905"),
                2: ListingText("Canon EOS R8 Mirrorless Body 5803C002AA", vendor="b"),
                3: ListingText("EOS R8 Mirrorless Camera", vendor="c", gtin="0013803357905")}
    matches = match_listings(listings, RULES)
    assert matches[1].key == matches[2].key == matches[3].key
    assert (matches[2].method, matches[3].method) == ("mpn", "gtin")


@pytest.mark.parametrize(("left", "right"), [
    ('Samsung 55" Class Q80C QLED 4K Smart TV', 'Samsung 65" Class Q80C QLED 4K Smart TV'),
    ("Apple iPhone 15 128GB Black", "Apple iPhone 15 256GB Black"),
    ("Apple iPhone 15 Pro 128GB", "Apple iPhone 15 Pro Max 128GB"),
    ("Logitech MX Master 3S Graphite", "Logitech MX Master 3S Pale Grey"),  # colours are products here
    ("Sony WH-1000XM5 Headphones", "Bose WH-1000XM5 Headphones"),  # brands disagree
])
def test_near_misses_stay_apart(left: str, right: str) -> None:
    assert not same(left, right)


# --- no chaining ---------------------------------------------------------------------------------------


def test_a_listing_joins_a_product_only_when_close_to_its_anchor_not_to_one_member() -> None:
    """B is close enough to A to join A's product; C is close to B but not to A: C founds its own
    product instead of joining through B (single-link clustering would chain A-B-C)."""
    a = features(ListingText("Acme Hyperion gaming desk lamp walnut edition large rgb", vendor="x"), RULES)
    b = features(ListingText("Acme Hyperion gaming desk lamp walnut edition", vendor="y"), RULES)
    c = features(ListingText("Acme Hyperion gaming desk lamp", vendor="z"), RULES)
    product = Product(key="p", anchor=a)
    assert compare(b, product, RULES) is not None
    assert compare(c, Product(key="q", anchor=b), RULES) is not None  # C resembles B ...
    assert compare(c, product, RULES) is None  # ... but not the product B joined
    catalogue = Catalogue(RULES)
    first, _ = catalogue.assign(a, "p")
    second, _ = catalogue.assign(b, "q")
    third, _ = catalogue.assign(c, "r")
    assert second.product is first.product and third.product is not first.product


def test_two_products_about_as_close_leave_the_listing_apart() -> None:
    catalogue = Catalogue(RULES)
    catalogue.assign(features(ListingText("Acme Nova desk lamp walnut large", vendor="x"), RULES), "walnut")
    catalogue.assign(features(ListingText("Acme Nova desk lamp walnut small", vendor="x"), RULES), "walnut2")
    assignment, _ = catalogue.assign(features(ListingText("Acme Nova desk lamp walnut", vendor="y"), RULES), "new")
    assert assignment.product.key == "new" and assignment.verdict is None


# --- the labelled evaluation set ------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["dev", "holdout", "blind-dev", "blind-test"])
def test_the_labelled_sets_meet_the_targets(split: str) -> None:
    from bench.identity_eval import DATA, evaluate, read_matches, read_side

    folder = DATA / split
    scores = evaluate(read_side(folder / "left.csv", "left"), read_side(folder / "right.csv", "right"),
                      read_matches(folder / "matches.csv"))
    assert scores["labelled_pairs"] > 75 and scores["left"] > 100 and scores["right"] > 100
    assert scores["precision"] >= 0.95 and scores["f1"] >= 0.80, scores
