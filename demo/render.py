"""Render shop pages (HTML/JSON bytes) from catalogue states, with caching.

Rendering is the server's only real work, so it is layered for speed: the parts of a listing
that never change are escaped once per listing (`_static` caches), a day's price and sold flag
are spliced in per page, and whole page bodies are cached per (shop, kind, query, page/cursor,
as-of day). Handlers do parameter validation only; everything here assumes valid input.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from html import escape
from urllib.parse import quote_plus

import orjson

from demo.catalogue import Catalogue, Listing, ListingState
from demo.shops import CARDVAULT, CHAPIN, FYNDA, MERCADO, SHOPS, TOKO, TRACKED_QUERIES

HTML = "text/html; charset=utf-8"
JSON = "application/json"
JS = "application/javascript; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

# Bounded so a long-running demo stays well under ~300 MB whatever it is asked: a full scrape
# of every tracked query on one day is ~70 search pages, far below these sizes.
PAGE_CACHE = 1_024  # search pages (~10-20 KB each) per renderer function
ITEM_CACHE = 4_096  # detail pages / objects (~2-3 KB each) per renderer function
FRAGMENT_CACHE = 16_384  # pre-escaped static parts of listings, per shop


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered response body: status, Content-Type header value and bytes."""

    status: int
    content_type: str
    body: bytes


def _e(text: str) -> str:
    return escape(text, quote=True)


def _json(obj: object) -> bytes:
    return orjson.dumps(obj)


