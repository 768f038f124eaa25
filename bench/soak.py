"""`make soak`: a long run of many people coming and going, that must lose and double nothing.

    .venv/bin/python bench/soak.py [--minutes 30] [--circles 20] [--members 10] [--seed 1]

Halqa on Redis (a private redis-server) + PostgreSQL (the database `halqa_bench`, created and
dropped here), two server processes behind nginx, started with bench/run.py's helpers. The first
process also runs the retention purge every minute (`serve --purge-every 60`). The circles keep
the product's flood limits (5 in a burst, 20 a minute per person).

Who is in it (200 participants in 20 circles by default, plus one facilitator per circle):

- participants send a message every 30 s on average (exponential gaps); now and then one leaves
  for 5-40 s and comes back, or drops its socket and reconnects at once; half the returns and most
  reconnects resume with `?after=<the last id it saw>`;
- three flooders (the first member of circles 0, 7 and 14, when there are that many) send a
  burst of 30 messages at 10 a second 20-40 s in, then every 1-2 minutes, ignoring refusals:
  they get `rate_limited` and, at the fifth refusal, close 4429; they wait `retry_after` and
  come back;
- each facilitator, every 40-80 s, mutes a participant of its circle for a minute, unmutes them
  15 s later, and deletes one of the circle's messages.

Accounting. Every message carries its circle and send time (bench/loadgen.py's stamp). A message
is owed to a member for a stretch of connection ("session") that ended at least GRACE seconds after
the message was stored (acknowledged), when the message was sent after the session's `welcome`, or
when the session resumed with `?after=<id>` below the message's id (the history brings it back).
Each owed message must have arrived exactly once, live or in a resumed history; messages a
facilitator deleted are not owed (they may go before they reach everyone). A message that arrives
twice (live twice, or live and again in a resumed history) is doubled, owed or not.

Printed: messages sent / acknowledged / stored (rows in the database at the end) / delivered,
losses and duplicates per member, error frames by code, server closes by code, p50/p99 latency
(send to arrival, live deliveries) per 5-minute window (1-minute when the run is under 10
minutes), each server process's RSS at the start (everyone joined) and at the end. Exit status 1
when anything was lost, doubled or misrouted, or the stored count is not what was acknowledged
minus what was deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from loadgen import install_fast_loop, stamp, unstamp  # noqa: E402  (bench/ is not a package)
from run import (  # noqa: E402
    HOST,
    PY,
    ROOT,
    Cores,
    ensure_nginx,
    free_port,
    halqa_env,
    halqa_prepare,
    nginx,
    pg_recreate,
    private_redis,
    proc_rss_kb,
    process,
    tail,
)
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, WebSocketException  # noqa: E402

SEND_EVERY = 30.0  # seconds, mean gap between two messages of a participant
LEAVE_SHARE = 0.04  # of a participant's turns: leave for a while
RECONNECT_SHARE = 0.04  # of its turns: drop the socket and come back at once
FLOOD_BURST = 30
AGED_PER_CIRCLE = 60  # seeded messages per circle that expire during the run
FLOODER_CIRCLES = (0, 7, 14)
GRACE = 5.0  # seconds: a session must outlast a message's storage by this much to owe it
RSS_TARGET = 0.10


def log(text: str) -> None:
    print(f"[soak] {text}", file=sys.stderr, flush=True)


# --- Setup (runs in a subprocess with the servers' settings) --------------------------------------
def setup(out: Path, slugs: list[str], minutes: float) -> None:
    """Give the bench circles the product's flood limits and each one a facilitator, and seed
    each circle with messages that expire while the soak runs (the purge gets real work)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import User
    from rooms.models import Message, Room
    from rooms.services import message_post, room_enter

    defaults = {name: Room._meta.get_field(name).default
                for name in ("flood_limit", "flood_burst", "flood_per_minute",
                             "slow_mode_seconds")}
    sessions = []
    aged: list[int] = []
    # Expiry spread from 1.5 min into the run to 3 min before its end, so the purge (every
    # minute) deletes them all while people are connected and the count can be checked.
    now = timezone.now()
    first, last = 90.0, max(120.0, minutes * 60 - 180)
    for i, slug in enumerate(slugs):
        room = Room.objects.get(slug=slug)
        user = User.objects.create(username=f"soak-facilitator-{i}", pseudonym=f"Guide {i}",
                                   role=User.Role.FACILITATOR)
        room.facilitators.add(user)
        # Seeded before the flood limits are set back (prepare.py lifts them for the bench).
        membership = room_enter(user=user, room=room, accept_rules=True).membership
        for n in range(AGED_PER_CIRCLE):
            posted = message_post(membership_id=membership.pk, client_id=f"aged-{i}-{n}",
                                  body=f"An older message, #{n}, that expires during the soak.")
            share = (n * len(slugs) + i) / (AGED_PER_CIRCLE * len(slugs))
            expires = now + timedelta(seconds=first + share * (last - first))
            Message.objects.filter(pk=posted.message.pk).update(
                expires_at=expires, created_at=expires - timedelta(hours=1))
            aged.append(posted.message.pk)
        Room.objects.filter(pk=room.pk).update(**defaults)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    out.write_text(json.dumps({"facilitators": sessions, "flood": defaults, "aged": aged}))


