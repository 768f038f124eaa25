"""Message text at rest: encrypted with a key per circle session, itself wrapped by a master key.

Destroying a session's key makes every copy of that session's rows unreadable: crypto-shredding.
- Ephemeral circles keep their session key only in the cache (Redis, which keeps nothing on disk,
  or the server's memory), never in the database, so no database backup ever holds it. Ending
  the session deletes the key.
- Timed circles keep the wrapped key on the session row until the last message it protects has
  expired; then the row goes.
Master keys come from HALQA_MASTER_KEYS (several, newest first, for rotation); the embedded
default keeps one in var/master_keys, outside git.
"""

from __future__ import annotations

import threading
import time
from functools import cache as memoize

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.cache import cache

KEY_CACHE_SECONDS = 60  # a destroyed key leaves every process's memory within this time


class KeyDestroyed(Exception):
    """The session key is gone: its messages can no longer be read, by design."""


@memoize
def _master(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def master() -> MultiFernet:
    return _master(tuple(settings.HALQA_MASTER_KEYS))


def session_key_new() -> str:
    """A fresh session key, returned wrapped by the current master key (never stored bare)."""
    return master().encrypt(Fernet.generate_key()).decode()


def session_key_rewrap(wrapped: str) -> str:
    """Re-wrap with the newest master key (rotation); the session key itself is unchanged."""
    return master().rotate(wrapped.encode()).decode()


_lock = threading.Lock()
# Unwrapped keys, keyed by their wrapped form (never by row id: ids can be reused after a
# restore, a wrapped key cannot). Entries live KEY_CACHE_SECONDS at most.
_unwrapped: dict[str, tuple[float, Fernet]] = {}


def _fernet_for(wrapped: str | None) -> Fernet:
    if not wrapped:
        raise KeyDestroyed()
    now = time.monotonic()
    with _lock:
        hit = _unwrapped.get(wrapped)
        if hit is not None and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
    try:
        fernet = Fernet(master().decrypt(wrapped.encode()))
    except InvalidToken as exc:  # wrapped by a master key that is no longer configured
        raise KeyDestroyed() from exc
    with _lock:
        if len(_unwrapped) > 1024:
            _unwrapped.clear()
        _unwrapped[wrapped] = (now, fernet)
    return fernet


def forget(wrapped: str | None) -> None:
    """Drop an unwrapped key from this process's memory at once."""
    with _lock:
        _unwrapped.pop(wrapped or "", None)


def encrypt(*, wrapped_key: str | None, text: str) -> str:
    return _fernet_for(wrapped_key).encrypt(text.encode()).decode()


def decrypt(*, wrapped_key: str | None, token: str) -> str:
    try:
        return _fernet_for(wrapped_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDestroyed() from exc


def seal(text: str) -> str:
    """Encrypt a short text kept apart from any session (a report's snapshot) with the master
    key; `rotate_master_key` re-seals it."""
    return master().encrypt(text.encode()).decode()


def unseal(token: str) -> str | None:
    """The sealed text, or None when it cannot be read any more (its master key was dropped)."""
    if not token:
        return None
    try:
        return master().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def reseal(token: str) -> str:
    return master().rotate(token.encode()).decode()


# --- Keys of ephemeral sessions: in the cache only ----------------------------------------------
def _cache_name(session_id: int) -> str:
    return f"session-key:{session_id}"


def ephemeral_key_put(*, session_id: int, wrapped_key: str, seconds: int) -> None:
    cache.set(_cache_name(session_id), wrapped_key, seconds)


def ephemeral_key_get(*, session_id: int) -> str | None:
    return cache.get(_cache_name(session_id))


def ephemeral_key_destroy(*, session_id: int) -> None:
    forget(cache.get(_cache_name(session_id)))
    cache.delete(_cache_name(session_id))
