"""The host fence: which hosts and addresses one vendor's fetches may reach.

A shop's page decides where our fetcher goes next (redirects, next-page links, a browser
page's scripts), so a hostile or compromised shop could point it at the machine it runs on
(``127.0.0.1:5432``), the office network, or a cloud metadata service (``169.254.169.254``)
whose answer would then be archived. The fence allows:

* **hosts**: the ``base_url`` host (any port) and the vendor file's ``allowed_hosts`` entries:
  a host name (``cdn.shop.com``), every subdomain of one (``*.shop.com``), an address or a
  network (``10.1.2.3``, ``10.0.0.0/8``, ``fd00::/8``), each optionally with ``:port``;
* **addresses**: only globally routable ones, checked *after* DNS resolution, except for the
  ``base_url``'s own origin (host and port: the demo shop on ``127.0.0.1:8765``) and the
  addresses and networks listed in ``allowed_hosts``. Loopback, private, link-local, shared,
  reserved and cloud metadata addresses are refused everywhere else (another port on the
  same loopback address included).

A name is resolved once and the answer kept for the fence's life (one crawl), and the
transports connect to exactly the addresses that were checked (``downloader.transport``,
``downloader.socks``): a DNS answer that changes between the check and the connection (DNS
rebinding) cannot slip a private address in.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Resolve a host name for a port to address strings (tests plug in their own names)."""

DEFAULT_PORTS = {"http": 80, "https": 443}
SCHEMES = frozenset(DEFAULT_PORTS)

# Instance metadata services: credentials for the machine's cloud role live behind these.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
    "169.254.170.2",  # AWS ECS task credentials
    "fd00:ec2::254",  # AWS over IPv6
    "100.100.100.200",  # Alibaba Cloud
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class HostRefused(Exception):
    """A request the fence does not allow; ``message`` is one line a person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def address_kind(address: IPAddress) -> str | None:
    """Why ``address`` is not a public Internet address (``None`` when it is one)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:  # an IPv4 address behind the local NAT64 gateway
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


