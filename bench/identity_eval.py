"""Pairwise precision, recall and F1 of our product matcher on two shops' product lists.

Takes Abt-Buy-shaped CSVs, so anyone can score real data::

    uv run python -m bench.identity_eval --left Abt.csv --right Buy.csv --matches abt_buy_perfectMapping.csv
    uv run python -m bench.identity_eval --split dev        # our own labelled set (bench/identity_data)

Each side: one row per product with an id and a title (columns auto-detected: ``id``; ``name``
or ``title``; optional ``description``, ``price``, ``gtin``/``ean``/``upc``, ``mpn``,
``brand``/``manufacturer``: the brand, as a shop's own field). Matches: two id columns
(``idAbt,idBuy``, ``idLeft,idRight``,
``ltable_id,rtable_id``, ... the first two columns whose names contain ``id``), or a third
``label`` column where only rows labelled 1 count. Files may be UTF-8 or Latin-1.

Every row becomes a listing of shop ``left`` or ``right`` and both shops are matched together,
from an empty catalogue, exactly as ``product_matches`` does. A predicted pair is a left and a
right row on one product; precision = true predicted pairs / predicted pairs, recall = true
predicted pairs / labelled pairs. ``--use-description`` takes identifiers (GTINs, part numbers)
from descriptions, never their words. ``--errors N`` prints N false and N missed pairs.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

from pipelines.products.identifiers import gtins_in_text, part_numbers
from pipelines.products.identity import ListingText, load_rules
from pipelines.products.matching import match_listings

DATA = Path(__file__).resolve().parent / "identity_data"
SPLITS = ("dev", "holdout", "blind-dev", "blind-test")


def _read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text))]


def _column(row: dict[str, str], *names: str) -> str | None:
    for name in names:
        if name in row:
            return name
    return None


def read_side(path: Path, vendor: str, use_description: bool = False) -> dict[str, ListingText]:
    """``{id: ListingText}`` of one shop's CSV."""
    rows = _read(path)
    if not rows:
        raise SystemExit(f"{path}: no rows")
    first = rows[0]
    id_col = _column(first, "id", "subject_id", f"id{vendor}") or next(iter(first))
    name_col = _column(first, "name", "title", "product_name", "product")
    if name_col is None:
        raise SystemExit(f"{path}: no name/title column (columns: {', '.join(first)})")
    gtin_col = _column(first, "gtin", "ean", "upc", "gtin13", "ean13")
    mpn_col = _column(first, "mpn", "model", "part_number", "manufacturer_part_number")
    brand_col = _column(first, "brand", "manufacturer")
    ids = load_rules().identifiers
    out = {}
    for row in rows:
        title, gtin, mpn = row[name_col], row.get(gtin_col or "") or None, row.get(mpn_col or "") or None
        brand = row.get(brand_col or "") or None
        description = row.get("description") or ""
        if use_description and description:
            # identifiers only: the description's words would drown the title's in the comparison
            if not gtin and (found := gtins_in_text(description)):
                gtin = found[0]
            if not mpn and not part_numbers(title, ids, brand):
                codes = part_numbers(description[:300], ids, brand)
                mpn = codes[0].raw if codes else None
        out[row[id_col]] = ListingText(title=title, vendor=vendor, gtin=gtin, mpn=mpn, brand=brand)
    return out


def read_matches(path: Path) -> set[tuple[str, str]]:
    rows = _read(path)
    if not rows:
        return set()
    columns = list(rows[0])
    ids = [c for c in columns if "id" in c][:2] or columns[:2]
    label = _column(rows[0], "label", "match", "is_match")
    return {(r[ids[0]], r[ids[1]]) for r in rows if label is None or r[label] in ("1", "true", "True", "MATCH")}


def evaluate(left: dict[str, ListingText], right: dict[str, ListingText], truth: set[tuple[str, str]],
             errors: int = 0) -> dict[str, float]:
    rules = load_rules()
    listings: dict[int, ListingText] = {}
    origin: dict[int, tuple[str, str]] = {}
    for side, rows in (("left", left), ("right", right)):
        for row_id, text in rows.items():
            origin[len(listings)] = (side, row_id)
            listings[len(listings)] = text
    started = time.perf_counter()
    matches = match_listings(listings, rules)
    seconds = time.perf_counter() - started
    members: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"left": [], "right": []})
    for i, match in matches.items():
        side, row_id = origin[i]
        members[match.key][side].append(row_id)
    predicted = {(a, b) for m in members.values() for a in m["left"] for b in m["right"]}
    truth = {(a, b) for a, b in truth if a in left and b in right}
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    if errors:
        method = {origin[i]: (m.method, m.score) for i, m in matches.items()}
        print("false matches:")
        for a, b in sorted(predicted - truth)[:errors]:
            print(f"  {left[a].title!r}\n  {right[b].title!r}  {method[('right', b)]}")
        print("missed matches:")
        for a, b in sorted(truth - predicted)[:errors]:
            print(f"  {left[a].title!r}\n  {right[b].title!r}")
    return {"left": len(left), "right": len(right), "labelled_pairs": len(truth), "predicted_pairs": len(predicted),
            "true_pairs": tp, "precision": precision, "recall": recall, "f1": f1, "seconds": seconds}


def _report(name: str, s: dict[str, float]) -> str:
    return (f"{name}: {s['left']} left x {s['right']} right, {s['labelled_pairs']} labelled pairs; "
            f"predicted {s['predicted_pairs']}, true {s['true_pairs']}: precision {s['precision']:.3f} "
            f"recall {s['recall']:.3f} F1 {s['f1']:.3f} ({s['seconds']:.2f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--left", type=Path)
    parser.add_argument("--right", type=Path)
    parser.add_argument("--matches", type=Path)
    parser.add_argument("--split", choices=[*SPLITS, "all"], help="our labelled sets instead of files")
    parser.add_argument("--use-description", action="store_true",
                        help="read GTINs and part numbers from each row's description when its title has none")
    parser.add_argument("--errors", type=int, default=0, help="print this many false and missed pairs")
    args = parser.parse_args(argv)
    if args.split:
        for split in SPLITS if args.split == "all" else [args.split]:
            folder = DATA / split
            scores = evaluate(read_side(folder / "left.csv", "left", args.use_description),
                              read_side(folder / "right.csv", "right", args.use_description),
                              read_matches(folder / "matches.csv"), errors=args.errors)
            print(_report(split, scores))
        return
    if not (args.left and args.right and args.matches):
        parser.error("give --left, --right and --matches, or --split")
    scores = evaluate(read_side(args.left, "left", args.use_description),
                      read_side(args.right, "right", args.use_description), read_matches(args.matches),
                      errors=args.errors)
    print(_report(f"{args.left.name} / {args.right.name}", scores))


if __name__ == "__main__":
    main(sys.argv[1:])
