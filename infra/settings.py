"""Every setting Market Pulse reads from the environment, in one place.

Commands, Dagster resources and tests all go through :func:`load_settings`, so the names and
defaults documented in the README are the only ones that exist.

Secrets (database URLs and passwords, the Fernet key) may also be given as files: for every
secret setting ``NAME`` there is ``NAME_FILE``, the path of a file holding the value (the
Docker/Kubernetes secrets convention), so no secret has to be on a command line or in a
process listing. :func:`secret` reads either.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent

APP_DATABASE = "market_pulse"
DAGSTER_DATABASE = "market_pulse_dagster"
DEFAULT_HOME = ".market-pulse"

OWNER, APP, READONLY, DAGSTER = "owner", "app", "readonly", "dagster"
"""Who connects: the schema owner (migrations), the pipeline (DML only), read-only pages and the
HTTP API (SELECT only), and Dagster's own storage."""
ROLE_PURPOSES = (OWNER, APP, READONLY, DAGSTER)
URL_SETTINGS = {
    OWNER: "MARKET_PULSE_OWNER_DATABASE_URL",
    APP: "MARKET_PULSE_DATABASE_URL",
    READONLY: "MARKET_PULSE_READONLY_DATABASE_URL",
    DAGSTER: "MARKET_PULSE_DAGSTER_DATABASE_URL",
}
PASSWORD_SETTINGS = {
    OWNER: "MARKET_PULSE_OWNER_PASSWORD",
    APP: "MARKET_PULSE_APP_PASSWORD",
    READONLY: "MARKET_PULSE_READONLY_PASSWORD",
    DAGSTER: "MARKET_PULSE_DAGSTER_PASSWORD",
}
"""A password setting fills in the password of its URL when the URL carries none, so the URL can
be plain configuration and the password a mounted secret file."""


@dataclass(frozen=True)
class AlertSettings:
    """How often the alert sensors tick, and how much the matching sensor may send itself."""

    sensor_interval_seconds: int = 5
    """Dagster's sensor daemon loops every 5 s at best, so a shorter interval gains nothing; the tick
    costs a query of the event log when nothing is new (listing → message: median 13 s at 15 s)."""
    retry_interval_seconds: int = 30
    sensor_send_limit: int = 20
    listings_step: bool = True
    """Evaluate saved searches and send the first messages in the ``listings`` step itself, right
    after it publishes, instead of waiting for the sensor's next tick (the daemon loops every 5 s at
    best); the sensor stays on and catches up on whatever a step did not finish."""
    admin_targets: tuple[str, ...] = field(default=(), repr=False)
    """Apprise URLs told about problems with the pipeline itself (a vendor's failed audit); they
    may carry secrets, so they are left out of ``repr``."""


EXECUTORS = ("multiprocess", "in_process", "celery")
"""Where a run's steps execute: subprocesses of the run (Dagster's default), the run's own process,
or Celery workers on a broker (``market-pulse worker --queue Q``)."""


@dataclass(frozen=True)
class ExecutionSettings:
    """How launched runs execute their steps, and how scrapes of one vendor take turns.

    ``broker_url`` (RabbitMQ: ``amqp://user:pass@host:5672/vhost``) is required for Celery;
    ``backend_url`` is where step results travel back (``rpc://``: over the broker itself).
    ``vendor_lock_wait_seconds`` is how long a scrape waits for another process that is
    fetching the same vendor before it fails (retryable).
    """

    executor: str = "multiprocess"
    broker_url: str | None = field(default=None, repr=False)
    backend_url: str = field(default="rpc://", repr=False)
    vendor_lock_wait_seconds: int = 3600

    @property
    def celery(self) -> bool:
        return self.executor == "celery"


@dataclass(frozen=True)
class ServeSettings:
    """Where the processes of a deployment find each other (``market-pulse serve``).

    ``code_server_host``/``code_server_port``: the code location's gRPC server, for the webserver
    and the daemon; ``instance_config``: the Dagster instance file written to ``$DAGSTER_HOME``.
    """

    code_server_host: str = "127.0.0.1"
    code_server_port: int = 4266
    instance_config: Path = PROJECT_ROOT / "deploy" / "dagster.yaml"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; URLs are ``None`` when the embedded server should provide them."""

    home: Path
    database_url: str | None = field(repr=False)
    """The pipeline's (app role's) warehouse URL."""
    dagster_database_url: str | None = field(repr=False)
    dagster_home: Path
    vendors_dir: Path
    demo_url: str
    alerts: AlertSettings = field(default_factory=lambda: AlertSettings())
    owner_database_url: str | None = field(default=None, repr=False)
    """Migrations' (schema owner's) URL; without it the pipeline's URL is used."""
    readonly_database_url: str | None = field(default=None, repr=False)
    role_passwords: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Passwords given for the roles (by purpose), for `db roles --sql`."""
    execution: ExecutionSettings = field(default_factory=lambda: ExecutionSettings())
    serve: ServeSettings = field(default_factory=lambda: ServeSettings())
    archive_url: str = ""
    """Where response bodies moved out of Postgres go (fsspec URL or folder); default $MARKET_PULSE_HOME/archive."""

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
    home = home_dir(env)
    passwords = {purpose: value for purpose, name in PASSWORD_SETTINGS.items()
                 if (value := secret(name, env)) is not None}
    urls = {purpose: with_password(url, passwords.get(purpose)) if url else None
            for purpose, name in URL_SETTINGS.items() for url in [secret(name, env)]}
    return Settings(
        home=home,
        database_url=urls[APP],
        dagster_database_url=urls[DAGSTER],
        owner_database_url=urls[OWNER],
        readonly_database_url=urls[READONLY],
        role_passwords=passwords,
        dagster_home=Path(env.get("DAGSTER_HOME") or home / "dagster").expanduser().resolve(),
        vendors_dir=Path(env.get("MARKET_PULSE_VENDORS_DIR") or PROJECT_ROOT / "vendors").resolve(),
        demo_url=(env.get("MARKET_PULSE_DEMO_URL") or "http://127.0.0.1:8765").rstrip("/"),
        alerts=AlertSettings(
            sensor_interval_seconds=env_int("MARKET_PULSE_ALERT_SENSOR_INTERVAL", 5, minimum=1, env=env),
            retry_interval_seconds=env_int("MARKET_PULSE_ALERT_RETRY_INTERVAL", 30, minimum=1, env=env),
            sensor_send_limit=env_int("MARKET_PULSE_ALERT_SENSOR_SEND_LIMIT", 20, env=env),
            listings_step=env_flag("MARKET_PULSE_ALERTS_IN_LISTINGS_STEP", True, env=env),
            admin_targets=env_words("MARKET_PULSE_ADMIN_TARGETS", env=env),
        ),
        execution=load_execution_settings(env),
        serve=ServeSettings(
            code_server_host=env.get("MARKET_PULSE_CODE_SERVER_HOST") or "127.0.0.1",
            code_server_port=env_int("MARKET_PULSE_CODE_SERVER_PORT", 4266, minimum=1, env=env),
            instance_config=Path(env.get("MARKET_PULSE_INSTANCE_CONFIG")
                                 or PROJECT_ROOT / "deploy" / "dagster.yaml").expanduser().resolve(),
        ),
        archive_url=env.get("MARKET_PULSE_ARCHIVE_URL") or str(home / "archive"),
    )


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$MARKET_PULSE_HOME`` (default ``./.market-pulse``), absolute."""
    env = os.environ if env is None else env
    return Path(env.get("MARKET_PULSE_HOME") or DEFAULT_HOME).expanduser().resolve()


