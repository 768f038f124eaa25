"""The limits on every door, shared by every server process: one mechanism, three shapes.

- Token buckets (`take`): `burst` at once, then `per_minute`. Floods of messages (per circle
  settings; newcomers also share one bucket per circle), help requests, reports, staff notes,
  applications, new identities, connections, and the site-wide ceilings on sign-in attempts.
- Holds (`hold_take`, `hold_set`, `hold_left`): a door shut for some seconds. Slow mode, the
  reconnect pause after a socket was closed for flooding, and a help request folded into the
  open alert.
- Back-offs (`backoff_take`): each sign-in attempt counts as a failure until it succeeds (which
  clears it); past the free ones, the next attempt waits, twice as long each time, up to a cap.
  Never a hard lock.

With Redis configured each check is one atomic Lua script on Redis time, so several daphne
processes count the same tokens. Without Redis (the embedded default: one process) the Django
cache holds the same state behind a process lock. Keys hold numbers only, and expire on their
own. They name people by number (identity, circle), by a hash of a name tried at sign-in, or by
`source_digest`: a keyed hash of the client address under a key that exists only in this
process's memory and is replaced every SOURCE_KEY_SECONDS (docs/security.md). The figures of
every limit are the table below, in one place.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache as memoize
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0


@dataclass(frozen=True)
class Limit:
    """A token bucket: `burst` at once, then `per_minute` sustained."""

    name: str
    burst: int
    per_minute: float


@dataclass(frozen=True)
class Backoff:
    """Failures before any wait (`free`), the first wait and the longest (seconds), and how long
    after the last attempt the count is forgotten."""

    name: str
    free: int
    first: float
    cap: float
    forget: int


# --- The limits (docs/security.md explains each) -----------------------------------------------
# Refusals of messages within this window that make the server close a flooding socket.
STRIKES_TO_DISCONNECT = 5
STRIKE_WINDOW_SECONDS = 60
# A socket closed for flooding (4429): its identity opens no socket for this long.
FLOOD_CLOSE_HOLD_SECONDS = 30
# Newcomers: identities younger than this share one bucket per circle, the size of this many
# people's bursts and one person's rate (the circle's flood settings).
NEWCOMER_MINUTES = 10
NEWCOMERS_AS_PEOPLE = 4

# "I need help now" again within this time folds into the open alert: nobody is alerted twice.
HELP_FOLD_SECONDS = 300
HELP_PER_ALIAS = Limit("help", burst=5, per_minute=5)
HELP_PER_CIRCLE = Limit("help-circle", burst=20, per_minute=20)  # new alerts only
REPORTS = Limit("report", burst=10, per_minute=10)
STAFF_NOTES = Limit("staff-note", burst=20, per_minute=60)
APPLICATIONS = Limit("application", burst=10, per_minute=2)
CONNECTS = Limit("connect", burst=20, per_minute=20)  # sockets opened, per identity
IDENTITIES_PER_SOURCE = Limit("identity", burst=20, per_minute=20)
# Sign-in: per name tried from one source, per name from anywhere, and site-wide ceilings.
PASSPHRASE_PER_SOURCE = Backoff("login-source", free=5, first=2, cap=600, forget=3600)
PASSPHRASE_PER_PSEUDONYM = Backoff("login-name", free=20, first=1, cap=120, forget=3600)
PASSPHRASE_CHECKS = Limit("login", burst=60, per_minute=60)
ADMIN_PER_USERNAME = Backoff("admin-name", free=5, first=15, cap=900, forget=3600)
ADMIN_CHECKS = Limit("admin-login", burst=30, per_minute=30)

# The key of `source_digest` lives this long, in memory only.
SOURCE_KEY_SECONDS = 600


# --- Redis scripts -------------------------------------------------------------------------------
_TOKEN_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(retry)}
"""

