"""Message text at rest: encrypted with a key per author and circle session, wrapped by a master
key.

Destroying a key makes every copy of what it encrypted unreadable: crypto-shredding. Each alias
writes in each circle session with a data key of its own (`rooms.AuthorKey`): its circle
messages, its private support messages, and the copy a report keeps of one of them. So a key
dies with whichever comes first: its session (ephemeral circles), its last message (timed
circles, rooms.retention), or its author ("Forget me", accounts.services.identity_erase).
- Ephemeral circles keep every wrapped key (the session's and each author's) only in the cache
  (Redis, which keeps nothing on disk, or the server's memory), never in the database, so no
  database backup ever holds one. Ending the session deletes them.
- Timed circles keep each author's wrapped key on its `rooms_authorkey` row until its session
  is over and the last message it protects has expired; then the row goes.
Random keys, not keys derived from the session's (HKDF(session key, author)): a derived key
cannot be destroyed apart from its session, so "Forget me" could not shred one author's words
while the others' stay readable.
Master keys come from HALQA_MASTER_KEYS (several, newest first, for rotation); the embedded
default keeps one in var/master_keys, outside git.

Short texts kept apart from any session are sealed with the master key itself; SEALED_FIELDS
lists every one of them, and `master_key_rotate` re-wraps every session and author key and
re-seals every registered field with the newest master key.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from functools import cache as memoize
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

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
    """Drop an unwrapped key from this process's memory at once (and the author key it is)."""
    with _lock:
        _unwrapped.pop(wrapped or "", None)
        for spot in [spot for spot, (_at, _key_id, known) in _author_keys.items()
                     if known == wrapped]:
            del _author_keys[spot]


def forget_all() -> None:
    """Drop every unwrapped key from this process's memory (a master key was removed)."""
    with _lock:
        _unwrapped.clear()
        _author_keys.clear()


# The key each alias writes with in each session, for the write path: (session id, session
# start, membership id) -> (when, key row id, wrapped key); the start tells a session apart
# from a later row with the same id (a restored database). Filled by
# rooms.services.author_key_ensure; entries live KEY_CACHE_SECONDS at most, and `forget` drops
# one at once.
_author_keys: dict[tuple[int, datetime, int], tuple[float, int, str]] = {}


def author_key_cached(*, session_id: int, session_started: datetime, membership_id: int
                      ) -> tuple[int, str] | None:
    """(key row id, wrapped key) of this author in this session, if this process has it."""
    with _lock:
        hit = _author_keys.get((session_id, session_started, membership_id))
    if hit is None or time.monotonic() - hit[0] >= KEY_CACHE_SECONDS:
        return None
    return hit[1], hit[2]


def author_key_remember(*, session_id: int, session_started: datetime, membership_id: int,
                        key_id: int, wrapped: str) -> None:
    with _lock:
        if len(_author_keys) > 4096:
            _author_keys.clear()
        _author_keys[(session_id, session_started, membership_id)] = (
            time.monotonic(), key_id, wrapped)


def author_key_drop(*, session_id: int, session_started: datetime, membership_id: int) -> None:
    """Forget which key this author writes with here (its row turned out to be gone)."""
    with _lock:
        _author_keys.pop((session_id, session_started, membership_id), None)


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


# --- Author keys of ephemeral sessions: in the cache only, by key row id --------------------------
def _author_cache_name(key_id: int) -> str:
    return f"author-key:{key_id}"


def ephemeral_author_key_put(*, key_id: int, wrapped_key: str, seconds: int) -> None:
    cache.set(_author_cache_name(key_id), wrapped_key, seconds)


def ephemeral_author_key_get(*, key_id: int) -> str | None:
    return cache.get(_author_cache_name(key_id))


def ephemeral_author_key_renew(*, key_id: int, wrapped_key: str, seconds: int) -> str:
    """A new key for a row whose cache entry was lost (a restart, an eviction), unless another
    process renewed it first: the key the cache holds now. What the lost key encrypted stays
    unreadable."""
    cache.add(_author_cache_name(key_id), wrapped_key, seconds)
    return cache.get(_author_cache_name(key_id)) or wrapped_key


def author_keys_destroy(*, key_ids: list[int], wrapped: list[str]) -> None:
    """Destroy author keys whose rows are gone: their cache entries (ephemeral circles) and
    every unwrapped copy in this process's memory. Other processes forget theirs within
    KEY_CACHE_SECONDS."""
    names = [_author_cache_name(key_id) for key_id in key_ids]
    found = list(cache.get_many(names).values()) if names else []
    if names:
        cache.delete_many(names)
    for known in [*wrapped, *found]:
        forget(known)


