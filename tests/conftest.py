"""Shared fixtures: rooms, identities, and websocket clients that go through the real ASGI stack
(origin check, session auth, routing), on the in-memory layer unless a test asks for Redis."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.services import identity_create_anonymous
from rooms.models import Room

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Worker threads of database_sync_to_async close their connections after each call, so
    the test database can be dropped at the end (PostgreSQL refuses while one is open)."""
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def _embedded_default(settings: Any) -> None:
    """Every test starts from the embedded default, whatever the shell exported."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.REDIS_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"halqa-test-{uuid.uuid4().hex}"}}


@pytest.fixture
def redis_layers(settings: Any) -> dict[str, Any]:
    """Two channel-layer instances on the real Redis: delivery between them crosses Redis."""
    prefix = f"halqa-test-{uuid.uuid4().hex[:8]}"
    config = {"hosts": [REDIS_URL], "prefix": prefix, "expiry": 30}
    layer = {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": config}
    settings.CHANNEL_LAYERS = {"default": layer, "second": dict(layer)}
    # Flood limits and the cache follow the layer onto Redis, under the same test prefix.
    settings.REDIS_URL, settings.REDIS_PREFIX = REDIS_URL, prefix
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}}
    return settings.CHANNEL_LAYERS


def room_create(**fields: Any) -> Room:
    values = {
        "slug": f"circle-{uuid.uuid4().hex[:8]}", "title": "Test circle", "language": "en",
        "house_rules": "Be kind. Keep it confidential.", "capacity": 12,
        # Tests send quickly; the flood limit has tests of its own.
        "flood_burst": 100,
    }
    values.update(fields)
    return Room.objects.create(**values)


@pytest.fixture
def room(db: Any) -> Room:
    return room_create()


def session_cookie_for(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


class Socket:
    """A WebsocketCommunicator with JSON helpers."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 3) -> dict[str, Any]:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def receive_type(self, frame_type: str, timeout: float = 3) -> dict[str, Any]:
        """The next frame of this type; frames of other types before it are dropped."""
        while True:
            frame = await self.receive(timeout=timeout)
            if frame["type"] == frame_type:
                return frame

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Any]]:
    """connect(user, room, after=None, layer="default") -> Socket, already connected."""
    from rooms.consumers import RoomConsumer
    from server.asgi import application

    opened: list[Socket] = []
    consumers: dict[str, Any] = {}

    async def _connect(user: Any, room: Room | str, *, after: Any = None,
                       layer: str = "default") -> Socket:
        slug = room if isinstance(room, str) else room.slug
        path = f"/ws/rooms/{slug}/" + (f"?after={after}" if after is not None else "")
        headers = [(b"origin", ORIGIN)]
        if user is not None:
            headers.append((b"cookie", await database_sync_to_async(session_cookie_for)(user)))
        if layer == "default":
            app = application
        else:  # the same stack, but the consumer speaks through another layer instance
            from channels.auth import AuthMiddlewareStack
            if layer not in consumers:
                consumers[layer] = type("OtherLayerConsumer", (RoomConsumer,),
                                        {"channel_layer_alias": layer}).as_asgi()
            app = AuthMiddlewareStack(consumers[layer])
            headers.append((b"host", b"127.0.0.1"))
        communicator = WebsocketCommunicator(app, path, headers=headers)
        if layer != "default":
            communicator.scope["url_route"] = {"kwargs": {"slug": slug}}
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        socket = Socket(communicator)
        opened.append(socket)
        return socket

    yield _connect
    for socket in opened:
        try:
            await socket.close()
        except Exception:  # already closed by the server
            pass


@pytest.fixture
def identity(db: Any) -> Callable[..., Any]:
    def _make(language: str = "en") -> Any:
        return identity_create_anonymous(language=language)

    return _make
