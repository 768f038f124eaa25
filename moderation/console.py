"""The facilitators' console: one frame with everything they watch in a circle, built on
demand and refreshed after the writes that change it. Reads only; the refresh is scheduled by
the services that write (rooms.services, moderation.services, moderation.house_rules)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from moderation import selectors
from moderation.models import RuleBreach
from rooms import events, protocol
from rooms import selectors as room_selectors
from rooms.models import Membership, Presence, Room

CONSOLE_AUDIT_ENTRIES = 30


def console_snapshot(*, room_id: int) -> dict[str, Any]:
    """Everything a facilitator's console shows, in one frame: who is here and their state,
    who waits, the open reports and alerts, and the latest audit entries."""
    room = Room.objects.get(pk=room_id)
    now = timezone.now()
    sockets: dict[int, bool] = {}  # membership -> only waiting sockets
    for membership_id, waiting in Presence.objects.filter(
            room_id=room_id, seen_at__gte=room_selectors.presence_cutoff()
    ).values_list("membership_id", "waiting"):
        sockets[membership_id] = sockets.get(membership_id, True) and waiting
    breaches: dict[int, dict[str, int]] = {}
    for membership_id, rule, count in RuleBreach.objects.filter(
            membership__room_id=room_id).values_list("membership_id", "rule", "count"):
        breaches.setdefault(membership_id, {})[rule] = count
    # Present or waiting people, and anyone still muted, removed or banned (so it can be lifted).
    members = Membership.objects.filter(room_id=room_id).filter(
        Q(pk__in=list(sockets)) | Q(muted_until__gt=now) | Q(removed_until__gt=now)
        | Q(banned_at__isnull=False)).order_by("alias")
    people = [{
        "alias": m.alias, "role": m.role,
        "present": m.pk in sockets and not sockets[m.pk],
        "waiting": sockets.get(m.pk, False),
        "muted_until": protocol.time_or_none(m.muted_until if m.muted_at(now) else None),
        "removed_until": protocol.time_or_none(m.removed_until if m.removed_at(now) else None),
        "banned": m.banned_on(now),
        "banned_until": protocol.time_or_none(m.banned_until if m.banned_on(now) else None),
        "warnings": m.warnings,
        "breaches": breaches.get(m.pk, {}),
        "admission": m.admission,
    } for m in members]
    return {"room": room_selectors.room_snapshot(room=room), "people": people,
            "reports": selectors.report_queue(room_id=room_id),
            "audit": selectors.audit_recent(room_id=room_id, limit=CONSOLE_AUDIT_ENTRIES)}


def console_frame(*, room_id: int) -> dict[str, Any]:
    return protocol.console_frame(console_snapshot(room_id=room_id))


def _console_frame_if_watched(room_id: int) -> dict[str, Any] | None:
    # Built only when a facilitator is there to see it: joins, leaves and rule breaches should
    # not build it for nobody.
    if not room_selectors.facilitator_present(room_id=room_id):
        return None
    return console_frame(room_id=room_id)


def console_refresh_on_commit(*, room_id: int) -> None:
    """The circle's facilitators get a fresh console after this transaction commits: once,
    however many changes in the transaction asked for it."""
    events.broadcast_on_commit(events.staff_group(room_id),
                               lambda: _console_frame_if_watched(room_id),
                               once=f"console:{room_id}")