def secret(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The secret setting ``name``: its value, or the contents of the file named by ``name_FILE``
    (surrounding whitespace and the final newline dropped); None when neither is set.

    Both set is an error (which one wins would be a guess), as is a file that cannot be read; the
    messages name the variables and the path, never the value.
    """
    env = os.environ if env is None else env
    value = env.get(name) or None
    path = env.get(f"{name}_FILE") or None
    if value is not None and path is not None:
        raise ValueError(f"both {name} and {name}_FILE are set: set only one")
    if path is None:
        return value
    try:
        content = Path(path).expanduser().read_text().strip()
    except OSError as exc:
        raise ValueError(f"{name}_FILE={path}: cannot read it ({exc.strerror or exc})") from None
    if not content:
        raise ValueError(f"{name}_FILE={path}: the file is empty")
    return content


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` filled in when it has none (a password in the URL wins)."""
    parsed = make_url(url)
    if password is None or parsed.password:
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def with_user(url: str, user: str, password: str | None) -> str:
    """Same server and database, connecting as ``user``."""
    return make_url(url).set(username=user, password=password).render_as_string(hide_password=False)


def user_of(url: str) -> str | None:
    return make_url(url).username
def env_words(name: str, *, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Whitespace-separated values from the variable ``name`` and from the file named by
    ``name_FILE`` (for values that are secrets: a mounted secret file; lines starting with ``#``
    are comments, a ``#`` inside a value is kept, as in Slack's ``slack://…/#channel``)."""
    env = os.environ if env is None else env
    words = env.get(name, "").split()
    path = env.get(f"{name}_FILE", "").strip()
    if path:
        try:
            lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"{name}_FILE={path!r}: cannot read it ({exc.strerror or exc})") from None
        words += [word for line in lines if not line.lstrip().startswith("#") for word in line.split()]
    return tuple(dict.fromkeys(words))


def load_execution_settings(env: Mapping[str, str]) -> ExecutionSettings:
    executor = (env.get("MARKET_PULSE_EXECUTOR") or "multiprocess").strip().lower().replace("-", "_")
    if executor not in EXECUTORS:
        raise ValueError(f"MARKET_PULSE_EXECUTOR={executor!r}: expected one of {', '.join(EXECUTORS)}")
    broker = secret("MARKET_PULSE_CELERY_BROKER_URL", env)
    if executor == "celery" and not broker:
        raise ValueError("MARKET_PULSE_EXECUTOR=celery needs MARKET_PULSE_CELERY_BROKER_URL (or "
                         "MARKET_PULSE_CELERY_BROKER_URL_FILE), e.g. amqp://user:password@rabbitmq:5672/market_pulse")
    return ExecutionSettings(
        executor=executor,
        broker_url=broker,
        backend_url=secret("MARKET_PULSE_CELERY_BACKEND_URL", env) or "rpc://",
        vendor_lock_wait_seconds=env_int("MARKET_PULSE_VENDOR_LOCK_WAIT", 3600, minimum=1, env=env),
    )


FLAG_VALUES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
               "off": False}


def env_flag(name: str, default: bool, *, env: Mapping[str, str] | None = None) -> bool:
    """A yes/no setting from the environment (or ``env``): 1/0, true/false, yes/no, on/off."""
    raw = (os.environ if env is None else env).get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in FLAG_VALUES:
        raise ValueError(f"{name}={raw!r}: expected 1 or 0 (true/false, yes/no, on/off; default "
                         f"{'1' if default else '0'})")
    return FLAG_VALUES[raw]


def env_int(name: str, default: int, *, minimum: int = 0, env: Mapping[str, str] | None = None) -> int:
    """An integer setting from the environment (or ``env``), with an error that names the variable."""
    raw = (os.environ if env is None else env).get(name, "").strip()
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
