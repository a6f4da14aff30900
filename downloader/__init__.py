"""The downloader: turns URLs into archived-ready `FetchedResponse`s, politely and safely.

Like Scrapy's downloader and its middlewares, it knows nothing about parsing, storage or
Dagster (it imports neither ``dagster`` nor ``pipelines``):

* ``http`` / ``browser``: the fetchers (plain pydantic settings) and their sessions;
* ``attempts``: the one attempt loop both run (fence, hooks, per-host slot, retries);
* ``transport``: httpx over aiohttp's pool; ``socks``: the browser's fenced proxy;
* ``fence``: which hosts and addresses a vendor may reach;
* ``limits`` (`RateLimit`, per-host slots), ``retry`` (`RetryPolicy`, `RetrySettings`),
  ``hooks`` (`FetchHook`), and the hooks themselves: ``robots``, ``throttle``, ``circuit``,
  ``cache``;
* ``types``: `FetchRequest`, `FetchedResponse`.

The pipeline wires them per vendor in ``pipelines.scraping.fetching`` and exposes the fetchers
as Dagster resources in ``pipelines.scraping.resources``.
"""
