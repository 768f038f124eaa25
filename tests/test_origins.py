"""The websocket origin check compares the whole origin, scheme, host and port, with the site's
origins (issue 13, item 5): the case table of docs/protocol.md, "Origin check", through the real
ASGI stack (server.asgi.application). Over a real daphne on a spare port: test_daphne_e2e.py."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured

from accounts.services import identity_create_anonymous
from server.origins import origin_normalise, origins_configured, origins_derived
from tests.conftest import session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

SAME = "http://127.0.0.1:8000"

# (case, Origin header values, accepted) with the embedded default: SITE_ORIGINS unset,
# ALLOWED_HOSTS 127.0.0.1 and localhost, plain HTTP on port 8000.
TABLE = [
    ("same origin", [SAME], True),
    ("same origin, the other allowed name", ["http://localhost:8000"], True),
    ("same origin, upper case", ["HTTP://LocalHost:8000"], True),
    ("other port", ["http://127.0.0.1:8001"], False),
    ("other port: the default one", ["http://127.0.0.1"], False),
    ("other scheme", ["https://127.0.0.1:8000"], False),
    ("other scheme: ws", ["ws://127.0.0.1:8000"], False),
    ("other host", ["http://evil.example:8000"], False),
    ("other host ending like ours", ["http://evil127.0.0.1:8000"], False),
    ("subdomain of an allowed name", ["http://a.localhost:8000"], False),
    ("other host with ours as a prefix", ["http://127.0.0.1.evil.example:8000"], False),
    ("null (sandboxed frame, file:, data:)", ["null"], False),
    ("missing", [], False),
    ("two Origin headers", [SAME, "http://evil.example:8000"], False),
    ("two Origin headers, both ours", [SAME, SAME], False),
    ("not an origin: a path", [SAME + "/rooms/"], False),
    ("not an origin: user info", ["http://evil.example@127.0.0.1:8000"], False),
    ("not an origin: bad port", ["http://127.0.0.1:80000"], False),
    ("empty", [""], False),
]


@pytest.fixture(autouse=True)
def _embedded_origins(settings: Any) -> None:
    settings.SITE_ORIGINS = []
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.HTTPS = False
    settings.SITE_PORT = 8000


async def handshake(origins: list[str], *, server: tuple[str, int] | None = None,
                    signed_in: bool = False) -> tuple[bool, WebsocketCommunicator]:
    from server.asgi import application

    headers = [(b"origin", origin.encode("latin-1")) for origin in origins]
    if signed_in:
        user = await database_sync_to_async(identity_create_anonymous)(language="en")
        headers.append((b"cookie", await database_sync_to_async(session_cookie_for)(user)))
    communicator = WebsocketCommunicator(application, "/ws/rooms/no-such-circle/",
                                         headers=headers)
    if server is not None:  # what daphne puts in the scope: the address it serves on
        communicator.scope["server"] = list(server)
    connected, _ = await communicator.connect(timeout=3)
    return connected, communicator


@pytest.mark.parametrize(("case", "origins", "accepted"), TABLE, ids=[c for c, _o, _a in TABLE])
async def test_origin_case_table(case: str, origins: list[str], accepted: bool) -> None:
    connected, communicator = await handshake(origins, signed_in=True)
    assert connected is accepted, case
    if accepted:  # past the check, the socket is the circle's as usual
        frame = await communicator.receive_json_from(timeout=3)
        assert frame["code"] == "room_not_found"
    else:  # refused before accept: daphne answers the handshake with HTTP 403
        assert await communicator.receive_nothing(timeout=0.1)
    await communicator.disconnect()


async def test_the_origin_follows_the_port_the_server_serves() -> None:
    """daphne on a spare port (the browser tests): its own port is the site's, 8000 is not."""
    served = ("127.0.0.1", 53111)
    assert (await handshake(["http://127.0.0.1:53111"], server=served))[0] is True
    assert (await handshake(["http://localhost:53111"], server=served))[0] is True
    assert (await handshake([SAME], server=served))[0] is False


async def test_behind_tls_the_origin_is_https_on_the_default_port(settings: Any) -> None:
    settings.HTTPS = True
    served = ("0.0.0.0", 8000)  # daphne behind the proxy
    assert (await handshake(["https://localhost"], server=served))[0] is True
    assert (await handshake(["https://localhost:443"], server=served))[0] is True
    assert (await handshake(["http://localhost:8000"], server=served))[0] is False
    assert (await handshake(["https://localhost:8000"], server=served))[0] is False
    assert (await handshake(["http://localhost"], server=served))[0] is False


async def test_site_origins_replace_the_derived_ones(settings: Any) -> None:
    settings.SITE_ORIGINS = ["https://halqa.example.org", "http://127.0.0.1:9000/"]
    assert (await handshake(["https://halqa.example.org"]))[0] is True
    assert (await handshake(["http://127.0.0.1:9000"]))[0] is True
    assert (await handshake(["http://halqa.example.org"]))[0] is False
    assert (await handshake(["https://www.halqa.example.org"]))[0] is False
    assert (await handshake([SAME]))[0] is False  # ALLOWED_HOSTS no longer counts


def test_wildcard_hosts_name_no_origin() -> None:
    assert origins_derived(hosts=["*", ".example.org", "halqa.example.org"], https=True,
                           port=8000) == {"https://halqa.example.org:443"}
    assert origins_derived(hosts=["[::1]"], https=False, port=8000) == {"http://[::1]:8000"}


@pytest.mark.parametrize("value", ["halqa.example.org", "null", "https://", "ftp://a.example",
                                   "https://a.example/path", "https://a.example:99999"])
def test_a_site_origin_that_is_not_an_origin_stops_the_start_up(value: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        origins_configured(origins=[value])


def test_normalised_origins() -> None:
    assert origin_normalise(value="HTTPS://Halqa.Example.org") == "https://halqa.example.org:443"
    assert origin_normalise(value="http://[::1]:8000") == "http://[::1]:8000"
    assert origin_normalise(value=" http://a.example") is None
    assert origin_normalise(value="http://a.example?x") is None
