"""Product identity: vendor codes, title normalisation on tricky demo spellings, the rules file,
and the matching rate on the demo marketplace's ground truth."""
# ruff: noqa: RUF001  (the titles are the demo's, odd Unicode included on purpose)

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.products.identity import (
    ListingText,
    RulesError,
    compile_rules,
    gtin_lookup_forms,
    identify,
    load_rules,
    normalise_card_number,
    normalise_gtin,
    normalise_text,
)

NBSP, ZWSP = "\u00a0", "\u200b"


def key(title: str, vendor: str | None = None, code: str | None = None, condition: str | None = None) -> str:
    return identify(ListingText(title=title, vendor=vendor, product_code=code, condition=condition)).key


# --- vendor identifiers -------------------------------------------------------------------------


def test_gtin_spellings_normalise_to_one_gtin14() -> None:
    ean13 = "0194252707296"
    assert normalise_gtin(ean13) == "00194252707296"
    assert normalise_gtin("194252707296") == "00194252707296"  # UPC-A: the EAN-13 without its leading 0
    assert normalise_gtin("00194252707296") == "00194252707296"
    assert normalise_gtin("0 194252 707296") == "00194252707296"
    assert normalise_gtin("96385074") == "00000096385074"  # EAN-8


@pytest.mark.parametrize("bad", [None, "", "0194252707297", "12345", "ABC4252707296", "0000000000000", "58/102"])
def test_invalid_gtins_are_rejected(bad: str | None) -> None:
    assert normalise_gtin(bad) is None


def test_gtin_lookup_forms_cover_what_vendors_store() -> None:
    assert gtin_lookup_forms("00194252707296") == ["00194252707296", "0194252707296", "194252707296"]


@pytest.mark.parametrize(("code", "expected"), [
    ("58/102", ("58", "102")), ("(58/102)", ("58", "102")), ("#58", ("58", None)), ("044/185", ("44", "185")),
    ("SV49/SV94", ("sv49", "sv94")), ("085", ("85", None)), ("Raw", None), ("", None),
])
def test_card_numbers(code: str, expected: tuple[str, str | None] | None) -> None:
    assert normalise_card_number(code) == expected


# --- text normalisation -----------------------------------------------------------------------------


def test_normalise_text_folds_unicode_case_punctuation_and_storage() -> None:
    assert normalise_text("Poke\u0301mon™ Pikachu") == "pokemon pikachu"  # NFD accent, ™ not "tm"
    assert normalise_text(f"iPhone{NBSP}13 ✨ 128{NBSP}GB") == "iphone 13 128gb"
    assert normalise_text(f"Gal{ZWSP}axy® S23 – 128 Gb") == "galaxy s23 128gb"
    assert normalise_text("PS5 Slim 1 TB") == "ps5 slim 1024gb"
    for spelling in ("128GB", "128 GB", "128gb", "128 Gb", "(128 GB)", f"128{NBSP}GB"):
        assert normalise_text(spelling) == "128gb"
    assert normalise_text("RF 50mm f/1.8 STM.") == "rf 50mm f 1.8 stm"


# --- tricky demo spellings: each group is one product, groups are different products ------------