def stored_rows(database_url: str, slugs: list[str], aged: list[int]) -> tuple[int, int]:
    """Rows of the soak's circles at the end, and how many of the seeded aged ones are left."""
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*), count(*) FILTER (WHERE m.id = ANY(%s)) "
                           "FROM rooms_message m JOIN rooms_room r ON r.id = m.room_id "
                           "WHERE r.slug = ANY(%s)", (aged, slugs)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


# --- People ---------------------------------------------------------------------------------------
@dataclass
class Session:
    began: float  # the joined welcome arrived
    after: int | None  # resumed with ?after=
    ended: float = math.inf


@dataclass
class Person:
    circle: int
    index: int
    sessionid: str
    kind: str  # participant, flooder, facilitator
    alias: str = ""
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    sessions: list[Session] = field(default_factory=list)
    got: Counter[int] = field(default_factory=Counter)  # message id -> arrivals counted
    last_id: int = 0
    pending: dict[str, float] = field(default_factory=dict)  # client_id -> sent at
    sent: int = 0
    retry_after: float = 0.0  # the last refusal's
    closing: bool = False  # we close it ourselves

    @property
    def name(self) -> str:
        return f"{self.kind} c{self.circle}#{self.index}"


@dataclass
class Stored:
    circle: int
    sent: float  # the message.send went out (from the body's stamp)
    stored: float  # the first ack or arrival anyone saw


