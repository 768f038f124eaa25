"""Baseline: the plainest Channels broadcast app, measured with the same client as Halqa.

    .venv/bin/python bench/baseline_channels.py [--clients 50] [--messages 200] [--rate 20]
                                                [--layer memory|redis] [--redis-pubsub]

One consumer: every socket joins one group (`/ws/` all share one; `/ws/<circle>/` one per
circle, as bench/loadgen.py uses it), every text frame received is group_sent to it and relayed as
it is. No Halqa code, no database, no auth: its own tiny settings via
settings.configure. Served by daphne in a subprocess (like `manage.py serve`), so the server
does not share a process or a GIL with the clients; the difference to fanout_bench.py is what
Halqa itself costs per message (auth, rules, SQLite write, on-commit broadcast, ack).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from _fanout_client import (
    HOST,
    REDIS_URL,
    Config,
    Target,
    add_common_args,
    free_port,
    log,
    redis_cleanup,
    run_and_print,
    server_process,
    unique_prefix,
)

GROUP = "bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory")
    parser.add_argument("--redis-pubsub", action="store_true")
    # Internal: the same file, started again as the server subprocess.
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="", help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", default=REDIS_URL, help=argparse.SUPPRESS)
    return parser.parse_args()


def channel_layers(layer: str, pubsub: bool, prefix: str, url: str = REDIS_URL
                   ) -> dict[str, Any]:
    """Configured like server/settings.py does for Halqa, so the layers compare one to one."""
    if layer == "memory":
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if pubsub:
        return {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                            "CONFIG": {"hosts": [url], "prefix": prefix}}}
    return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                        "CONFIG": {"hosts": [url], "prefix": prefix, "expiry": 30,
                                   "group_expiry": 86400, "capacity": 500}}}


def serve(port: int, layer: str, pubsub: bool, prefix: str, url: str = REDIS_URL) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False, SECRET_KEY="baseline-only", ALLOWED_HOSTS=[HOST], INSTALLED_APPS=[],
        CHANNEL_LAYERS=channel_layers(layer, pubsub, prefix, url), USE_I18N=False,
    )
    django.setup()

    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from django.urls import path

    class Broadcast(AsyncWebsocketConsumer):
        group = GROUP

        async def connect(self) -> None:
            circle = self.scope["url_route"]["kwargs"].get("circle")
            if circle is not None:
                self.group = f"{GROUP}.{circle}"
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self.accept()

        async def disconnect(self, code: int) -> None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

        async def receive(self, text_data: str | None = None,
                          bytes_data: bytes | None = None) -> None:
            if text_data is not None:
                await self.channel_layer.group_send(self.group,
                                                    {"type": "relay", "text": text_data})

        async def relay(self, event: dict[str, Any]) -> None:
            await self.send(text_data=event["text"])

    application = ProtocolTypeRouter(
        {"websocket": URLRouter([path("ws/", Broadcast.as_asgi()),
                                 path("ws/<str:circle>/", Broadcast.as_asgi())])}
    )
    # The same daphne settings as web/management/commands/serve.py.
    Server(
        application=application,
        endpoints=build_endpoint_description_strings(host=HOST, port=port), action_logger=None,
        websocket_max_message_size=64 * 1024, ping_interval=20, ping_timeout=30,
        application_close_timeout=10, verbosity=0,
    ).run()


def main() -> int:
    args = parse_args()
    if args.serve:
        serve(args.port, args.layer, args.redis_pubsub, args.prefix, args.redis_url)
        return 0
    cfg = Config.from_args(args)
    layer = args.layer + ("-pubsub" if args.layer == "redis" and args.redis_pubsub else "")
    port = free_port()
    prefix = unique_prefix("baseline")
    argv = [sys.executable, __file__, "--serve", "--port", str(port), "--layer", args.layer,
            "--prefix", prefix, *(["--redis-pubsub"] if args.redis_pubsub else [])]
    with tempfile.TemporaryDirectory(prefix="baseline-channels-") as tmp:
        try:
            with server_process(argv, port=port, log_path=Path(tmp) / "server.log"):
                log(f"channels baseline up on {HOST}:{port} (layer {layer})")
                target = Target(name=f"channels/{layer}", url=f"ws://{HOST}:{port}/ws/",
                                origin=f"http://{HOST}:{port}")
                run_and_print(target, cfg)
        finally:
            if args.layer == "redis":
                try:
                    log(f"removed {redis_cleanup(prefix)} Redis keys under {prefix}")
                except Exception as exc:  # cleanup must not hide the run's own outcome
                    log(f"Redis cleanup failed: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