SAME_PRODUCT = [
    # phones: storage spelling, local colour names, seller noise, emoji, ™, order, brand optional
    [("[BEKAS] Apple iPhone 13 128GB – Midnight Garansi Resmi", "toko"), ("iPhone 13 (128 GB) Azul", "chapin"),
     ("Apple iPhone 13 128 GB azul", "mercado"), ("iPhone™ 13 128gb - Hitam 🔥", "toko"),
     ("IPHONE 13 128 GB STARLIGHT", "toko"), ("iPhone 13 - 128GB Como nuevo", "chapin"),
     (f"Apple iPhone 13{NBSP}128 GB Blanco estelar (Reacondicionado)", "mercado")],
    [("Samsung Galaxy S23 Ultra 256GB Phantom Black", "toko"), ("Galaxy S23Ultra 256 GB Negro fantasma", "chapin"),
     ("S23 Ultra 256gb – Green BNIB", "toko"), ("Galaxy™ S23 Ultra (256 GB) Verde Liberado", "chapin")],
    [("Galaxy A54 5G 128 GB – Lima", "chapin"), ("Samsung Galaxy A54 128GB Awesome Graphite", "toko"),
     ("A54 5G 128gb", "toko")],
    [("iPhone 14 ProMax 256GB Deep Purple", "toko"), ("Apple iPhone 14 Pro Max 256 GB Morado oscuro", "mercado")],
    [("iPhone SE (2022) 64GB", "toko"), ("iPhone SE 3rd Gen 64 GB Rojo", "chapin"), ("iPhone SE 3 64gb", "toko")],
    # consoles: PS5 aliases, edition wording, storage added half of the time
    [("PlayStation 5 Disc Edition 825GB", "toko"), ("PS5 con lector", "chapin"),
     ("PlayStation5 825gb con lector Sony", "chapin"), ("Sony PlayStation 5 Edición Estándar 825 GB", "mercado"),
     ("PS5 Reg Disc", "toko")],
    [("PlayStation 5 Digital Edition", "toko"), ("Sony PlayStation5 Edición Digital", "mercado"),
     ("PS5 Digital 825 GB", "toko")],
    [("Nintendo Switch (OLED model) White", "chapin"), ("Switch OLED Model 64GB – Blanco", "chapin"),
     ("Nintendo Switch OLED Rojo neón/Azul neón", "mercado")],
    [("Nintendo Switch™ 32 GB - Gris Libre", "mercado"), ("Nintendo Switch V2 Neon Red/Neon Blue", "toko")],
    # accessories: noun in any language, compatibility tail
    [("Stik DualSense untuk PlayStation 5 – Putih", "toko"), ("Mando Sony DualSense Wireless Controller", "mercado"),
     ("Control DualSense Controller para PlayStation 5 Negro medianoche", "chapin")],
    [("SAMSUNG WATCH6 44MM – GRAPHITE", "toko"), ("Reloj Galaxy™ Watch 6 44mm", "chapin")],
    # cameras: Mark II spellings, body wording, lens apertures, Sony alpha
    [("Canon EOS R6 Mark II Body Only", "toko"), ("EOS R6m2 solo cuerpo", "mercado"), ("R6 Mark II Body", "mercado"),
     ("Canon EOS R6 II (Body)", "toko")],
    [("Lensa Canon RF 50mm F1.8 STM", "toko"), ("Objetivo RF 50mm f/1.8 STM", "mercado"), ("RF50mm F1.8", "mercado")],
    [("Sony α7 IV Body", "mercado"), ("Sony Alpha 7 IV solo cuerpo", "mercado"), ("ILCE-7M4 Body Only", "toko")],
    [("Canon EOS 850D (Rebel T8i) Kit EF-S 18-55mm", "toko"), ("EOS Rebel T8i + EF-S 18-55mm", "mercado")],
    # cards: number as vendor code or in the title, set aliases, grade spellings
    [("Pokémon Pikachu 58/102 Base Set — PSA 9", "cardvault", "58/102", "PSA 9"),
     ("Pokemon Pikachu #58 Base — PSA9 MINT", "cardvault", "58/102", "PSA 9"),
     ("Carta Pokemon Pikachu (58/102) Base Set Unlimited PSA 9 Mint", "chapin", None, None),
     ("PSA 9 Pikachu 58/102 Base Set Pokémon", "toko", None, None)],
    [("Pokémon Charizard 4/102 Base Set Shadowless Holo - PSA 8", "cardvault", "4/102", "PSA 8"),
     ("1999 Pokemon Base Set Charizard Holo Rare 4/102 Shadowless · PSA8", "cardvault", "4/102", "PSA 8")],
]
DIFFERENT_PRODUCTS = [
    ("iPhone 13 128GB", "toko"), ("iPhone 13 256GB", "toko"), ("iPhone 13 Pro 128GB", "toko"),
    ("iPhone 14 Pro 128GB", "toko"), ("Galaxy S23 128GB", "toko"), ("Galaxy S23 Ultra 256GB", "toko"),
    ("PS5 Digital", "toko"), ("PS5 Slim Digital", "toko"), ("PS5 Pro", "toko"), ("Switch Lite", "toko"),
    ("Switch 2", "toko"), ("DualSense Edge", "toko"), ("DualSense", "toko"), ("EF 50mm F1.8 STM", "toko"),
    ("EOS R6 Mark II Kit RF 24-105mm F4-7.1", "toko"), ("EOS R6 Mark II Body", "toko"), ("EOS R5 Body", "toko"),
]
DIFFERENT_CARDS = [
    ("Pikachu 58/102 Base Set PSA 9", "58/102", "PSA 9"), ("Pikachu 58/102 Base Set PSA 10", "58/102", "PSA 10"),
    ("Pikachu 58/102 Base Set 1st Edition PSA 9", "58/102", "PSA 9"), ("Pikachu 58/102 Base Set", "58/102", "Raw"),
    ("Pikachu 60/64 Jungle", "60/64", "Raw"), ("Charizard 4/130 Base Set 2", "4/130", "Raw"),
]


