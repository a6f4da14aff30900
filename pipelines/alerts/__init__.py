"""Saved searches, alert matching and notification delivery.

Public entry points:

- :func:`saved_search_queries` — queries of active saved searches per vendor (``None`` = every
  vendor), for the crawler to track beside each vendor file's own ``queries``.
- :func:`pipelines.alerts.evaluate.evaluate_partitions` — what the alert sensor runs.
- :func:`pipelines.alerts.delivery.deliver_due` — what the delivery job runs.
"""

from pipelines.alerts.store import saved_search_queries

__all__ = ["saved_search_queries"]
