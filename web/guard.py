"""The checks every request passes before it reaches a page: Host allow-list, same origin for
state-changing requests, and what a GraphQL document is allowed to do.

Pure functions over header values and query text, so each rule is tested on its own.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from graphql import GraphQLError, OperationDefinitionNode, parse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def split_host(host_header: str) -> tuple[str, int | None] | None:
    """``host[:port]`` (IPv6 in brackets) → (lower-cased host, port); None when malformed."""
    value = host_header.strip().lower()
    if not value or any(c in value for c in "/@\\ \t?#"):
        return None
    try:
        parts = urlsplit(f"//{value}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    return (host, port) if host else None


def host_allowed(host_header: str | None, allowed: tuple[str, ...]) -> bool:
    """The Host header names one of ``allowed`` (any port): a page on another name that resolves to
    this server (DNS rebinding) is refused."""
    parsed = split_host(host_header or "")
    return parsed is not None and parsed[0] in allowed


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return parts.scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None


def request_origin(scheme: str, host_header: str) -> str:
    return f"{scheme}://{host_header.strip().lower()}"


def same_origin(origin: str | None, referer: str | None, trusted: tuple[str, ...]) -> bool:
    """True when the request says it comes from one of the ``trusted`` origins.

    ``Origin`` decides when present (``null`` never matches); otherwise the origin of ``Referer``;
    a request with neither is refused (browsers send ``Origin`` on every state-changing request).
    """
    claimed = origin if origin is not None else referer
    if not claimed:
        return False
    found = _origin(claimed)
    return found is not None and any(found == _origin(t) for t in trusted)


class GraphQLRejected(ValueError):
    """A GraphQL document the front door will not pass on; the message is for the client."""


def operation_types(query: str) -> set[str]:
    """The kinds of operation in a GraphQL document: ``query``, ``mutation``, ``subscription``.

    Every operation counts, not only the one ``operationName`` selects: a document is allowed or
    refused as a whole. Unparseable documents are refused (nothing is passed on that we cannot read).
    """
    try:
        document = parse(query, no_location=True, max_tokens=50_000)
    except GraphQLError as exc:
        raise GraphQLRejected(f"cannot parse the GraphQL document: {exc.message}") from None
    kinds = {d.operation.value for d in document.definitions if isinstance(d, OperationDefinitionNode)}
    if not kinds:
        raise GraphQLRejected("the GraphQL document has no operation")
    return kinds


GRAPHQL_PATH = "/graphql"
MAX_GRAPHQL_BODY = 4 * 1024 * 1024


def is_graphql_path(path: str) -> bool:
    return path.rstrip("/") == GRAPHQL_PATH


def refuse_graphql_http(method: str, query: str | None, content_type: str, body: bytes | None,
                        may_mutate: bool) -> tuple[int, str] | None:
    """Why a GraphQL request over HTTP is refused, as (status, message), or None to pass it on.

    GET carries queries only: a mutation by GET is refused for everyone (a link or an <img> must
    never change anything). POST must be JSON (``text/plain`` and forms are what a foreign page can
    send without asking), one document, and carry mutations only for operators and admins.
    """
    if method in {"GET", "HEAD"}:
        if query is None:
            return None  # GraphiQL's page, or Dagster's own "no query" error
        try:
            kinds = operation_types(query)
        except GraphQLRejected as exc:
            return 400, str(exc)
        if "mutation" in kinds:
            return 403, "GraphQL mutations are accepted by POST only"
        return None
    if method != "POST":
        return None  # Dagster answers 405
    if content_type.split(";")[0].strip().lower() != "application/json":
        return 415, "GraphQL requests must be sent as application/json"

    try:
        payload = json.loads(body or b"")
    except ValueError:
        return 400, "the GraphQL request is not valid JSON"
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return 400, "expected one GraphQL request: {\"query\": ..., \"variables\": ...}"
    try:
        kinds = operation_types(payload["query"])
    except GraphQLRejected as exc:
        return 400, str(exc)
    if "mutation" in kinds and not may_mutate:
        return 403, "viewers cannot change anything: ask an operator"
    return None


def refuse_graphql_ws_message(text: str | None) -> str | None:
    """Why a message from the browser on the GraphQL websocket is refused, or None.

    The websocket carries subscriptions (live run logs and updates) and nothing else: any other
    operation in a ``start``/``subscribe`` message is refused, for every role.
    """

    if text is None:
        return "binary messages are not accepted"
    try:
        message = json.loads(text)
    except ValueError:
        return "messages must be JSON"
    if not isinstance(message, dict):
        return "messages must be JSON objects"
    if message.get("type") not in {"start", "subscribe"}:
        return None
    payload = message.get("payload")
    query = payload.get("query") if isinstance(payload, dict) else None
    if not isinstance(query, str):
        return "a subscription needs a query"
    try:
        kinds = operation_types(query)
    except GraphQLRejected as exc:
        return str(exc)
    return None if kinds == {"subscription"} else "only subscriptions are accepted on the websocket"
