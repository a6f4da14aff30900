"""The notifier: sends one message to one Apprise URL, and says how delivery should be paced.

Apprise speaks e-mail (``mailto://``/``mailtos://``), Slack, Telegram, Discord, JSON/XML/form
webhooks (``json://``/``jsons://``...) and ~100 other services through one URL syntax. This
resource is the only place that sends; the delivery job decides *what* to send from the outbox.

Secrets: a target URL is never logged or returned in an error; errors are passed through
:func:`pipelines.alerts.targets.redact_text` and URLs shown are :func:`mask_url` renderings.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import apprise
from dagster import ConfigurableResource
from pydantic import Field

from pipelines.alerts.targets import redact_text

IDEMPOTENCY_HEADER = "X-Idempotency-Key"


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    error: str | None = None
    permanent: bool = False
    """True when retrying cannot help (the URL itself is unusable)."""
    seconds: float = 0.0


class Notifier(ConfigurableResource):
    """Apprise delivery with timeouts, retry pacing and a lease for in-flight messages."""

    timeout_seconds: float = Field(default=15.0, description="Upper bound for one message to one target.")
    max_attempts: int = Field(default=6, ge=1, description="Attempts before a notification stays `failed`.")
    backoff_initial_seconds: float = Field(default=30.0, ge=0,
                                           description="Wait after the first failure; doubles each attempt.")
    backoff_max_seconds: float = Field(default=3600.0, ge=0, description="Longest wait between attempts.")
    lease_seconds: float = Field(default=120.0, gt=0,
                                 description="How long a claimed (`sending`) notification is reserved; a run that "
                                 "dies leaves it to be retried after this.")
    concurrency: int = Field(default=8, ge=1, description="Targets sent to in parallel.")
    batch_size: int = Field(default=100, ge=1, description="Notifications claimed per batch.")
    sensor_send_limit: int = Field(
        default=20, ge=0, le=1000,
        description="When at most this many notifications are due after matching, the alert sensor sends them "
        "itself, in the same tick (same claims, idempotency keys and retries as the delivery job), instead of "
        "waiting for a deliver_notifications run to start (~3-5 s of process start-up). More than this, or "
        "anything still due afterwards, goes to a run. 0 = always use a run. The listings step's own "
        "sending (listings_step_alerts) follows the same limit.")
    sensor_send_seconds: float = Field(
        default=10.0, gt=0,
        description="Time budget of that in-tick sending: messages not started by then are released to a "
        "delivery run, so a slow target cannot hold the sensor (a send in flight may take timeout_seconds).")
    listings_step_alerts: bool = Field(
        default=True,
        description="Evaluate saved searches in the listings step right after it publishes (its own process, "
        "after the materialisation is recorded) and send up to sensor_send_limit due messages within "
        "sensor_send_seconds, instead of waiting for the alert sensor's next tick. The sensor stays the "
        "catch-up path; the outbox's dedupe keys and the delivery claims make running both harmless.")

    def backoff_seconds(self, attempt: int) -> float:
        """Wait before the next attempt after failed attempt number ``attempt`` (1-based): exponential."""
        return min(self.backoff_max_seconds, self.backoff_initial_seconds * (2 ** max(0, attempt - 1)))

    def send(self, url: str, title: str, body: str, *, idempotency_key: str,
             data: dict[str, Any] | None = None) -> SendOutcome:
        """Send one message; never raises for delivery problems (they come back as an outcome)."""
        started = time.perf_counter()
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            return SendOutcome(False, "Apprise cannot use this URL", permanent=True)
        attach_idempotency(plugin, idempotency_key, data)
        client = apprise.Apprise()
        client.add(plugin)
        try:
            result = client.notify(body=body, title=title, timeout=self.timeout_seconds, log_level=logging.WARNING)
        except Exception as exc:  # a plugin bug must not take the whole delivery run down
            return SendOutcome(False, redact_text(f"{type(exc).__name__}: {exc}", [url]),
                               seconds=time.perf_counter() - started)
        elapsed = time.perf_counter() - started
        if result:
            return SendOutcome(True, seconds=elapsed)
        messages = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR", "CRITICAL")]
        if not messages:
            messages = [str(entry.message) for entry in result.logs()]
        error = "; ".join(dict.fromkeys(messages))[:1000] or f"delivery {result.status.name.lower()}"
        return SendOutcome(False, redact_text(error, [url]), seconds=elapsed)


def attach_idempotency(plugin: Any, key: str, data: dict[str, Any] | None = None) -> None:
    """Put the idempotency key where the target can see it: a header for webhook and e-mail plugins
    (``X-Idempotency-Key``), payload fields for JSON webhooks (``idempotency_key``, ``market_pulse``)."""
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        headers[IDEMPOTENCY_HEADER] = key
    extras = getattr(plugin, "payload_extras", None)
    if isinstance(extras, dict) and plugin.__class__.__name__ == "NotifyJSON":
        extras["idempotency_key"] = key
        if data is not None:
            extras["market_pulse"] = data
