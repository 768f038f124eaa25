"""The client side shared by every fan-out bench: connect N sockets, send M messages, measure.

A target (Halqa, the plain Channels baseline, the raw websockets baseline) supplies a URL,
per-client headers and an optional join step; everything else (pacing, timing, counting, the
printed RESULT line) is the same code, so the figures of the three benches compare directly.

Also holds the few process helpers the benches share (free port, server subprocess, Redis
cleanup). Every wait is bounded; every socket and subprocess is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

HOST = "127.0.0.1"
REDIS_URL = "redis://127.0.0.1:6379/0"
REFUSAL_CODES = frozenset({"rate_limited", "slow_mode"})

JoinStep = Callable[[ClientConnection, int], Awaitable[None]]


class JoinError(Exception):
    """A client could not enter the room (room full, closed, refused...)."""


@dataclass(frozen=True)
class Target:
    name: str  # printed in the RESULT line, e.g. "halqa/memory"
    url: str
    origin: str
    headers: Callable[[int], list[tuple[str, str]]] = lambda index: []
    join: JoinStep | None = None  # runs after the handshake, before any measurement
    has_ack: bool = False  # Halqa acks each message; the baselines do not


@dataclass(frozen=True)
class Config:
    clients: int
    messages: int
    senders: int
    rate: float
    connect_timeout: float
    idle_timeout: float
    drain_timeout: float
    max_seconds: float
    connect_parallel: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Config:
        return cls(
            clients=args.clients, messages=args.messages,
            senders=max(1, min(args.senders, args.clients)), rate=args.rate,
            connect_timeout=args.connect_timeout, idle_timeout=args.idle_timeout,
            drain_timeout=args.drain_timeout, max_seconds=args.max_seconds,
            connect_parallel=args.connect_parallel,
        )


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clients", type=int, default=50, help="websocket clients (N)")
    parser.add_argument("--messages", type=int, default=200, help="messages sent in all (M)")
    parser.add_argument("--senders", type=int, default=5,
                        help="clients that take turns sending (round-robin), to stay under "
                             "per-identity flood limits")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="messages per second, in all (0: as fast as possible)")
    parser.add_argument("--connect-timeout", type=float, default=15.0,
                        help="seconds for one client's handshake and join")
    parser.add_argument("--idle-timeout", type=float, default=3.0,
                        help="after the last send, stop when nothing arrived for this long")
    parser.add_argument("--drain-timeout", type=float, default=30.0,
                        help="after the last send, stop after this long in any case")
    parser.add_argument("--max-seconds", type=float, default=300.0,
                        help="hard cap on the measured run (connect + send + drain)")
    parser.add_argument("--connect-parallel", type=int, default=16,
                        help="handshakes in flight at once")


# --- Measurement ------------------------------------------------------------------------------
@dataclass
class Stats:
    """Everything the readers and the sender record; summarised once at the end."""

    expected: int
    latencies_ns: list[int] = field(default_factory=list)
    ack_rtts_ns: list[int] = field(default_factory=list)
    send_ns: dict[int, int] = field(default_factory=dict)  # seq -> send time
    id_to_seq: dict[int, int] = field(default_factory=dict)  # Halqa message id -> seq (acks)
    # (client, message id, recv_ns) of deliveries whose text the server changed
    unmatched: list[tuple[int, int, int]] = field(default_factory=list)
    seen: list[set[int]] = field(default_factory=list)  # per client: seqs received
    received: int = 0
    duplicates: int = 0
    rewritten: int = 0  # bodies changed by the server, matched back through the ack id
    refusals: Counter[str] = field(default_factory=Counter)
    other_errors: Counter[str] = field(default_factory=Counter)
    closed: Counter[int] = field(default_factory=Counter)  # close codes seen mid-run
    unsent: int = 0
    join_failures: Counter[str] = field(default_factory=Counter)
    first_send_ns: int = 0
    last_send_ns: int = 0
    last_recv_ns: int = 0
    timed_out: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    progress_at: float = 0.0  # monotonic seconds of the last delivery

    def deliver(self, client: int, seq: int, recv_ns: int, sent_ns: int) -> None:
        if seq in self.seen[client]:
            self.duplicates += 1
            return
        self.seen[client].add(seq)
        self.received += 1
        self.latencies_ns.append(recv_ns - sent_ns)
        self.last_recv_ns = max(self.last_recv_ns, recv_ns)
        self.progress_at = time.monotonic()
        if self.received >= self.expected:
            self.done.set()


def _parse_body(body: str) -> tuple[int, int] | None:
    """"bench <seq> <send ns>" -> (seq, send ns); None when the server rewrote the text."""
    parts = body.split(" ")
    if len(parts) == 3 and parts[0] == "bench" and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


async def _read(ws: ClientConnection, client: int, stats: Stats,
                acks: dict[str, int] | None) -> None:
    """Record every frame this client gets until the socket closes or the task is cancelled."""
    try:
        async for raw in ws:
            recv_ns = time.monotonic_ns()  # first, before any parsing cost
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message.new":  # Halqa
                message = frame["message"]
                _on_delivery(stats, client, recv_ns, message.get("body", ""), message.get("id"))
            elif kind == "message.send":  # the baselines echo the client frame as it is
                _on_delivery(stats, client, recv_ns, frame.get("body", ""), None)
            elif kind == "message.ack" and acks is not None:
                seq = int(str(frame["client_id"])[1:])
                stats.id_to_seq[int(frame["id"])] = seq
                if (sent := acks.pop(frame["client_id"], None)) is not None:
                    stats.ack_rtts_ns.append(recv_ns - sent)
            elif kind == "error":
                code = str(frame.get("code"))
                (stats.refusals if code in REFUSAL_CODES else stats.other_errors)[code] += 1
    except ConnectionClosed as exc:
        stats.closed[exc.rcvd.code if exc.rcvd else 1006] += 1


def _on_delivery(stats: Stats, client: int, recv_ns: int, body: str, message_id: Any) -> None:
    parsed = _parse_body(body) if isinstance(body, str) else None
    if parsed is not None:
        stats.deliver(client, parsed[0], recv_ns, parsed[1])
    elif isinstance(message_id, int):
        # Text changed on the way (e.g. a redaction rule): match it via the ack id at the end.
        stats.unmatched.append((client, message_id, recv_ns))


# --- The run ----------------------------------------------------------------------------------
async def _open(target: Target, index: int, cfg: Config, gate: asyncio.Semaphore,
                stats: Stats) -> ClientConnection | None:
    async with gate:
        ws: ClientConnection | None = None
        try:
            async with asyncio.timeout(cfg.connect_timeout):
                ws = await connect(
                    target.url,
                    additional_headers=[("Origin", target.origin), *target.headers(index)],
                    proxy=None,  # never route through an environment proxy: loopback only
                    compression=None,  # same framing cost for every target
                    ping_interval=None,  # keepalive pings would add frames to the figures
                    max_queue=4096,  # let readers lag briefly without pushing back on the server
                    max_size=2**20, open_timeout=cfg.connect_timeout, close_timeout=2,
                )
                if target.join is not None:
                    await target.join(ws, index)
            return ws
        except (OSError, TimeoutError, WebSocketException, JoinError) as exc:
            stats.join_failures[type(exc).__name__ + (f":{exc}" if str(exc) else "")] += 1
            if ws is not None:
                await ws.close()
            return None


async def _send_all(clients: Sequence[ClientConnection], cfg: Config, stats: Stats,
                    acks: dict[str, int] | None) -> None:
    """Send M messages at a steady rate, round-robin over the first `senders` clients."""
    senders = clients[: cfg.senders]
    start = time.monotonic()
    for seq in range(cfg.messages):
        # rate <= 0: back to back, to find the ceiling rather than the latency at a given load.
        delay = start + seq / cfg.rate - time.monotonic() if cfg.rate > 0 else 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        sent_ns = time.monotonic_ns()  # one clock for sender and readers: same process
        frame = json.dumps({"type": "message.send", "body": f"bench {seq} {sent_ns}",
                            "client_id": f"b{seq}"})
        stats.send_ns[seq] = sent_ns
        if acks is not None:
            acks[f"b{seq}"] = sent_ns
        try:
            await senders[seq % len(senders)].send(frame)
        except ConnectionClosed:
            stats.unsent += 1
        stats.first_send_ns = stats.first_send_ns or sent_ns
        stats.last_send_ns = sent_ns


async def _drain(cfg: Config, stats: Stats) -> None:
    """Wait for the last deliveries: done, idle for idle_timeout, or drain_timeout passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + cfg.drain_timeout
    stats.progress_at = max(stats.progress_at, time.monotonic())
    while not stats.done.is_set():
        idle_left = stats.progress_at + cfg.idle_timeout - time.monotonic()
        left = min(deadline - loop.time(), idle_left)
        if left <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stats.done.wait(), left)


