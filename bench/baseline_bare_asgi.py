"""Baseline (d): a bare ASGI app on daphne that fans out in-process, with no channel layer.

    .venv/bin/python bench/baseline_bare_asgi.py --port 9001   # serve until SIGTERM/SIGINT

No Django, no Channels: one plain ASGI callable. Each socket on `/ws/<circle>/` joins that
circle's set (kept in this process), and every text frame it sends is relayed, as it is, to every
socket of the set, its own included, by calling each one's ASGI `send`. Served by daphne with the
same settings as `manage.py serve`, so the gap between this and Halqa is what Halqa adds on top of
daphne, and the gap between this and bench/baseline_raw_ws.py is what daphne (Twisted, ASGI
queues) costs. bench/run.py starts it pinned to one core and drives it with bench/loadgen.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

HOST = "127.0.0.1"

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

_circles: dict[str, set[Send]] = {}


async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"websockets only\n"})
        return
    if scope["type"] != "websocket":
        return
    path = scope["path"]
    members: set[Send] | None = None
    try:
        while True:
            event = await receive()
            kind = event["type"]
            if kind == "websocket.connect":
                await send({"type": "websocket.accept"})
                members = _circles.setdefault(path, set())
                members.add(send)
            elif kind == "websocket.receive":
                text = event.get("text")
                if text is not None and members is not None:
                    frame = {"type": "websocket.send", "text": text}
                    # daphne's send writes to the socket's transport at once: no queue per
                    # recipient, nothing awaited on the network.
                    for other in tuple(members):
                        await other(frame)
            elif kind == "websocket.disconnect":
                return
    finally:
        if members is not None:
            members.discard(send)
            if not members:
                _circles.pop(path, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default=HOST)
    args = parser.parse_args()

    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server

    # The same daphne settings as web/management/commands/serve.py.
    Server(
        application=application,
        endpoints=build_endpoint_description_strings(host=args.host, port=args.port),
        action_logger=None, websocket_max_message_size=64 * 1024, ping_interval=20,
        ping_timeout=30, application_close_timeout=10, verbosity=0,
    ).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
