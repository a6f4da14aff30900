"""The real-world-like product universe every demo shop sells from.

Products are the ground truth of identity: the same `Product.key` is listed by several shops
under different spellings, so matching across vendors can be tested against it. The universe
is static data (no randomness, no seed): only the listings built on top of it depend on the
catalogue seed. GTINs are fictitious but check-digit valid and stable, derived with sha256
from the product key (never `hash()`, which is salted per process).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

# Category codes used across the demo (shops localise them for display and search).
PHONE = "phone"
CONSOLE = "console"
ACCESSORY = "accessory"
CAMERA = "camera"
CARD = "card"


@dataclass(frozen=True, slots=True)
class Product:
    """One sellable real-world product (a GTIN-level variant, or a card in one grade)."""

    key: str
    category: str
    brand: str
    model: str  # canonical model name without brand, e.g. "iPhone 13"
    aliases: tuple[str, ...]  # alternative spellings of `model` (first = canonical)
    usd: float  # reference street price of a new unit in USD
    popularity: float  # relative listing frequency inside its category
    storage_gb: int | None = None
    color: str | None = None  # canonical English colour name
    edition: str | None = None  # "Disc Edition", "Body", "RF-S 18-45mm kit", ...
    noun: str | None = None  # accessory kind: "controller", "case", "charger", ...
    compat: str | None = None  # accessory compatibility ("PlayStation 5", "iPhone 13")
    gtin: str | None = None
    # trading cards
    card_name: str | None = None
    card_number: str | None = None
    card_set: str | None = None
    card_year: int | None = None
    card_variant: str | None = None  # "Unlimited", "1st Edition", "Shadowless", ...
    rarity: str | None = None
    grade: str | None = None  # "Raw", "PSA 9", "Sealed", ...

    @property
    def name(self) -> str:
        """Canonical human-readable name (what a price-intelligence report would show)."""
        if self.category == CARD:
            parts = [self.card_name or self.model]
            if self.card_number:
                parts.append(self.card_number)
            parts += [self.card_set or "", self.card_variant or "", self.grade or ""]
            return "Pokémon " + " ".join(p for p in parts if p)
        parts = [self.brand, self.model]
        if self.edition:
            parts.append(self.edition)
        if self.storage_gb:
            parts.append(storage_label(self.storage_gb))
        if self.color:
            parts.append(self.color)
        return " ".join(parts)


def storage_label(gb: int) -> str:
    """Canonical storage label: '128 GB', '1 TB'."""
    return f"{gb // 1024} TB" if gb >= 1024 and gb % 1024 == 0 else f"{gb} GB"


def _slug(text: str) -> str:
    out = []
    for ch in text.lower():
        out.append(ch if ch.isascii() and ch.isalnum() else "-")
    return "-".join(p for p in "".join(out).split("-") if p)


def _gtin13(prefix: str, key: str) -> str:
    """A stable, check-digit-valid EAN-13 with a manufacturer-like prefix."""
    digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
    body = (prefix + str(digest).rjust(12, "0"))[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


_GTIN_PREFIX = {
    "Apple": "019425",
    "Samsung": "880609",
    "Google": "084024",
    "Sony": "071171",
    "Nintendo": "004549",
    "Microsoft": "088984",
    "Canon": "454929",
    "Nikon": "496075",
    "Fujifilm": "454741",
    "Spigen": "880966",
    "SanDisk": "061965",
    "The Pokémon Company": "082065",
}

# --- phones: (brand, model, aliases, [(storage_gb, usd)], colours, popularity) ---------------
_PHONES: tuple[tuple[str, str, tuple[str, ...], tuple[tuple[int, float], ...], tuple[str, ...], float], ...] = (
    ("Apple", "iPhone 11", (), ((64, 300), (128, 340)), ("Black", "White", "Purple"), 0.9),
    ("Apple", "iPhone 12", (), ((64, 380), (128, 420)), ("Black", "Blue"), 0.9),
    ("Apple", "iPhone 13", (), ((128, 520), (256, 600)), ("Midnight", "Starlight", "Blue", "Pink"), 1.2),
    ("Apple", "iPhone 13 Pro", (), ((128, 650), (256, 720)), ("Graphite", "Sierra Blue"), 0.7),
    ("Apple", "iPhone 14", (), ((128, 620), (256, 710)), ("Midnight", "Purple"), 1.0),
    ("Apple", "iPhone 14 Pro", (), ((128, 800), (256, 880)), ("Deep Purple", "Space Black"), 0.7),
    ("Apple", "iPhone 14 Pro Max", ("iPhone 14 ProMax",), ((256, 980),), ("Deep Purple", "Space Black"), 0.6),
    ("Apple", "iPhone 15", (), ((128, 730), (256, 830)), ("Black", "Pink", "Blue"), 1.1),
    ("Apple", "iPhone 15 Pro", (), ((128, 900), (256, 1000)), ("Natural Titanium", "Black Titanium"), 0.8),
    ("Apple", "iPhone 15 Pro Max", ("iPhone 15 ProMax",), ((256, 1150), (512, 1350)),
     ("Natural Titanium", "Blue Titanium"), 0.8),
    ("Apple", "iPhone SE (2022)", ("iPhone SE 2022", "iPhone SE 3rd Gen", "iPhone SE 3"), ((64, 250),),
     ("Midnight", "Red"), 0.4),
    ("Samsung", "Galaxy S21 FE", ("Galaxy S21 FE 5G", "S21 FE"), ((128, 280),), ("Graphite", "Olive"), 0.6),
    ("Samsung", "Galaxy S22", ("Galaxy S22 5G", "S22"), ((128, 350),), ("Phantom Black",), 0.6),
    ("Samsung", "Galaxy S23", ("Galaxy S23 5G", "S23"), ((128, 520), (256, 580)), ("Phantom Black", "Cream"), 0.9),
    ("Samsung", "Galaxy S23 Ultra", ("Galaxy S23Ultra", "S23 Ultra"), ((256, 800), (512, 900)),
     ("Phantom Black", "Green"), 0.9),
    ("Samsung", "Galaxy S24", ("Galaxy S24 5G", "S24"), ((128, 650), (256, 720)), ("Onyx Black", "Marble Grey"), 0.9),
    ("Samsung", "Galaxy S24 Ultra", ("Galaxy S24Ultra", "S24 Ultra"), ((256, 1000), (512, 1150)),
     ("Titanium Black", "Titanium Gray"), 1.0),
    ("Samsung", "Galaxy A54 5G", ("Galaxy A54", "A54 5G"), ((128, 300),), ("Awesome Graphite", "Awesome Lime"), 1.0),
    ("Samsung", "Galaxy A34 5G", ("Galaxy A34", "A34"), ((128, 240),), ("Awesome Silver",), 0.8),
    ("Samsung", "Galaxy A15", ("Galaxy A15 LTE", "A15"), ((128, 150),), ("Blue Black",), 0.8),
    ("Samsung", "Galaxy Z Flip5", ("Galaxy Z Flip 5", "Z Flip5"), ((256, 700),), ("Mint", "Graphite"), 0.6),
    ("Samsung", "Galaxy Z Fold5", ("Galaxy Z Fold 5", "Z Fold5"), ((256, 1300),), ("Phantom Black",), 0.4),
    ("Google", "Pixel 6", (), ((128, 230),), ("Stormy Black",), 0.5),
    ("Google", "Pixel 6a", (), ((128, 200),), ("Chalk",), 0.5),
    ("Google", "Pixel 7", (), ((128, 330),), ("Obsidian", "Snow"), 0.6),
    ("Google", "Pixel 7 Pro", ("Pixel 7Pro",), ((128, 450),), ("Hazel",), 0.5),
    ("Google", "Pixel 7a", (), ((128, 300),), ("Charcoal",), 0.5),
    ("Google", "Pixel 8", (), ((128, 500),), ("Obsidian", "Hazel"), 0.6),
    ("Google", "Pixel 8 Pro", ("Pixel 8Pro",), ((128, 750), (256, 820)), ("Bay", "Obsidian"), 0.6),
)

# --- consoles: (brand, model, aliases, edition, storage_gb, colour, usd, popularity) ----------
_CONSOLES: tuple[tuple[str, str, tuple[str, ...], str | None, int | None, str | None, float, float], ...] = (
    ("Sony", "PlayStation 5", ("PS5", "Playstation 5", "PlayStation5"), "Disc Edition", 825, None, 480, 1.3),
    ("Sony", "PlayStation 5", ("PS5", "Playstation 5", "PlayStation5"), "Digital Edition", 825, None, 400, 1.0),
    ("Sony", "PlayStation 5 Slim", ("PS5 Slim", "PlayStation 5 (Slim)", "Playstation 5 Slim"), "Disc Edition",
     1024, None, 480, 1.2),
    ("Sony", "PlayStation 5 Slim", ("PS5 Slim", "PlayStation 5 (Slim)", "Playstation 5 Slim"), "Digital Edition",
     1024, None, 430, 0.9),
    ("Sony", "PlayStation 5 Pro", ("PS5 Pro", "Playstation 5 Pro"), None, 2048, None, 700, 0.8),
    ("Sony", "PlayStation 4 Slim", ("PS4 Slim", "Playstation 4 Slim"), None, 1024, "Jet Black", 230, 0.7),
    ("Sony", "PlayStation 4 Pro", ("PS4 Pro", "Playstation 4 Pro"), None, 1024, "Jet Black", 280, 0.5),
    ("Sony", "PlayStation VR2", ("PS VR2", "PSVR2", "Playstation VR2"), None, None, None, 550, 0.4),
    ("Sony", "PlayStation Portal", ("PS Portal", "Playstation Portal"), None, None, None, 200, 0.5),
    ("Nintendo", "Switch OLED", ("Nintendo Switch (OLED model)", "Switch OLED Model", "Nintendo Switch OLED"),
     None, 64, "White", 330, 1.2),
    ("Nintendo", "Switch OLED", ("Nintendo Switch (OLED model)", "Switch OLED Model", "Nintendo Switch OLED"),
     None, 64, "Neon Red/Neon Blue", 330, 1.0),
    ("Nintendo", "Switch", ("Nintendo Switch", "Nintendo Switch V2", "Switch V2"), None, 32, "Neon Red/Neon Blue",
     280, 1.1),
    ("Nintendo", "Switch", ("Nintendo Switch", "Nintendo Switch V2", "Switch V2"), None, 32, "Gray", 280, 0.7),
    ("Nintendo", "Switch Lite", ("Nintendo Switch Lite", "Switch Lite"), None, 32, "Turquoise", 190, 0.8),
    ("Nintendo", "Switch Lite", ("Nintendo Switch Lite", "Switch Lite"), None, 32, "Yellow", 190, 0.5),
    ("Nintendo", "Switch Lite", ("Nintendo Switch Lite", "Switch Lite"), None, 32, "Coral", 190, 0.5),
    ("Nintendo", "Switch 2", ("Nintendo Switch 2", "Switch 2"), None, 256, None, 450, 1.0),
    ("Microsoft", "Xbox Series X", ("Xbox Series X 1TB", "XBOX Series X"), None, 1024, "Carbon Black", 500, 0.8),
    ("Microsoft", "Xbox Series S", ("Xbox Series S 512GB", "XBOX Series S"), None, 512, "Robot White", 280, 0.8),
    ("Microsoft", "Xbox Series S", ("Xbox Series S 1TB", "XBOX Series S"), None, 1024, "Carbon Black", 330, 0.4),
)

# --- accessories: (brand, model, aliases, noun, compat, colour, usd, popularity) --------------
_ACCESSORIES: tuple[tuple[str, str, tuple[str, ...], str, str | None, str | None, float, float], ...] = (
    ("Sony", "DualSense Wireless Controller", ("DualSense", "DualSense Controller"), "controller", "PlayStation 5",
     "White", 70, 1.2),
    ("Sony", "DualSense Wireless Controller", ("DualSense", "DualSense Controller"), "controller", "PlayStation 5",
     "Midnight Black", 70, 0.8),
    ("Sony", "DualSense Wireless Controller", ("DualSense", "DualSense Controller"), "controller", "PlayStation 5",
     "Cosmic Red", 75, 0.6),
    ("Sony", "DualSense Edge", ("DualSense Edge Controller",), "controller", "PlayStation 5", None, 200, 0.5),
    ("Nintendo", "Joy-Con (L)/(R)", ("Joy-Con Pair", "Joy Con L/R"), "controller", "Nintendo Switch",
     "Neon Red/Neon Blue", 75, 0.9),
    ("Nintendo", "Switch Pro Controller", ("Pro Controller",), "controller", "Nintendo Switch", None, 65, 0.7),
    ("Microsoft", "Xbox Wireless Controller", ("Xbox Controller",), "controller", "Xbox Series X|S",
     "Carbon Black", 55, 0.7),
    ("Apple", "Silicone Case with MagSafe", ("Silicone Case MagSafe",), "case", "iPhone 13", "Midnight", 49, 0.7),
    ("Apple", "Silicone Case with MagSafe", ("Silicone Case MagSafe",), "case", "iPhone 15", "Black", 49, 0.7),
    ("Spigen", "Ultra Hybrid", ("Ultra Hybrid Case",), "case", "iPhone 14 Pro", "Crystal Clear", 16, 0.8),
    ("Apple", "20W USB-C Power Adapter", ("20W USB-C Adapter", "USB-C 20W Charger"), "charger", "iPhone", None,
     19, 0.9),
    ("Samsung", "25W Super Fast Charger", ("25W Travel Adapter",), "charger", "Galaxy", None, 20, 0.7),
    ("Samsung", "Galaxy Buds2 Pro", ("Galaxy Buds 2 Pro", "Buds2 Pro"), "earbuds", None, "Graphite", 150, 0.8),
    ("Samsung", "Galaxy Watch6 44mm", ("Galaxy Watch 6 44mm", "Watch6 44mm"), "smartwatch", None, "Graphite",
     250, 0.7),
    ("SanDisk", "Extreme microSDXC 128GB", ("Extreme 128GB microSD",), "memory card", "Nintendo Switch", None,
     18, 0.6),
    ("Canon", "LP-E6NH Battery", ("LP-E6NH",), "battery", "EOS R5/R6", None, 80, 0.4),
)

# --- cameras: (brand, model, aliases, edition, colour, usd, popularity) -------------------------
_CAMERAS: tuple[tuple[str, str, tuple[str, ...], str | None, str | None, float, float], ...] = (
    ("Canon", "EOS R5", ("EOS R5 Body",), "Body", None, 3400, 0.8),
    ("Canon", "EOS R6 Mark II", ("EOS R6 II", "EOS R6m2", "R6 Mark II"), "Body", None, 2200, 0.9),
    ("Canon", "EOS R6 Mark II", ("EOS R6 II", "EOS R6m2", "R6 Mark II"), "RF 24-105mm F4-7.1 kit", None, 2600, 0.6),
    ("Canon", "EOS R7", (), "Body", None, 1400, 0.7),
    ("Canon", "EOS R8", (), "Body", None, 1300, 0.7),
    ("Canon", "EOS R10", (), "Body", None, 880, 0.7),
    ("Canon", "EOS R10", (), "RF-S 18-45mm kit", None, 980, 0.7),
    ("Canon", "EOS R50", (), "RF-S 18-45mm kit", "Black", 680, 1.0),
    ("Canon", "EOS R50", (), "RF-S 18-45mm kit", "White", 680, 0.6),
    ("Canon", "EOS R100", (), "RF-S 18-45mm kit", None, 480, 0.8),
    ("Canon", "EOS 90D", (), "Body", None, 1100, 0.7),
    ("Canon", "EOS 850D", ("EOS Rebel T8i", "EOS 850D (Rebel T8i)"), "EF-S 18-55mm kit", None, 800, 0.8),
    ("Canon", "EOS 250D", ("EOS Rebel SL3", "EOS 250D (Rebel SL3)"), "EF-S 18-55mm kit", None, 600, 0.8),
    ("Canon", "EOS 2000D", ("EOS Rebel T7", "EOS 2000D (Rebel T7)"), "EF-S 18-55mm kit", None, 420, 1.0),
    ("Canon", "EOS 4000D", ("EOS Rebel T100",), "EF-S 18-55mm kit", None, 380, 0.7),
    ("Canon", "EOS M50 Mark II", ("EOS M50 II", "EOS M50m2"), "EF-M 15-45mm kit", "Black", 600, 0.8),
    ("Canon", "EOS RP", (), "Body", None, 900, 0.6),
    ("Canon", "PowerShot G7 X Mark III", ("G7X Mark III", "PowerShot G7X III"), None, "Black", 750, 0.8),
    ("Canon", "RF 50mm F1.8 STM", ("RF 50mm f/1.8 STM", "RF50mm F1.8"), "Lens", None, 180, 0.8),
    ("Canon", "EF 50mm f/1.8 STM", ("EF 50mm F1.8 STM", "EF50mm 1.8 STM"), "Lens", None, 125, 0.8),
    ("Canon", "RF 24-105mm F4 L IS USM", ("RF 24-105mm f/4L IS USM", "RF24-105 F4L"), "Lens", None, 1100, 0.5),
    ("Sony", "Alpha 7 IV", ("\u03b17 IV", "A7 IV", "ILCE-7M4", "a7 IV"), "Body", None, 2400, 0.8),
    ("Sony", "Alpha 6400", ("\u03b16400", "A6400", "ILCE-6400"), "16-50mm kit", "Black", 900, 0.7),
    ("Sony", "ZV-E10", ("ZV E10", "Alpha ZV-E10"), "16-50mm kit", "Black", 750, 0.8),
    ("Nikon", "Z6 II", ("Z 6II", "Z6 Mark II"), "Body", None, 1600, 0.6),
    ("Nikon", "Z50", ("Z 50",), "16-50mm kit", None, 850, 0.6),
    ("Fujifilm", "X-T5", ("XT5", "X T5"), "Body", "Silver", 1700, 0.6),
    ("Fujifilm", "X100VI", ("X100 VI", "X100V I"), None, "Silver", 1600, 0.7),
)

# --- cards: (name, number, set, year, variant, rarity, {grade: usd}, popularity) ---------------
_CARDS: tuple[tuple[str, str | None, str, int, str | None, str, tuple[tuple[str, float], ...], float], ...] = (
    ("Pikachu", "58/102", "Base Set", 1999, "Unlimited", "Common",
     (("Raw", 12), ("PSA 8", 40), ("PSA 9", 85), ("PSA 10", 420)), 1.1),
    ("Pikachu", "58/102", "Base Set", 1999, "1st Edition Red Cheeks", "Common",
     (("Raw", 180), ("PSA 9", 1600), ("PSA 10", 7200)), 0.7),
    ("Charizard", "4/102", "Base Set", 1999, "Unlimited", "Holo Rare",
     (("Raw", 380), ("PSA 8", 1100), ("PSA 9", 2300), ("PSA 10", 9500)), 1.0),
    ("Charizard", "4/102", "Base Set", 1999, "Shadowless", "Holo Rare",
     (("PSA 8", 5200), ("PSA 9", 11500)), 0.5),
    ("Charizard", "4/102", "Base Set", 1999, "1st Edition", "Holo Rare",
     (("PSA 8", 28000), ("PSA 9", 68000)), 0.3),
    ("Blastoise", "2/102", "Base Set", 1999, "Unlimited", "Holo Rare",
     (("Raw", 110), ("PSA 9", 480), ("PSA 10", 2600)), 0.45),
    ("Venusaur", "15/102", "Base Set", 1999, "Unlimited", "Holo Rare", (("Raw", 80), ("PSA 9", 350)), 0.35),
    ("Mewtwo", "10/102", "Base Set", 1999, "Unlimited", "Holo Rare",
     (("Raw", 45), ("PSA 9", 220), ("PSA 10", 1100)), 0.35),
    ("Base Set Booster Pack", None, "Base Set", 1999, "Unlimited", "Sealed", (("Sealed", 650),), 0.4),
    ("Charizard", "4/130", "Base Set 2", 2000, None, "Holo Rare",
     (("Raw", 180), ("PSA 9", 650), ("PSA 10", 2400)), 0.6),
    ("Pikachu", "87/130", "Base Set 2", 2000, None, "Common", (("Raw", 8), ("PSA 10", 180)), 0.5),
    ("Pikachu", "60/64", "Jungle", 1999, "Unlimited", "Common", (("Raw", 6), ("PSA 9", 45), ("PSA 10", 160)), 0.6),
    ("Charizard", "11/108", "XY Evolutions", 2016, None, "Holo Rare", (("Raw", 25), ("PSA 10", 350)), 0.5),
    ("Charizard-GX", "SV49/SV94", "Hidden Fates", 2019, "Shiny Vault", "Shiny Holo Rare",
     (("Raw", 95), ("PSA 9", 160), ("PSA 10", 600)), 0.7),
    ("Charizard VMAX", "SV107/SV122", "Shining Fates", 2021, "Shiny Vault", "Shiny Rare",
     (("Raw", 70), ("PSA 10", 280)), 0.6),
    ("Charizard ex", "223/197", "Obsidian Flames", 2023, None, "Special Illustration Rare",
     (("Raw", 85), ("PSA 10", 280)), 0.7),
    ("Pikachu VMAX", "044/185", "Vivid Voltage", 2020, None, "Ultra Rare", (("Raw", 8), ("PSA 10", 140)), 0.6),
    ("Pikachu with Grey Felt Hat", "085", "SVP Black Star Promos", 2023, "Van Gogh Museum", "Promo",
     (("Raw", 90), ("PSA 9", 320), ("PSA 10", 1150)), 0.7),
    ("Pikachu ex", "238/191", "Surging Sparks", 2024, None, "Special Illustration Rare",
     (("Raw", 320), ("PSA 10", 700)), 0.6),
    ("Umbreon VMAX", "215/203", "Evolving Skies", 2021, "Alternate Art", "Secret Rare",
     (("Raw", 1200), ("PSA 9", 1600), ("PSA 10", 3400)), 0.7),
    ("Lugia V", "186/195", "Silver Tempest", 2022, "Alternate Art", "Ultra Rare",
     (("Raw", 170), ("PSA 10", 620)), 0.5),
    ("Mew ex", "232/091", "Paldean Fates", 2024, None, "Special Illustration Rare",
     (("Raw", 60), ("PSA 10", 190)), 0.5),
    ("Gengar", "5/62", "Fossil", 1999, "Unlimited", "Holo Rare", (("Raw", 60), ("PSA 9", 300)), 0.5),
    ("Dark Charizard", "4/82", "Team Rocket", 2000, "Unlimited", "Holo Rare", (("Raw", 250), ("PSA 9", 1200)), 0.5),
)

# Graded copies are listed far less often than raw ones.
_GRADE_WEIGHT = {"Raw": 1.0, "Sealed": 1.0, "PSA 8": 0.5, "PSA 9": 0.8, "PSA 10": 0.6}


def _build() -> tuple[Product, ...]:
    out: list[Product] = []
    for brand, model, aliases, storages, colours, pop in _PHONES:
        for phone_gb, usd in storages:
            for i, phone_colour in enumerate(colours):
                key = _slug(f"{brand} {model} {phone_gb}gb {phone_colour}")
                out.append(Product(
                    key=key, category=PHONE, brand=brand, model=model, aliases=(model, *aliases), usd=usd,
                    popularity=pop / (1 + 0.35 * i), storage_gb=phone_gb, color=phone_colour,
                    gtin=_gtin13(_GTIN_PREFIX[brand], key),
                ))
    for brand, model, aliases, edition, gb, colour, usd, pop in _CONSOLES:
        key = _slug(f"{brand} {model} {edition or ''} {gb or ''}{'gb' if gb else ''} {colour or ''}")
        out.append(Product(
            key=key, category=CONSOLE, brand=brand, model=model, aliases=(model, *aliases), usd=usd, popularity=pop,
            storage_gb=gb, color=colour, edition=edition, gtin=_gtin13(_GTIN_PREFIX[brand], key),
        ))
    for brand, model, aliases, noun, compat, colour, usd, pop in _ACCESSORIES:
        key = _slug(f"{brand} {model} {compat or ''} {colour or ''}")
        out.append(Product(
            key=key, category=ACCESSORY, brand=brand, model=model, aliases=(model, *aliases), usd=usd,
            popularity=pop, color=colour, noun=noun, compat=compat, gtin=_gtin13(_GTIN_PREFIX[brand], key),
        ))
    for brand, model, aliases, edition, colour, usd, pop in _CAMERAS:
        key = _slug(f"{brand} {model} {edition or ''} {colour or ''}")
        out.append(Product(
            key=key, category=CAMERA, brand=brand, model=model, aliases=(model, *aliases), usd=usd, popularity=pop,
            color=colour, edition=edition, gtin=_gtin13(_GTIN_PREFIX[brand], key),
        ))
    for name, number, card_set, year, variant, rarity, grades, pop in _CARDS:
        for grade, usd in grades:
            key = _slug(f"pokemon {card_set} {name} {number or ''} {variant or ''} {grade}")
            sealed = grade == "Sealed"
            out.append(Product(
                key=key, category=CARD, brand="Pokémon", model=name, aliases=(name,), usd=usd,
                popularity=pop * _GRADE_WEIGHT[grade], card_name=name, card_number=number, card_set=card_set,
                card_year=year, card_variant=variant, rarity=rarity, grade=grade,
                gtin=_gtin13(_GTIN_PREFIX["The Pokémon Company"], key) if sealed else None,
            ))
    keys = [p.key for p in out]
    if len(set(keys)) != len(keys):  # pragma: no cover - guards the hand-written tables
        raise ValueError("duplicate product keys in the demo universe")
    return tuple(out)


@cache
def universe() -> tuple[Product, ...]:
    """All products, in a fixed order (the order is part of the determinism contract)."""
    return _build()


@cache
def by_key() -> dict[str, Product]:
    return {p.key: p for p in universe()}