async def drive(target: Target, cfg: Config) -> Stats:
    """Connect, join, send, drain, close; returns what was measured (even on timeout)."""
    stats = Stats(expected=cfg.clients * cfg.messages)
    stats.seen = [set() for _ in range(cfg.clients)]
    acks: dict[str, int] | None = {} if target.has_ack else None
    clients: list[ClientConnection] = []
    readers: list[asyncio.Task[None]] = []
    try:
        async with asyncio.timeout(cfg.max_seconds):
            gate = asyncio.Semaphore(cfg.connect_parallel)
            began = time.monotonic()
            opened = await asyncio.gather(
                *(_open(target, i, cfg, gate, stats) for i in range(cfg.clients))
            )
            clients = [ws for ws in opened if ws is not None]
            log(f"{len(clients)}/{cfg.clients} clients joined in {time.monotonic() - began:.1f}s")
            if not clients:
                return stats
            readers = [asyncio.create_task(_read(ws, i, stats, acks))
                       for i, ws in enumerate(clients)]
            await _send_all(clients, cfg, stats, acks)
            await _drain(cfg, stats)
    except TimeoutError:
        stats.timed_out = True
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
    _match_rewritten(stats)
    return stats


def _match_rewritten(stats: Stats) -> None:
    for client, message_id, recv_ns in stats.unmatched:
        seq = stats.id_to_seq.get(message_id)
        if seq is not None and seq in stats.send_ns:
            stats.rewritten += 1
            stats.deliver(client, seq, recv_ns, stats.send_ns[seq])


