"""Price text: how often each parser reads real-world price strings right, and how fast.

The rows are the evaluation set of ``tests/support/price_strings.py`` (``CASES``, grown with the
parser, and ``HELD_OUT``, written afterwards without running it). Scored, in the same run:

- **ours**: ``pipelines.parsing.price_text.parse_price`` with each row's vendor currency and
  decimal separator; right = same kind (priced / free / on request / not a price), same amount,
  same ISO currency.
- **price-parser**: the ``price-parser`` library (``Price.fromstring`` with the row's decimal
  separator), the usual choice for this job. It has no currency codes and no "on request", so it
  is scored on the amount only (free = 0, not a price = no amount), which flatters it.
- **previous** (``--previous FILE``): an earlier ``price_text.py``, e.g.
  ``git show <commit>:pipelines/parsing/price_text.py > /tmp/previous.py``, scored like ours.

Speed: texts parsed per second over every row, medians of ``--rounds``; a ratio against
price-parser measured in the same run.

Run: ``uv run python bench/price_accuracy.py [--previous /tmp/previous.py] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from price_parser import Price

from pipelines.parsing import price_text
from tests.support.price_strings import ASK, BAD, CASES, FREE, HELD_OUT, PriceCase

Reading = tuple[str, str | None]
"""(amount or kind, ISO currency or None when the parser does not say)."""


def ours(module: ModuleType) -> Callable[[PriceCase], Reading]:
    def read(case: PriceCase) -> Reading:
        try:
            price = module.parse_price(case.text, default_currency=case.currency, decimal_separator=case.separator)
        except module.PriceParseError:
            return BAD, case.currency
        return (str(price.amount) if price.kind == "priced" else str(price.kind)), price.currency

    return read


def library(case: PriceCase) -> Reading:
    amount = Price.fromstring(case.text, decimal_separator=case.separator).amount
    return (BAD if amount is None else FREE if amount == 0 else str(amount)), None


def right(case: PriceCase, reading: Reading) -> bool:
    got, currency = reading
    if currency is not None and case.expected != BAD and currency != case.iso:
        return False
    if case.expected in (FREE, ASK, BAD) or got in (FREE, ASK, BAD):
        return got == case.expected
    return Decimal(got) == Decimal(case.expected)


def score(read: Callable[[PriceCase], Reading], cases: list[PriceCase]) -> tuple[int, int, list[str]]:
    """(right, right among priced rows, the texts read wrong)."""
    wrong = [c.text for c in cases if not right(c, read(c))]
    priced = [c for c in cases if c.expected not in (FREE, ASK, BAD)]
    priced_right = sum(right(c, (read(c)[0], None)) for c in priced)
    return len(cases) - len(wrong), priced_right, wrong


def speed(read: Callable[[PriceCase], Reading], cases: list[PriceCase], rounds: int) -> float:
    texts = cases * 20
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for case in texts:
            read(case)
        times.append(time.perf_counter() - started)
    return len(texts) / statistics.median(times)


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("previous_price_text", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previous", type=Path, help="an earlier price_text.py to score alongside")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    parsers: dict[str, Callable[[PriceCase], Reading]] = {"ours": ours(price_text), "price-parser": library}
    if args.previous:
        parsers["previous"] = ours(load(args.previous))
    sets = {"CASES": CASES, "HELD_OUT": HELD_OUT}
    print("| parser | " + " | ".join(f"{name} ({len(rows)})" for name, rows in sets.items())
          + " | priced rows, amount only | texts/s |")
    print("|---|" + "---|" * (len(sets) + 2))
    rates = {}
    for name, read in parsers.items():
        cells, priced_right, priced_total = [], 0, 0
        for rows in sets.values():
            ok, priced, _ = score(read, rows)
            cells.append(f"{ok} ({ok / len(rows):.1%})")
            priced_right += priced
            priced_total += sum(c.expected not in (FREE, ASK, BAD) for c in rows)
        rates[name] = speed(read, [*CASES, *HELD_OUT], args.rounds)
        print(f"| {name} | " + " | ".join(cells) + f" | {priced_right}/{priced_total} | {rates[name]:,.0f} |")
    print(f"\nours / price-parser speed: {rates['ours'] / rates['price-parser']:.2f}x")
    for name, read in parsers.items():
        wrong = [text for rows in sets.values() for text in score(read, rows)[2]]
        print(f"{name} reads {len(wrong)} wrong: " + ", ".join(repr(t) for t in wrong[:12])
              + (" …" if len(wrong) > 12 else ""))


if __name__ == "__main__":
    main()
