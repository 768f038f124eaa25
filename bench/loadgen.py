"""Open-loop websocket load generator: C circles x M members, one sender per circle.

Used by bench/run.py (`make bench`); it can also drive a server that is already running:

    .venv/bin/python bench/loadgen.py --url ws://127.0.0.1:9001/ws/{circle}/ \\
        --circles 50 --members 20 --rates 10,40,160 [--seconds 5]

Open loop: each circle's sender has a fixed schedule (message k of circle c is due at
t0 + (k*C + c) / rate, so the sends of all circles are evenly spread) and never waits for a reply
before the next send. Every message carries its *scheduled* send time in its body, and latency is
measured from that time to the message's arrival at each member (the sender included), so a
server that falls behind cannot hide its queue by slowing the generator down (no coordinated
omission).

The body is `load qlg<circle>z<seq>z<scheduled us>` with the digits written as the letters a-j:
no digit for the house rules to read as a phone number, no dot for a link, one long word that no
blocked word matches. A step counts, per member, every message it should get: lost (never came
before the drain ended), duplicated (came twice), misrouted (came from another circle).

The generator knows when it is the limit: its own CPU over the step plus the time it waited for
its core (schedstat run delay: another process had it) near 100 %, or its schedule lag (how late
a sender woke up for a send that it had slept for) over 10 ms and a quarter of the p99. Lateness
that comes from a socket the server does not read is reported apart, as `late_p99`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import random
import re
import string
import sys
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

SLO_P99_MS = 100.0
GENERATOR_CPU_LIMIT = 0.90  # share of one core above which the generator is the limit
GENERATOR_LAG_LIMIT_MS = 10.0  # p99 schedule lag above which the generator is the limit

_ENC = str.maketrans("0123456789", "abcdefghij")
_DEC = str.maketrans("abcdefghij", "0123456789")
STAMP_RE = re.compile(r"qlg([a-j]+)z([a-j]+)z([a-j]+)")


def stamp(circle: int, seq: int, scheduled_us: int) -> str:
    """The message body: circle, sequence number and scheduled send time, in letters only."""
    return (f"load qlg{str(circle).translate(_ENC)}z{str(seq).translate(_ENC)}"
            f"z{str(scheduled_us).translate(_ENC)}")


def unstamp(text: str) -> tuple[int, int, int] | None:
    match = STAMP_RE.search(text)
    if match is None:
        return None
    return (int(match[1].translate(_DEC)), int(match[2].translate(_DEC)),
            int(match[3].translate(_DEC)))


# --- What differs between servers ---------------------------------------------------------------
JoinStep = Callable[[ClientConnection], Awaitable[None]]


class JoinError(Exception):
    """A member could not enter its circle (refused, closed, timed out)."""


@dataclass(frozen=True)
class Adapter:
    """How to reach one server: a socket URL and headers per member, an optional join step, and
    the frame that sends a stamped body. Every target must relay that body, unchanged, in a text
    frame of type `message.new` or `message.send` to every member of the sender's circle."""

    name: str
    url: Callable[[int, int], str]  # (circle, member) -> ws:// URL
    origin: str
    headers: Callable[[int, int], list[tuple[str, str]]] = lambda circle, member: []
    join: JoinStep | None = None
    frame: Callable[[str, str], str] = (  # (body, client_id) -> text frame
        lambda body, client_id: json.dumps(
            {"type": "message.send", "body": body, "client_id": client_id}))


def echo_adapter(name: str, url_template: str) -> Adapter:
    """The in-repo baselines: connect to url_template.format(circle=...), relay what is sent."""
    origin = "http://" + url_template.split("://", 1)[1].split("/", 1)[0]
    return Adapter(name=name, url=lambda c, m: url_template.format(circle=f"c{c}"),
                   origin=origin)


async def halqa_join(ws: ClientConnection) -> None:
    """As room.js does: accept the house rules when the first welcome asks, wait to be in."""
    accepted = False
    while True:
        frame = json.loads(await ws.recv())
        kind = frame.get("type")
        if kind == "welcome":
            if frame.get("joined"):
                return
            if frame.get("rules", {}).get("accepted") is False and not accepted:
                await ws.send('{"type":"rules.accept"}')
                accepted = True
        elif kind == "error":
            raise JoinError(str(frame.get("code")))


