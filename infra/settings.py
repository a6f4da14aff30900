"""Every setting Market Pulse reads from the environment, in one place.

Commands, Dagster resources and tests all go through :func:`load_settings`, so the names and
defaults documented in the README are the only ones that exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent

APP_DATABASE = "market_pulse"
DAGSTER_DATABASE = "market_pulse_dagster"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; URLs are ``None`` when the embedded server should provide them."""

    home: Path
    database_url: str | None
    dagster_database_url: str | None
    dagster_home: Path
    vendors_dir: Path
    demo_url: str

    @property
    def embedded(self) -> bool:
        """True when no warehouse URL was given and the embedded server is used."""
        return self.database_url is None

    @property
    def postgres_dir(self) -> Path:
        return self.home / "postgres"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the environment (or ``env``) once and apply the documented defaults."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("MARKET_PULSE_HOME") or ".market-pulse").expanduser().resolve()
    return Settings(
        home=home,
        database_url=env.get("MARKET_PULSE_DATABASE_URL") or None,
        dagster_database_url=env.get("MARKET_PULSE_DAGSTER_DATABASE_URL") or None,
        dagster_home=Path(env.get("DAGSTER_HOME") or home / "dagster").expanduser().resolve(),
        vendors_dir=Path(env.get("MARKET_PULSE_VENDORS_DIR") or PROJECT_ROOT / "vendors").resolve(),
        demo_url=(env.get("MARKET_PULSE_DEMO_URL") or "http://127.0.0.1:8765").rstrip("/"),
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """An integer setting from the environment, with an error that names the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number (default {default})") from None
    if value < minimum:
        raise ValueError(f"{name}={value}: must be at least {minimum}")
    return value


def with_driver(url: str, driver: str) -> str:
    """Return ``url`` with its SQLAlchemy driver replaced (``postgresql://`` → ``postgresql+psycopg://``).

    The warehouse uses psycopg 3; Dagster's storage must use psycopg2 (SQLAlchemy 2.1 with
    psycopg 3 breaks dagster-postgres' ``NOTIFY``), so one server URL is spelled two ways.
    """
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """Same server and credentials, another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def redact(url: str) -> str:
    """A URL safe to print or log: the password is masked."""
    return make_url(url).render_as_string(hide_password=True)
