"""Shop-specific spellings of product titles, attributes and descriptions.

Real marketplaces never agree on how to write a product name: "128GB" vs "128 GB" vs "128gb",
brand first or last, local colour names, seller junk ("BNIB", "Liberado"), emoji, NBSP, ™,
decomposed accents, en/em dashes. The demo reproduces that on purpose, so product matching and
text normalisation in the pipeline are tested against realistic noise. Every choice is drawn
from the `random.Random` passed in (seeded per listing by the catalogue), never the global RNG.
"""

from __future__ import annotations

import unicodedata
from random import Random

from demo.products import ACCESSORY, CAMERA, CARD, CONSOLE, Product, storage_label
from demo.shops import Shop

NBSP = "\u00a0"

_ES_COLOURS = {
    "Black": "Negro", "White": "Blanco", "Purple": "Morado", "Blue": "Azul", "Midnight": "Medianoche",
    "Starlight": "Blanco estelar", "Pink": "Rosa", "Graphite": "Grafito", "Sierra Blue": "Azul sierra",
    "Deep Purple": "Morado oscuro", "Space Black": "Negro espacial", "Natural Titanium": "Titanio natural",
    "Black Titanium": "Titanio negro", "Blue Titanium": "Titanio azul", "Red": "Rojo", "Green": "Verde",
    "Cream": "Crema", "Olive": "Oliva", "Gray": "Gris", "Mint": "Menta", "Phantom Black": "Negro fantasma",
    "Onyx Black": "Negro ónix", "Marble Grey": "Gris mármol", "Titanium Black": "Titanio negro",
    "Titanium Gray": "Titanio gris", "Awesome Graphite": "Grafito", "Awesome Lime": "Lima",
    "Awesome Silver": "Plata", "Blue Black": "Azul negro", "Stormy Black": "Negro tormenta", "Chalk": "Tiza",
    "Obsidian": "Obsidiana", "Snow": "Nieve", "Hazel": "Avellana", "Charcoal": "Carbón", "Bay": "Azul bahía",
    "Jet Black": "Negro azabache", "Neon Red/Neon Blue": "Rojo neón/Azul neón", "Turquoise": "Turquesa",
    "Yellow": "Amarillo", "Coral": "Coral", "Carbon Black": "Negro carbón", "Robot White": "Blanco robot",
    "Cosmic Red": "Rojo cósmico", "Midnight Black": "Negro medianoche", "Crystal Clear": "Transparente",
    "Silver": "Plata",
}
_ID_COLOURS = {
    "Black": "Hitam", "White": "Putih", "Purple": "Ungu", "Blue": "Biru", "Red": "Merah", "Green": "Hijau",
    "Gray": "Abu-abu", "Yellow": "Kuning", "Jet Black": "Hitam", "Carbon Black": "Hitam",
}

_NOUNS = {
    "controller": {"id": "Stik", "es-GT": "Control", "es": "Mando", "en": "Controller", "sv": "Handkontroll"},
    "case": {"id": "Casing", "es-GT": "Funda", "es": "Funda", "en": "Case", "sv": "Skal"},
    "charger": {"id": "Charger", "es-GT": "Cargador", "es": "Cargador", "en": "Charger", "sv": "Laddare"},
    "earbuds": {"id": "TWS", "es-GT": "Audífonos", "es": "Auriculares", "en": "Earbuds", "sv": "Hörlurar"},
    "smartwatch": {"id": "Smartwatch", "es-GT": "Reloj", "es": "Reloj", "en": "Smartwatch", "sv": "Smartklocka"},
    "memory card": {"id": "Memory", "es-GT": "Memoria", "es": "Tarjeta", "en": "Memory card", "sv": "Minneskort"},
    "battery": {"id": "Baterai", "es-GT": "Batería", "es": "Batería", "en": "Battery", "sv": "Batteri"},
    "lens": {"id": "Lensa", "es-GT": "Lente", "es": "Objetivo", "en": "Lens", "sv": "Objektiv"},
    "card": {"id": "Kartu", "es-GT": "Carta", "es": "Carta", "en": "Card", "sv": "Kort"},
}
_FOR = {"id": "untuk", "es-GT": "para", "es": "para", "en": "for", "sv": "till"}

