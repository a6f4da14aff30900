"""CPU per page of the listings parse (``parse_partition``: extraction, prices, fields), with a profile.

Crawls 4 days of the demo's ``toko`` (the 16 queries of ``bench/scrape.py``) once into a pickle under
the temp folder, then parses them 3 times under pyinstrument and 3 times without it; the price cache
is cleared before each day, so only a day's own repeats are counted. CPU time (``process_time``), so
the figure holds on a loaded machine.

Run: ``uv run python bench/parse_profile.py``.
"""

import asyncio
import datetime as dt
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from pyinstrument import Profiler  # noqa: E402
from scrape import FIRST_DAY, bench_vendor  # noqa: E402

from demo.server import running_demo  # noqa: E402
from downloader.http import HttpFetcher  # noqa: E402
from pipelines.listings.parse import parse_partition  # noqa: E402
from pipelines.parsing.price_text import parse_price  # noqa: E402
from pipelines.scraping.archive import ArchivedPage  # noqa: E402
from pipelines.scraping.crawl import crawl_vendor  # noqa: E402
from pipelines.scraping.fetching import open_vendor_fetch  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "market-pulse-bench-toko-pages.pkl"


def crawl_days(days: int = 4) -> list[list[ArchivedPage]]:
    """``days`` days of toko as the archive would return them."""
    with running_demo(port=0, subprocess_mode=True) as url:
        vendor = bench_vendor(url)

        async def go() -> list[list[ArchivedPage]]:
            out = []
            async with open_vendor_fetch(vendor, HttpFetcher(), None) as f:  # type: ignore[arg-type]
                for d in range(days):
                    runs = await crawl_vendor(vendor, f.fetch, asof=FIRST_DAY + dt.timedelta(days=d))
                    out.append([ArchivedPage(search_id=i, query=r.query, page_number=p.page_number,
                                             url=p.response.final_url, status=p.response.status,
                                             error=p.response.error, fetched_at=p.response.started_at,
                                             body=p.response.body)
                                for i, r in enumerate(runs) for p in r.pages])
            return out

        return asyncio.run(go())


def parse_all(vendor, days: list[list[ArchivedPage]], rounds: int = 3) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        for i, pages in enumerate(days):
            parse_price.cache_clear()  # a day's own repeats only
            parse_partition(vendor, FIRST_DAY + dt.timedelta(days=i), pages)


def main() -> None:
    if not CACHE.exists():
        CACHE.write_bytes(pickle.dumps(crawl_days()))
    days = pickle.loads(CACHE.read_bytes())
    vendor = bench_vendor("http://127.0.0.1:1")
    pages = 3 * sum(len(p) for p in days)
    print(f"load average {os.getloadavg()[0]:.1f}")
    t0 = time.process_time()
    parse_all(vendor, days)
    print(f"{pages} pages parsed: {1000 * (time.process_time() - t0) / pages:.2f} ms CPU per page")
    profiler = Profiler(interval=0.0005)
    with profiler:
        parse_all(vendor, days)
    print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()