_HOLD_TAKE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return {1, '0'}
end
return {0, tostring(redis.call('PTTL', KEYS[1]) / 1000)}
"""

_STRIKE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""

# KEYS: one per back-off; ARGV: free, first, cap, forget of each in turn. Refused if any of them
# still waits; else each counts the attempt, all at once.
_BACKOFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
for _, key in ipairs(KEYS) do
  local till = tonumber(redis.call('HGET', key, 'until')) or 0
  if till - now > wait then wait = till - now end
end
if wait > 0 then return {0, tostring(wait)} end
for i, key in ipairs(KEYS) do
  local at = (i - 1) * 4
  local free, first = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local cap, forget = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
  local n = redis.call('HINCRBY', key, 'n', 1)
  if n >= free then
    redis.call('HSET', key, 'until', tostring(now + math.min(cap, first * 2 ^ (n - free))))
  end
  redis.call('EXPIRE', key, forget)
end
return {1, '0'}
"""


def _redis():  # type: ignore[no-untyped-def]
    return _redis_for(settings.REDIS_URL)


@memoize
def _redis_for(url: str):  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(url)
    return (client, client.register_script(_TOKEN_BUCKET), client.register_script(_HOLD_TAKE),
            client.register_script(_STRIKE), client.register_script(_BACKOFF))


def _key(*parts: object) -> str:
    return ":".join([settings.REDIS_PREFIX, "rate", *map(str, parts)])


_lock = threading.Lock()


def _use_redis() -> bool:
    return bool(settings.REDIS_URL)


# --- Token buckets -------------------------------------------------------------------------------
def _bucket(key: str, *, burst: int, per_minute: float) -> Decision:
    burst, rate = max(1, burst), max(1.0, per_minute) / 60.0
    if _use_redis():
        allowed, retry = _redis()[1](keys=[key], args=[burst, rate])
        return Decision(bool(int(allowed)), round(float(retry), 2))
    with _lock:
        now = time.monotonic()
        tokens, ts = cache.get(key, (float(burst), now))
        tokens = min(burst, tokens + max(0.0, now - ts) * rate)
        if tokens >= 1:
            cache.set(key, (tokens - 1, now), int(burst / rate) + 1)
            return Decision(True)
        cache.set(key, (tokens, now), int(burst / rate) + 1)
        return Decision(False, round((1 - tokens) / rate, 2))


def take(limit: Limit, *parts: object) -> Decision:
    """Take one token from the bucket of `limit` for `parts` (numbers or digests)."""
    return _bucket(_key(limit.name, *parts), burst=limit.burst, per_minute=limit.per_minute)


def flood_take(*, user_id: int, room_id: int, burst: int, per_minute: int) -> Decision:
    """Take one token from this person's bucket in this circle."""
    return _bucket(_key("bucket", room_id, user_id), burst=burst, per_minute=per_minute)


def newcomer_take(*, room_id: int, burst: int, per_minute: int) -> Decision:
    """The bucket the newcomers of a circle (`is_newcomer`) share, besides each one's own: all
    together, NEWCOMERS_AS_PEOPLE times one person's burst and one person's rate. Someone new
    speaks as freely as anyone; forty throwaway identities together speak like one person."""
    return _bucket(_key("newcomers", room_id), burst=max(1, burst) * NEWCOMERS_AS_PEOPLE,
                   per_minute=per_minute)


def is_newcomer(*, joined_at: datetime, now: datetime | None = None) -> bool:
    return (now or timezone.now()) - joined_at < timedelta(minutes=NEWCOMER_MINUTES)


def flood_strike(*, user_id: int, room_id: int) -> int:
    """Count one refused flood; returns the refusals in the current window."""
    key = _key("strikes", room_id, user_id)
    if _use_redis():
        return int(_redis()[3](keys=[key], args=[STRIKE_WINDOW_SECONDS]))
    with _lock:
        strikes = cache.get(key, 0) + 1
        cache.set(key, strikes, STRIKE_WINDOW_SECONDS)
        return strikes


# --- Holds ---------------------------------------------------------------------------------------
def _hold_take(key: str, seconds: float) -> Decision:
    if _use_redis():
        allowed, retry = _redis()[2](keys=[key], args=[max(1, int(seconds * 1000))])
        return Decision(bool(int(allowed)), round(float(retry), 2))
    with _lock:
        now = time.monotonic()
        until = cache.get(key)
        if until is not None and until > now:
            return Decision(False, round(until - now, 2))
        cache.set(key, now + seconds, int(seconds) + 1)
        return Decision(True)


def hold_take(name: str, *parts: object, seconds: float) -> Decision:
    """Allowed when nothing holds this door, and it is then held for `seconds`; else refused
    with the time left."""
    return _hold_take(_key("hold", name, *parts), seconds)


