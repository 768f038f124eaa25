"""The fan-out hub: a circle's live frames reach every member's socket with one publish per
message per server process, not one channel-layer message per member.

Each process keeps, per circle, the set of its own joined sockets. A circle event (a new message,
deletions, presence, the circle's controls, typing, the end of a session) is published once:
- with no Redis (`make run`'s embedded default: one process), straight to this process's hub;
- with `REDIS_URL`, on one Redis pub/sub channel per circle, to which each process subscribes
  while it has members there; the payload is encrypted with the channel layer's key, so message
  text never crosses Redis in clear.
The hub then writes the already-encoded frame to each local socket of the circle in turn: no
per-recipient consumer dispatch, no channel-layer receive loop per member. Events for one person
(notices, mute, removal, admission, role changes) stay on the channel layer (rooms.events).

A hub belongs to one event loop (and, in tests that simulate two processes in one, to one
channel-layer alias), since its Redis connection does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import threading
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

log = logging.getLogger(__name__)

RELAY = "frame.relay"
WIRE = "wire"  # the event's frame, encoded once for every socket (wire_text_frame)
# An event with this key (its kind) replaces the previous one of that kind in its circle: past
# a burst, the hub delivers at most one per COALESCE_SECONDS per circle (presence in a
# reconnect storm), always the newest.
COALESCE = "coalesce"
COALESCE_SECONDS = 0.25
COALESCE_BURST = 4


class Member(Protocol):
    """A socket the hub writes to (rooms.consumers.RoomConsumer)."""

    async def hub_event(self, event: dict[str, Any]) -> None: ...


def _fernet() -> MultiFernet | None:
    """The channel layer's symmetric keys (settings), derived as channels-redis derives them."""
    config = settings.CHANNEL_LAYERS.get("default", {}).get("CONFIG", {}) or {}
    keys = config.get("symmetric_encryption_keys") or []
    if not keys:
        return None
    return MultiFernet([Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))
                        for key in keys])


