"""Fan-out bench of a real Halqa server: N members in one circle, M messages, delivery latency.

    .venv/bin/python bench/fanout_bench.py [--clients 50] [--messages 200] [--rate 20]
                                           [--senders 5] [--layer memory|redis] [--redis-pubsub]

Starts its own `manage.py serve` on a free loopback port with a throw-away var dir and SQLite
file (never the developer's server or database), creates the identities over HTTP as a browser
would, joins the demo circle over websockets and prints one RESULT line (see bench/README.md).
Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, ProxyHandler, Request, build_opener

from _fanout_client import (
    HOST,
    REDIS_URL,
    Config,
    JoinError,
    Target,
    add_common_args,
    free_port,
    log,
    redis_cleanup,
    run_and_print,
    server_process,
    tail,
    unique_prefix,
)
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parent.parent
ROOM = "heard-seen-safe"  # an English demo circle from `manage.py seed_demo`
# The demo circle seats 12; the bench needs a seat for every client. Flood limits (5 in a burst,
# 20 a minute per person) would refuse most of a benchmark's messages, so they are raised too,
# not switched off, so that each message still pays for its rate check. Fields the model does
# not have (yet) are skipped, so the bench runs against older and newer schemas alike.
ROOM_SETUP = f"""
from rooms.models import Room
fields = {{f.name for f in Room._meta.get_fields()}}
wanted = {{"capacity": 100000, "flood_burst": 10000, "flood_per_minute": 30000,
          "slow_mode_seconds": 0}}
keep = {{KEEP}}
Room.objects.filter(slug="{ROOM}").update(
    **{{k: v for k, v in wanted.items() if k in fields and k not in keep}})
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory",
                        help="channel layer of the server (redis: Redis on 127.0.0.1:6379)")
    parser.add_argument("--redis-pubsub", action="store_true",
                        help="with --layer redis: RedisPubSubChannelLayer instead of the core one")
    parser.add_argument("--keep-flood-limits", action="store_true",
                        help="keep the circle's product flood limits (expect refusals)")
    parser.add_argument("--keep-var", action="store_true",
                        help="keep the temporary var dir (database, server.log) for a look")
    return parser.parse_args()


def server_env(var: Path, args: argparse.Namespace, prefix: str) -> dict[str, str]:
    env = {
        **os.environ,
        "HALQA_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}",
        "REDIS_URL": "",  # explicit: a developer's .env must not pick the layer for us
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "server.settings",
        "LOG_LEVEL": "WARNING",  # per-join INFO lines would be part of what gets measured
    }
    if args.layer == "redis":
        # A unique prefix keeps this run's groups and rate-limit keys apart from anything else.
        env.update({"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
                    "CHANNEL_LAYER": "pubsub" if args.redis_pubsub else "core"})
    return env


def prepare_database(env: dict[str, str], *, keep_limits: bool) -> None:
    keep = {"flood_burst", "flood_per_minute", "slow_mode_seconds"} if keep_limits else set()
    setup = ROOM_SETUP.replace("{KEEP}", repr(keep))
    manage = [sys.executable, str(ROOT / "manage.py")]
    for step in (["migrate", "--noinput"], ["seed_demo"], ["shell", "-c", setup]):
        done = subprocess.run([*manage, *step], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {step[0]} failed:\n{done.stdout}\n{done.stderr}")


def create_identity(base: str) -> str:
    """Join anonymously as a browser does (CSRF cookie first); returns the session cookie."""
    jar = CookieJar()
    # ProxyHandler({}): ignore environment proxies, this traffic stays on loopback.
    opener = build_opener(ProxyHandler({}), HTTPCookieProcessor(jar))
    with opener.open(f"{base}/", timeout=15) as response:
        response.read()
    csrf = next((c.value for c in jar if c.name == "csrftoken"), None)
    if csrf is None:
        raise RuntimeError("GET / set no csrftoken cookie")
    request = Request(
        f"{base}/api/v1/identities/anonymous/", data=b'{"language":"en"}', method="POST",
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
    )
    try:
        with opener.open(request, timeout=15) as response:
            response.read()
    except HTTPError as exc:
        raise RuntimeError(f"identity refused: HTTP {exc.code} {exc.read()[:300]!r}") from None
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    if session is None:
        raise RuntimeError("the identity call set no sessionid cookie")
    return session


async def halqa_join(ws: ClientConnection, index: int) -> None:
    """Accept the house rules if asked, then wait until the server says we are in."""
    accepted = False
    while True:
        frame = json.loads(await ws.recv())
        kind = frame.get("type")
        if kind == "welcome":
            if frame.get("joined"):
                return
            if not frame["rules"]["accepted"] and not accepted:
                await ws.send('{"type":"rules.accept"}')
                accepted = True
        elif kind == "error":
            raise JoinError(str(frame.get("code")))


def main() -> int:
    args = parse_args()
    cfg = Config.from_args(args)
    layer = args.layer + ("-pubsub" if args.layer == "redis" and args.redis_pubsub else "")
    var = Path(tempfile.mkdtemp(prefix="halqa-fanout-"))
    prefix = unique_prefix("halqa")
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = server_env(var, args, prefix)
    try:
        log(f"preparing a fresh database in {var}")
        prepare_database(env, keep_limits=args.keep_flood_limits)
        serve = [sys.executable, str(ROOT / "manage.py"), "serve", "--host", HOST,
                 "--port", str(port)]
        with server_process(serve, port=port, log_path=var / "server.log", cwd=ROOT, env=env):
            log(f"server up on {base} (layer {layer}); creating {cfg.clients} identities")
            with ThreadPoolExecutor(max_workers=8) as pool:
                sessions = list(pool.map(lambda _i: create_identity(base), range(cfg.clients)))
            target = Target(
                name=f"halqa/{layer}",
                url=f"ws://{HOST}:{port}/ws/rooms/{ROOM}/",
                origin=base,
                headers=lambda i: [("Cookie", f"sessionid={sessions[i]}")],
                join=halqa_join,
                has_ack=True,
            )
            stats = run_and_print(target, cfg)
            if stats.received < stats.expected or stats.other_errors:
                log("server log tail:\n" + tail(var / "server.log", 15))
    finally:
        if args.layer == "redis":
            try:
                log(f"removed {redis_cleanup(prefix)} Redis keys under {prefix}")
            except Exception as exc:  # cleanup must not hide the run's own outcome
                log(f"Redis cleanup failed: {exc}")
        if args.keep_var:
            log(f"kept {var}")
        else:
            shutil.rmtree(var, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
