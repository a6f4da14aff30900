"""Notification targets are Apprise URLs: validate them with Apprise itself, and never show them whole.

An Apprise URL often carries a secret (an SMTP password, a Slack or Telegram token, a webhook
path that is itself the credential). Everything Market Pulse prints, logs or hands to Dagster
goes through :func:`mask_url`; the raw URL is stored encrypted (:mod:`pipelines.alerts.vault`)
and only ever decrypted to be sent to. A target may refer to the environment
(``mailtos://me:${SMTP_PASSWORD}@smtp.example.com``, see :data:`VARIABLE`); masking leaves
such references readable, since they name a variable and hold no secret.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import unquote, urlsplit

import apprise

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_SECRETISH = re.compile(r"(?=.*\d)(?=.*[A-Za-z])")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class InvalidTarget(ValueError):
    """An Apprise URL that Apprise cannot use; the message never contains the URL's secrets."""


def scheme_of(url: str) -> str:
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else ""


def validate_url(url: str) -> str:
    """``url`` stripped, if Apprise can build a notification service from it; else :class:`InvalidTarget`.

    Parsing only: nothing is sent and no network is touched.
    """
    url = url.strip()
    scheme = scheme_of(url)
    if not scheme:
        raise InvalidTarget("not an Apprise URL (expected e.g. json://host/path, mailtos://user:pass@host, "
                            "slack://..., tgram://..., discord://...)")
    if apprise.Apprise.instantiate(url) is None:
        supported = scheme in _supported_schemes()
        why = "its parts are invalid or incomplete" if supported else f"unknown scheme {scheme!r}"
        raise InvalidTarget(f"Apprise cannot use the URL {scheme}://*** ({why})")
    return url


def _supported_schemes() -> set[str]:
    schemes: set[str] = set()
    for details in apprise.Apprise().details().get("schemas", []):
        for key in ("protocols", "secure_protocols"):
            schemes.update(p.lower() for p in details.get(key) or [])
    return schemes


def _mask_segment(segment: str) -> str:
    if VARIABLE.fullmatch(unquote(segment)):
        return unquote(segment)  # a reference names a variable, it holds no secret
    if len(segment) >= 16 or (len(segment) >= 8 and _SECRETISH.match(segment)):
        return f"{segment[0]}...{segment[-1]}"
    return segment


def mask_url(url: str) -> str:
    """A form of ``url`` safe to print, log or store as Dagster metadata.

    Apprise's own privacy rendering masks passwords and tokens; on top of that, path segments
    that look like credentials (webhook tokens) are shortened and the query string is dropped
    (it may carry ``pass=``/``token=``). A URL Apprise cannot parse shows only its scheme.
    """
    scheme = scheme_of(url) or "?"
    plugin = apprise.Apprise.instantiate(url.strip()) if scheme != "?" else None
    if plugin is None:
        return f"{scheme}://***"
    private = plugin.url(privacy=True)
    parts = urlsplit(private)
    path = "/".join(_mask_segment(s) for s in parts.path.split("/"))
    shown = f"{parts.scheme}://{parts.netloc}{path}"
    return shown.rstrip("/") if path.strip("/") == "" else shown


def new_target_id() -> str:
    """A random id for a newly stored target (dedupe keys, grouping). Random, not a hash of the URL:
    a hash of a URL whose masked label shows user and host would let a dump's reader test guesses
    of the password offline."""
    return secrets.token_hex(8)


def variables(url: str) -> list[str]:
    """Names of the ``${NAME}`` references in ``url``."""
    return VARIABLE.findall(url)


def redact_text(text: str, secrets: list[str]) -> str:
    """``text`` with every occurrence of the given URLs (and their userinfo/path secrets) masked.

    Used on error messages before they are stored or logged: a library error may quote the URL.
    """
    for url in secrets:
        if not url:
            continue
        text = text.replace(url, mask_url(url))
        parts = urlsplit(url)
        userinfo, _, hostport = parts.netloc.rpartition("@")
        _host, _, port = hostport.partition(":")
        pieces = [*userinfo.split(":"), "" if port.isdigit() else port, *parts.path.split("/"),
                  *re.split(r"[&=]", parts.query)]
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) >= 6 and piece not in {"to", "from"}:
                text = text.replace(piece, "***")
    return text