def halqa_adapter(name: str, base_url: str, slugs: Sequence[str],
                  sessions: Sequence[Sequence[str]]) -> Adapter:
    """Halqa: base_url like http://127.0.0.1:9001; sessions[circle][member] = sessionid."""
    ws_base = base_url.replace("http://", "ws://", 1)
    return Adapter(
        name=name,
        url=lambda c, m: f"{ws_base}/ws/rooms/{slugs[c]}/",
        origin=base_url,
        headers=lambda c, m: [("Cookie", f"sessionid={sessions[c][m]}")],
        join=halqa_join,
    )


# --- One step of load ---------------------------------------------------------------------------
@dataclass
class StepResult:
    rate: float  # messages per second offered, all circles together
    seconds: float  # length of the send schedule
    circles: int
    members: int
    sent: int = 0
    expected: int = 0
    received: int = 0
    duplicates: int = 0
    misrouted: int = 0
    stragglers: int = 0  # arrivals of an earlier step's messages
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    achieved: float = 0.0  # deliveries per second, from the first send to the last arrival
    generator_cpu: float = 0.0  # share of one core used by this process during the step
    generator_wait: float = 0.0  # share of the step it was runnable but another task had the core
    lag_p99_ms: float = 0.0  # schedule lag (generator) at p99
    late_p99_ms: float = 0.0  # how late sends went out for any reason, p99
    errors: Counter[str] = field(default_factory=Counter)
    closed: Counter[int] = field(default_factory=Counter)
    unsent: int = 0
    wall: float = 0.0  # seconds the step took, drain included
    server: dict[str, float] = field(default_factory=dict)  # filled in by the caller

    @property
    def offered(self) -> float:
        return self.rate * self.members

    @property
    def lost(self) -> int:
        return self.expected - self.received

    @property
    def ok(self) -> bool:
        return (self.expected > 0 and self.lost == 0 and self.duplicates == 0
                and self.misrouted == 0 and not self.errors and not self.closed
                and not self.unsent and self.p99_ms <= SLO_P99_MS)

    @property
    def generator_limited(self) -> bool:
        """The generator's core was full, or its sends went out late by enough to matter: over
        10 ms and over a quarter of the p99 (latency counts from the scheduled time, so lateness
        of the generator's own is added to every figure)."""
        return (self.generator_cpu + self.generator_wait >= GENERATOR_CPU_LIMIT
                or self.lag_p99_ms > max(GENERATOR_LAG_LIMIT_MS, self.p99_ms / 4))

    def line(self) -> str:
        flags = []
        if self.lost:
            flags.append(f"lost={self.lost}")
        if self.duplicates:
            flags.append(f"dup={self.duplicates}")
        if self.misrouted:
            flags.append(f"misrouted={self.misrouted}")
        if self.errors:
            flags.append("errors=" + ",".join(f"{k}:{v}" for k, v in self.errors.items()))
        if self.closed:
            flags.append("closed=" + ",".join(f"{k}:{v}" for k, v in self.closed.items()))
        if self.unsent:
            flags.append(f"unsent={self.unsent}")
        if self.generator_limited:
            flags.append("GENERATOR-LIMITED")
        extra = "".join(f" {k}={v:.3g}" for k, v in self.server.items())
        return (f"{'PASS' if self.ok else 'FAIL'} {self.circles}x{self.members} "
                f"rate={self.rate:g}/s offered={self.offered:.0f}/s achieved={self.achieved:.0f}/s "
                f"p50={self.p50_ms:.1f}ms p99={self.p99_ms:.1f}ms max={self.max_ms:.1f}ms "
                f"deliveries={self.received}/{self.expected} gen_cpu={self.generator_cpu:.0%} "
                f"gen_wait={self.generator_wait:.0%} "
                f"lag_p99={self.lag_p99_ms:.1f}ms late_p99={self.late_p99_ms:.1f}ms"
                f"{extra} {' '.join(flags)}").rstrip()


@dataclass
class _Step:
    base: int  # first sequence number of this step
    count: int  # messages per circle
    got: list[bytearray]  # per member: 1 where that message arrived
    latencies: array  # microseconds
    result: StepResult
    progress_at: float = 0.0
    last_recv: float = 0.0


@dataclass
class Member:
    circle: int
    index: int  # place in LoadGen.members
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None


def run_delay_seconds(path: str = "/proc/thread-self/schedstat") -> float:
    """Time a thread spent runnable but waiting for a core (0 where the kernel does not say)."""
    try:
        with open(path) as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _pct(ordered: Sequence[int], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))] / 1000