def wire_text_frame(text: str) -> bytes:
    """One websocket text frame as a server sends it (RFC 6455 5.2: FIN, opcode 1, unmasked),
    built once per event for every socket of the circle (`halqa.write_frame`, manage.py serve)
    instead of once per socket."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def _channel(room_id: int) -> str:
    return f"{settings.REDIS_PREFIX}:hub:room:{room_id}"


def _encode(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    fernet = _fernet()
    return fernet.encrypt(data) if fernet is not None else data


def _decode(data: bytes) -> dict[str, Any]:
    fernet = _fernet()
    return json.loads(fernet.decrypt(data) if fernet is not None else data)


class Hub:
    def __init__(self, *, loop: asyncio.AbstractEventLoop, alias: str) -> None:
        self.loop = loop
        self.alias = alias
        self.rooms: dict[int, set[Member]] = {}
        self._redis: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        # Coalescing (below): snapshots held back, and each (circle, kind)'s bucket.
        self._held: dict[tuple[int, str], dict[str, Any]] = {}
        self._tokens: dict[tuple[int, str], tuple[float, float]] = {}

    # --- membership, from the sockets' own event loop ----------------------------------------
    async def attach(self, room_id: int, member: Member) -> None:
        """Start delivering this circle's events to this socket. Returns once delivery is
        live (subscribed on Redis), so a history read after it misses nothing."""
        members = self.rooms.setdefault(room_id, set())
        members.add(member)
        if settings.REDIS_URL and len(members) == 1:
            await self._subscribe(room_id)

    async def detach(self, room_id: int, member: Member) -> None:
        members = self.rooms.get(room_id)
        if not members or member not in members:
            return
        members.discard(member)
        if not members:
            del self.rooms[room_id]
            if self._pubsub is not None:
                try:
                    await self._pubsub.unsubscribe(_channel(room_id))
                except Exception:  # the connection is gone; the reader reconnects
                    log.warning("hub: unsubscribe failed")

    # --- delivery -------------------------------------------------------------------------------
    def deliver(self, room_id: int, event: dict[str, Any]) -> None:
        """Hand an event to every local socket of the circle (in this loop's thread). One task
        per event, not per socket: tasks start in the order events were published, and each
        write to a socket is a buffered write that does not wait on the network."""
        if room_id not in self.rooms:
            return
        if event.get(COALESCE):
            self._coalesce(room_id, event)
            return
        self.loop.create_task(self._deliver(room_id, event))

    async def _deliver(self, room_id: int, event: dict[str, Any]) -> None:
        if "text" in event and WIRE not in event:
            event = {**event, WIRE: wire_text_frame(event["text"])}
        for member in tuple(self.rooms.get(room_id, ())):
            try:
                await member.hub_event(event)
            except Exception:  # one broken socket must not stop the others
                log.exception("hub: delivery to one socket failed")

    # --- Coalescing (issue 13): a storm of snapshots costs the circle a few frames -----------
    def _coalesce(self, room_id: int, event: dict[str, Any]) -> None:
        """An event that replaces the previous one of its kind (`event[COALESCE]`, e.g. who
        is present). Delivered at once while the circle's bucket for that kind has a token
        (COALESCE_BURST at once, then one per COALESCE_SECONDS); else held, the newest
        replacing the one held, until the next token. The last one always arrives."""
        key = (room_id, event[COALESCE])
        if key in self._held:
            self._held[key] = event
            return
        tokens = self._refill(key)
        if tokens >= 1:
            self._tokens[key] = (tokens - 1, self.loop.time())
            self.loop.create_task(self._deliver(room_id, event))
            return
        self._held[key] = event
        self.loop.call_later((1 - tokens) * COALESCE_SECONDS, self._release, key)

    def _refill(self, key: tuple[int, str]) -> float:
        tokens, at = self._tokens.get(key, (COALESCE_BURST, 0.0))
        return min(COALESCE_BURST, tokens + (self.loop.time() - at) / COALESCE_SECONDS)

    def _release(self, key: tuple[int, str]) -> None:
        event = self._held.pop(key)
        self._tokens[key] = (max(0.0, self._refill(key) - 1), self.loop.time())
        if key[0] in self.rooms:
            self.loop.create_task(self._deliver(key[0], event))

    # --- Redis ----------------------------------------------------------------------------------
    async def _subscribe(self, room_id: int) -> None:
        if self._pubsub is None:
            self._redis = aioredis.Redis.from_url(settings.REDIS_URL)
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(_channel(room_id))
        if self._reader is None or self._reader.done():
            self._reader = self.loop.create_task(self._read())

    async def _read(self) -> None:
        prefix = f"{settings.REDIS_PREFIX}:hub:room:"
        while self.rooms:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except Exception:
                log.warning("hub: Redis read failed; resubscribing")
                await asyncio.sleep(0.5)
                await self._resubscribe()
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode()
            try:
                event = _decode(message["data"])
            except Exception:
                log.warning("hub: an unreadable event was dropped")
                continue
            self.deliver(int(channel[len(prefix):]), event)

    async def _resubscribe(self) -> None:
        try:
            if self._pubsub is not None:
                await self._pubsub.aclose()
            self._redis = aioredis.Redis.from_url(settings.REDIS_URL)
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            if self.rooms:
                await self._pubsub.subscribe(*(_channel(room_id) for room_id in self.rooms))
        except Exception:
            log.warning("hub: Redis is unavailable")

    async def publish(self, room_id: int, data: bytes) -> None:
        if self._redis is None:
            self._redis = aioredis.Redis.from_url(settings.REDIS_URL)
        try:
            await self._redis.publish(_channel(room_id), data)
        except Exception:  # committed already; a lost event is repaired by resume
            log.exception("hub: publish failed")


# --- The hubs of this process -------------------------------------------------------------------
_hubs: dict[tuple[int, str], Hub] = {}
_lock = threading.Lock()
_sync_redis: redis.Redis | None = None


def hub_for(alias: str = "default") -> Hub:
    """This event loop's hub for a channel-layer alias (call from the loop)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), alias)
    with _lock:
        hub = _hubs.get(key)
        if hub is None or hub.loop is not loop:
            hub = _hubs[key] = Hub(loop=loop, alias=alias)
        return hub


def _live_hubs() -> list[Hub]:
    with _lock:
        for key, hub in list(_hubs.items()):
            if hub.loop.is_closed():
                del _hubs[key]
        return list(_hubs.values())


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def publish(room_id: int, event: dict[str, Any]) -> None:
    """Send a circle event to every socket of the circle, in every process. Callable from any
    thread (a service's on-commit hook runs in the database thread): the work is handed to the
    event loop, never awaited here."""
    here = _running_loop()
    hubs = _live_hubs()
    if settings.REDIS_URL:
        data = _encode(event)
        hub = next((h for h in hubs if h.loop is here), None) or (hubs[0] if hubs else None)
        if hub is None:  # a process without sockets (the retention worker): publish directly
            _publish_sync(room_id, data)
        elif hub.loop is here:
            hub.loop.create_task(hub.publish(room_id, data))
        else:
            hub.loop.call_soon_threadsafe(
                lambda: hub.loop.create_task(hub.publish(room_id, data)))
        return
    for hub in hubs:
        if hub.loop is here:
            hub.deliver(room_id, event)
        else:
            hub.loop.call_soon_threadsafe(hub.deliver, room_id, event)


def _publish_sync(room_id: int, data: bytes) -> None:
    global _sync_redis
    try:
        if _sync_redis is None:
            _sync_redis = redis.Redis.from_url(settings.REDIS_URL)
        _sync_redis.publish(_channel(room_id), data)
    except Exception:
        log.exception("hub: publish failed")
