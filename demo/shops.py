"""The five demo shops: locale, currency, price formatting and catalogue dynamics.

Everything a shop does differently from the others lives here as data, so the catalogue and
the renderers stay generic. Price formats are the ones promised in SPEC.md; a vendor file that
parses them is exercised against exactly these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from demo.products import ACCESSORY, CAMERA, CARD, CONSOLE, PHONE

# Price kinds of a listing.
AMOUNT = "amount"
FREE = "free"
CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Seller:
    name: str
    city: str
    rating: float


@dataclass(frozen=True, slots=True)
class Shop:
    """Static description of one demo shop (see SPEC.md for its public contract)."""

    code: str  # URL prefix: toko, chapin, mercado, cardvault
    id_prefix: str  # listing id prefix: TG, CH, MC, cv
    name: str
    lang: str  # "id", "es-GT", "es", "en", "sv"
    currency: str  # ISO 4217
    exponent: int  # decimals of the currency's minor unit as stored (IDR 0, others 2)
    usd_rate: float  # local currency per USD
    price_level: float  # local mark-up relative to the US reference price
    page_size: int
    newest_first: bool  # result order; cardvault pages by ascending id (keyset "after")
    births_per_day: float  # mean number of new listings per day
    mean_life_days: float  # mean days a listing stays up before it sells or is removed
    sold_share: float  # share of ended listings that end as "sold" (the rest are removed)
    category_mix: tuple[tuple[str, float], ...]
    brand_bias: tuple[tuple[str, float], ...]
    conditions: tuple[tuple[str, float, float], ...]  # (label, weight, price factor), non-card goods
    card_conditions: tuple[tuple[str, float, float], ...]
    free_rate: float  # share of listings priced "free" (only where the shop has such a label)
    contact_rate: float  # share of listings without a price ("contact seller")
    free_label: str | None
    contact_label: str | None
    sold_label: str
    sellers: tuple[Seller, ...]
    categories: tuple[tuple[str, str], ...]  # category code -> localised category name

    def category_name(self, category: str) -> str:
        return dict(self.categories)[category]

    def format_price(self, kind: str, minor: int | None) -> str:
        """Render a price exactly as the shop's pages show it (SPEC.md formats)."""
        if kind == FREE:
            assert self.free_label is not None
            return self.free_label
        if kind == CONTACT:
            assert self.contact_label is not None
            return self.contact_label
        assert minor is not None
        if self.currency == "IDR":
            return "Rp " + f"{minor:,}".replace(",", ".")
        whole, cents = divmod(minor, 100)
        if self.currency == "GTQ":
            return f"Q{whole:,}.{cents:02d}"
        if self.currency == "EUR":
            return f"{whole:,}".replace(",", ".") + f",{cents:02d} €"
        if self.currency == "SEK":  # "1 299 kr", "1 299,50 kr" (NBSP groups thousands)
            grouped = f"{whole:,}".replace(",", "\u00a0")
            return f"{grouped} kr" if cents == 0 else f"{grouped},{cents:02d} kr"
        return f"${whole:,}.{cents:02d}"

    def price_value(self, kind: str, minor: int | None) -> Decimal | None:
        """The numeric price a correct parser should extract (None = no price shown)."""
        if kind == FREE:
            return Decimal(0)
        if kind == CONTACT or minor is None:
            return None
        return Decimal(minor).scaleb(-self.exponent)

    def round_price(self, major: float, style: int) -> int:
        """Local amount (major units) -> psychologically rounded minor units.

        `style` is a per-listing small integer so that sellers price differently
        (round thousands vs .99 endings) in a stable way.
        """
        major = max(major, 1.0)
        if self.currency == "IDR":
            step = 50_000 if major >= 1_000_000 else 5_000
            base = max(round(major / step), 1) * step
            return base - (1_000 if style % 2 and base > 10_000 else 0)
        cents = round(major * 100)
        if self.currency == "USD" and style % 3 == 2:
            return max(cents, 1)  # collectibles keep odd cents, e.g. $84.37
        whole = max(round(cents / 100), 1)
        ending = (0, 99, 50, 90)[style % 4] if self.currency == "EUR" else (0, 99, 50, 0)[style % 4]
        if ending == 0:
            return whole * 100
        return (whole - 1) * 100 + ending if whole > 1 else whole * 100


def _sellers(names: str, cities: tuple[str, ...]) -> tuple[Seller, ...]:
    """Spread sellers over cities and ratings deterministically (no RNG needed)."""
    out = []
    for i, name in enumerate(names.split()):
        rating = 3.6 + ((i * 7) % 15) / 10
        out.append(Seller(name, cities[(i * 5) % len(cities)], round(min(rating, 5.0), 1)))
    return tuple(out)


