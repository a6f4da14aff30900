"""The one attempt loop both fetchers run: fence, hooks, per-host slot, retries, bookkeeping.

For each ``fetch()``, in this order:

1. the host fence refuses a URL outside the vendor's hosts (nothing sent, ``error_kind="blocked"``);
2. ``before_fetch`` hooks (robots.txt, circuit breaker, cache, session guard);
3. up to ``max_attempts`` tries, each: take the host's rate-limit slot, let ``before_attempt``
   hooks wait or refuse (adaptive throttle, open circuit), take a connection / page slot, send,
   then ``after_attempt`` hooks; tenacity decides whether and when to try again;
4. ``after_fetch`` hooks in reverse order.

The fetchers only say how to send one try (``send``); attempts, timing and the final "HTTP 503
after N attempt(s)" error are counted here, identically for HTTP and the browser. A fetch never
raises: a bug in a hook becomes an ``internal`` error on that page only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus

from downloader.fence import HostFence
from downloader.hooks import FetchHook, blocked_response, run_with_hooks
from downloader.limits import HostLimiter, RateLimit
from downloader.retry import RetryPolicy, is_retryable_status
from downloader.types import ErrorKind, FetchedResponse, FetchMode, FetchRequest

logger = logging.getLogger(__name__)

Send = Callable[[FetchRequest], Awaitable[FetchedResponse]]
Ready = Callable[[FetchRequest], FetchedResponse | None]
"""Checked before each try: a response here means "cannot send" (e.g. the browser crashed)."""


class AttemptLoop:
    """Fence, hooks, per-host limits and retries of one fetch session (see module doc)."""

    def __init__(
        self,
        *,
        fetch_mode: FetchMode,
        retry_policy: RetryPolicy,
        hooks: Sequence[FetchHook] = (),
        rate_limit: RateLimit | None = None,
        concurrency: int,
        fence: HostFence | None = None,
    ) -> None:
        self.fetch_mode: FetchMode = fetch_mode
        self.retry_policy = retry_policy
        self.hooks = tuple(hooks)
        self.rate_limit = rate_limit
        self.fence = fence
        self.limiter = HostLimiter()
        self._slots = asyncio.Semaphore(concurrency)

    async def fetch(self, request: FetchRequest, send: Send, *, rate_limit: RateLimit | None = None,
                    ready: Ready | None = None) -> FetchedResponse:
        """Run ``request`` through the fence, the hooks and the retries; never raises."""
        try:
            if self.fence is not None:
                refusal = self.fence.check_url(request.url)
                if refusal is not None:
                    logger.warning("%s", refusal)
                    return blocked_response(request, refusal, fetch_mode=self.fetch_mode)
            limit = self.rate_limit if rate_limit is None else rate_limit
            return await run_with_hooks(self.hooks, request, lambda req: self._with_retries(req, send, limit, ready))
        except Exception as exc:  # a bug (ours or a hook's) must still not kill sibling fetches
            logger.exception("unexpected error fetching %s", request.url)
            return failed_response(request, f"unexpected error: {type(exc).__name__}: {exc}", "internal",
                                   fetch_mode=self.fetch_mode)

    async def _with_retries(self, request: FetchRequest, send: Send, limit: RateLimit | None,
                            ready: Ready | None) -> FetchedResponse:
        attempts = 0
        started_at: datetime | None = None
        t0 = 0.0
        browser_seconds = 0.0

        async def attempt() -> FetchedResponse:
            nonlocal attempts, started_at, t0, browser_seconds
            if ready is not None and (down := ready(request)) is not None:
                return down
            async with self.limiter.slot(request.url, limit):
                # Last word before sending, inside the host slot: the adaptive throttle waits here,
                # an open circuit refuses here (so retries queued behind the slot are not sent).
                for hook in self.hooks:
                    refused = await hook.before_attempt(request)
                    if refused is not None:
                        return refused
                async with self._slots:
                    attempts += 1
                    if started_at is None:
                        started_at, t0 = datetime.now(UTC), time.perf_counter()
                    began = time.perf_counter()
                    result = await send(request)
            latency = time.perf_counter() - began
            browser_seconds += result.browser_seconds
            for hook in reversed(self.hooks):
                await hook.after_attempt(request, result, latency)
            return result

        if self.retry_policy.max_attempts <= 1:
            response = await attempt()
        else:
            response = await self.retry_policy.retrying()(attempt)
        if started_at is not None:  # something was sent (else the response is a refusal as it is)
            response.attempts = attempts
            response.started_at = started_at
            response.elapsed_ms = (time.perf_counter() - t0) * 1000.0
            response.browser_seconds = browser_seconds
        if is_retryable_status(response.status) and response.error_kind in (None, "http_status"):
            # We asked, and the server still said "not now": we do not have the page.
            status = response.status or 0
            response.error = f"HTTP {status} {_reason(status)} after {attempts} attempt(s)"
            response.error_kind = "http_status"
        if response.error is not None:
            logger.info("fetch %s failed after %d attempt(s): %s", request.url, attempts, response.error)
        else:
            logger.debug("fetched %s -> %s in %.0f ms", request.url, response.status, response.elapsed_ms)
        return response


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def failed_response(request: FetchRequest, message: str, kind: ErrorKind, *, fetch_mode: FetchMode,
                    attempts: int = 0) -> FetchedResponse:
    """A response that carries only an error (no status, no body)."""
    return FetchedResponse(
        requested_url=request.url, final_url=request.url, status=None, headers={}, body=b"", content_type=None,
        elapsed_ms=0.0, started_at=datetime.now(UTC), fetch_mode=fetch_mode, error=message, attempts=attempts,
        error_kind=kind,
    )