class Soak:
    def __init__(self, base: str, slugs: list[str], people: list[Person], *, seconds: float,
                 window: float) -> None:
        self.ws_base = base.replace("http://", "ws://", 1)
        self.origin = base
        self.slugs = slugs
        self.people = people
        self.epoch = time.monotonic()
        self.end = self.epoch + seconds
        self.window = window
        self.seconds = seconds
        self.tag = "".join(random.choices(string.ascii_letters, k=5))
        self.seq = 0
        self.messages: dict[int, Stored] = {}
        self.deleted: set[int] = set()
        self.purged: set[int] = set()
        self.acks_duplicate = 0
        self.errors: Counter[str] = Counter()
        self.closes: Counter[int] = Counter()
        self.actions: Counter[str] = Counter()
        self.join_failures: Counter[str] = Counter()
        self.entries = Counter[str]()
        self.delivered = 0
        self.resumed = 0  # arrivals in a resumed history
        self.misrouted = 0
        self.latencies: dict[int, list[float]] = {}  # window -> ms
        self.start: float = self.epoch  # set when everyone has joined
        self.joined = asyncio.Event()

    # --- sockets ---
    async def enter(self, p: Person, *, resume: bool, tries: int = 6) -> bool:
        after = p.last_id if resume and p.last_id else None
        url = f"{self.ws_base}/ws/rooms/{self.slugs[p.circle]}/"
        if after is not None:
            url += f"?after={after}"
        for _ in range(tries):
            code, wait = await self._open(p, url, after)
            if not code:
                self.entries["resume" if after is not None else "fresh"] += 1
                return True
            self.join_failures[code] += 1
            await asyncio.sleep(max(1.0, wait))
        return False

    async def _open(self, p: Person, url: str, after: int | None) -> tuple[str, float]:
        try:
            ws = await connect(url, additional_headers=[
                ("Origin", self.origin), ("Cookie", f"sessionid={p.sessionid}")],
                proxy=None, compression=None, ping_interval=None, max_size=2**22,
                open_timeout=30, close_timeout=5)
        except (OSError, TimeoutError, WebSocketException) as exc:
            return type(exc).__name__, 1.0
        try:
            async with asyncio.timeout(30):
                accepted = False
                while True:
                    frame = json.loads(await ws.recv())
                    kind = frame.get("type")
                    if kind == "error":
                        self.errors[str(frame.get("code"))] += 1
                        await ws.close()
                        return str(frame.get("code")), float(frame.get("retry_after") or 1)
                    if kind != "welcome":
                        continue
                    if frame.get("joined"):
                        break
                    if frame.get("rules", {}).get("accepted") is False and not accepted:
                        await ws.send('{"type":"rules.accept"}')
                        accepted = True
        except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
            with contextlib.suppress(Exception):
                await ws.close()
            return f"join:{type(exc).__name__}", 1.0
        now = time.monotonic()
        p.alias = frame.get("you", {}).get("alias", p.alias)
        for message in frame.get("history", []):
            if after is not None:
                self._arrived(p, message, now, live=False)
            p.last_id = max(p.last_id, int(message["id"]))
        p.sessions.append(Session(began=now, after=after))
        p.ws, p.closing = ws, False
        p.reader = asyncio.create_task(self._read(p, ws))
        return "", 0.0

    async def leave(self, p: Person) -> None:
        """Close our socket once its sends are acknowledged; the session ends now."""
        deadline = time.monotonic() + 5
        while p.pending and time.monotonic() < deadline:  # noqa: ASYNC110 (a few acks, <= 5 s)
            await asyncio.sleep(0.05)
        if p.ws is None:
            return
        p.sessions[-1].ended = time.monotonic()
        p.closing = True
        with contextlib.suppress(Exception):
            await p.ws.close()
        if p.reader is not None:
            await asyncio.gather(p.reader, return_exceptions=True)

    async def _read(self, p: Person, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                now = time.monotonic()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.new":
                    self._arrived(p, frame["message"], now, live=True)
                elif kind == "message.ack":
                    sent = p.pending.pop(frame.get("client_id"), None)
                    if frame.get("duplicate"):
                        self.acks_duplicate += 1
                    if sent is not None and frame.get("id"):
                        self._register(int(frame["id"]), p.circle, sent, now)
                elif kind == "error":
                    self.errors[str(frame.get("code"))] += 1
                    p.pending.pop(frame.get("ref"), None)
                    p.retry_after = float(frame.get("retry_after") or 0)
                elif kind == "message.deleted":
                    (self.deleted if frame.get("by") else self.purged).update(frame["ids"])
                elif kind == "moderate.ack":
                    self.actions[str(frame.get("action"))] += 1
        except ConnectionClosed as exc:
            if not p.closing:
                self.closes[exc.rcvd.code if exc.rcvd else 1006] += 1
        finally:
            if p.sessions and math.isinf(p.sessions[-1].ended):
                p.sessions[-1].ended = time.monotonic()
            if p.ws is ws:
                p.ws = None

    def _register(self, message_id: int, circle: int, sent: float, seen: float) -> None:
        known = self.messages.get(message_id)
        if known is None:
            self.messages[message_id] = Stored(circle=circle, sent=sent, stored=seen)
        elif seen < known.stored:
            known.stored = seen

    def _arrived(self, p: Person, message: dict[str, Any], now: float, *, live: bool) -> None:
        message_id = int(message["id"])
        p.got[message_id] += 1
        p.last_id = max(p.last_id, message_id)
        stamped = unstamp(str(message.get("body", "")))
        if stamped is None:
            return
        circle, _seq, sent_us = stamped
        if circle != p.circle:
            self.misrouted += 1
            return
        sent = self.epoch + sent_us / 1e6
        self._register(message_id, circle, sent, now)
        if live:
            self.delivered += 1
            # Arrivals in the drain, after the last whole window, count in the last one.
            last = max(0, math.ceil(self.seconds / self.window) - 1)
            window = min(int((now - self.start) // self.window), last)
            self.latencies.setdefault(window, []).append((now - sent) * 1000)
        else:
            self.resumed += 1

    async def send(self, p: Person) -> None:
        if p.ws is None:
            return
        self.seq += 1
        now = time.monotonic()
        client_id = f"{self.tag}-{p.index}-{self.seq}"
        body = stamp(p.circle, self.seq, int((now - self.epoch) * 1e6))
        p.pending[client_id] = now
        try:
            await p.ws.send(json.dumps({"type": "message.send", "body": body,
                                        "client_id": client_id}))
            p.sent += 1
        except ConnectionClosed:
            p.pending.pop(client_id, None)

    # --- behaviours ---
    async def nap(self, seconds: float) -> bool:
        """Sleep, but not past the end; False when the run is over."""
        left = self.end - time.monotonic()
        await asyncio.sleep(max(0.0, min(seconds, left)))
        return time.monotonic() < self.end

    async def participant(self, p: Person) -> None:
        while await self.nap(random.expovariate(1 / SEND_EVERY)):
            if p.ws is None:  # closed by the server
                await self.enter(p, resume=True)
                continue
            turn = random.random()
            if turn < LEAVE_SHARE:
                await self.leave(p)
                if await self.nap(random.uniform(5, 40)):
                    await self.enter(p, resume=random.random() < 0.5)
            elif turn < LEAVE_SHARE + RECONNECT_SHARE:
                await self.leave(p)
                await self.enter(p, resume=random.random() < 0.8)
            else:
                await self.send(p)

    async def flooder(self, p: Person) -> None:
        first = random.uniform(20, 40)
        while await self.nap(first or random.uniform(60, 120)):
            first = 0.0
            for _ in range(FLOOD_BURST):
                if p.ws is None:
                    break
                await self.send(p)
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            if p.ws is None:  # closed with 4429: come back when told
                if await self.nap(p.retry_after):
                    await self.enter(p, resume=True)
            else:
                await self.nap(p.retry_after)

    async def facilitator(self, f: Person, circle: list[Person]) -> None:
        victims = [p for p in circle if p.kind == "participant"]
        while await self.nap(random.uniform(40, 80)):
            victim = random.choice(victims)
            if f.ws is None or not victim.alias:
                continue
            await self.moderate(f, {"action": "member.mute", "alias": victim.alias,
                                    "minutes": 1, "reason": "soak"})
            if not await self.nap(15):
                break
            await self.moderate(f, {"action": "member.unmute", "alias": victim.alias})
            ours = [i for i, m in self.messages.items() if m.circle == f.circle
                    and i not in self.deleted and m.stored < time.monotonic() - GRACE]
            if ours:
                await self.moderate(f, {"action": "message.delete", "message_id": ours[-1],
                                        "reason": "soak"})

    async def moderate(self, f: Person, frame: dict[str, Any]) -> None:
        if f.ws is None:
            return
        self.seq += 1
        with contextlib.suppress(ConnectionClosed):
            await f.ws.send(json.dumps({"type": "moderate", "ref": f"m{self.seq}", **frame}))

    async def run(self) -> None:
        gate = asyncio.Semaphore(20)

        async def first(p: Person) -> None:
            async with gate:
                await self.enter(p, resume=False)

        await asyncio.gather(*(first(p) for p in self.people))
        joined = sum(1 for p in self.people if p.ws is not None)
        log(f"{joined}/{len(self.people)} sockets joined")
        self.start = time.monotonic()
        self.end = self.start + (self.end - self.epoch)
        self.joined.set()
        by_circle: dict[int, list[Person]] = {}
        for p in self.people:
            by_circle.setdefault(p.circle, []).append(p)
        tasks = []
        for p in self.people:
            if p.kind == "facilitator":
                tasks.append(self.facilitator(p, by_circle[p.circle]))
            elif p.kind == "flooder":
                tasks.append(self.flooder(p))
            else:
                tasks.append(self.participant(p))
        await asyncio.gather(*tasks)

    async def finish(self) -> None:
        """After the drain: everyone still in leaves (their sessions end now)."""
        await asyncio.gather(*(self.leave(p) for p in self.people))

    # --- accounting ---
    def owed(self, p: Person, message_id: int, m: Stored) -> bool:
        return any(s.ended - GRACE > m.stored
                   and (m.sent > s.began or (s.after is not None and message_id > s.after))
                   for s in p.sessions)

    def losses(self) -> tuple[dict[str, int], dict[str, int], int]:
        lost: dict[str, int] = {}
        doubled: dict[str, int] = {}
        owed_total = 0
        for p in self.people:
            for message_id, m in self.messages.items():
                if m.circle != p.circle or message_id in self.deleted:
                    continue
                if self.owed(p, message_id, m):
                    owed_total += 1
                    if not p.got[message_id]:
                        lost[p.name] = lost.get(p.name, 0) + 1
            extra = sum(n - 1 for n in p.got.values() if n > 1)
            if extra:
                doubled[p.name] = extra
        return lost, doubled, owed_total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


# --- Main -----------------------------------------------------------------------------------------
def servers(stack: contextlib.ExitStack, tmp: Path, cores: Cores, circles: int, members: int,
            minutes: float) -> tuple[str, list[int], dict[str, Any], str, list[str]]:
    """Redis, PostgreSQL, two Halqa processes (the first one purging), nginx in front."""
    binary = ensure_nginx()
    if binary is None:
        raise SystemExit("the soak needs nginx (`apt-get install -y nginx`)")
    var = tmp / "var"
    var.mkdir()
    redis_url = stack.enter_context(private_redis(tmp, cores))
    database_url = pg_recreate()
    stack.callback(pg_recreate, drop_only=True)
    env = halqa_env(var, database_url=database_url, redis_url=redis_url, prefix="halqasoak")
    front = free_port()
    env["SITE_ORIGINS"] = f"http://{HOST}:{front}"  # the page's origin is nginx's
    log("preparing the database (migrate, circles, identities, facilitators)")
    # halqa_prepare reads only `workloads` from run.py's Plan.
    prepared = halqa_prepare(env, SimpleNamespace(workloads=[(circles, members)]), tmp)
    slugs = prepared["workloads"][f"{circles}x{members}"]
    extra = tmp / "soak.json"
    done = subprocess.run([PY, __file__, "--setup", str(extra), "--slugs", ",".join(slugs),
                           "--minutes", str(minutes)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"soak setup failed:\n{done.stderr[-3000:]}")
    prepared.update(json.loads(extra.read_text()))
    pids, ports = [], []
    for i in range(2):
        port = free_port()
        argv = [PY, "manage.py", "serve", "--host", HOST, "--port", str(port)]
        if i == 0:
            argv += ["--purge-every", "60"]
        proc = stack.enter_context(process(
            cores.pin(argv, cores.servers[i] if cores.servers else None), port=port,
            log_path=tmp / f"server{i}.log", env=env))
        pids.append(proc.pid)
        ports.append(port)
    stack.enter_context(nginx(binary, front, ports, tmp, cores))
    return f"http://{HOST}:{front}", pids, prepared, database_url, slugs


def people_of(prepared: dict[str, Any], circles: int, members: int) -> list[Person]:
    people = []
    for c in range(circles):
        for m in range(members):
            index = c * members + m
            kind = "flooder" if m == 0 and c in FLOODER_CIRCLES else "participant"
            people.append(Person(c, index, prepared["sessions"][index], kind))
        people.append(Person(c, circles * members + c, prepared["facilitators"][c],
                             "facilitator"))
    return people


def report(soak: Soak, rss: list[tuple[int, int]], stored_at_end: tuple[int, int],
           minutes: float, *, aged: list[int]) -> bool:
    stored, aged_left = stored_at_end
    lost, doubled, owed = soak.losses()
    sent = sum(p.sent for p in soak.people)
    acked = len(soak.messages)
    expected_rows = len([i for i in soak.messages
                         if i not in soak.deleted and i not in soak.purged])
    print(f"Soak: {minutes:g} min, {len(soak.people)} sockets "
          f"({sum(p.kind != 'facilitator' for p in soak.people)} participants, of which "
          f"{sum(p.kind == 'flooder' for p in soak.people)} flooders, and "
          f"{sum(p.kind == 'facilitator' for p in soak.people)} facilitators) in "
          f"{len(soak.slugs)} circles, 2 processes behind nginx, Redis + PostgreSQL")
    print(f"messages: sent {sent}, stored per acks {acked} (duplicate acks "
          f"{soak.acks_duplicate}), deleted by facilitators {len(soak.deleted)}, purged "
          f"{len(soak.purged)}, rows in the database at the end {stored} (expected "
          f"{expected_rows})")
    print(f"retention: {len(aged)} older messages seeded to expire during the run, "
          f"{len(soak.purged & set(aged))} of them seen purged live, {aged_left} left at the end "
          f"(purged by the purge in all: {len(soak.purged)})")
    print(f"delivered: {soak.delivered} live + {soak.resumed} in resumed histories; "
          f"owed deliveries checked {owed}; misrouted {soak.misrouted}")
    print(f"entries: {dict(soak.entries)}; join refusals/failures: "
          f"{dict(soak.join_failures) or 'none'}")
    print(f"lost: {sum(lost.values())}" + (f" {lost}" if lost else "")
          + f"; doubled: {sum(doubled.values())}" + (f" {doubled}" if doubled else ""))
    print("error frames by code: " + (", ".join(f"{k} {v}" for k, v in
                                                 soak.errors.most_common()) or "none"))
    print("server closes by code: " + (", ".join(f"{k} {v}" for k, v in
                                                  soak.closes.most_common()) or "none"))
    print("facilitator actions acknowledged: " + (", ".join(
        f"{k} {v}" for k, v in sorted(soak.actions.items())) or "none"))
    print(f"latency per {soak.window / 60:g}-minute window (send to live arrival):")
    for window in sorted(soak.latencies):
        values = soak.latencies[window]
        begin = window * soak.window / 60
        end = min(begin + soak.window / 60, minutes)  # the last window may be short
        print(f"  {begin:4g}-{end:g} min: {len(values):6d} deliveries, "
              f"p50 {pct(values, 0.5):7.1f} ms, p99 {pct(values, 0.99):7.1f} ms")
    grew = True
    for i, (start, end) in enumerate(rss):
        growth = (end - start) / start
        grew = grew and growth <= RSS_TARGET
        print(f"process {i} RSS: {start / 1024:.1f} MiB at start, {end / 1024:.1f} MiB at end, "
              f"{growth:+.1%} (target <= {RSS_TARGET:.0%})")
    ok = (not lost and not doubled and not soak.misrouted and stored == expected_rows
          and not aged_left)
    print(f"RESULT {'PASS' if ok else 'FAIL'}: lost {sum(lost.values())}, doubled "
          f"{sum(doubled.values())}, misrouted {soak.misrouted}, stored {stored}/{expected_rows}, "
          f"aged left {aged_left}"
          f"; RSS growth {'within' if grew else 'over'} {RSS_TARGET:.0%}")
    return ok


async def main_async(args: argparse.Namespace) -> int:
    random.seed(args.seed)
    cores = Cores.detect()
    if cores.generator is not None:
        os.sched_setaffinity(0, {cores.generator})
    window = 300.0 if args.minutes >= 10 else 60.0
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp_name, \
            contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # nginx's workers (another user) read their config there
        try:
            base, pids, prepared, database_url, slugs = servers(
                stack, tmp, cores, args.circles, args.members, args.minutes)
        except Exception as exc:
            log(f"could not start: {exc}")
            for i in range(2):
                log(f"server{i}.log:\n{tail(tmp / f'server{i}.log')}")
            return 2
        people = people_of(prepared, args.circles, args.members)
        soak = Soak(base, slugs, people, seconds=args.minutes * 60, window=window)
        log(f"{len(people)} sockets joining at {base}; running {args.minutes:g} min")
        runner = asyncio.create_task(soak.run())
        await asyncio.wait([runner, asyncio.create_task(soak.joined.wait())],
                           return_when=asyncio.FIRST_COMPLETED)
        await asyncio.sleep(5)  # the joins settle
        rss0 = [proc_rss_kb(pid) for pid in pids]
        while not runner.done():
            await asyncio.sleep(min(60, max(1, soak.end - time.monotonic())))
            if not runner.done():
                log(f"{(time.monotonic() - soak.start) / 60:.1f} min: "
                    f"{sum(p.sent for p in people)} sent, {soak.delivered} delivered, "
                    f"{sum(p.ws is not None for p in people)} sockets open")
        await runner
        await asyncio.sleep(GRACE + 1)  # the last messages arrive
        rss1 = [proc_rss_kb(pid) for pid in pids]
        await soak.finish()
        stored = stored_rows(database_url, slugs, prepared["aged"])
        ok = report(soak, list(zip(rss0, rss1, strict=True)), stored, args.minutes,
                    aged=prepared["aged"])
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--circles", type=int, default=20)
    parser.add_argument("--members", type=int, default=10, help="participants per circle")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--slugs", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup(args.setup, args.slugs.split(","), args.minutes)
        return 0
    install_fast_loop()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
