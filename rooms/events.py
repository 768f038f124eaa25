"""Live events leave the server here, and only here.

A service that writes calls `broadcast_on_commit`: the frame is encoded once, and sent to the
channel-layer group only after the transaction commits, so nobody sees a message that was never
stored. Consumers relay the pre-encoded text as it is (`frame.relay`), with no query per recipient.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from rooms import protocol

log = logging.getLogger(__name__)

RELAY = "frame.relay"  # consumer handler: frame_relay


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


ADMITTED = "member.admitted"  # consumer handler: member_admitted


def admitted_on_commit(membership_id: int) -> None:
    """Tell the waiting sockets of an admitted alias to enter the circle."""
    event = {"type": ADMITTED}
    transaction.on_commit(lambda: _send(member_group(membership_id), event))


def relay_event(frame: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"type": RELAY, "text": protocol.encode(frame), **meta}


def _send(group: str, event: dict[str, Any]) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:  # the write is committed; a lost broadcast is repaired by resume
        log.exception("broadcast to %s failed", group.split(".", 1)[0])


def broadcast_on_commit(group: str, frame: dict[str, Any], **meta: Any) -> None:
    event = relay_event(frame, **meta)
    transaction.on_commit(lambda: _send(group, event))


async def broadcast_now(group: str, frame: dict[str, Any], **meta: Any) -> None:
    """For events that write nothing (typing), sent straight from the event loop."""
    await get_channel_layer().group_send(group, relay_event(frame, **meta))


CLOSE_SOCKETS = "sockets.close"  # consumer handler: sockets_close


def close_sockets_on_commit(group: str, *, code: int, frame: dict[str, Any] | None = None) -> None:
    """Close every socket in a group (after telling them why, if a frame is given)."""
    event: dict[str, Any] = {"type": CLOSE_SOCKETS, "code": code}
    if frame is not None:
        event["text"] = protocol.encode(frame)
    transaction.on_commit(lambda: _send(group, event))