def parse_ip(host: str) -> IPAddress | None:
    """``host`` as an address if it is an IP literal (brackets allowed), else ``None``."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class HostRule:
    """One ``allowed_hosts`` entry."""

    text: str
    name: str | None = None  # exact host name, or the parent of a wildcard
    wildcard: bool = False
    network: IPNetwork | None = None
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """``shop.com``, ``*.shop.com``, ``10.1.2.3``, ``10.0.0.0/8``, ``[fd00::1]``, each with an
        optional ``:port``; raises ``ValueError`` with the reason."""
        text = entry.strip().lower()
        if not text or "://" in text:
            raise ValueError(f"{entry!r} is not a host name, *.domain, address or network")
        host, port = _split_port(text)
        if "/" in host or parse_ip(host) is not None:
            try:
                network = ipaddress.ip_network(host.strip("[]"), strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r}: {exc}") from None
            return cls(text=text, network=network, port=port)
        wildcard = host.startswith("*.")
        name = normalize_host(host[2:] if wildcard else host)
        labels = name.split(".")
        if not name or "*" in name or not all(_label_ok(label) for label in labels):
            raise ValueError(f"{entry!r} is not a host name, *.domain, address or network")
        return cls(text=text, name=name, wildcard=wildcard, port=port)

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            address = parse_ip(host)
            return address is not None and address in self.network
        assert self.name is not None
        return host.endswith("." + self.name) if self.wildcard else host == self.name

    def allows_address(self, address: IPAddress, port: int) -> bool:
        return self.network is not None and address in self.network and self.port in (None, port)


def _label_ok(label: str) -> bool:
    return 0 < len(label) <= 63 and all(c.isalnum() or c in "-_" for c in label)


def _split_port(text: str) -> tuple[str, int | None]:
    """``host:port`` → (host, port); IPv6 needs brackets for a port (``[fd00::1]:8080``)."""
    if text.startswith("["):
        host, _, rest = text.partition("]")
        host += "]"
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise ValueError(f"{text!r}: unexpected {rest!r} after the address")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        return text, None  # a bare IPv6 address or network, or no port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r}: port must be a number from 1 to 65535")
    return host, int(port_text)


def normalize_host(host: str) -> str:
    """One spelling per host: lower case, no brackets or trailing dot, IDNA (punycode) for
    international names, as transports and resolvers see them."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def url_endpoint(url: str) -> tuple[str, str, int]:
    """(scheme, normalised host, port) of an absolute URL; ``ValueError`` when it has none."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = normalize_host(parts.hostname or "")
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        raise ValueError(f"invalid port in {url!r}") from None
    return scheme, host, port


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (getaddrinfo), in its order, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class HostFence:
    """The hosts and addresses one vendor may reach (see the module doc).

    ``check_url`` is the cheap part (scheme, host list, IP literals) run before every request
    and redirect hop; ``addresses`` resolves a name once and returns the addresses a
    connection may use, raising `HostRefused` when there is none.
    """

    def __init__(self, base_url: str, allowed_hosts: Iterable[str] = (), *, owner: str = "this vendor",
                 resolver: Resolver | None = None, cache_ttl_s: float = 600.0) -> None:
        scheme, host, port = url_endpoint(base_url)
        if scheme not in SCHEMES or not host:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self.owner = owner
        self.base_host = host
        self.base_port = port
        self.rules = tuple(HostRule.parse(entry) for entry in allowed_hosts)
        self._resolve = resolver or system_resolver
        self._ttl = cache_ttl_s
        self._answers: dict[str, tuple[float, tuple[IPAddress, ...]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def hosts_text(self) -> str:
        """The allowed hosts, for messages."""
        listed = ", ".join(rule.text for rule in self.rules)
        return f"{self.base_host}" + (f" and allowed_hosts {listed}" if listed else ", no allowed_hosts")

    # -- the cheap checks ------------------------------------------------------------------

    def host_allowed(self, host: str, port: int) -> bool:
        host = normalize_host(host)
        return host == self.base_host or any(rule.matches(host, port) for rule in self.rules)

    def address_allowed(self, host: str, port: int, address: IPAddress) -> str | None:
        """``None`` when a connection to ``address`` for ``host:port`` is allowed, else why not."""
        kind = address_kind(address)
        if kind is None:
            return None
        if normalize_host(host) == self.base_host and port == self.base_port:
            return None  # the vendor's own origin lives there (the demo shop on loopback)
        if any(rule.allows_address(address, port) for rule in self.rules):
            return None
        shown = f"{_show_host(host)}:{port}"
        what = f"a {kind} address" if parse_ip(host) is not None else f"it resolves to {address}, a {kind} address"
        return (f"refused {shown}: {what}; {self.owner} may reach non-public addresses only at its base_url "
                f"({_show_host(self.base_host)}:{self.base_port}) or where allowed_hosts lists the address or network")

    def check_url(self, url: str) -> str | None:
        """Why ``url`` may not be fetched (scheme, host list, literal address), or ``None``."""
        try:
            scheme, host, port = url_endpoint(url)
        except ValueError as exc:
            return f"refused {url!r}: {exc}"
        if scheme not in SCHEMES:
            return f"refused {url[:80]!r}: only http and https URLs are fetched"
        if not host:
            return f"refused {url[:80]!r}: no host"
        if not self.host_allowed(host, port):
            literal = parse_ip(host)
            kind = address_kind(literal) if literal is not None else None
            what = f" ({kind} address)" if kind else ""
            return (f"refused {_show_host(host)}:{port}{what}: not one of {self.owner}'s hosts "
                    f"({self.hosts_text}); list it under allowed_hosts in the vendor file if it belongs to the shop")
        literal = parse_ip(host)
        if literal is not None:
            return self.address_allowed(host, port, literal)
        return None

    # -- resolution ------------------------------------------------------------------------

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses a connection to ``host:port`` may use (resolved once, then cached).

        Addresses the fence refuses are left out; `HostRefused` when none is left (or the host
        itself is not allowed).
        """
        host = normalize_host(host)
        if not self.host_allowed(host, port):
            raise HostRefused(self.check_url(f"http://{_show_host(host)}:{port}/") or f"refused {host}")
        literal = parse_ip(host)
        answer = (literal,) if literal is not None else await self._lookup(host, port)
        allowed: list[IPAddress] = []
        refusal = None
        for address in answer:
            reason = self.address_allowed(host, port, address)
            if reason is None:
                allowed.append(address)
            else:
                refusal = refusal or reason
        if not allowed:
            raise HostRefused(refusal or f"refused {host}:{port}: no address")
        return allowed

    async def _lookup(self, host: str, port: int) -> tuple[IPAddress, ...]:
        cached = self._answers.get(host)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            cached = self._answers.get(host)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            raw = await self._resolve(host, port)  # an OSError (no such name) is the caller's "DNS failed"
            answer = tuple(a for a in (parse_ip(str(item).split("%", 1)[0]) for item in raw) if a is not None)
            if not answer:
                raise socket.gaierror(socket.EAI_NONAME, f"no address for {host}")
            self._answers[host] = (time.monotonic() + self._ttl, answer)
            return answer


def _show_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def refusal_in(exc: BaseException) -> HostRefused | None:
    """The `HostRefused` behind ``exc`` (transports wrap it in their own errors), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, HostRefused):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