def hold_set(name: str, *parts: object, seconds: float) -> None:
    """Shut this door for `seconds` from now, whatever held it before."""
    key = _key("hold", name, *parts)
    if _use_redis():
        _redis()[0].set(key, "1", px=max(1, int(seconds * 1000)))
        return
    with _lock:
        cache.set(key, time.monotonic() + seconds, int(seconds) + 1)


def hold_left(name: str, *parts: object) -> Decision:
    """Refused, with the time left, while this door is held."""
    key = _key("hold", name, *parts)
    if _use_redis():
        left = int(_redis()[0].pttl(key))
        return Decision(True) if left <= 0 else Decision(False, round(left / 1000, 2))
    with _lock:
        until = cache.get(key)
        now = time.monotonic()
        return Decision(True) if until is None or until <= now else Decision(
            False, round(until - now, 2))


def slow_mode_take(*, user_id: int, room_id: int, seconds: int) -> Decision:
    """At most one message per `seconds` from this person in this circle."""
    return _hold_take(_key("slow", room_id, user_id), seconds)


# --- Back-offs -----------------------------------------------------------------------------------
def backoff_take(*layers: tuple[Backoff, tuple[object, ...]]) -> Decision:
    """One attempt, counted as a failure in every layer (a back-off and the parts of its key),
    unless one of them still makes attempts wait: then refused with the longest wait, and
    nothing counted. Call `backoff_clear` with the same layers when the attempt succeeds."""
    keys = [_key(policy.name, *parts) for policy, parts in layers]
    if _use_redis():
        args = [value for policy, _parts in layers
                for value in (policy.free, policy.first, policy.cap, policy.forget)]
        allowed, retry = _redis()[4](keys=keys, args=args)
        return Decision(bool(int(allowed)), round(float(retry), 2))
    with _lock:
        now = time.time()
        states = [cache.get(key, (0, 0.0)) for key in keys]
        wait = max(until - now for _n, until in states)
        if wait > 0:
            return Decision(False, round(wait, 2))
        for key, (policy, _parts), (n, until) in zip(keys, layers, states, strict=True):
            n += 1
            if n >= policy.free:
                until = now + min(policy.cap, policy.first * 2 ** (n - policy.free))
            cache.set(key, (n, until), policy.forget)
        return Decision(True)


def backoff_clear(*layers: tuple[Backoff, tuple[object, ...]]) -> None:
    keys = [_key(policy.name, *parts) for policy, parts in layers]
    if _use_redis():
        _redis()[0].delete(*keys)
        return
    cache.delete_many(keys)


def name_digest(name: str) -> str:
    """A name tried at sign-in as a key part: no readable name in Redis or the cache."""
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:32]


# --- Where a request comes from, without keeping its address ------------------------------------
_source_lock = threading.Lock()
_source_key: tuple[int, bytes] = (-1, b"")


def _network(address: str) -> str:
    """IPv4 as is; IPv6 by its /64 (one subscriber's whole network)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        mapped = ip.ipv4_mapped
        return str(mapped) if mapped else str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def source_digest(address: str) -> str:
    """An opaque, short-lived name for a client address: an HMAC-SHA256 under a random key
    generated in this process's memory, replaced every SOURCE_KEY_SECONDS and never written
    anywhere. Once the key is replaced, nobody (the server included) can tell which address a
    digest came from, or link the digests of two windows."""
    global _source_key
    window = int(time.time() // SOURCE_KEY_SECONDS)
    with _source_lock:
        if _source_key[0] != window:
            _source_key = (window, secrets.token_bytes(32))
        key = _source_key[1]
    return hmac.new(key, _network(address).encode(), hashlib.sha256).hexdigest()[:24]


def request_source(meta: Mapping[str, Any]) -> str:
    """The one place Halqa reads a client's address (the pre-stop check flags the line below,
    on purpose): it becomes `source_digest` at once, in memory. The address is never stored,
    logged or passed on; the digest is only a part of rate-limit keys that expire within the
    hour. Behind a proxy, the address is the proxy's (Halqa's nginx sends none on)."""
    return source_digest(str(meta.get("REMOTE_ADDR") or ""))
