"""The downloader's middleware: `FetchHook`s around each fetch and each attempt of it.

Robots.txt, the circuit breaker, the adaptive throttle, the conditional-request cache and the
vendor-session guard are all hooks, so a new policy is a new hook rather than a change to the
fetchers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from downloader.types import FetchedResponse, FetchMode, FetchRequest, empty_response


class FetchHook:
    """Extension point around each fetch and each attempt of it. Subclass and override.

    * `before_fetch` / `after_fetch` run once per `fetch()` (around all retries): robots.txt and
      the circuit breaker refuse requests here (`error_kind="blocked"`), conditional requests add
      If-None-Match and turn a 304 back into the cached page, the session guard spots a login wall.
    * `before_attempt` / `after_attempt` run around every try, retries included; `before_attempt`
      runs inside the per-host slot, right before sending: the adaptive throttle waits there and
      learns from each answer's latency, 429s and 5xx in `after_attempt` (which must not alter
      the response); the circuit breaker refuses a queued retry in `before_attempt` by returning
      a response.
    """

    async def before_fetch(self, request: FetchRequest) -> FetchRequest | FetchedResponse:
        return request

    async def after_fetch(self, request: FetchRequest, response: FetchedResponse) -> FetchedResponse:
        return response

    async def before_attempt(self, request: FetchRequest) -> FetchedResponse | None:
        """Return a response to stop here (no request sent, no more retries), e.g. an open circuit."""
        return None

    async def after_attempt(self, request: FetchRequest, response: FetchedResponse, latency_s: float) -> None:
        return None


async def run_with_hooks(
    hooks: Sequence[FetchHook],
    request: FetchRequest,
    send: Callable[[FetchRequest], Awaitable[FetchedResponse]],
) -> FetchedResponse:
    """before hooks in order, then send, then after hooks in reverse order (like middleware)."""
    for hook in hooks:
        outcome = await hook.before_fetch(request)
        if isinstance(outcome, FetchedResponse):
            return outcome
        request = outcome
    response = await send(request)
    for hook in reversed(hooks):
        response = await hook.after_fetch(request, response)
    return response


def blocked_response(request: FetchRequest, reason: str, *, fetch_mode: FetchMode = "http") -> FetchedResponse:
    """A refusal without a request sent (robots.txt, open circuit, the host fence...)."""
    return empty_response(request, fetch_mode=fetch_mode, error=reason, error_kind="blocked", attempts=0)
