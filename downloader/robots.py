"""robots.txt, obeyed by default (RFC 9309, parsed with Protego).

`RobotsPolicy` is a `FetchHook`: before the first request to a host it reads that host's
`/robots.txt` once per crawl, then refuses disallowed URLs with `error_kind="blocked"` and a
message naming the robots.txt, and spaces requests by the file's `Crawl-delay` for our agent.

What an unusual robots.txt answer means (RFC 9309 section 2.3.1):

* 2xx: parsed; rules for our user agent's product token apply (else the `*` group).
* 4xx (including 401/403 and 404): "unavailable", so everything is allowed.
* 5xx, a network error or too many redirects: "unreachable", so *nothing* is fetched from that
  host in this crawl, and every refused request says why. A vendor whose robots.txt is broken
  can be crawled anyway with `fetch.obey_robots: false` in its file (logged as a warning).

With a `HostFence`, robots.txt is fetched through it too (every redirect hop checked, names
resolved by the fence): a robots.txt redirecting to a private address is "unreachable".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from protego import Protego

from downloader.fence import HostFence, HostRefused, refusal_in
from downloader.hooks import FetchHook, blocked_response
from downloader.limits import host_key
from downloader.transport import make_transport
from downloader.types import FetchedResponse, FetchRequest

logger = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
# (status, body) of GET robots.txt; status None = network error (body then says what happened)
RobotsFetch = Callable[[str], Awaitable[tuple[int | None, str]]]


@dataclass
class _HostRules:
    robots_url: str
    parser: Protego | None  # None: allow everything (4xx) or nothing (unreachable)
    allow_all: bool
    problem: str | None = None  # why nothing is allowed
    crawl_delay_s: float = 0.0
    next_start: float = 0.0


def robots_url_for(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


class RobotsPolicy(FetchHook):
    """Refuses what the host's robots.txt disallows for `user_agent` (see module doc)."""

    def __init__(
        self,
        user_agent: str,
        *,
        fetch_robots: RobotsFetch | None = None,
        fence: HostFence | None = None,
        timeout_s: float = 10.0,
        max_crawl_delay_s: float = 60.0,
    ) -> None:
        self.user_agent = user_agent
        self._fence = fence
        self._fetch_robots = fetch_robots or self._default_fetch
        self._timeout_s = timeout_s
        self._max_crawl_delay_s = max_crawl_delay_s
        self._hosts: dict[str, _HostRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.blocked = 0  # requests refused (for reports)

    async def _default_fetch(self, url: str) -> tuple[int | None, str]:
        headers = {"User-Agent": self.user_agent, "Accept": "text/plain,*/*;q=0.5"}
        fence = self._fence

        async def check(request: httpx.Request) -> None:  # every hop, redirects included
            refusal = fence.check_url(str(request.url)) if fence is not None else None
            if refusal is not None:
                raise HostRefused(refusal)

        transport = make_transport("aiohttp", max_connections=2, fence=fence) if fence is not None else None
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=True, max_redirects=5,
                                         headers=headers, transport=transport, event_hooks={"request": [check]}
                                         ) as client, client.stream("GET", url) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= MAX_ROBOTS_BYTES:
                        break
                body = b"".join(chunks)[:MAX_ROBOTS_BYTES]
                return response.status_code, body.decode("utf-8", errors="replace")
        except httpx.TooManyRedirects:
            return None, "too many redirects"
        except (httpx.HTTPError, HostRefused) as exc:
            refused = refusal_in(exc)
            if refused is not None:
                return None, refused.message
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    async def rules_for(self, url: str) -> _HostRules:
        key = host_key(url)
        rules = self._hosts.get(key)
        if rules is not None:
            return rules
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            rules = self._hosts.get(key)
            if rules is None:
                rules = self._hosts[key] = await self._load(robots_url_for(url))
        return rules

    async def _load(self, robots_url: str) -> _HostRules:
        status, body = await self._fetch_robots(robots_url)
        if status is None:
            problem = f"robots.txt unreachable ({body})"
        elif status >= 500:
            problem = f"robots.txt unreachable (HTTP {status})"
        elif status >= 400:
            logger.info("%s: HTTP %s, so every path is allowed", robots_url, status)
            return _HostRules(robots_url, None, allow_all=True)
        elif 200 <= status < 300:
            parser = Protego.parse(body)
            delay = parser.crawl_delay(self.user_agent) or 0.0
            return _HostRules(robots_url, parser, allow_all=False,
                              crawl_delay_s=min(float(delay), self._max_crawl_delay_s))
        else:  # 1xx/3xx left over (redirects are followed): treat as unavailable
            return _HostRules(robots_url, None, allow_all=True)
        logger.warning("%s: %s; not crawling this host (RFC 9309). Set fetch.obey_robots: false in the "
                       "vendor file to override.", robots_url, problem)
        return _HostRules(robots_url, None, allow_all=False, problem=problem)

    async def before_fetch(self, request: FetchRequest) -> FetchRequest | FetchedResponse:
        rules = await self.rules_for(request.url)
        if rules.problem is not None:
            self.blocked += 1
            site = rules.robots_url.removesuffix("/robots.txt")
            return blocked_response(request, f"{rules.problem}: not crawling {site}")
        if rules.parser is not None and not rules.parser.can_fetch(request.url, self.user_agent):
            self.blocked += 1
            return blocked_response(request, f"disallowed by robots.txt ({rules.robots_url})")
        if rules.crawl_delay_s > 0:
            now = time.monotonic()
            start = max(now, rules.next_start)
            rules.next_start = start + rules.crawl_delay_s
            if start > now:
                await asyncio.sleep(start - now)
        return request
