"""Live events leave the server here, and only here.

A service that writes schedules its events with the `*_on_commit` helpers: nothing is sent until
the transaction commits, so nobody sees a change that was never stored, and a rolled-back change
sends nothing. Frames for a whole group are encoded once (`frame.relay`); notices about a
facilitator's decision travel as a code and parameters and each socket renders them in its own
reader's language (`frame.localized`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from rooms import hub, protocol

log = logging.getLogger(__name__)

RELAY = "frame.relay"  # consumer handler: frame_relay
LOCALIZED = "frame.localized"  # consumer handler: frame_localized
ADMITTED = "member.admitted"  # consumer handler: member_admitted
CLOSE_SOCKETS = "sockets.close"  # consumer handler: sockets_close


# --- Groups ---------------------------------------------------------------------------------------
def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def staff_group(room_id: int) -> str:
    """The circle's facilitators only: the console, reports, alerts, the side channel."""
    return f"room.{room_id}.staff"


def user_group(user_id: int) -> str:
    """Every socket of one identity, in any circle (erasure)."""
    return f"user.{user_id}"


def member_group(membership_id: int) -> str:
    """The sockets of one alias in one circle: private notices, mute, removal, admission."""
    return f"member.{membership_id}"


def waiting_group(room_id: int) -> str:
    """Sockets in a circle's waiting room, not yet in the circle's own group."""
    return f"room.{room_id}.waiting"


# --- Events ---------------------------------------------------------------------------------------
def relay_event(frame: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"type": RELAY, "text": protocol.encode(frame), **meta}


def localized_event(*, code: str, params: dict[str, Any] | None = None,
                    frame_type: str = protocol.NOTICE) -> dict[str, Any]:
    return {"type": LOCALIZED, "frame_type": frame_type, "code": code, "params": params or {}}


_ROOM_GROUP = re.compile(r"room\.(\d+)")


def _circle_only(group: str, event: dict[str, Any]) -> bool:
    """A circle's own group goes through the fan-out hub (one publish per process): True when
    `group` was one and the event is on its way."""
    whole_circle = _ROOM_GROUP.fullmatch(group)
    if whole_circle:
        hub.publish(int(whole_circle.group(1)), event)
    return whole_circle is not None


_held = threading.local()


@contextlib.contextmanager
def held(box: list[tuple[str, dict[str, Any]]]) -> Iterator[None]:
    """Within this block (on one thread), events are put in `box` instead of being sent:
    rooms.lanes sends them from the event loop (`release`) once the call that caused them
    returns, so the database thread never waits on the loop, and a message costs the loop one
    wake-up, not one per event."""
    outer = getattr(_held, "box", None)
    _held.box = box
    try:
        yield
    finally:
        _held.box = outer


async def release(box: list[tuple[str, dict[str, Any]]]) -> None:
    """Send, from the event loop and in their order, the events a `held` block collected."""
    for group, event in box:
        if _circle_only(group, event):
            continue
        try:
            await get_channel_layer().group_send(group, event)
        except Exception:  # the write is committed; a lost broadcast is repaired by resume
            log.exception("broadcast to %s failed", group.split(".", 1)[0])


def _send(group: str, event: dict[str, Any]) -> None:
    """A circle's own group goes through the fan-out hub (one publish per process); the groups
    of one person or of the facilitators stay on the channel layer."""
    box = getattr(_held, "box", None)
    if box is not None:
        box.append((group, event))
        return
    if _circle_only(group, event):
        return
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # the write is committed; a lost broadcast is repaired by resume
        log.exception("broadcast to %s failed", group.split(".", 1)[0])


def on_commit_once(key: str, callback: Callable[[], None]) -> None:
    """Run `callback` after the commit, once per transaction for this key however many writes
    asked for it (three changes to one circle refresh its console once). Rolled back, it is
    dropped like any on_commit callback."""
    if connection.in_atomic_block and any(
            getattr(func, "halqa_once_key", None) == key
            for _ids, func, _robust in connection.run_on_commit):
        return
    job = partial(callback)
    job.halqa_once_key = key  # type: ignore[attr-defined]
    transaction.on_commit(job)


def broadcast_on_commit(group: str,
                        frame: dict[str, Any] | Callable[[], dict[str, Any] | None],
                        *, once: str | None = None, **meta: Any) -> None:
    """Send a frame to a group after the commit. A callable is built at commit time (state
    that other writes in the same transaction may still change, such as a circle's controls);
    it may return None to send nothing. With `once`, the event goes out once per transaction
    for that key however many writes asked for it."""
    if callable(frame):
        build = frame

        def send() -> None:
            built = build()
            if built is not None:
                _send(group, relay_event(built, **meta))
    else:
        event = relay_event(frame, **meta)

        def send() -> None:
            _send(group, event)

    if once is None:
        transaction.on_commit(send)
    else:
        on_commit_once(once, send)


def notice_on_commit(group: str, *, code: str, params: dict[str, Any] | None = None,
                     frame_type: str = protocol.NOTICE) -> None:
    """A notice each recipient reads in their own language (protocol.NOTICE_TEXTS)."""
    event = localized_event(code=code, params=params, frame_type=frame_type)
    transaction.on_commit(lambda: _send(group, event))


def admitted_on_commit(membership_id: int) -> None:
    """Tell the waiting sockets of an admitted alias to enter the circle."""
    event = {"type": ADMITTED}
    transaction.on_commit(lambda: _send(member_group(membership_id), event))


def close_sockets_on_commit(group: str, *, code: int, notice: dict[str, Any] | None = None
                            ) -> None:
    """Close every socket in a group, after telling each why in its reader's language
    (`notice` is a `localized_event`)."""
    event: dict[str, Any] = {"type": CLOSE_SOCKETS, "code": code}
    if notice is not None:
        event["notice"] = notice
    transaction.on_commit(lambda: _send(group, event))


def broadcast_now(room_id: int, frame: dict[str, Any]) -> None:
    """For circle events that write nothing (typing), sent straight from the event loop."""
    hub.publish(room_id, relay_event(frame))
