"""``market-pulse demo seed`` with its CPU split by phase and pyinstrument profiles.

Run by ``bench/first_start.py --profile DIR`` in place of the seed command (same arguments, same
environment), or by hand: ``MP_SEED_PROFILE_DIR=DIR uv run python bench/seed_profile.py demo seed
--days 3``. Writes to DIR:

- ``main.json``: CPU seconds of the seed command's own process by phase: start-up (imports, the
  definitions, resources) before ``seed_history``; the crawl (the main thread's event loop: every
  vendor's fetches, HTTP or the browser driver's client side); archiving (its threads); reporting to
  Dagster (materialisations and check results, each a write to the instance's event log); and what
  follows (requesting the rollups' backfill and waiting for the daemon to run it).
- ``worker-PID.json``: per publish worker, CPU seconds of reading the archive, parsing, the rest of
  write-audit-publish on the client (staging, audits, SQL round trips), and the PostgreSQL backend's
  own CPU for those transactions (read by the backend's pid).
- ``seed-main.txt`` and ``worker-PID-N.txt``: pyinstrument profiles (wall-clock samples: in the main
  process, time waiting in the event loop shows as the selector; threads are not sampled, which is
  why archiving is timed by its own counter).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

OUT = Path(os.environ.get("MP_SEED_PROFILE_DIR", "."))
_worker: dict[str, float] = {}
_calls = [0]


def _backend_cpu(conn: Any) -> float:
    from sqlalchemy import text

    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _add(book: dict[str, float], key: str, value: float) -> None:
    book[key] = book.get(key, 0.0) + value


def profiled_publish_days(*args: Any, **kwargs: Any) -> Any:
    """``history_seed.publish_days`` in the worker, timed by phase and profiled with pyinstrument."""
    from pyinstrument import Profiler

    import pipelines.listings.publish as publish
    from pipelines.platform import history_seed

    original = history_seed.publish_days  # this worker imported the module itself: not the patched one
    read, wap, parse = history_seed.read_captures_partition, history_seed.write_audit_publish, publish.parse_partition
    marks: dict[str, float] = {}

    def timed_read(conn: Any, **kw: Any) -> Any:
        marks["pg"] = _backend_cpu(conn)
        t = time.process_time()
        out = read(conn, **kw)
        _add(_worker, "read archive", time.process_time() - t)
        return out

    def timed_wap(conn: Any, **kw: Any) -> Any:
        t = time.process_time()
        out = wap(conn, **kw)
        _add(_worker, "write-audit-publish (client, with parse)", time.process_time() - t)
        _add(_worker, "postgres backend (read + write-audit-publish)", _backend_cpu(conn) - marks["pg"])
        _add(_worker, "days", 1)
        _add(_worker, "pages", len(kw["pages"]))
        return out

    def timed_parse(*a: Any, **kw: Any) -> Any:
        t = time.process_time()
        out = parse(*a, **kw)
        _add(_worker, "parse", time.process_time() - t)
        return out

    history_seed.read_captures_partition, history_seed.write_audit_publish = timed_read, timed_wap  # type: ignore[assignment]
    publish.parse_partition = timed_parse  # type: ignore[assignment]
    profiler = Profiler(interval=0.002)
    t0 = time.process_time()
    profiler.start()
    try:
        return original(*args, **kwargs)
    finally:
        profiler.stop()
        _add(_worker, "publish_days total", time.process_time() - t0)
        history_seed.read_captures_partition, history_seed.write_audit_publish = read, wap
        publish.parse_partition = parse
        _calls[0] += 1
        me = os.getpid()
        (OUT / f"worker-{me}-{_calls[0]}.txt").write_text(profiler.output_text(unicode=False, color=False))
        process = psutil.Process().cpu_times()
        _worker["process total (with start-up)"] = process.user + process.system
        (OUT / f"worker-{me}.json").write_text(json.dumps(_worker, indent=1))


def main() -> None:
    from pyinstrument import Profiler

    book: dict[str, float] = {}
    lock = threading.Lock()
    main_thread = threading.get_ident()
    local = threading.local()
    profiler = Profiler(interval=0.002)
    profiler.start()
    book["start"] = time.process_time()

    from dagster import DagsterInstance

    from cli.main import app
    from pipelines.platform import history_seed

    def reporting(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*a: Any, **kw: Any) -> Any:
            if getattr(local, "depth", 0):
                return fn(*a, **kw)
            local.depth = 1
            t = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                local.depth = 0
                where = "main" if threading.get_ident() == main_thread else "other"
                with lock:
                    _add(book, f"reporting ({where})", time.thread_time() - t)
        return timed

    archive = history_seed._archive

    def timed_archive(*a: Any, **kw: Any) -> Any:
        t = time.thread_time()
        try:
            return archive(*a, **kw)
        finally:
            with lock:
                _add(book, "archive (threads)", time.thread_time() - t)

    seed = history_seed.seed_history

    def timed_seed(*a: Any, **kw: Any) -> Any:
        book["seed_history entered"] = time.process_time()
        thread0 = time.thread_time()
        try:
            return seed(*a, **kw)
        finally:
            book["seed_history main thread"] = time.thread_time() - thread0
            book["seed_history left"] = time.process_time()

    history_seed._archive = timed_archive  # type: ignore[assignment]
    history_seed.seed_history = timed_seed  # type: ignore[assignment]
    history_seed.publish_days = profiled_publish_days  # type: ignore[assignment]
    history_seed.report_listings = reporting(history_seed.report_listings)  # type: ignore[assignment]
    DagsterInstance.report_runless_asset_event = reporting(  # type: ignore[method-assign]
        DagsterInstance.report_runless_asset_event)
    code = 0
    try:
        app(sys.argv[1:], prog_name="market-pulse")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        profiler.stop()
        end = time.process_time()
        entered, left = book.get("seed_history entered", end), book.get("seed_history left", end)
        main_thread_cpu = book.get("seed_history main thread", 0.0)
        in_main, in_other = book.get("reporting (main)", 0.0), book.get("reporting (other)", 0.0)
        split = {
            "start-up (imports, definitions, resources)": entered,
            "crawl (main thread event loop, minus reporting)": main_thread_cpu - in_main,
            "reporting to Dagster (any thread)": in_main + in_other,
            "archive (threads)": book.get("archive (threads)", 0.0),
            "other threads during the seed": (left - entered) - main_thread_cpu - book.get("archive (threads)", 0.0)
            - in_other,
            "after the seed (rollups backfill request + wait)": end - left,
            "process total": end,
        }
        (OUT / "main.json").write_text(json.dumps(split, indent=1))
        (OUT / "seed-main.txt").write_text(profiler.output_text(unicode=False, color=False))
    sys.exit(code)


if __name__ == "__main__":
    main()
