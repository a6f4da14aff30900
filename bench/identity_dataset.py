"""Builds the labelled product-identity evaluation set from ``bench/identity_data/source.txt``.

The source lists real products as two electronics shops title them (see its header). This
script writes Abt-Buy-shaped CSVs - ``left.csv`` and ``right.csv`` (``id,name,description,price``
plus ``gtin`` on the right) and ``matches.csv`` (``idLeft,idRight``) - for two halves of the
lines, chosen by a hash of each line so the split never depends on their order:

* ``bench/identity_data/dev/``: the half the rules were tuned on (misses looked at);
* ``bench/identity_data/holdout/``: the other half, only ever scored, never inspected.

A second set, ``blind_source.txt``, was written later without looking at the matcher, in the
exact Abt-Buy file shape (descriptions, a ``manufacturer`` column on the right, right names
often without the part number); it is split the same way into ``blind-dev`` (may be looked
at) and ``blind-test`` (only ever scored).

Run: ``uv run python -m bench.identity_dataset`` (the CSVs are committed; re-run after
editing the source). Score with ``uv run python -m bench.identity_eval --split dev``.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from pipelines.products.identifiers import gtin_check_digit_ok

DATA = Path(__file__).resolve().parent / "identity_data"
SPLITS = ("dev", "holdout")
BLIND_SPLITS = ("blind-dev", "blind-test")


def _gtin(text: str) -> str:
    """``12345678901?`` -> the UPC-A with its check digit; anything else as written."""
    text = text.strip()
    if text.endswith("?"):
        body = text[:-1]
        for digit in "0123456789":
            if gtin_check_digit_ok(body + digit):
                return body + digit
    return text


def split_of(line: str) -> str:
    return SPLITS[hashlib.sha256(line.encode()).digest()[0] % 2]


def build(source: Path = DATA / "source.txt", out: Path = DATA) -> dict[str, tuple[int, int, int]]:
    rows: dict[str, tuple[list[list[str]], list[list[str]], list[list[str]]]] = {s: ([], [], []) for s in SPLITS}
    for number, raw in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ")]
        kind, split = parts[0], split_of(line)
        left, right, matches = rows[split]
        if kind == "P" and len(parts) in (3, 4):
            left_id, right_id = f"L{number}", f"R{number}"
            left.append([left_id, parts[1], "", ""])
            right.append([right_id, parts[2], "", "", _gtin(parts[3]) if len(parts) == 4 else ""])
            matches.append([left_id, right_id])
        elif kind == "L" and len(parts) == 2:
            left.append([f"L{number}", parts[1], "", ""])
        elif kind == "R" and len(parts) in (2, 3):
            right.append([f"R{number}", parts[1], "", "", _gtin(parts[2]) if len(parts) == 3 else ""])
        else:
            raise ValueError(f"{source}:{number}: cannot read {raw!r}")
    return _write_splits(out, rows, right_header=["id", "name", "description", "price", "gtin"],
                         match_header=["idLeft", "idRight"])


def build_blind(source: Path = DATA / "blind_source.txt", out: Path = DATA) -> dict[str, tuple[int, int, int]]:
    """The second set, in the exact shape of the Abt-Buy files (``Abt.csv``: id, name,
    description, price; ``Buy.csv``: id, name, description, manufacturer, price;
    ``perfectMapping.csv``: idAbt, idBuy) written as left/right/matches, in two halves."""
    rows: dict[str, tuple[list[list[str]], list[list[str]], list[list[str]]]] = {s: ([], [], []) for s in BLIND_SPLITS}
    for number, raw in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        kind = parts[0]
        split = BLIND_SPLITS[hashlib.sha256(line.encode()).digest()[0] % 2]
        left, right, matches = rows[split]
        if kind == "P" and len(parts) in (5, 6):
            name, description, right_name, manufacturer, right_description = [*parts[1:], ""][:5]
            left.append([f"A{number}", name, description, ""])
            right.append([f"B{number}", right_name, right_description, manufacturer, ""])
            matches.append([f"A{number}", f"B{number}"])
        elif kind == "L" and len(parts) in (2, 3):
            left.append([f"A{number}", parts[1], parts[2] if len(parts) == 3 else "", ""])
        elif kind == "R" and len(parts) in (3, 4):
            right.append([f"B{number}", parts[1], parts[3] if len(parts) == 4 else "", parts[2], ""])
        else:
            raise ValueError(f"{source}:{number}: cannot read {raw!r}")
    return _write_splits(out, rows, right_header=["id", "name", "description", "manufacturer", "price"],
                         match_header=["idAbt", "idBuy"])


Rows = list[list[str]]


def _write_splits(out: Path, rows: dict[str, tuple[Rows, Rows, Rows]], *, right_header: list[str],
                  match_header: list[str]) -> dict[str, tuple[int, int, int]]:
    """Each split's left.csv, right.csv and matches.csv; (left, right, matches) counts per split."""
    counts = {}
    for split, (left, right, matches) in rows.items():
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        for name, header, data in (("left", ["id", "name", "description", "price"], left),
                                   ("right", right_header, right), ("matches", match_header, matches)):
            with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows(data)
        counts[split] = (len(left), len(right), len(matches))
    return counts


if __name__ == "__main__":
    for split, (left, right, matches) in {**build(), **build_blind()}.items():
        print(f"{split}: {left} left, {right} right, {matches} matches")
