"""On-demand searches in the background of a long-running process (the front door).

The front door answers ``POST /api/v1/searches`` at once and hands the request's id here; the
search runs in one of this process's threads with the code location's own resources (built once,
on first use or by `warm`), and reports to the Dagster instance of ``$DAGSTER_HOME``. The web
package never imports this module: the command that starts the front door passes a
`BackgroundSearches` in (the web package must not reach the downloader).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from pipelines.on_demand.search import SearchResources, SearchSummary, fail_request, run_search

logger = logging.getLogger(__name__)

SEARCHES_AT_ONCE = 2
"""Requests searched at once by this process (each searches up to four vendors at once)."""


class BackgroundSearches:
    """``launch(request_id, on_finished)``: search in the background; ``on_finished`` gets the summary."""

    def __init__(self, searches_at_once: int = SEARCHES_AT_ONCE,
                 resources: Callable[[], SearchResources] | None = None) -> None:
        """``resources`` builds what searches use (default: the code location's, on ``$DAGSTER_HOME``)."""
        self._make = resources or self._build
        self._pool = ThreadPoolExecutor(max_workers=searches_at_once, thread_name_prefix="search-request")
        self._stack = contextlib.ExitStack()
        self._lock = threading.Lock()
        self._resources: SearchResources | None = None

    def warm(self) -> Future[SearchResources]:
        """Build the resources now, in the background (loading the code location takes seconds)."""
        return self._pool.submit(self._ready)


    def launch(self, request_id: int, on_finished: Callable[[SearchSummary], None] | None = None) -> None:
        self._pool.submit(self._search, request_id, on_finished)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._stack.close()

    def _search(self, request_id: int, on_finished: Callable[[SearchSummary], None] | None) -> None:
        resources: SearchResources | None = None
        try:
            resources = self._ready()
            summary = run_search(resources, request_id)
        except Exception as exc:
            logger.exception("on-demand search %s failed", request_id)
            if resources is not None:
                with contextlib.suppress(Exception):
                    fail_request(resources.warehouse, request_id, f"the search could not run ({type(exc).__name__})")
            return
        if on_finished is not None:
            on_finished(summary)

    def _ready(self) -> SearchResources:
        with self._lock:
            if self._resources is None:
                self._resources = self._make()
                warm_up(self._resources)
            return self._resources

    def _build(self) -> SearchResources:
        from dagster import DagsterInstance

        from pipelines.platform.runner import built_resources, code_location

        definitions = code_location()
        instance = self._stack.enter_context(DagsterInstance.get())
        return SearchResources.of(self._stack.enter_context(built_resources(definitions, instance)), instance)


def warm_up(resources: SearchResources) -> None:
    """What the first search would otherwise pay for (~0.5 s): the SQL files a search runs, parsed;
    a warehouse connection, opened (to end searches a stopped process left running); the vendor
    files, read."""
    from pipelines.alerts import store as alerts_store
    from pipelines.history import store as history_store
    from pipelines.listings import store as listings_store
    from pipelines.on_demand import store as on_demand_store
    from pipelines.products import store as products_store
    from pipelines.scraping import store as scraping_store

    for module in (alerts_store, history_store, listings_store, on_demand_store, products_store, scraping_store):
        module.SQL.preload()
    with resources.warehouse.begin() as conn:
        abandoned = on_demand_store.fail_abandoned(conn)
    if abandoned:
        logger.warning("%s on-demand search(es) left running by a stopped process marked failed", abandoned)
    resources.registry.load()
