"""How well product identity groups the demo marketplace's listings, against its ground truth.

The demo lists the same real products in several shops under different spellings and knows
which product each listing is (``listing.product.key``). This script feeds every listing
visible on the chosen days to :func:`pipelines.products.identity.resolve` exactly as the
scrapers see it (cleaned title, vendor, the GTIN/EAN or card number the shop shows, condition)
and reports:

* **matching rate** (completeness): share of listings that land on the product most listings
  of their true product land on;
* **purity**: share of listings whose product's most common true product is their own;
* pairwise precision / recall over listing pairs;
* **cross-vendor**: of the true products sold in two or more shops, the share whose listings
  from different shops meet on one product row.

Ground truth comes at two granularities: the demo's exact product (GTIN level: colour
included) and the same without colour, which is the granularity the default rules aim at
(``colours: drop``). Run: ``uv run python -m bench.product_matching [--days 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter, defaultdict

from demo.catalogue import get_catalogue
from demo.shops import SHOPS
from pipelines.parsing.text import clean_text
from pipelines.products.identity import ListingText, load_rules
from pipelines.products.matching import match_listings

CONDITION_MAP = {"Baru": "new", "Bekas": "used", "nuevo": "new", "usado": "used", "reacondicionado": "refurbished",
                 "Nuevo": "new", "Como nuevo": "like_new", "Usado": "used", "Reacondicionado": "refurbished",
                 "Ny": "new", "Som ny": "like_new", "Begagnad": "used", "Renoverad": "refurbished",
                 "Reservdelar": "for_parts"}


def demo_listings(days: list[dt.date], seed: int = 42):  # type: ignore[no-untyped-def]
    """(listing_text, true_product, shop) for every listing visible on any of ``days``."""
    catalogue = get_catalogue(seed)
    seen: dict[tuple[str, str], tuple[ListingText, object, str]] = {}
    for day in days:
        for shop in SHOPS:
            for state in catalogue.listings(shop, day):
                li = state.listing
                if (shop, li.id) in seen:
                    continue
                if shop == "cardvault":
                    code = li.card_number
                    condition = "" if li.grade == "Sealed" else li.grade
                elif shop == "toko":
                    code, condition = None, CONDITION_MAP.get(li.condition, li.condition)
                else:
                    code, condition = li.gtin, CONDITION_MAP.get(li.condition, li.condition)
                text = ListingText(title=clean_text(li.title), vendor=shop, product_code=code or None,
                                   condition=condition or None)
                seen[(shop, li.id)] = (text, li.product, shop)
    return list(seen.values())


def _truth_without_colour(product) -> str:  # type: ignore[no-untyped-def]
    if product.color is None:
        return product.key
    colour = "-".join("".join(ch if ch.isalnum() else "-" for ch in product.color.lower()).split("-"))
    colour = "-".join(p for p in colour.split("-") if p)
    return product.key.replace(f"-{colour}", "") if product.key.endswith(colour) else product.key


def scores(predicted: list[str], truth: list[str], shops: list[str]) -> dict[str, float]:
    by_truth: dict[str, Counter[str]] = defaultdict(Counter)
    by_pred: dict[str, Counter[str]] = defaultdict(Counter)
    for p, t in zip(predicted, truth, strict=True):
        by_truth[t][p] += 1
        by_pred[p][t] += 1
    n = len(predicted)
    complete = sum(c.most_common(1)[0][1] for c in by_truth.values()) / n
    pure = sum(c.most_common(1)[0][1] for c in by_pred.values()) / n

    def pairs(counter_of_counters: dict[str, Counter[str]]) -> int:
        return sum(v * (v - 1) // 2 for c in counter_of_counters.values() for v in c.values())

    same_both = pairs(by_truth)  # pairs with same truth and same prediction
    same_truth = sum(sum(c.values()) * (sum(c.values()) - 1) // 2 for c in by_truth.values())
    same_pred = sum(sum(c.values()) * (sum(c.values()) - 1) // 2 for c in by_pred.values())
    # cross-vendor: truths present in 2+ shops whose dominant product spans 2+ of those shops
    shops_by_truth: dict[str, set[str]] = defaultdict(set)
    shops_by_truth_pred: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p, t, s in zip(predicted, truth, shops, strict=True):
        shops_by_truth[t].add(s)
        shops_by_truth_pred[(t, p)].add(s)
    multi = [t for t, s in shops_by_truth.items() if len(s) >= 2]
    met = sum(1 for t in multi if len(shops_by_truth_pred[(t, by_truth[t].most_common(1)[0][0])]) >= 2)
    return {
        "listings": n,
        "true_products": len(by_truth),
        "predicted_products": len(by_pred),
        "matching_rate": complete,
        "purity": pure,
        "pair_precision": same_both / same_pred if same_pred else 1.0,
        "pair_recall": same_both / same_truth if same_truth else 1.0,
        "cross_vendor_products": len(multi),
        "cross_vendor_met": met / len(multi) if multi else 1.0,
    }


def evaluate(days: list[dt.date], *, show_misses: int = 0,
             titles_only: bool = False) -> dict[str, dict[str, float]]:
    rows = demo_listings(days)
    if titles_only:  # what the title key alone achieves, without GTINs or card numbers
        rows = [(ListingText(title=t.title, vendor=t.vendor, condition=t.condition), p, s) for t, p, s in rows]
    rules = load_rules()
    matches = match_listings({i: text for i, (text, _, _) in enumerate(rows)}, rules)
    predicted = [matches[i].key for i in range(len(rows))]
    shops = [shop for _, _, shop in rows]
    refurbished = ["~refurbished" if t.condition == "refurbished" else "" for t, _, _ in rows]
    out = {
        "without colour, refurbished apart": scores(
            predicted, [_truth_without_colour(p) + r for (_, p, _), r in zip(rows, refurbished, strict=True)], shops),
        "without colour": scores(predicted, [_truth_without_colour(p) for _, p, _ in rows], shops),
        "exact demo product": scores(predicted, [p.key for _, p, _ in rows], shops),  # type: ignore[attr-defined]
    }
    per_category: dict[str, list[int]] = defaultdict(list)
    for i, (_, product, _) in enumerate(rows):
        per_category[product.category].append(i)  # type: ignore[attr-defined]
    for category, idx in sorted(per_category.items()):
        out[f"without colour, {category}"] = scores(
            [predicted[i] for i in idx], [_truth_without_colour(rows[i][1]) + refurbished[i] for i in idx],
            [shops[i] for i in idx])
    if show_misses:
        truth = [_truth_without_colour(p) + r for (_, p, _), r in zip(rows, refurbished, strict=True)]
        by_truth: dict[str, Counter[str]] = defaultdict(Counter)
        for p, t in zip(predicted, truth, strict=True):
            by_truth[t][p] += 1
        misses = [(truth[i], predicted[i], rows[i][0].title, rows[i][2]) for i in range(len(rows))
                  if by_truth[truth[i]].most_common(1)[0][0] != predicted[i]]
        for t, p, title, shop in misses[:show_misses]:
            main = by_truth[t].most_common(1)[0][0]
            print(f"  {shop:9} {title!r}\n     truth {t}\n     got   {p}\n     main  {main}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", default="2025-06-01", help="first day (YYYY-MM-DD)")
    parser.add_argument("--days", type=int, default=1, help="number of consecutive days")
    parser.add_argument("--misses", type=int, default=0, help="print this many mismatched listings")
    parser.add_argument("--titles-only", action="store_true", help="ignore vendor codes (GTIN, card number)")
    args = parser.parse_args()
    start = dt.date.fromisoformat(args.day)
    days = [start + dt.timedelta(days=i) for i in range(args.days)]
    results = evaluate(days, show_misses=args.misses, titles_only=args.titles_only)
    print(f"Product matching on demo listings visible {days[0]}..{days[-1]} (seed 42)"
          + (", titles only" if args.titles_only else ""))
    for name, s in results.items():
        print(f"{name:34} listings {s['listings']:5}  true {s['true_products']:4}  ours {s['predicted_products']:4}  "
              f"matching {s['matching_rate']:.1%}  purity {s['purity']:.1%}  "
              f"pairs P {s['pair_precision']:.1%} R {s['pair_recall']:.1%}  "
              f"cross-vendor {s['cross_vendor_met']:.1%} of {s['cross_vendor_products']}")


if __name__ == "__main__":
    main()