# Attribute names per language; values are shop-independent except colours.
ATTR_NAMES = {
    "brand": {"id": "Merek", "es-GT": "Marca", "es": "Marca", "en": "Brand", "sv": "Märke"},
    "storage": {"id": "Penyimpanan", "es-GT": "Almacenamiento", "es": "Capacidad", "en": "Storage", "sv": "Lagring"},
    "color": {"id": "Warna", "es-GT": "Color", "es": "Color", "en": "Color", "sv": "Färg"},
    "edition": {"id": "Edisi", "es-GT": "Edición", "es": "Edición", "en": "Edition", "sv": "Utgåva"},
    "battery": {"id": "Kesehatan Baterai", "es-GT": "Salud de batería", "es": "Estado de batería",
                "en": "Battery health", "sv": "Batterihälsa"},
    "compat": {"id": "Kompatibel", "es-GT": "Compatible con", "es": "Compatible con", "en": "Compatible with",
               "sv": "Passar till"},
    "set": {"id": "Set", "es-GT": "Set", "es": "Colección", "en": "Set", "sv": "Set"},
    "number": {"id": "Nomor Kartu", "es-GT": "Número", "es": "Número", "en": "Card number", "sv": "Kortnummer"},
    "grade": {"id": "Grade", "es-GT": "Grado", "es": "Gradación", "en": "Grade", "sv": "Gradering"},
    "year": {"id": "Tahun", "es-GT": "Año", "es": "Año", "en": "Year", "sv": "År"},
    "rarity": {"id": "Kelangkaan", "es-GT": "Rareza", "es": "Rareza", "en": "Rarity", "sv": "Sällsynthet"},
}

