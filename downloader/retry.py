"""Which outcomes are worth another try, and how long to wait first (tenacity).

`RetrySettings` holds the knobs both fetchers expose (each with its own default number of
attempts); `RetryPolicy` is the frozen rule the attempt loop (`downloader.attempts`) follows.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, stop_after_attempt

from downloader.types import FetchedResponse


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def is_retryable_status(status: int | None) -> bool:
    """429 and 5xx mean "not now", not "no": worth another try."""
    return status is not None and (status == 429 or 500 <= status <= 599)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry connection failures, truncated pages, 429 and 5xx with exponential backoff + jitter;
    a Retry-After header (seconds or HTTP-date, capped at `retry_after_max_s`) replaces the backoff.

    Read timeouts are not retried by default: a server that is slow once is usually slow
    again, and each retry would cost another full timeout.
    """

    max_attempts: int = 3
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 60.0
    retry_error_kinds: frozenset[str] = frozenset({"connect", "disconnected", "truncated"})

    def should_retry(self, response: FetchedResponse) -> bool:
        if response.error_kind == "http_status":
            return is_retryable_status(response.status)
        if response.error_kind is not None:
            return response.error_kind in self.retry_error_kinds
        return is_retryable_status(response.status)

    def wait_seconds(self, response: FetchedResponse, state: RetryCallState) -> float:
        """Retry-After (capped) wins over our own backoff: the server knows best."""
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None and response.status is not None:
            return min(retry_after, self.retry_after_max_s)
        return self.backoff_seconds(state.attempt_number)

    def backoff_seconds(self, attempt_number: int, rand: Callable[[], float] = random.random) -> float:
        """Exponential backoff with "equal jitter": the n-th retry waits between half and all of
        min(backoff_max_s, backoff_initial_s * 2**(n-1)), so clients that failed together do not
        retry together, and no retry comes back instantly."""
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, attempt_number - 1))
        return ceiling / 2 + rand() * ceiling / 2

    def retrying(self) -> AsyncRetrying:
        """A fresh tenacity controller (they keep per-call state, so never share one)."""

        def wait(state: RetryCallState) -> float:
            assert state.outcome is not None
            return self.wait_seconds(state.outcome.result(), state)

        return AsyncRetrying(
            stop=stop_after_attempt(max(1, self.max_attempts)),
            wait=wait,
            retry=retry_if_result(self.should_retry),
            # Out of attempts: hand back the last response instead of raising RetryError.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            sleep=asyncio.sleep,
        )


class RetrySettings(BaseModel):
    """Retry settings shared by the HTTP and browser fetchers (each sets its own ``max_attempts``).

    A plain pydantic model: the downloader knows nothing of Dagster; the pipeline's resources
    (``pipelines.scraping.resources``) subclass the fetchers to configure them from Dagster.
    """

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=3, ge=1, description="Tries per page for retryable failures (1 = no retry).")
    backoff_initial_s: float = Field(
        default=0.5, ge=0, description="Ceiling of the first retry wait (jittered to 50-100%); doubles each try."
    )
    backoff_max_s: float = Field(default=30.0, ge=0, description="Upper bound of one backoff wait.")
    retry_after_max_s: float = Field(
        default=60.0, ge=0, description="Cap on how long we honour a server's Retry-After."
    )

    def retry_policy(self, max_attempts: int | None = None) -> RetryPolicy:
        """The policy for one session (``max_attempts`` overrides the configured number)."""
        return RetryPolicy(
            max_attempts=max_attempts or self.max_attempts,
            backoff_initial_s=self.backoff_initial_s,
            backoff_max_s=self.backoff_max_s,
            retry_after_max_s=self.retry_after_max_s,
        )
