"""Baseline: a raw `websockets` server that broadcasts each message to every connected client.

    .venv/bin/python bench/baseline_raw_ws.py [--clients 50] [--messages 200] [--rate 20]

No Django, no ASGI, no channel layer: the floor for one Python process relaying text frames.
Sockets are grouped by path: every socket on `/` shares one group, `/ws/<circle>/` (as
bench/loadgen.py connects) one group per circle.
Served from a subprocess (this file started again), so server and clients do not share a GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from pathlib import Path

from _fanout_client import (
    HOST,
    Config,
    Target,
    add_common_args,
    free_port,
    log,
    run_and_print,
    server_process,
)
from websockets.asyncio.server import ServerConnection, broadcast, serve


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    # Internal: the same file, started again as the server subprocess.
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


async def serve_forever(port: int) -> None:
    groups: dict[str, set[ServerConnection]] = {}

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else "/"
        connected = groups.setdefault(path, set())
        connected.add(ws)
        try:
            async for message in ws:
                # Queues the frame on every socket without awaiting each one, like a group send.
                broadcast(connected, message)
        finally:
            connected.discard(ws)
            if not connected:
                groups.pop(path, None)

    # Same limits and keepalive as Halqa's daphne; no compression, as the clients ask none.
    async with serve(handler, HOST, port, compression=None, max_size=64 * 1024,
                     ping_interval=20, ping_timeout=30) as server:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, server.close)
        await server.wait_closed()


def main() -> int:
    args = parse_args()
    if args.serve:
        asyncio.run(serve_forever(args.port))
        return 0
    cfg = Config.from_args(args)
    port = free_port()
    argv = [sys.executable, __file__, "--serve", "--port", str(port)]
    with tempfile.TemporaryDirectory(prefix="baseline-raw-ws-") as tmp, \
            server_process(argv, port=port, log_path=Path(tmp) / "server.log"):
        log(f"raw websockets baseline up on {HOST}:{port}")
        target = Target(name="raw-websockets", url=f"ws://{HOST}:{port}/",
                        origin=f"http://{HOST}:{port}")
        run_and_print(target, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