# --- Rotation: everything the master keys protect -------------------------------------------
# Every field holding text sealed with the master key, as (model label, field name). A new
# `*_sealed` field must be listed here: tests/test_key_rotation.py fails otherwise, and
# `master_key_rotate` would leave it behind on the old key.
# (A report's copy of the reported text is not sealed: it is encrypted with the key of the
# message it copies, `moderation.Report.snapshot_encrypted`, and dies with it.)
SEALED_FIELDS: tuple[tuple[str, str], ...] = (
    ("rooms.Invitation", "token_sealed"),
    ("rooms.Application", "note_sealed"),
    ("rooms.Application", "contact_sealed"),
)
UNREADABLE = "unreadable"  # in the counts: sealed or wrapped by a master key no longer listed
BATCH = 500


def sealed_fields_reseal() -> dict[str, int]:
    """Re-seal every registered field with the newest master key, one transaction per field.
    Returns how many values each field had re-sealed ("rooms.Invitation.token_sealed": 3),
    plus UNREADABLE: values no configured key opens, left as they are."""
    counts: dict[str, int] = {UNREADABLE: 0}
    for label, field in SEALED_FIELDS:
        model = apps.get_model(label)
        changed = []
        with transaction.atomic():
            for row in model.objects.select_for_update().exclude(**{field: ""}).only("pk", field):
                try:
                    setattr(row, field, reseal(getattr(row, field)))
                except InvalidToken:
                    counts[UNREADABLE] += 1
                    continue
                changed.append(row)
            model.objects.bulk_update(changed, [field], batch_size=BATCH)
        counts[f"{label}.{field}"] = len(changed)
    return counts


def _wrapped_keys_rewrap(*, model: str, name: str, open_filter: dict[str, Any],
                         started: str, cache_get: Any, cache_put: Any) -> dict[str, int]:
    """Re-wrap the keys of one kind with the newest master key: on their rows (timed circles),
    and in the cache for the open ones kept only there (ephemeral circles). The keys
    themselves, and so what they encrypt, are unchanged."""
    key_model = apps.get_model("rooms", model)
    counts = {name: 0, f"ephemeral_{name}": 0, UNREADABLE: 0}
    with transaction.atomic():
        changed = []
        for row in key_model.objects.select_for_update().exclude(wrapped_key="").only(
                "pk", "wrapped_key"):
            try:
                row.wrapped_key = session_key_rewrap(row.wrapped_key)
            except InvalidToken:
                counts[UNREADABLE] += 1
                continue
            changed.append(row)
        key_model.objects.bulk_update(changed, ["wrapped_key"], batch_size=BATCH)
        counts[name] = len(changed)
    lifetime = settings.HALQA["EPHEMERAL_MAX_HOURS"] * 3600
    with transaction.atomic():
        # The row lock keeps a key from being destroyed (session end, "Forget me") between our
        # read and our write, which would put it back; a destroyed one is not open any more.
        for key_id, started_at in (key_model.objects.select_for_update()
                                   .filter(wrapped_key="", **open_filter)
                                   .values_list("id", started)):
            wrapped = cache_get(key_id)
            if not wrapped:
                continue
            try:
                rewrapped = session_key_rewrap(wrapped)
            except InvalidToken:
                counts[UNREADABLE] += 1
                continue
            # The key keeps the lifetime it had left (it was put with the full one at start).
            left = lifetime - int((timezone.now() - started_at).total_seconds())
            cache_put(key_id, rewrapped, max(left, 1))
            counts[f"ephemeral_{name}"] += 1
    return counts


def session_keys_rewrap() -> dict[str, int]:
    """Every circle session's key (rooms.Session)."""
    return _wrapped_keys_rewrap(
        model="Session", name="session_keys", open_filter={"ended_at__isnull": True},
        started="started_at",
        cache_get=lambda key_id: ephemeral_key_get(session_id=key_id),
        cache_put=lambda key_id, wrapped, seconds: ephemeral_key_put(
            session_id=key_id, wrapped_key=wrapped, seconds=seconds))


def author_keys_rewrap() -> dict[str, int]:
    """Every author's key (rooms.AuthorKey)."""
    return _wrapped_keys_rewrap(
        model="AuthorKey", name="author_keys", open_filter={"session__ended_at__isnull": True},
        started="created_at",
        cache_get=lambda key_id: ephemeral_author_key_get(key_id=key_id),
        cache_put=lambda key_id, wrapped, seconds: ephemeral_author_key_put(
            key_id=key_id, wrapped_key=wrapped, seconds=seconds))


def master_key_rotate() -> dict[str, int]:
    """Move everything the master keys protect onto the first key of HALQA_MASTER_KEYS: every
    session key, every author key and every sealed field. Afterwards the older keys can be
    removed."""
    keys = session_keys_rewrap()
    authors = author_keys_rewrap()
    sealed = sealed_fields_reseal()
    return {**keys, **authors, **sealed,
            UNREADABLE: keys[UNREADABLE] + authors[UNREADABLE] + sealed[UNREADABLE]}