def encode_cursor(offset: int) -> str:
    """Opaque chapin cursor: unpadded base64url of {"o": offset} (SPEC example: eyJvIjoyNX0)."""
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> int:
    """Inverse of `encode_cursor`; raises ValueError on anything it did not produce."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise ValueError(f"invalid cursor {cursor!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("o"), int) or data["o"] < 0:
        raise ValueError(f"invalid cursor {cursor!r}")
    return int(data["o"])


def _head(lang: str, title: str, extra: str = "") -> str:
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{_e(title)}</title>{extra}</head>\n')


def _search_form(shop: str, q: str, asof: date, placeholder: str, button: str) -> str:
    return (f'<form class="search" action="/{shop}/search" method="get">'
            f'<input type="search" name="q" value="{_e(q)}" placeholder="{placeholder}">'
            f'<input type="hidden" name="asof" value="{asof.isoformat()}"><button>{button}</button></form>')


class Renderer:
    """All page renderers of the five shops for one catalogue (one seed)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        pages: Callable[[Callable], Callable] = lru_cache(maxsize=PAGE_CACHE)
        items: Callable[[Callable], Callable] = lru_cache(maxsize=ITEM_CACHE)
        self.toko_search = pages(self._toko_search)
        self.toko_item = items(self._toko_item)
        self.chapin_search = pages(self._chapin_search)
        self.chapin_item_html = items(self._chapin_item_html)
        self.chapin_item_json = items(self._chapin_item_json)
        self.mercado_data = pages(self._mercado_data)
        self.mercado_item_data = items(self._mercado_item_data)
        self.cardvault_search = pages(self._cardvault_search)
        self.cardvault_item = items(self._cardvault_item)
        self.fynda_search = pages(self._fynda_search)
        self.fynda_api_search = pages(self._fynda_api_search)
        self.fynda_item = items(self._fynda_item)
        frag: Callable[[Callable], Callable] = lru_cache(maxsize=FRAGMENT_CACHE)
        self._toko_static = frag(self._toko_static_uncached)
        self._chapin_static = frag(self._chapin_static_uncached)
        self._mercado_static = frag(self._mercado_static_uncached)
        self._cardvault_static = frag(self._cardvault_static_uncached)
        self._fynda_static = frag(self._fynda_static_uncached)

    # ---- toko: server-rendered HTML, page numbers ------------------------------------------
    def _toko_static_uncached(self, listing: Listing) -> tuple[str, str]:
        imgs = "".join(f'\n    <img class="photo" src="{u}" alt="">' for u in listing.images)
        specs = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in listing.attributes)
        head = (f'  <li class="listing" data-id="{listing.id}">\n'
                f'    <a class="title" href="/toko/item/{listing.id}">{_e(listing.title)}</a>\n'
                f'    <span class="price">')
        tail = (f'</span>\n    <span class="condition">{_e(listing.condition)}</span>\n'
                f'    <span class="location">{_e(listing.location)}</span>\n'
                f'    <span class="seller">{_e(listing.seller)}</span>{imgs}\n'
                f'    <dl class="specs">{specs}</dl>\n')
        return head, tail

    def _toko_li(self, state: ListingState) -> str:
        head, tail = self._toko_static(state.listing)
        sold = '    <span class="badge sold">Terjual</span>\n' if state.sold else ""
        return f"{head}{_e(state.price_text)}{tail}{sold}  </li>\n"

    def _toko_search(self, q: str, page: int, asof: date) -> Page:
        results = self.catalogue.search("toko", q, asof)
        size = TOKO.page_size
        total = len(results)
        last = max(1, -(-total // size))
        chunk = results[(page - 1) * size: page * size]
        qq, day = quote_plus(q), asof.isoformat()

        def href(n: int) -> str:
            return f"/toko/search?q={qq}&amp;page={n}&amp;asof={day}"

        nav = []
        if total:
            if 1 < page <= last:
                nav.append(f'<a class="prev" rel="prev" href="{href(page - 1)}">\u2039</a>')
            shown = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
            prev = 0
            for n in shown:
                if n - prev > 1:
                    nav.append('<span class="gap">…</span>')
                current = ' current" aria-current="page' if n == page else ""
                nav.append(f'<a class="page{current}" href="{href(n)}">{n}</a>')
                prev = n
            if page < last:
                nav.append(f'<a class="next" rel="next" href="{href(page + 1)}">\u203a</a>')
        if chunk:
            first = (page - 1) * size + 1
            summary = f"Menampilkan {first}\u2013{first + len(chunk) - 1} dari {total} produk"
        else:
            summary = f"Tidak ada produk di halaman {page}" if total else "Produk tidak ditemukan"
        body = (
            _head("id", f"Jual {q or 'semua produk'} | {TOKO.name}")
            + '<body>\n<header class="site"><a class="logo" href="/toko/">TokoGadget</a>'
            + _search_form("toko", q, asof, "Cari di TokoGadget", "Cari") + "</header>\n<main>\n"
            + f'<h1>Hasil pencarian &quot;{_e(q)}&quot;</h1>\n<p class="summary">{summary}</p>\n'
            + '<ul class="results">\n' + "".join(self._toko_li(s) for s in chunk) + "</ul>\n"
            + '<nav class="pagination">' + " ".join(nav) + "</nav>\n</main>\n"
            + '<footer class="site">© TokoGadget — Market Pulse demo marketplace</footer>\n</body></html>\n'
        )
        return Page(200, HTML, body.encode())

    def _toko_item(self, listing_id: str, asof: date) -> Page:
        state = self.catalogue.get("toko", listing_id, asof)
        if state is None:
            return _not_found_html("id", "Produk tidak ditemukan", f"/toko/search?asof={asof.isoformat()}")
        li = state.listing
        imgs = "".join(f'<img class="photo" src="{u}" alt="">' for u in li.images)
        specs = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in li.attributes)
        sold = '\n  <span class="badge sold">Terjual</span>' if state.sold else ""
        body = (
            _head("id", f"{li.title} | {TOKO.name}", f'<link rel="canonical" href="/toko/item/{li.id}">')
            + '<body>\n<header class="site"><a class="logo" href="/toko/">TokoGadget</a></header>\n'
            + f'<main>\n<div class="product" data-id="{li.id}">\n'
            + f'  <h1 class="title">{_e(li.title)}</h1>\n  <span class="price">{_e(state.price_text)}</span>\n'
            + f'  <span class="condition">{_e(li.condition)}</span>\n'
            + f'  <span class="location">{_e(li.location)}</span>\n'
            + f'  <span class="seller">{_e(li.seller)}</span>\n  <span class="category">{_e(li.category)}</span>\n'
            + f'  <div class="gallery">{imgs}</div>\n  <dl class="specs">{specs}</dl>\n'
            + f'  <div class="description">{_e(li.description)}</div>{sold}\n</div>\n</main>\n</body></html>\n'
        )
        return Page(200, HTML, body.encode())

    # ---- chapin: JSON API, cursor pagination ------------------------------------------------
    def _chapin_static_uncached(self, listing: Listing) -> dict:
        return {
            "id": listing.id, "title": listing.title, "price": None, "gtin": listing.gtin,
            "condition": listing.condition, "location": listing.location,
            "seller": {"name": listing.seller, "rating": listing.seller_rating},
            "url": f"/chapin/p/{listing.id}", "images": [{"url": u} for u in listing.images],
            "attributes": [{"name": k, "value": v} for k, v in listing.attributes], "status": None,
        }

    def _chapin_obj(self, state: ListingState) -> dict:
        obj = dict(self._chapin_static(state.listing))
        obj["price"] = state.price_text
        obj["status"] = state.status
        return obj

    def _chapin_search(self, q: str, offset: int, asof: date) -> Page:
        results = self.catalogue.search("chapin", q, asof)
        size = CHAPIN.page_size
        chunk = results[offset: offset + size]
        more = offset + size < len(results)
        doc = {"query": q, "total": len(results), "results": [self._chapin_obj(s) for s in chunk],
               "paging": {"next_cursor": encode_cursor(offset + size) if more else None}}
        return Page(200, JSON, _json(doc))

    def _chapin_item_json(self, listing_id: str, asof: date) -> Page:
        state = self.catalogue.get("chapin", listing_id, asof)
        if state is None:
            return Page(404, JSON, _json({"error": f"listing {listing_id} not found on {asof.isoformat()}"}))
        return Page(200, JSON, _json(self._chapin_obj(state)))

    def _chapin_item_html(self, listing_id: str, asof: date) -> Page:
        state = self.catalogue.get("chapin", listing_id, asof)
        if state is None:
            return _not_found_html("es-GT", "Producto no encontrado", "/chapin/")
        li = state.listing
        value = state.price
        condition = {"nuevo": "NewCondition", "reacondicionado": "RefurbishedCondition"}.get(
            li.condition, "UsedCondition")
        ld: dict = {"@context": "https://schema.org", "@type": "Product", "name": li.title, "sku": li.id,
                    "brand": {"@type": "Brand", "name": li.brand}, "image": list(li.images)}
        if li.gtin:
            ld["gtin13" if len(li.gtin) == 13 else "gtin12"] = li.gtin
        offer: dict = {"@type": "Offer", "priceCurrency": "GTQ",
                       "availability": "https://schema.org/" + ("SoldOut" if state.sold else "InStock"),
                       "itemCondition": "https://schema.org/" + condition}
        if value is not None:
            offer["price"] = f"{value:.2f}"
        ld["offers"] = offer
        ld_json = _json(ld).decode().replace("<", "\\u003c")
        imgs = "".join(f'<img src="{u}" alt="">' for u in li.images)
        attrs = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in li.attributes)
        body = (
            _head("es-GT", f"{li.title} | {CHAPIN.name}",
                  f'<script type="application/ld+json">{ld_json}</script>')
            + f'<body>\n<main class="producto" data-id="{li.id}">\n'
            + f'  <h1 class="titulo">{_e(li.title)}</h1>\n  <p class="precio">{_e(state.price_text)}</p>\n'
            + f'  <p class="estado">{_e(li.condition)}</p>\n  <p class="ubicacion">{_e(li.location)}</p>\n'
            + f'  <p class="vendedor">{_e(li.seller)} <span class="rating">{li.seller_rating}</span></p>\n'
            + f'  <div class="fotos">{imgs}</div>\n  <table class="atributos">{attrs}</table>\n'
            + f'  <p class="descripcion">{_e(li.description)}</p>\n  <p class="status">{state.status}</p>\n'
            + "</main>\n</body></html>\n"
        )
        return Page(200, HTML, body.encode())

    # ---- mercado: JSON consumed by app.js, next-link pagination -------------------------------
    def _mercado_static_uncached(self, listing: Listing) -> dict:
        return {
            "sku": listing.id, "ean": listing.gtin, "title": listing.title, "url": f"/mercado/producto/{listing.id}",
            "price": None, "condition": listing.condition, "city": listing.location, "seller": listing.seller,
            "images": list(listing.images), "features": [[k, v] for k, v in listing.attributes], "sold": None,
        }

    def _mercado_obj(self, state: ListingState) -> dict:
        obj = dict(self._mercado_static(state.listing))
        obj["price"] = state.price_text
        obj["sold"] = state.sold
        return obj

    def _mercado_data(self, q: str, page: int, asof: date) -> Page:
        results = self.catalogue.search("mercado", q, asof)
        size = MERCADO.page_size
        chunk = results[(page - 1) * size: page * size]
        more = page * size < len(results)
        nxt = f"/mercado/search?q={quote_plus(q)}&page={page + 1}&asof={asof.isoformat()}" if more else None
        doc = {"query": q, "page": page, "total": len(results),
               "items": [self._mercado_obj(s) for s in chunk], "next": nxt}
        return Page(200, JSON, _json(doc))

    def _mercado_item_data(self, listing_id: str, asof: date) -> Page:
        state = self.catalogue.get("mercado", listing_id, asof)
        if state is None:
            return Page(404, JSON, _json({"error": f"producto {listing_id} no encontrado"}))
        return Page(200, JSON, _json({"item": self._mercado_obj(state)}))

    # ---- cardvault: server-rendered table, keyset "after" pagination -------------------------
    def _cardvault_static_uncached(self, listing: Listing) -> tuple[str, str]:
        pics = "".join(f'<img data-src="{u}" alt="">' for u in listing.images)
        grade = "" if listing.grade == "Sealed" else listing.grade or ""
        head = (f'<tr class="row" id="{listing.id}">\n'
                f'  <td class="name"><a href="/cardvault/card/{listing.id}">{_e(listing.title)}</a></td>\n'
                f'  <td class="cardno">{_e(listing.card_number or "")}</td>\n  <td class="amount">')
        tail = (f'</td>\n  <td class="grade">{_e(grade)}</td>\n  <td class="where">{_e(listing.location)}</td>\n'
                f'  <td class="who">{_e(listing.seller)}</td>\n  <td class="pics">{pics}</td>\n  <td class="status">')
        return head, tail

    def _cardvault_tr(self, state: ListingState) -> str:
        head, tail = self._cardvault_static(state.listing)
        return f"{head}{_e(state.price_text)}{tail}{'SOLD' if state.sold else ''}</td>\n</tr>\n"

    def _cardvault_search(self, q: str, after: int, asof: date) -> Page:
        results = self.catalogue.search("cardvault", q, asof)
        start = bisect_right(results, after, key=_number) if after else 0
        chunk = results[start: start + CARDVAULT.page_size]
        more = start + CARDVAULT.page_size < len(results)
        nxt = ""
        if more:
            href = f"/cardvault/search?q={quote_plus(q)}&amp;after={chunk[-1].id}&amp;asof={asof.isoformat()}"
            nxt = f'<a rel="next" href="{href}">Next page</a>\n'
        shown = f"{start + 1}\u2013{start + len(chunk)} of {len(results)}" if chunk else f"0 of {len(results)}"
        body = (
            _head("en", f"{q or 'All cards'} — {CARDVAULT.name}")
            + '<body>\n<header><a class="brand" href="/cardvault/">CardVault</a>'
            + _search_form("cardvault", q, asof, "Search cards", "Search") + "</header>\n"
            + f'<h1>Results for “{_e(q)}”</h1>\n<p class="summary">Showing {shown} listings</p>\n'
            + '<table id="listings">\n<tr class="head"><th>Card</th><th>No.</th><th>Price</th><th>Grade</th>'
            + "<th>Location</th><th>Seller</th><th>Photos</th><th>Status</th></tr>\n"
            + "".join(self._cardvault_tr(s) for s in chunk) + "</table>\n" + nxt
            + "<footer>CardVault — Market Pulse demo marketplace</footer>\n</body></html>\n"
        )
        return Page(200, HTML, body.encode())

    def _cardvault_item(self, listing_id: str, asof: date) -> Page:
        state = self.catalogue.get("cardvault", listing_id, asof)
        if state is None:
            return _not_found_html("en", "Listing not found", "/cardvault/")
        li = state.listing
        pics = "".join(f'<img data-src="{u}" alt="">' for u in li.images)
        grade = "" if li.grade == "Sealed" else li.grade or ""
        rows = [("Card number", "cardno", li.card_number or ""), ("Price", "amount", state.price_text),
                ("Grade", "grade", grade), ("Location", "where", li.location), ("Seller", "who", li.seller),
                ("Status", "status", "SOLD" if state.sold else "")]
        table = "".join(f'<tr><th>{k}</th><td class="{c}">{_e(v)}</td></tr>' for k, c, v in rows)
        table += "".join(f'<tr class="attr"><th>{_e(k)}</th><td>{_e(v)}</td></tr>' for k, v in li.attributes)
        body = (
            _head("en", f"{li.title} — {CARDVAULT.name}")
            + f'<body>\n<div class="card-detail" id="{li.id}">\n  <h1 class="name">{_e(li.title)}</h1>\n'
            + f'  <table class="details">{table}</table>\n  <div class="pics">{pics}</div>\n'
            + f'  <p class="description">{_e(li.description)}</p>\n</div>\n</body></html>\n'
        )
        return Page(200, HTML, body.encode())


    # ---- fynda: a Next.js-style shop: results only as JSON in __NEXT_DATA__ -------------------
    def _fynda_static_uncached(self, listing: Listing) -> dict:
        return {
            "id": listing.id, "heading": listing.title, "price": None, "condition": listing.condition,
            "location": {"city": listing.location}, "seller": {"name": listing.seller, "rating": listing.seller_rating},
            "url": f"/fynda/annons/{listing.id}", "images": [{"src": u, "width": 800} for u in listing.images],
            "specs": [{"label": k, "value": v} for k, v in listing.attributes], "gtin": listing.gtin,
            "status": None,
        }

    def _fynda_hit(self, state: ListingState) -> dict:
        hit = dict(self._fynda_static(state.listing))
        amount = state.price_minor if state.listing.price_kind == "amount" else (
            0 if state.listing.price_kind == "free" else None)
        hit["price"] = {"amount": amount, "currency": FYNDA.currency, "formatted": state.price_text}
        hit["status"] = "sold" if state.sold else "available"
        return hit

    def _fynda_results(self, q: str, page: int, asof: date) -> dict:
        results = self.catalogue.search("fynda", q, asof)
        size = FYNDA.page_size
        chunk = results[(page - 1) * size: page * size]
        return {"query": q, "page": page, "pageSize": size, "totalHits": len(results),
                "hasNextPage": page * size < len(results), "hits": [self._fynda_hit(s) for s in chunk]}

    def _fynda_search(self, q: str, page: int, asof: date) -> Page:
        search = self._fynda_results(q, page, asof)
        data = {"props": {"pageProps": {"search": search, "asof": asof.isoformat()}, "__N_SSP": True},
                "page": "/sok", "query": {"q": q, "page": str(page)}, "buildId": "fynda-demo", "isFallback": False,
                "gssp": True, "scriptLoader": []}
        body = (
            _head("sv", f"{q or 'Alla annonser'} \u2013 {FYNDA.name}")
            + '<body>\n<div id="__next"><header class="topbar"><a href="/fynda/">Fynda</a></header>'
            + f'<main><h1>Sökresultat för &quot;{_e(q)}&quot;</h1><div class="results" aria-busy="true"></div></main>'
            + "</div>\n"
            + f'<script id="__NEXT_DATA__" type="application/json">{_script_json(data)}</script>\n'
            + '<script src="/fynda/_next/static/chunks/main.js" defer></script>\n</body></html>\n'
        )
        return Page(200, HTML, body.encode())

    def _fynda_api_search(self, q: str, page: int, asof: date) -> Page:
        return Page(200, JSON, _json(self._fynda_results(q, page, asof)))

    def _fynda_item(self, listing_id: str, asof: date) -> Page:
        state = self.catalogue.get("fynda", listing_id, asof)
        if state is None:
            return _not_found_html("sv", "Annonsen finns inte", "/fynda/")
        li = state.listing
        offer: dict = {
            "@type": "Offer", "url": f"/fynda/annons/{li.id}", "priceCurrency": FYNDA.currency,
            "availability": "https://schema.org/" + ("SoldOut" if state.sold else "InStock"),
            "itemCondition": "https://schema.org/" + FYNDA_SCHEMA_CONDITIONS[li.condition],
            "seller": {"@type": "Person", "name": li.seller},
            "availableAtOrFrom": {"@type": "Place", "address": {"@type": "PostalAddress",
                                                                "addressLocality": li.location}},
        }
        if state.price is not None:
            offer["price"] = f"{state.price:.2f}"
        ld: dict = {"@context": "https://schema.org", "@type": "Product", "name": li.title, "sku": li.id,
                    "brand": {"@type": "Brand", "name": li.brand}, "image": list(li.images),
                    "description": li.description,
                    "additionalProperty": [{"@type": "PropertyValue", "name": k, "value": v}
                                           for k, v in li.attributes],
                    "offers": offer}
        if li.gtin:
            ld["gtin13" if len(li.gtin) == 13 else "gtin12"] = li.gtin
        meta = (f'<meta property="og:type" content="product"><meta property="og:title" content="{_e(li.title)}">'
                + "".join(f'<meta property="og:image" content="{u}">' for u in li.images[:1])
                + (f'<meta property="product:price:amount" content="{state.price:.2f}">'
                   f'<meta property="product:price:currency" content="{FYNDA.currency}">'
                   if state.price is not None else "")
                + f'<script type="application/ld+json">{_script_json(ld)}</script>')
        data = {"props": {"pageProps": {"hit": self._fynda_hit(state)}}, "page": "/annons/[id]",
                "query": {"id": li.id}, "buildId": "fynda-demo"}
        body = (
            _head("sv", f"{li.title} \u2013 {FYNDA.name}", meta)
            + f'<body>\n<div id="__next"><main class="annons"><h1>{_e(li.title)}</h1></main></div>\n'
            + f'<script id="__NEXT_DATA__" type="application/json">{_script_json(data)}</script>\n'
            + "</body></html>\n"
        )
        return Page(200, HTML, body.encode())


