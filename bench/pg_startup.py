"""Embedded PostgreSQL start-up: first start (initdb), cold start (stopped → ready), warm (running).

Run: ``uv run python bench/pg_startup.py``. Prints medians over a few rounds; the targets
are cold < 2 s and warm < 0.5 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from infra.database import connect
from infra.embedded_postgres import EmbeddedPostgres


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(rounds: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "postgres")

        def up_and_query() -> None:
            running = server.ensure_running()
            with connect(running.url()) as conn:
                conn.execute("SELECT 1")

        first = _timed(up_and_query)
        cold, warm = [], []
        for _ in range(rounds):
            server.stop()
            cold.append(_timed(up_and_query))
            warm.append(_timed(up_and_query))
        server.stop()
    print(f"first start (initdb + start + query): {first:.3f} s")
    print(f"cold start + query, median of {rounds}: {statistics.median(cold):.3f} s (target < 2 s)")
    print(f"warm (already running) + query, median of {rounds}: {statistics.median(warm):.4f} s (target < 0.5 s)")


if __name__ == "__main__":
    main()
