"""Starting the bundled demo marketplace when the vendor files point at it and nothing answers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from pipelines.vendors.config.vendor import VendorConfig


def is_demo_vendor(vendor: VendorConfig, demo_url: str) -> bool:
    """True when ``vendor`` is one of the demo marketplace's shops (its base URL is under ``demo_url``)."""
    return vendor.base_url.startswith(demo_url.rstrip("/") + "/")


def demo_is_up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def demo_available(url: str) -> Iterator[bool]:
    """Ensure the demo answers at ``url`` for the block; True when this call started it.

    Only a loopback URL is ever started here: a demo configured elsewhere is someone else's.
    """
    if demo_is_up(url):
        yield False
        return
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost"} or parts.port is None:
        yield False
        return
    from demo.server import running_demo

    with running_demo(port=parts.port, host=parts.hostname) as _:
        yield True