# Per-shop spelling habits: probabilities and the pools choices are drawn from.
_STYLE: dict[str, dict] = {
    "toko": {
        "brand": 0.6, "storage": (("{n}GB", 5), ("{n} GB", 2), ("{n}gb", 2), ("{n}Gb", 1)),
        "local_colour": 0.25, "seps": ((" \u2013 ", 3), (" - ", 3), (" ", 4), (" | ", 1), (" / ", 1)),
        "upper": 0.08, "lower": 0.06, "title": 0.03, "nbsp": 0.05, "emoji": 0.1, "tm": 0.03, "nfd": 0.0,
        "double_space": 0.04, "emojis": ("🔥", "✨", "💯", "📱", "⚡", "🎮"),
        "prefix": 0.2, "prefixes": (("[BEKAS]", "used"), ("[BARU]", "new"), ("PROMO", None),
                                   ("READY STOCK", None), ("ORI", None)),
        "suffix": 0.4, "suffixes": (("Garansi Resmi", "new"), ("Second Mulus", "used"), ("Fullset", None),
                                   ("BNIB", "new"), ("Ex Inter", None), ("Murah", None), ("Original", None),
                                   ("Segel", "new"), ("Like New", "used"), ("Bisa COD", None)),
    },
    "chapin": {
        "brand": 0.4, "storage": (("{n}GB", 3), ("{n} GB", 3), ("{n}gb", 2), ("({n} GB)", 3)),
        "local_colour": 0.6, "seps": ((" ", 5), (" - ", 3), (", ", 1), (" \u2013 ", 1)),
        "upper": 0.04, "lower": 0.1, "title": 0.02, "nbsp": 0.05, "emoji": 0.05, "tm": 0.02, "nfd": 0.04,
        "double_space": 0.03, "emojis": ("🔥", "✅", "📱", "🎮"),
        "prefix": 0.05, "prefixes": (("OFERTA", None), ("Nuevo", "new"), ("Usado", "used")),
        "suffix": 0.35, "suffixes": (("Liberado", None), ("Nuevo en caja", "new"), ("Como nuevo", "used"),
                                    ("Envío gratis", None), ("Desbloqueado", None), ("con garantía", None),
                                    ("Precio negociable", None)),
    },
    "mercado": {
        "brand": 0.75, "storage": (("{n} GB", 5), ("{n}GB", 3), ("{n}" + NBSP + "GB", 2)),
        "local_colour": 0.8, "seps": ((" ", 6), (" - ", 2), (" \u2013 ", 1), (", ", 1)),
        "upper": 0.02, "lower": 0.03, "title": 0.0, "nbsp": 0.12, "emoji": 0.02, "tm": 0.05, "nfd": 0.1,
        "double_space": 0.02, "emojis": ("✨", "📦"),
        "prefix": 0.03, "prefixes": (("CHOLLO", None),),
        "suffix": 0.35, "suffixes": (("Libre", None), ("Envío 24h", None), ("Garantía 2 años", "new"),
                                    ("Como nuevo", "used"), ("Factura", None), ("Precintado", "new"),
                                    ("(Reacondicionado)", "refurb")),
    },
    "fynda": {
        "brand": 0.7, "storage": (("{n} GB", 5), ("{n}GB", 3), ("{n}gb", 1)),
        "local_colour": 0.0, "seps": ((" ", 6), (" - ", 2), (", ", 1), (" | ", 1)),
        "upper": 0.03, "lower": 0.05, "title": 0.0, "nbsp": 0.05, "emoji": 0.04, "tm": 0.03, "nfd": 0.05,
        "double_space": 0.02, "emojis": ("✨", "📦", "🔥"),
        "prefix": 0.04, "prefixes": (("FYND", None), ("NYSKICK", "new")),
        "suffix": 0.3, "suffixes": (("Olåst", None), ("Kvitto finns", None), ("Som ny", "used"),
                                   ("Oöppnad", "new"), ("Fri frakt", None), ("Garanti", "new")),
    },
    "cardvault": {
        "brand": 0.7, "storage": (("{n}GB", 1),), "local_colour": 0.0,
        "seps": ((" — ", 4), (" - ", 3), (" | ", 2), (" · ", 1), (" ", 3)),
        "upper": 0.08, "lower": 0.03, "title": 0.0, "nbsp": 0.15, "emoji": 0.12, "tm": 0.12, "nfd": 0.1,
        "double_space": 0.03, "emojis": ("🔥", "⚡", "💎", "✨", "🏆"),
        "prefix": 0.0, "prefixes": (), "suffix": 0.15,
        "suffixes": (("WOTC", None), ("Vintage", None), ("Investment", None), ("Fresh slab", None)),
    },
}

_POKEMON = (("Pokémon", 5), ("Pokemon", 3), ("POKÉMON", 1), ("Poke\u0301mon", 1), ("Pokèmon", 0.3))
_GRADES = {
    "PSA 10": (("PSA 10", 4), ("PSA 10 GEM MINT", 3), ("PSA 10 Gem Mint", 2), ("PSA10", 1)),
    "PSA 9": (("PSA 9", 5), ("PSA 9 MINT", 3), ("PSA9", 1), ("PSA 9 Mint", 1)),
    "PSA 8": (("PSA 8", 5), ("PSA 8 NM-MT", 2), ("PSA8", 1)),
    "Raw": (("", 4), ("NM", 2), ("Near Mint", 2), ("LP", 1), ("Raw", 1), ("Ungraded", 1)),
    "Sealed": (("Sealed", 3), ("Factory Sealed", 2), ("SEALED", 1)),
}
_VARIANTS = {
    "1st Edition": (("1st Edition", 4), ("1st Ed", 2), ("First Edition", 1), ("1st Ed.", 1)),
    "1st Edition Red Cheeks": (("1st Edition Red Cheeks", 3), ("1st Ed Red Cheeks", 1), ("1st Edition", 2)),
    "Unlimited": (("", 5), ("Unlimited", 4), ("Unl.", 1)),
    "Alternate Art": (("Alt Art", 3), ("Alternate Art", 2), ("", 1)),
    "Shiny Vault": (("Shiny Vault", 2), ("", 2), ("Shiny", 1)),
}
_RARITIES = {
    "Holo Rare": (("Holo", 4), ("Holo Rare", 2), ("Holofoil", 1), ("", 2)),
    "Special Illustration Rare": (("SIR", 3), ("Special Illustration Rare", 2), ("", 1)),
}