# --- Report -----------------------------------------------------------------------------------
def _pct(values: Sequence[int], q: float) -> float:
    """Nearest-rank percentile of nanoseconds, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[rank] / 1e6


def result_line(target: Target, cfg: Config, stats: Stats) -> str:
    """One line per run, the same for every target, so runs can be diffed and grepped."""
    span_ns = max(stats.last_recv_ns - stats.first_send_ns, 1)
    lat = stats.latencies_ns
    fields = [
        f"target={target.name}",
        f"clients={cfg.clients}", f"messages={cfg.messages}", f"senders={cfg.senders}",
        f"rate={cfg.rate:g}/s",
        f"deliveries={stats.received}/{stats.expected}",
        f"lost={stats.expected - stats.received}",
        f"deliveries_per_s={stats.received / (span_ns / 1e9):.0f}" if stats.received else
        "deliveries_per_s=0",
        f"lat_ms_p50={_pct(lat, 0.50):.2f}", f"p95={_pct(lat, 0.95):.2f}",
        f"p99={_pct(lat, 0.99):.2f}", f"max={(max(lat) / 1e6 if lat else float('nan')):.2f}",
        f"ack_ms_p50={_pct(stats.ack_rtts_ns, 0.50):.2f}" if target.has_ack else "ack_ms_p50=-",
        f"refused={sum(stats.refusals.values())}",
        f"send_s={(stats.last_send_ns - stats.first_send_ns) / 1e9:.2f}",
        f"span_s={span_ns / 1e9:.2f}",
    ]
    # Rare conditions only when they happened, so the common line stays short.
    extras: list[str] = []
    if stats.refusals:
        extras.append("refusals=" + ",".join(f"{k}:{v}" for k, v in stats.refusals.items()))
    if stats.other_errors:
        extras.append("errors=" + ",".join(f"{k}:{v}" for k, v in stats.other_errors.items()))
    if stats.join_failures:
        extras.append("join_failed=" + ",".join(
            f"{k}:{v}" for k, v in stats.join_failures.items()).replace(" ", "_"))
    if stats.closed:
        extras.append("closed=" + ",".join(f"{k}:{v}" for k, v in stats.closed.items()))
    for name in ("unsent", "duplicates", "rewritten"):
        if getattr(stats, name):
            extras.append(f"{name}={getattr(stats, name)}")
    if stats.timed_out:
        extras.append("timed_out=1")
    return "RESULT " + " ".join(fields + extras)


def run_and_print(target: Target, cfg: Config) -> Stats:
    stats = asyncio.run(drive(target, cfg))
    print(result_line(target, cfg, stats), flush=True)
    return stats


def log(text: str) -> None:
    """Progress goes to stderr so stdout holds only RESULT lines."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# --- Process helpers --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server_process(argv: list[str], *, port: int, log_path: Path, cwd: Path | None = None,
                   env: dict[str, str] | None = None, start_timeout: float = 30.0
                   ) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server subprocess, wait for its port, and always stop it on the way out."""
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for_port(proc, port, start_timeout, log_path)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_for_port(proc: subprocess.Popen[bytes], port: int, limit: float, log_path: Path
                   ) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{tail(log_path)}") from None
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {limit:g}s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def redis_cleanup(prefix: str, url: str = REDIS_URL) -> int:
    """Delete what a run left under its own unique prefix (group sets, rate-limit keys)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


def unique_prefix(name: str) -> str:
    return f"{name}-bench-{os.getpid()}-{time.time_ns() % 10**9}"