FYNDA_SCHEMA_CONDITIONS = {"Ny": "NewCondition", "Som ny": "UsedCondition", "Begagnad": "UsedCondition",
                           "Renoverad": "RefurbishedCondition", "Reservdelar": "DamagedCondition"}
"""fynda's conditions as schema.org ``itemCondition`` values in its product pages' JSON-LD."""


def _script_json(obj: object) -> str:
    """JSON safe inside a <script> element (as Next.js writes it: no raw ``<``)."""
    return _json(obj).decode().replace("<", "\\u003c")


def _number(state: ListingState) -> int:
    return state.listing.number


def _not_found_html(lang: str, message: str, back: str) -> Page:
    body = _head(lang, message) + f'<body><h1 class="not-found">{message}</h1><a href="{back}">←</a></body></html>\n'
    return Page(404, HTML, body.encode())


MERCADO_SHELL = Page(200, HTML, (
    _head("es", MERCADO.name)
    + '<body>\n<header class="top"><a class="logo" href="/mercado/">Mercado Demo</a></header>\n'
    + '<div id="app"></div>\n<noscript>Activa JavaScript para ver los productos.</noscript>\n'
    + '<script src="/mercado/app.js"></script>\n</body></html>\n'
).encode())


def shop_home(shop: str) -> Page:
    """Small landing page per shop with links to its tracked queries (handy in a browser)."""
    links = "".join(f'<li><a href="{_query_link(shop, q)}">{_e(q)}</a></li>' for q in TRACKED_QUERIES[shop])
    spec = SHOPS[shop]
    body = (_head(spec.lang, spec.name) + f"<body><h1>{_e(spec.name)}</h1>\n"
            + f'<p>Demo shop ({spec.currency}). Tracked queries:</p><ul class="queries">{links}</ul>'
            + '<p><a href="/">All demo shops</a></p></body></html>\n')
    return Page(200, HTML, body.encode())