def pick(rng: Random, weighted: tuple[tuple[str, float], ...]) -> str:
    """Weighted choice from ((value, weight), ...) using only the given RNG."""
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


def condition_class(factor: float, label: str) -> str:
    """'new', 'used' or 'refurb': which seller junk fits the listing's condition."""
    if label.lower().startswith("reacond"):
        return "refurb"
    return "new" if factor >= 1.0 else "used"


def colour_name(colour: str, shop: Shop, rng: Random) -> str:
    style = _STYLE[shop.code]
    if shop.lang.startswith("es") and rng.random() < style["local_colour"]:
        name = _ES_COLOURS.get(colour, colour)
        return name.lower() if shop.code == "mercado" and rng.random() < 0.5 else name
    if shop.lang == "id" and colour in _ID_COLOURS and rng.random() < style["local_colour"]:
        return _ID_COLOURS[colour]
    return colour


def _storage(gb: int, rng: Random, style: dict) -> str:
    fmt = pick(rng, style["storage"])
    if gb >= 1024 and gb % 1024 == 0:
        return fmt.replace("GB", "TB").replace("gb", "tb").replace("Gb", "Tb").format(n=gb // 1024)
    return fmt.format(n=gb)


def _alias(product: Product, rng: Random) -> str:
    if len(product.aliases) == 1 or rng.random() < 0.65:
        return product.aliases[0]
    return rng.choice(product.aliases[1:])


def _edition(product: Product, shop: Shop, rng: Random) -> str:
    edition = product.edition or ""
    if not edition or edition == "Lens":
        return ""
    if edition == "Body":
        pool = {"id": ("Body Only", "Body", "(Body)"), "en": ("Body Only", "Body"), "sv": ("endast hus", "Body")}.get(
            shop.lang, ("solo cuerpo", "Cuerpo", "Body"))
        return rng.choice(pool)
    if edition.endswith(" kit"):
        lens = edition[: -len(" kit")]
        pool = {
            "id": (f"Kit {lens}", f"+ Lensa {lens}", f"+ {lens}"),
            "en": (f"w/ {lens}", f"+ {lens} Kit", f"Kit {lens}"),
            "sv": (f"med {lens}", f"+ {lens}", f"Kit {lens}"),
        }.get(shop.lang, (f"+ {lens}", f"con {lens}", f"Kit {lens}"))
        return rng.choice(pool)
    if edition == "Disc Edition":
        pool = {"id": ("Disc", "Disc Edition", "Standard", "Reg Disc"), "sv": ("Disc Edition", "med skivläsare")}.get(
            shop.lang, ("Edición Estándar", "Disc Edition", "con lector", "Estándar"))
        return rng.choice(pool)
    if edition == "Digital Edition":
        pool = {"id": ("Digital", "Digital Edition"), "sv": ("Digital Edition", "Digital")}.get(
            shop.lang, ("Edición Digital", "Digital Edition", "Digital"))
        return rng.choice(pool)
    return edition


def _junk(rng: Random, pool: tuple[tuple[str, str | None], ...], cond: str) -> str:
    fitting = [text for text, when in pool if when is None or when == cond]
    return rng.choice(fitting) if fitting else ""


def _goods_title(product: Product, shop: Shop, rng: Random, cond: str) -> str:
    style = _STYLE[shop.code]
    model = _alias(product, rng)
    brand_in_model = model.lower().startswith(product.brand.lower())
    brand = product.brand if not brand_in_model and rng.random() < style["brand"] else ""
    if product.category == ACCESSORY or product.edition == "Lens":
        noun = _NOUNS["lens" if product.edition == "Lens" else product.noun or "case"][shop.lang]
        compat = f"{_FOR[shop.lang]} {product.compat}" if product.compat and rng.random() < 0.85 else ""
        head = " ".join(p for p in (noun if rng.random() < 0.6 else "", brand, model) if p)
        parts = [head, compat]
    else:
        edition = _edition(product, shop, rng)
        storage = ""
        if product.storage_gb and (product.category not in (CONSOLE, CAMERA) or rng.random() < 0.5):
            storage = _storage(product.storage_gb, rng, style)
        layout = rng.random()
        if layout < 0.12:  # word order shuffled: model first, brand last
            parts = [" ".join(p for p in (model, storage, edition) if p), brand]
        elif layout < 0.24:
            parts = [" ".join(p for p in (brand, model, edition) if p), storage]
        else:
            parts = [" ".join(p for p in (brand, model, edition, storage) if p)]
    colour = colour_name(product.color, shop, rng) if product.color and rng.random() < 0.75 else ""
    title = " ".join(p for p in parts if p)
    if colour:
        title += pick(rng, style["seps"]) + colour
    if rng.random() < style["suffix"]:
        junk = _junk(rng, style["suffixes"], cond)
        if junk:
            title += pick(rng, style["seps"]) + junk
    if rng.random() < style["prefix"]:
        junk = _junk(rng, style["prefixes"], cond)
        if junk:
            title = f"{junk} {title}"
    return title


def _card_title(product: Product, shop: Shop, rng: Random) -> str:
    style = _STYLE[shop.code]
    pokemon = pick(rng, _POKEMON) if rng.random() < (0.7 if shop.code == "cardvault" else 0.95) else ""
    if shop.code != "cardvault" and rng.random() < 0.5:
        pokemon = f"{_NOUNS['card'][shop.lang]} {pokemon or 'Pokemon'}"
    grade = pick(rng, _GRADES.get(product.grade or "Raw", ((product.grade or "", 1),)))
    variant = pick(rng, _VARIANTS.get(product.card_variant or "", ((product.card_variant or "", 1),)))
    sep = pick(rng, style["seps"])
    if product.card_number is None:  # sealed product: its name already carries the set
        title = " ".join(p for p in (pokemon, product.model, variant) if p)
        return f"{title}{sep}{grade}" if grade else title
    rarity = pick(rng, _RARITIES.get(product.rarity or "", (("", 1),)))
    number = product.card_number
    roll = rng.random()
    if roll < 0.15:
        number = "#" + number.split("/")[0]
    elif roll < 0.2:
        number = f"({number})"
    card_set = product.card_set or ""
    roll = rng.random()
    if card_set == "Base Set" and roll < 0.08:
        card_set = "Base"
    elif roll < 0.05:
        card_set = ""
    year = str(product.card_year) if rng.random() < 0.25 else ""
    layout = rng.random()
    if layout < 0.45:  # SPEC example: "Pokémon Pikachu 58/102 Base Set — PSA 9"
        body = " ".join(p for p in (pokemon, product.model, number, card_set, variant, rarity) if p)
    elif layout < 0.7:  # auction style: year, brand, set first
        body = " ".join(p for p in (year, pokemon, card_set, product.model, rarity, number, variant) if p)
    elif layout < 0.85:
        body = " ".join(p for p in (product.model, number) if p) + sep + " ".join(
            p for p in (card_set, variant, rarity) if p)
    else:  # slab label first
        body = " ".join(p for p in (grade, product.model, number, card_set, variant, pokemon) if p)
        grade = ""
    return f"{body}{sep}{grade}" if grade else body


def _oddities(title: str, shop: Shop, rng: Random) -> str:
    style = _STYLE[shop.code]
    roll = rng.random()
    if roll < style["upper"]:
        title = title.upper()
    elif roll < style["upper"] + style["lower"]:
        title = title.lower()
    elif roll < style["upper"] + style["lower"] + style["title"]:
        title = " ".join(w[:1].upper() + w[1:].lower() for w in title.split(" "))
    if rng.random() < style["tm"]:
        for word in ("PlayStation", "Nintendo Switch", "Pokémon", "Pokemon", "Galaxy", "iPhone"):
            if word in title:
                title = title.replace(word, word + rng.choice(("™", "®")), 1)
                break
    if rng.random() < style["nbsp"] and " " in title:
        spaces = [i for i, ch in enumerate(title) if ch == " "]
        i = rng.choice(spaces)
        title = title[:i] + NBSP + title[i + 1:]
    if rng.random() < style["double_space"] and " " in title:
        title = title.replace(" ", "  ", 1)
    if rng.random() < style["emoji"]:
        emoji = rng.choice(style["emojis"])
        title = f"{emoji} {title}" if rng.random() < 0.4 else f"{title} {emoji}"
    if rng.random() < style["nfd"]:
        title = unicodedata.normalize("NFD", title)
    return title


def make_title(product: Product, shop: Shop, rng: Random, condition: str, price_factor: float) -> str:
    """A seller-written title for `product` in `shop`'s habits."""
    if product.category == CARD:
        title = _card_title(product, shop, rng)
    else:
        title = _goods_title(product, shop, rng, condition_class(price_factor, condition))
    return _oddities(" ".join(title.split(" ")).strip(" "), shop, rng)


def make_attributes(product: Product, shop: Shop, rng: Random, used: bool) -> tuple[tuple[str, str], ...]:
    """Key-value specs as the seller filled them in (some left out, localised names)."""
    lang = shop.lang
    raw: list[tuple[str, str]] = []
    if product.category == CARD:
        raw += [("set", product.card_set or ""), ("number", product.card_number or ""),
                ("grade", product.grade or ""), ("year", str(product.card_year or "")),
                ("rarity", product.rarity or "")]
    else:
        raw.append(("brand", product.brand))
        if product.storage_gb and product.category != CAMERA:
            raw.append(("storage", storage_label(product.storage_gb)))
        if product.color:
            raw.append(("color", colour_name(product.color, shop, rng)))
        if product.edition and product.edition != "Lens":
            raw.append(("edition", product.edition))
        if product.compat:
            raw.append(("compat", product.compat))
        if used and product.storage_gb and product.category == "phone":
            raw.append(("battery", f"{rng.randint(78, 100)}%"))
    keep = [(ATTR_NAMES[k][lang], v) for k, v in raw if v and (rng.random() < 0.85 or k in ("grade", "storage"))]
    return tuple(keep)


_DESCRIPTIONS = {
    "id": ("Kondisi {cond}, siap kirim dari {city}. Tanya stok dulu sebelum order ya kak.",
           "Barang {cond}, original 100%. Pengiriman dari {city}, bisa COD.",
           "{cond}. Fullset, no minus. Lokasi {city}."),
    "es-GT": ("Artículo {cond}, entrega en {city}. Precio negociable.",
              "{cond}, funciona perfecto. Envíos a toda Guatemala desde {city}."),
    "es": ("Estado: {cond}. Envío desde {city} en 24/48 h.",
           "{cond}. Se entrega con factura. Recogida en mano en {city}."),
    "sv": ("Skick: {cond}. Skickas från {city} inom två dagar.",
           "{cond}. Kan hämtas i {city}, annars skickas med PostNord."),
    "en": ("{cond}. Ships from {city} in a top loader and team bag.",
           "{cond}. Combined shipping available, ships from {city}."),
}


def make_description(shop: Shop, rng: Random, condition: str, city: str) -> str:
    return rng.choice(_DESCRIPTIONS[shop.lang]).format(cond=condition, city=city)
