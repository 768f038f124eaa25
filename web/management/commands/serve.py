"""Serve Halqa with daphne, without an access log: client addresses are never written anywhere."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the ASGI app (HTTP and websockets) with daphne, without an access log."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--websocket-max-message-size", type=int, default=64 * 1024)
        parser.add_argument(
            "--purge-every", type=int, default=0, metavar="SECONDS",
            help="Also run the retention purge in this process every SECONDS (embedded default).",
        )

    def handle(self, *args: Any, host: str, port: int, websocket_max_message_size: int,
               purge_every: int = 0, **options: Any) -> None:
        from server.asgi import application

        if purge_every:
            threading.Thread(target=_purge_loop, args=(purge_every,), daemon=True,
                             name="halqa-purge").start()
        self.stdout.write(f"Halqa is serving on http://{host}:{port}/ (no access log)")
        self.stdout.flush()
        Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            action_logger=None,  # daphne's access log would record client addresses
            websocket_max_message_size=websocket_max_message_size,
            ping_interval=20,
            ping_timeout=30,
            application_close_timeout=10,
            verbosity=0,
        ).run()


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