def _query_link(shop: str, q: str) -> str:
    path = {"chapin": "/chapin/api/search", "fynda": "/fynda/sok"}.get(shop, f"/{shop}/search")
    return f"{path}?q={quote_plus(q)}"


def index_page(seed: int) -> Page:
    rows = []
    for code, spec in SHOPS.items():
        queries = ", ".join(f'<a href="{_query_link(code, q)}">{_e(q)}</a>' for q in TRACKED_QUERIES[code])
        rows.append(f'<tr><td><a href="/{code}/">{_e(spec.name)}</a></td><td>/{code}</td>'
                    f"<td>{spec.currency}</td><td>{queries}</td></tr>")
    body = (_head("en", "Market Pulse demo marketplace")
            + "<body><h1>Market Pulse demo marketplace</h1>\n"
            + f"<p>Seed {seed}. Add <code>asof=YYYY-MM-DD</code> to any shop URL to see that day "
            + "(the catalogue starts on 2025-01-01).</p>\n"
            + "<table><tr><th>Shop</th><th>Prefix</th><th>Currency</th><th>Tracked queries</th></tr>"
            + "".join(rows) + "</table>\n"
            + '<p><a href="/healthz">/healthz</a> · <a href="/_stats">/_stats</a></p></body></html>\n')
    return Page(200, HTML, body.encode())