_TOKO_CITIES = ("Jakarta Selatan", "Jakarta Barat", "Jakarta Pusat", "Surabaya", "Bandung", "Medan", "Yogyakarta",
                "Depok", "Tangerang Selatan", "Bekasi", "Semarang", "Denpasar", "Makassar", "Malang")
_CHAPIN_CITIES = ("Ciudad de Guatemala", "Mixco", "Villa Nueva", "Quetzaltenango", "Antigua Guatemala",
                  "Escuintla", "Cobán", "Huehuetenango", "Chimaltenango", "Petén")
_MERCADO_CITIES = ("Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Bilbao", "A Coruña",
                   "Murcia", "Palma", "Alicante", "Valladolid")
_FYNDA_CITIES = ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping", "Umeå",
                 "Lund", "Jönköping")
_CARDVAULT_CITIES = ("Austin, TX", "Brooklyn, NY", "Portland, OR", "Chicago, IL", "San José, CA", "Denver, CO",
                     "Seattle, WA", "Miami, FL", "Columbus, OH", "Phoenix, AZ")

TOKO = Shop(
    code="toko", id_prefix="TG", name="Toko Gadget", lang="id", currency="IDR", exponent=0, usd_rate=16_200,
    price_level=1.04, page_size=20, newest_first=True, births_per_day=10.5, mean_life_days=45, sold_share=0.6,
    category_mix=((PHONE, 0.50), (CONSOLE, 0.23), (ACCESSORY, 0.12), (CAMERA, 0.09), (CARD, 0.06)),
    brand_bias=(("Samsung", 1.4), ("Apple", 0.75), ("Google", 0.4), ("Microsoft", 0.5)),
    conditions=(("Baru", 0.45, 1.0), ("Bekas", 0.55, 0.72)),
    card_conditions=(("Bekas", 1.0, 1.0),),
    free_rate=0.0, contact_rate=0.03, free_label=None, contact_label="Hubungi penjual", sold_label="Terjual",
    sellers=_sellers(
        "gadgetmurah jayacell tokosejahtera ibox_reseller maju_phone rajaponsel sumbercell gamezone_id "
        "kamerakita fotoprobdg surabaya_gadget berkahcell distro_hp planetgame medan_cell kolektor_tcg "
        "dunia_kamera mitra_elektronik pusatps5 bintang_phone cellular88 grosirhp",
        _TOKO_CITIES),
    categories=((PHONE, "Handphone & Tablet"), (CONSOLE, "Gaming"), (ACCESSORY, "Aksesoris"),
                (CAMERA, "Kamera"), (CARD, "Hobi & Koleksi")),
)

CHAPIN = Shop(
    code="chapin", id_prefix="CH", name="Chapín Market", lang="es-GT", currency="GTQ", exponent=2, usd_rate=7.75,
    price_level=1.10, page_size=25, newest_first=True, births_per_day=10, mean_life_days=45, sold_share=0.55,
    category_mix=((PHONE, 0.52), (CONSOLE, 0.24), (ACCESSORY, 0.12), (CAMERA, 0.07), (CARD, 0.05)),
    brand_bias=(("Nintendo", 1.8), ("Samsung", 1.25), ("Apple", 0.8), ("Google", 0.5)),
    conditions=(("nuevo", 0.45, 1.0), ("usado", 0.4, 0.7), ("reacondicionado", 0.15, 0.82)),
    card_conditions=(("usado", 1.0, 1.0),),
    free_rate=0.015, contact_rate=0.0, free_label="Gratis", contact_label=None, sold_label="sold",
    sellers=_sellers(
        "chapintech celularesgt xelafon tecnozona gamerchapin mundomovil antiguacell fotoguate "
        "elektra_gt compraventa502 consolasgt tiendaquetzal smartzone502 coleccionesgt ofertasgt "
        "celushop telefonia_mixco",
        _CHAPIN_CITIES),
    categories=((PHONE, "Celulares"), (CONSOLE, "Videojuegos"), (ACCESSORY, "Accesorios"),
                (CAMERA, "Cámaras"), (CARD, "Coleccionables")),
)