@pytest.mark.parametrize("group", SAME_PRODUCT, ids=[g[0][0][:30] for g in SAME_PRODUCT])
def test_spellings_of_one_product_share_a_key(group: list[tuple]) -> None:  # type: ignore[type-arg]
    keys = {key(*item) for item in group}
    assert len(keys) == 1, keys


def test_different_products_get_different_keys() -> None:
    keys = [key(title, vendor) for title, vendor in DIFFERENT_PRODUCTS]
    assert len(set(keys)) == len(keys), keys
    cards = [key(title, "cardvault", code, grade) for title, code, grade in DIFFERENT_CARDS]
    assert len(set(cards)) == len(cards), cards


def test_identity_reports_category_method_and_a_clean_name() -> None:
    phone = identify(ListingText("[BEKAS] Apple iPhone 13 128GB – Midnight Garansi Resmi 🔥", vendor="toko"))
    assert (phone.category, phone.method, phone.brand) == ("phone", "title", "Apple")
    assert phone.name == "Apple iPhone 13 128GB"
    card = identify(ListingText("Pokémon Pikachu 58/102 Base Set — PSA 9", vendor="cardvault", product_code="58/102"))
    assert (card.key, card.method, card.code) == ("card:base-set:58:unlimited:psa-9", "card_number", "58/102")
    sealed = identify(ListingText("Pokémon™ Base Set Booster Pack Unlimited | Factory Sealed", vendor="cardvault"))
    assert sealed.key == "card:base-set:booster-pack:unlimited:sealed"


def test_default_rules_load_and_are_cached() -> None:
    rules = load_rules()
    assert load_rules() is rules
    assert [c.spec.slug for c in rules.categories][-1] == "other"


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r["categories"][1]["synonyms"].append(["(unclosed", "x"]), "invalid regular expression"),
    (lambda r: r["categories"].append(dict(r["categories"][0])), "duplicate category slugs"),
    (lambda r: r["categories"][-1].update(detect={"words": ["x"]}), "fallback"),
    (lambda r: r["categories"][1].update(colours="sometimes"), "colours"),
    (lambda r: r.update(version=2), "version"),
    (lambda r: r.update(surprise=True), "surprise"),
])
def test_invalid_rules_are_refused_with_the_reason(change, message: str) -> None:  # type: ignore[no-untyped-def]
    import copy

    import yaml

    from pipelines.products.identity import DEFAULT_RULES_PATH

    raw = yaml.safe_load(DEFAULT_RULES_PATH.read_text())
    broken = copy.deepcopy(raw)
    change(broken)
    with pytest.raises(RulesError, match=message):
        compile_rules(broken, source="test.yaml")


def test_missing_rules_file_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RulesError, match=r"nope\.yaml"):
        load_rules(tmp_path / "nope.yaml")


# --- the demo marketplace's ground truth -------------------------------------------------------------


def test_matching_rate_on_the_demo_catalogue() -> None:
    """Every listing the demo shows on a day, as the scrapers see it, against the true product."""
    from bench.product_matching import evaluate

    results = evaluate([dt.date(2025, 6, 1)])
    overall = results["without colour, refurbished apart"]  # a refurbished unit is its own product
    assert overall["listings"] > 1500
    assert overall["matching_rate"] >= 0.99  # listings on their product's main row
    assert overall["purity"] >= 0.98  # rows holding one true product (Xbox Series S 512 GB/1 TB merge)
    assert overall["cross_vendor_met"] >= 0.98  # products sold in several shops meet on one row
    titles_only = evaluate([dt.date(2025, 6, 1)], titles_only=True)["without colour, refurbished apart"]
    assert titles_only["matching_rate"] >= 0.98
