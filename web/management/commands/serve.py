"""Serve Halqa with daphne, without an access log: client addresses are never written anywhere.

A client that breaks the websocket protocol gets a close frame with the reason's code (1009 for a
message over `--websocket-max-message-size`, 1007 for a text frame that is not UTF-8, 1002 for
other violations) instead of a dropped TCP connection, which it could only see as 1006: autobahn
fails a connection "by drop" unless told otherwise, and daphne does not tell it.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from functools import partial
from typing import Any

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings
from django.core.management.base import BaseCommand
from twisted.internet import tcp


class Command(BaseCommand):
    help = "Serve the ASGI app (HTTP and websockets) with daphne, without an access log."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=None,
                            help="Default: the PORT environment variable, else 8000.")
        parser.add_argument("--websocket-max-message-size", type=int, default=64 * 1024)
        parser.add_argument(
            "--purge-every", type=int, default=0, metavar="SECONDS",
            help="Also run the retention purge in this process every SECONDS (embedded default).",
        )

    def handle(self, *args: Any, host: str, port: int | None, websocket_max_message_size: int,
               purge_every: int = 0, **options: Any) -> None:
        from server.asgi import application

        port = settings.SITE_PORT if port is None else port
        if purge_every:
            threading.Thread(target=_purge_loop, args=(purge_every,), daemon=True,
                             name="halqa-purge").start()
        self.stdout.write(f"Halqa is serving on http://{host}:{port}/ (no access log)")
        self.stdout.flush()
        server = _Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            action_logger=None,  # daphne's access log would record client addresses
            websocket_max_message_size=websocket_max_message_size,
            ping_interval=20,
            ping_timeout=30,
            application_close_timeout=10,
            verbosity=0,
        )
        # daphne builds its websocket factory in run() and calls ready_callable just before it
        # starts serving: the one moment to change the factory.
        server.ready_callable = lambda: _websocket_factory_set(server)
        _collector_tune()
        server.run()


def _backlog(protocol: WebSocketProtocol) -> int:
    """Bytes written to this connection that the network has not taken yet (Twisted's buffer)."""
    transport = protocol.transport
    if transport is None:
        return 0
    return (len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
            + getattr(transport, "_tempDataLen", 0))


def _write_frame(protocol: WebSocketProtocol, frame: bytes) -> bool:
    """Write a complete websocket frame that the circle's hub encoded once for all its sockets
    (rooms.hub.wire_text_frame): what autobahn's sendMessage would write, without framing the
    same text again for each socket. Only when the connection is open and autobahn is not in
    the middle of anything (no queued writes, no fragmented message); else False, and the
    frame goes through the ASGI send as usual."""
    transport = protocol.transport
    if (protocol.state != protocol.STATE_OPEN or transport is None
            or protocol.send_queue or protocol.send_state != protocol.SEND_STATE_GROUND):
        return False
    if (isinstance(transport, tcp.Connection) and transport.connected
            and not transport._writeDisconnected
            and len(transport.dataBuffer) == transport.offset and not transport._tempDataLen):
        # Nothing of this connection is waiting in Twisted's buffer: hand the frame to the
        # socket now, as asyncio's transports do, instead of buffering it and asking the
        # reactor for a writable event (two epoll changes and a loop turn per socket, the
        # largest cost of a delivery). What the socket does not take goes to the buffer.
        sent = transport.writeSomeData(frame)
        if isinstance(sent, int) and sent >= 0:
            if sent < len(frame):
                transport.write(frame[sent:])
            return True
    transport.write(frame)
    return True


class _Server(Server):
    """daphne, telling each websocket how far behind its reader is (the ASGI extension
    `halqa.backlog`), so the circle's fan-out can close a reader that cannot keep up instead of
    buffering for it without end, and letting the fan-out write a frame it encoded once for
    the whole circle (`halqa.write_frame`) (rooms.consumers)."""

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") == "websocket":
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}),
                                             "halqa.backlog": partial(_backlog, protocol),
                                             "halqa.write_frame": partial(_write_frame,
                                                                          protocol)}}
        return super().create_application(protocol, scope)


class _WebSocketProtocol(WebSocketProtocol):
    """daphne's websocket protocol, whose message size limit is for what clients send only.

    autobahn applies maxMessagePayloadSize to both directions: a `welcome` with 50 long messages
    (about 200 KB) or a resume of hundreds failed with PayloadExceededError, and the person
    could not enter the circle at all."""

    def sendMessage(self, payload: bytes, isBinary: bool = False,
                    fragmentSize: int | None = None, sync: bool = False,
                    doNotCompress: bool = False) -> None:
        limit, self.maxMessagePayloadSize = self.maxMessagePayloadSize, 0
        try:
            super().sendMessage(payload, isBinary, fragmentSize, sync, doNotCompress)
        finally:
            self.maxMessagePayloadSize = limit


def _websocket_factory_set(server: Server) -> None:
    server.ws_factory.protocol = _WebSocketProtocol
    # Fail a connection with a close frame, not by dropping it. allowNullOrigin defaults to
    # False in every call: keep daphne's True, so that server/origins.py alone decides (and
    # refuses "null" with its 403).
    server.ws_factory.setProtocolOptions(failByDrop=False, allowNullOrigin=True)


def _collector_tune() -> None:
    """Keep the cyclic garbage collector from pausing every socket of the process.

    With a thousand sockets a full collection walked ~300,000 objects and held the event loop
    for 60-190 ms, a few times a minute while people joined: the p99 of every circle on this
    process. What the server imported is moved out of the collector's sight (`gc.freeze`:
    nothing of it is garbage), and young collections run every 10,000 allocations instead of
    700, so full ones come rarely (make bench, 50x20: p99 at 640 msgs/s 320 -> 41 ms)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


def _purge_loop(every: int) -> None:
    """The retention worker, in-process for the embedded default (one process, SQLite)."""
    from django.db import close_old_connections

    from rooms.retention import purge_expired

    while True:
        try:
            close_old_connections()
            purge_expired()
        except Exception:  # keep serving; the next round retries
            logging.getLogger(__name__).exception("purge failed")
        time.sleep(every)