class LoadGen:
    """Holds C x M open sockets between steps; `step()` runs one rate, `close()` ends it all."""

    def __init__(self, adapter: Adapter, circles: int, members: int, *,
                 connect_parallel: int = 32, connect_timeout: float = 30.0,
                 log: Callable[[str], None] | None = None) -> None:
        self.adapter = adapter
        self.circles = circles
        self.per_circle = members
        self.connect_parallel = connect_parallel
        self.connect_timeout = connect_timeout
        self.log = log or (lambda text: print(f"[loadgen] {text}", file=sys.stderr, flush=True))
        self.members = [Member(circle=c, index=c * members + m)
                        for c in range(circles) for m in range(members)]
        self.epoch = time.monotonic()
        self.next_seq = 0
        # A client_id is unique per author, and identities are reused between runs: a run tag.
        self.tag = "".join(random.choices(string.ascii_letters, k=6))
        self.current: _Step | None = None
        self.stragglers = 0
        self.frames_at = time.monotonic()  # when the last stamped frame arrived
        self.join_failures: Counter[str] = Counter()

    # --- sockets ---
    @property
    def connected(self) -> int:
        return sum(1 for m in self.members if m.ws is not None)

    async def connect(self, only: Sequence[Member] | None = None, retries: int = 2) -> int:
        """Open (or reopen) sockets; returns how many are open in all."""
        gate = asyncio.Semaphore(self.connect_parallel)
        todo = [m for m in (only if only is not None else self.members) if m.ws is None]
        for _attempt in range(retries + 1):
            await asyncio.gather(*(self._open(m, gate) for m in todo))
            todo = [m for m in todo if m.ws is None]
            if not todo:
                break
        # Everything allocated so far (sockets, connections) lives until the end: out of the
        # collector's sight, so that a full collection cannot pause the generator mid-step.
        gc.collect()
        gc.freeze()
        return self.connected

    async def _open(self, member: Member, gate: asyncio.Semaphore) -> None:
        c, m = member.circle, member.index % self.per_circle
        async with gate:
            ws: ClientConnection | None = None
            try:
                async with asyncio.timeout(self.connect_timeout):
                    ws = await connect(
                        self.adapter.url(c, m),
                        additional_headers=[("Origin", self.adapter.origin),
                                            *self.adapter.headers(c, m)],
                        proxy=None,  # loopback only, whatever the environment says
                        compression=None,  # the same framing cost for every target
                        ping_interval=None,  # no extra frames from the client
                        max_queue=4096, max_size=2**22, close_timeout=2,
                        open_timeout=self.connect_timeout,
                    )
                    if self.adapter.join is not None:
                        await self.adapter.join(ws)
            except (OSError, TimeoutError, WebSocketException, JoinError, ValueError) as exc:
                self.join_failures[f"{type(exc).__name__}:{exc}"[:80]] += 1
                if ws is not None:
                    with contextlib.suppress(Exception):
                        await ws.close()
                return
        member.ws = ws
        member.reader = asyncio.create_task(self._read(member, ws))

    async def _read(self, member: Member, ws: ClientConnection) -> None:
        circle, index = member.circle, member.index
        clock = time.monotonic
        try:
            async for raw in ws:
                now = clock()  # first, before any parsing
                if not isinstance(raw, str):
                    continue
                match = STAMP_RE.search(raw)
                if match is None or ('"message.new"' not in raw
                                     and '"message.send"' not in raw):
                    if '"error"' in raw:
                        self._on_error(raw)
                    continue
                self.frames_at = now
                step = self.current
                seq = int(match[2].translate(_DEC))
                if step is None or not step.base <= seq < step.base + step.count:
                    self.stragglers += 1
                    continue
                result = step.result
                if int(match[1].translate(_DEC)) != circle:
                    result.misrouted += 1
                    continue
                flags = step.got[index]
                slot = seq - step.base
                if flags[slot]:
                    result.duplicates += 1
                    continue
                flags[slot] = 1
                result.received += 1
                step.latencies.append(
                    int((now - self.epoch) * 1e6) - int(match[3].translate(_DEC)))
                step.progress_at = step.last_recv = now
        except ConnectionClosed as exc:
            if self.current is not None:
                self.current.result.closed[exc.rcvd.code if exc.rcvd else 1006] += 1
        finally:
            member.ws = None

    def _on_error(self, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            return
        if frame.get("type") == "error" and self.current is not None:
            self.current.result.errors[str(frame.get("code"))] += 1

    async def close(self) -> None:
        sockets = [m.ws for m in self.members if m.ws is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        readers = [m.reader for m in self.members if m.reader is not None]
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        gc.unfreeze()  # what the closed sockets held can go now

    # --- load ---
    async def quiet(self, idle: float = 0.5, limit: float = 15.0) -> bool:
        """Wait until no stamped frame has arrived for `idle` seconds (False: still busy)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if time.monotonic() - self.frames_at >= idle:
                return True
            await asyncio.sleep(0.05)
        return False

    async def step(self, rate: float, seconds: float, *, idle: float = 1.0,
                   max_drain: float = 5.0) -> StepResult:
        """Offer `rate` messages per second (all circles together) for about `seconds`."""
        live = [m for m in self.members if m.ws is not None]
        circles = sorted({m.circle for m in live})
        count = max(1, round(seconds * rate / self.circles))
        result = StepResult(rate=rate, seconds=count * self.circles / rate,
                            circles=self.circles, members=self.per_circle)
        step = _Step(base=self.next_seq, count=count,
                     got=[bytearray(count) for _ in self.members],
                     latencies=array("q"), result=result)
        self.next_seq += count
        members_of = Counter(m.circle for m in live)
        senders = {}
        for m in live:
            senders.setdefault(m.circle, m)
        lags: list[float] = []
        lates: list[float] = []
        gc.disable()  # no collector pause inside a step (frames are freed by refcount anyway)
        began_wall, began_cpu = time.monotonic(), time.process_time()
        began_wait = run_delay_seconds()
        t0 = began_wall + 0.05
        self.current = step

        async def send_circle(c: int) -> None:
            ws = senders[c].ws
            for k in range(count):
                due = t0 + (k * self.circles + c) / rate
                now = time.monotonic()
                if due > now:
                    await asyncio.sleep(due - now)
                    lags.append(time.monotonic() - due)
                else:
                    lates.append(now - due)
                seq = step.base + k
                body = stamp(c, seq, int((due - self.epoch) * 1e6))
                if ws is None:
                    result.unsent += count - k
                    return
                try:
                    await ws.send(self.adapter.frame(body, f"{self.tag}{c}-{seq}"))
                except ConnectionClosed:
                    result.unsent += count - k
                    return
                result.sent += 1
                result.expected += members_of[c]

        try:
            await asyncio.gather(*(send_circle(c) for c in circles if c in senders))
            last_send = time.monotonic()
            step.progress_at = last_send
            while result.received < result.expected:
                now = time.monotonic()
                if now - step.progress_at >= idle or now - last_send >= max_drain:
                    break
                await asyncio.sleep(0.01)
        finally:
            self.current = None
            gc.enable()
        wall = time.monotonic() - began_wall
        result.wall = wall
        result.generator_cpu = (time.process_time() - began_cpu) / wall
        result.generator_wait = (run_delay_seconds() - began_wait) / wall
        ordered = sorted(step.latencies)
        result.p50_ms, result.p99_ms = _pct(ordered, 0.50), _pct(ordered, 0.99)
        result.max_ms = ordered[-1] / 1000 if ordered else math.nan
        span = (step.last_recv or last_send) - t0
        result.achieved = result.received / span if span > 0 else 0.0
        lags.sort()
        result.lag_p99_ms = lags[min(len(lags) - 1, int(0.99 * len(lags)))] * 1000 if lags else 0
        everything = sorted(lags + lates)
        result.late_p99_ms = (everything[min(len(everything) - 1, int(0.99 * len(everything)))]
                              * 1000 if everything else 0)
        return result


def install_fast_loop() -> str:
    """uvloop when it is installed (a dev dependency): the generator's ceiling is higher."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


# --- Standalone use -----------------------------------------------------------------------------
async def _main(args: argparse.Namespace) -> None:
    adapter = echo_adapter("target", args.url)
    gen = LoadGen(adapter, args.circles, args.members)
    try:
        opened = await gen.connect()
        gen.log(f"{opened}/{args.circles * args.members} sockets open")
        for rate in (float(r) for r in args.rates.split(",")):
            result = await gen.step(rate, args.seconds)
            print(result.line(), flush=True)
            await gen.quiet()
    finally:
        await gen.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True,
                        help="socket URL of an echo target; {circle} becomes c0, c1, ...")
    parser.add_argument("--circles", type=int, default=50)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--rates", default="10,40,160", help="messages per second, in all")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    install_fast_loop()
    asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
