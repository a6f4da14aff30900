"""Extraction cost per page by source, and how fast a pathological page is refused.

Pages are the fixtures captured from the demo (``tests/fixtures/pages/demo_*``). For each
source the full ``extract_page`` (every field of every listing) is timed, with the plain
lexbor parse of the toko page as the baseline measured in the same run (ratios, not absolute
numbers, are what carry across machines). Then a page of nested ``<div>``s: the time to refuse
the 2.2 MB page that held the parser for minutes, against the unguarded parse of a page a tenth
of its size.

Run: ``uv run python bench/extraction.py [--repeat 200]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.extraction.pages import extract_page  # noqa: E402
from pipelines.vendors.config.loading import load_vendor_file  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "pages"
DEMO = "http://127.0.0.1:8765"
CASES = [
    ("HTML (toko)", "vendors/toko.yaml", "demo_toko_search.html", "/toko/search?q=iphone&page=1"),
    ("JSON API (chapin)", "vendors/chapin.yaml", "demo_chapin_search.json", "/chapin/api/search?q=iphone"),
    ("JSON in a script tag (fynda)", "vendors/fynda.yaml", "demo_fynda_search.html", "/fynda/sok?q=iphone&page=1"),
    ("JSON-LD product page (fynda-annons)", "vendors/examples/fynda-annons.yaml", "demo_fynda_product.html",
     "/fynda/annons/FY-023125"),
]


def _median_ms(run, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    toko = (PAGES / "demo_toko_search.html").read_text()
    baseline = _median_ms(lambda: LexborHTMLParser(toko).root, args.repeat)
    print(f"baseline: lexbor parse of the toko page: {baseline:.3f} ms")
    print("| source | listings | ms per page | per listing | x baseline |")
    print("|---|---|---|---|---|")
    for label, vendor_file, fixture, path in CASES:
        vendor = load_vendor_file(ROOT / vendor_file)
        body = (PAGES / fixture).read_bytes()
        result = extract_page(vendor, body, url=DEMO + path)
        assert result.error is None and not result.failures, (label, result.error, result.failures)
        ms = _median_ms(lambda v=vendor, b=body, p=path: extract_page(v, b, url=DEMO + p), args.repeat)
        print(f"| {label} | {len(result.items)} | {ms:.3f} | {ms / len(result.items):.3f} | {ms / baseline:.1f} |")

    toko_vendor = load_vendor_file(ROOT / "vendors" / "toko.yaml")
    depth = 2_200_000 // 11
    nested = "<html><body>" + "<div>" * depth + "x" + "</div>" * depth + "</body></html>"
    refuse = _median_ms(lambda: extract_page(toko_vendor, nested, url=DEMO + "/toko/search"), 5)
    small = depth // 10
    tenth = "<html><body>" + "<div>" * small + "x" + "</div>" * small + "</body></html>"
    unguarded = _median_ms(lambda: LexborHTMLParser(tenth).root, 1)
    print(f"nested <div>s: 2.2 MB page refused in {refuse:.1f} ms; unguarded lexbor parse of a 0.22 MB page "
          f"of the same kind: {unguarded:.0f} ms (the cost grows with the square of the depth)")


if __name__ == "__main__":
    main()
