"""Where a socket's database work runs: messages on a thread of their own.

Channels runs every `database_sync_to_async` call of a process on one shared thread, so a
member's history read or resume used to queue behind every other socket's message write. The
hot path (`message_post`) gets its own thread, the write lane, with its own database
connection; everything else stays on Channels' thread. One thread, so writes still go one at a
time (SQLite has a single writer anyway).

A call runs in a copy of the caller's context, in the caller's language. The events
its transactions commit are held (`events.held`) and sent from the event loop when it returns
(`events.release`): the lane never waits on the loop, and needs nothing of asgiref's bridging
back to it, so a plain executor hand-over does.

Connections are tidied (closed when broken or past CONN_MAX_AGE, as Channels does around every
call) after a call that failed and at most once a second otherwise: tidying before each call made
PostgreSQL answer a health-check `SELECT 1` for every message.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from django.db import close_old_connections
from django.utils import translation

from rooms import events

P = ParamSpec("P")
R = TypeVar("R")

TIDY_EVERY = 1.0  # seconds

_writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="halqa-writes")
_tidied = threading.local()


def _tidy(*, now: float) -> None:
    if now - getattr(_tidied, "at", 0.0) >= TIDY_EVERY:
        close_old_connections()
        _tidied.at = now


def write_lane(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` as a coroutine function that runs on the write lane."""

    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        box: list[tuple[str, dict[str, Any]]] = []
        # asgiref's locals (Django's active language among them) do not follow a call into
        # another thread unless asgiref moves them: the reader's language is carried here.
        language = translation.get_language()

        def run() -> R:
            _tidy(now=time.monotonic())
            with translation.override(language), events.held(box):
                try:
                    return func(*args, **kwargs)
                except BaseException:
                    close_old_connections()  # a failed statement may have left it unusable
                    _tidied.at = time.monotonic()
                    raise

        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(_writes, contextvars.copy_context().run, run)
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                await events.release(box)
            else:  # the caller was cancelled (its socket closed); the write goes on
                future.add_done_callback(lambda _done: loop.create_task(events.release(box)))

    return call
