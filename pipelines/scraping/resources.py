"""The downloader's fetchers as Dagster resources.

``downloader`` imports no Dagster: its fetchers are plain pydantic models. Subclassing them
together with `ConfigurableResource` keeps one declaration of every field (type, default,
description) while Dagster gets resources it can configure, show in the UI and inject.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from downloader.browser import BrowserFetcher
from downloader.http import HttpFetcher


class HttpFetcherResource(ConfigurableResource, HttpFetcher):
    """Plain-HTTP fetching (`downloader.http.HttpFetcher`) for ``raw_captures``."""


class BrowserFetcherResource(ConfigurableResource, BrowserFetcher):
    """Headless-Chromium fetching (`downloader.browser.BrowserFetcher`) for ``raw_captures``."""
