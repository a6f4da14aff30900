"""The front door's settings, from the environment (documented in docs/security.md)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class FrontDoorConfigError(ValueError):
    """A front-door setting is wrong or unsafe; the message names it."""


@dataclass(frozen=True)
class FrontDoorConfig:
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    """Host header values (without port) that are served; anything else is refused (DNS rebinding)."""
    public_url: str | None = None
    """Where people reach the front door (e.g. https://pulse.example.com behind a TLS proxy)."""
    session_hours: int = 12
    admin_password_file: Path | None = None
    trusted_proxies: str = ""
    """Addresses whose X-Forwarded-Proto/For are believed (uvicorn's forwarded_allow_ips); none by default."""
    extra_hosts: tuple[str, ...] = field(default=())
    """Hosts added by MARKET_PULSE_ALLOWED_HOSTS (beyond loopback and the public URL's host)."""
    api_rate_limit: str = "600/minute"
    """Requests each API key may make (MARKET_PULSE_API_RATE_LIMIT, ``limits`` notation: 600/minute, 20/second)."""

    @property
    def public_origin(self) -> str | None:
        if not self.public_url:
            return None
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def https(self) -> bool:
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    def check_bind(self, host: str) -> None:
        """Serving beyond loopback needs to know the name people use (else every request is refused
        as a foreign Host) and is refused outright without one."""
        if is_loopback(host):
            return
        if not self.public_url and not self.extra_hosts:
            raise FrontDoorConfigError(
                f"refusing to listen on {host}: only loopback is served without configuration. Set "
                "MARKET_PULSE_PUBLIC_URL (e.g. https://pulse.example.com, behind TLS) or "
                "MARKET_PULSE_ALLOWED_HOSTS to the names people use (see docs/security.md)")


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(env: dict[str, str] | None = None) -> FrontDoorConfig:
    env = dict(os.environ if env is None else env)
    public_url = (env.get("MARKET_PULSE_PUBLIC_URL") or "").strip().rstrip("/") or None
    hosts = list(LOOPBACK_HOSTS)
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise FrontDoorConfigError(f"MARKET_PULSE_PUBLIC_URL={public_url!r}: expected http(s)://host[:port]")
        hosts.append(parts.hostname.lower())
    extra = tuple(h.strip().lower() for h in (env.get("MARKET_PULSE_ALLOWED_HOSTS") or "").split(",") if h.strip())
    if "*" in extra:
        raise FrontDoorConfigError("MARKET_PULSE_ALLOWED_HOSTS=*: list the host names; a wildcard would "
                                   "let any site rebind its name to this server")
    hosts += [h for h in extra if h not in hosts]
    password_file = env.get("MARKET_PULSE_ADMIN_PASSWORD_FILE") or None
    hours = _whole_number(env, "MARKET_PULSE_SESSION_HOURS", 12, minimum=1)
    return FrontDoorConfig(allowed_hosts=tuple(hosts), public_url=public_url, session_hours=hours,
                           admin_password_file=Path(password_file).expanduser() if password_file else None,
                           trusted_proxies=(env.get("MARKET_PULSE_TRUSTED_PROXIES") or "").strip(),
                           extra_hosts=extra, api_rate_limit=_rate_limit(env))


def _rate_limit(env: dict[str, str]) -> str:
    from limits import parse

    raw = (env.get("MARKET_PULSE_API_RATE_LIMIT") or "").strip() or "600/minute"
    try:
        parse(raw)
    except ValueError:
        raise FrontDoorConfigError(f"MARKET_PULSE_API_RATE_LIMIT={raw!r}: expected e.g. 600/minute or 20/second") \
            from None
    return raw


def _whole_number(env: dict[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise FrontDoorConfigError(f"{name}={raw!r}: expected a whole number of at least {minimum}")
    return int(raw)


def read_admin_password(config: FrontDoorConfig) -> str | None:
    """The first admin's password from MARKET_PULSE_ADMIN_PASSWORD_FILE (first line), if set."""
    if config.admin_password_file is None:
        return None
    try:
        text = config.admin_password_file.read_text()
    except OSError as exc:
        raise FrontDoorConfigError(f"MARKET_PULSE_ADMIN_PASSWORD_FILE: cannot read "
                                   f"{config.admin_password_file}: {exc.strerror}") from None
    password = text.splitlines()[0] if text.strip() else ""
    if not password:
        raise FrontDoorConfigError(f"MARKET_PULSE_ADMIN_PASSWORD_FILE: {config.admin_password_file} is empty")
    return password
