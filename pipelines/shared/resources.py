"""Dagster resources for infrastructure objects that are plain models outside Dagster.

``infra`` imports no Dagster, so its objects are made configurable here by subclassing: the
fields (and their descriptions) are declared once, in ``infra``.
"""

from __future__ import annotations

from dagster import ConfigurableResource

from infra.secrets import SecretBox


class SecretBoxResource(ConfigurableResource, SecretBox):
    """`SecretBox` (Fernet keys for secrets at rest) as a Dagster resource; configure
    ``secret_key`` with ``EnvVar("MARKET_PULSE_SECRET_KEY")``."""