MERCADO = Shop(
    code="mercado", id_prefix="MC", name="Mercado Demo", lang="es", currency="EUR", exponent=2, usd_rate=0.92,
    price_level=1.06, page_size=24, newest_first=True, births_per_day=10.5, mean_life_days=45, sold_share=0.6,
    category_mix=((PHONE, 0.38), (CONSOLE, 0.26), (ACCESSORY, 0.08), (CAMERA, 0.23), (CARD, 0.05)),
    brand_bias=(("Apple", 1.15), ("Google", 0.8), ("Microsoft", 0.6)),
    conditions=(("Nuevo", 0.35, 1.0), ("Reacondicionado", 0.25, 0.82), ("Como nuevo", 0.15, 0.85),
                ("Usado", 0.25, 0.7)),
    card_conditions=(("Usado", 1.0, 1.0),),
    free_rate=0.0, contact_rate=0.0, free_label=None, contact_label=None, sold_label="Vendido",
    sellers=_sellers(
        "movilesmad tecnobcn reacondicionados_es fotomarket valenciagames outletmovil retrogamer_sev "
        "camarasbilbao smartplanet elrastro_online mundofoto gangasmalaga consolaszgz renuevatech "
        "coleccionista_tcg digitalcoruna",
        _MERCADO_CITIES),
    categories=((PHONE, "Móviles"), (CONSOLE, "Consolas"), (ACCESSORY, "Accesorios"), (CAMERA, "Fotografía"),
                (CARD, "Coleccionismo")),
)

CARDVAULT = Shop(
    code="cardvault", id_prefix="cv", name="CardVault", lang="en", currency="USD", exponent=2, usd_rate=1.0,
    price_level=1.0, page_size=30, newest_first=False, births_per_day=7.2, mean_life_days=45, sold_share=0.65,
    category_mix=((CARD, 1.0),), brand_bias=(),
    conditions=(("Used", 1.0, 1.0),), card_conditions=(("Used", 1.0, 1.0),),
    free_rate=0.012, contact_rate=0.025, free_label="Free", contact_label="Contact seller", sold_label="SOLD",
    sellers=_sellers(
        "vaultkeeper slabhunter gradedgoods pallettown_cards holofoil_hq mintcondition cardshark_tx "
        "retrorarities pokepapa brooklynbreaks shadowlessjoe gemmint10 vintagevault foilfinder "
        "topdeckcollect",
        _CARDVAULT_CITIES),
    categories=((CARD, "Pokémon TCG"),),
)

FYNDA = Shop(
    code="fynda", id_prefix="FY", name="Fynda", lang="sv", currency="SEK", exponent=2, usd_rate=10.4,
    price_level=1.08, page_size=24, newest_first=True, births_per_day=9.5, mean_life_days=45, sold_share=0.6,
    category_mix=((PHONE, 0.45), (CONSOLE, 0.25), (ACCESSORY, 0.1), (CAMERA, 0.15), (CARD, 0.05)),
    brand_bias=(("Apple", 1.3), ("Google", 0.7), ("Sony", 1.1)),
    conditions=(("Ny", 0.25, 1.0), ("Som ny", 0.2, 0.86), ("Begagnad", 0.35, 0.7), ("Renoverad", 0.15, 0.8),
                ("Reservdelar", 0.05, 0.3)),
    card_conditions=(("Begagnad", 1.0, 1.0),),
    free_rate=0.01, contact_rate=0.03, free_label="Gratis", contact_label="Pris på begäran", sold_label="Såld",
    sellers=_sellers(
        "mobilfyndet teknikbutiken_sthlm gbg_elektronik spelhornan fotofynd appleagaren malmomobil "
        "retrospel_uppsala kamerahuset norrlandsfynd samlarkort_se lundtech",
        _FYNDA_CITIES),
    categories=((PHONE, "Mobiltelefoner"), (CONSOLE, "Tv-spel"), (ACCESSORY, "Tillbehör"), (CAMERA, "Kameror"),
                (CARD, "Samlarkort")),
)

SHOPS: dict[str, Shop] = {s.code: s for s in (TOKO, CHAPIN, MERCADO, CARDVAULT, FYNDA)}

DEFAULT_ROBOTS_TXT = "User-agent: *\nDisallow: /fynda/api/\n"
"""The site's robots.txt until faults change it: fynda's JSON API is off limits to crawlers (its
search pages carry the same data in ``__NEXT_DATA__``)."""

# Queries the default vendor files track (SPEC.md); tests and the benchmark use them too.
TRACKED_QUERIES: dict[str, tuple[str, ...]] = {
    "toko": ("iphone", "samsung galaxy", "playstation"),
    "chapin": ("iphone", "samsung galaxy", "nintendo switch"),
    "mercado": ("iphone", "playstation", "canon"),
    "cardvault": ("pikachu", "charizard", "base set"),
    "fynda": ("iphone", "playstation", "canon"),
}
