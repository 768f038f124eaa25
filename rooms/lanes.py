"""Where a socket's database work runs: messages on a thread of their own.

Channels runs every `database_sync_to_async` call of a process on one shared thread, so a
member's history read or resume used to queue behind every other socket's message write. The
hot path (`message_post`) gets its own thread, the write lane, with its own database
connection; everything else stays on Channels' thread. Calls keep asgiref's semantics (the
caller's context, translation included, and `async_to_sync` inside goes back to the event
loop). One thread, so writes still go one at a time (SQLite has a single writer anyway).

Connections are tidied (closed when broken or past CONN_MAX_AGE, as Channels does around every
call) after a call that failed and at most once a second otherwise: tidying before each call made
PostgreSQL answer a health-check `SELECT 1` for every message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from django.db import close_old_connections

from rooms import hub

P = ParamSpec("P")
R = TypeVar("R")

TIDY_EVERY = 1.0  # seconds

_writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="halqa-writes")
_tidied = threading.local()


def _tidy(*, now: float) -> None:
    if now - getattr(_tidied, "at", 0.0) >= TIDY_EVERY:
        close_old_connections()
        _tidied.at = now


class _Lane(SyncToAsync):
    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        _tidy(now=time.monotonic())
        try:
            return super().thread_handler(loop, *args, **kwargs)
        except BaseException:
            close_old_connections()  # a failed statement may have left the connection unusable
            _tidied.at = time.monotonic()
            raise


def write_lane(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` as a coroutine function that runs on the write lane. The circle events its
    transactions commit are published from the event loop when it returns (or raises), not
    from the lane's thread: one hand-over back to the loop per call instead of one per event."""

    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        box: list[tuple[int, dict[str, Any]]] = []

        def run() -> R:
            with hub.held(box):
                return func(*args, **kwargs)

        try:
            return await _Lane(run, thread_sensitive=False, executor=_writes)()
        finally:
            for room_id, event in box:
                hub.publish(room_id, event)

    return call
