"""Flood limits and slow mode, shared by every server process.

With Redis configured, each check is one atomic Lua script on Redis time, so several daphne
processes count the same tokens. Without Redis (the embedded default: one process) the Django
cache holds the same state behind a process lock. Keys hold numbers only, and expire on their own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache

# Refusals within this window that make the server close a flooding socket.
STRIKES_TO_DISCONNECT = 5
STRIKE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0


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

_SLOW_MODE = """
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


def _redis():  # type: ignore[no-untyped-def]
    return _redis_for(settings.REDIS_URL)


@memoize
def _redis_for(url: str):  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(url)
    return (client, client.register_script(_TOKEN_BUCKET), client.register_script(_SLOW_MODE),
            client.register_script(_STRIKE))


def _key(*parts: object) -> str:
    return ":".join([settings.REDIS_PREFIX, "rate", *map(str, parts)])


_lock = threading.Lock()


def _use_redis() -> bool:
    return bool(settings.REDIS_URL)


def flood_take(*, user_id: int, room_id: int, burst: int, per_minute: int) -> Decision:
    """Take one token from this person's bucket in this circle."""
    burst, rate = max(1, burst), max(1, per_minute) / 60.0
    key = _key("bucket", room_id, user_id)
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


def slow_mode_take(*, user_id: int, room_id: int, seconds: int) -> Decision:
    """At most one message per `seconds` from this person in this circle."""
    key = _key("slow", room_id, user_id)
    if _use_redis():
        allowed, retry = _redis()[2](keys=[key], args=[seconds * 1000])
        return Decision(bool(int(allowed)), round(float(retry), 2))
    with _lock:
        now = time.monotonic()
        until = cache.get(key)
        if until is not None and until > now:
            return Decision(False, round(until - now, 2))
        cache.set(key, now + seconds, seconds + 1)
        return Decision(True)


def flood_strike(*, user_id: int, room_id: int) -> int:
    """Count one refused flood; returns the refusals in the current window."""
    key = _key("strikes", room_id, user_id)
    if _use_redis():
        return int(_redis()[3](keys=[key], args=[STRIKE_WINDOW_SECONDS]))
    with _lock:
        strikes = cache.get(key, 0) + 1
        cache.set(key, strikes, STRIKE_WINDOW_SECONDS)
        return strikes
