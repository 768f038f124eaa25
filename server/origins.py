"""The websocket origin check: only a page of the site itself may open a circle's socket.

A browser sends the session cookie with any websocket handshake, whichever page opens it, and
the same-origin policy does not cover websockets: the `Origin` header is the only way to tell a
circle's own page from a page on another site (or another port or scheme of the same host) that
would read the alias and history of whoever visits it. So the whole origin, scheme, host and
port, must be one of the site's origins (`SITE_ORIGINS`); anything else, `Origin: null` and a
handshake without an `Origin` are refused before the socket is accepted (HTTP 403).

`SITE_ORIGINS` unset: the origins are every exact name in `ALLOWED_HOSTS`, with `https` and the
default port when `HTTPS` is on (behind a TLS proxy), else `http` and the port this process
serves (the handshake's server port; `PORT`, 8000 by default, where the server does not say).
The case table is in docs/protocol.md, "Origin check".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_PORTS = {"http": 80, "https": 443}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def origin_normalise(*, value: str) -> str | None:
    """`scheme://host:port`, lower case, port always written (so `http://a` equals
    `http://a:80`); None for anything that is not an http(s) origin: `null`, a path, user info,
    a bad port."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname  # lower-cased; an IPv6 address loses its brackets
    if (scheme not in DEFAULT_PORTS or not host or value != value.strip()
            or "@" in parts.netloc or parts.path or parts.query or parts.fragment):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or DEFAULT_PORTS[scheme]}"


def origins_configured(*, origins: Iterable[str]) -> frozenset[str]:
    """The normalised `SITE_ORIGINS`; a value that is not an origin is a configuration error
    (better at start-up than a site where no socket ever opens)."""
    normalised = set()
    for origin in origins:
        value = origin_normalise(value=origin.strip().rstrip("/"))
        if value is None:
            raise ImproperlyConfigured(
                f"SITE_ORIGINS: {origin!r} is not an origin like https://halqa.example.org")
        normalised.add(value)
    return frozenset(normalised)


def origins_derived(*, hosts: Iterable[str], https: bool, port: int) -> frozenset[str]:
    """The default: each exact host name (wildcards such as `*` or `.example.org` name no
    origin), https on its default port behind TLS, else http on the served port."""
    scheme, port = ("https", 443) if https else ("http", port)
    derived = (origin_normalise(value=f"{scheme}://{host}:{port}") for host in hosts
               if host and host != "*" and not host.startswith("."))
    return frozenset(origin for origin in derived if origin is not None)


def origins_allowed(*, scope: Scope) -> frozenset[str]:
    if settings.SITE_ORIGINS:
        return origins_configured(origins=settings.SITE_ORIGINS)
    server = scope.get("server")
    port = server[1] if server and server[1] else settings.SITE_PORT
    return origins_derived(hosts=settings.ALLOWED_HOSTS, https=settings.HTTPS, port=port)


def origin_allowed(*, scope: Scope) -> bool:
    """Exactly one `Origin` header, and it is one of the site's origins."""
    values = [value for name, value in scope.get("headers", ()) if name.lower() == b"origin"]
    if len(values) != 1:
        return False
    origin = origin_normalise(value=values[0].decode("latin-1"))
    return origin is not None and origin in origins_allowed(scope=scope)


class OriginValidator:
    """ASGI middleware in front of the websocket stack: a handshake from anywhere else is
    closed before it is accepted, which daphne answers with HTTP 403."""

    def __init__(self, application: Callable[..., Awaitable[None]]) -> None:
        self.application = application
        origins_configured(origins=settings.SITE_ORIGINS)  # a typo stops the start-up

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not origin_allowed(scope=scope):
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008})
            return
        await self.application(scope, receive, send)
