"""Reads of circles: what edges, services and the console show. Nothing here writes.

Selectors sit below the services (rooms.services, moderation.services) and above the models;
they import no service, so any service or edge can use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from moderation import care
from rooms import crypto, protocol
from rooms.errors import NotFound
from rooms.models import AuthorKey, Membership, Message, Presence, Room, Session


# --- Circles ------------------------------------------------------------------------------------
def room_get(*, slug: str) -> Room:
    try:
        return Room.objects.get(slug=slug)
    except Room.DoesNotExist:
        raise NotFound("room_not_found", _("There is no circle with that address.")) from None


def room_list() -> QuerySet[Room]:
    return Room.objects.all()


def room_retention_hours(*, room: Room) -> int:
    """How long a message written now in this circle is kept, in hours (what `expires_at` gets;
    the privacy page and the circle page show the same figure)."""
    if room.is_ephemeral:
        return settings.HALQA["EPHEMERAL_MAX_HOURS"]
    return min(room.retention_hours, settings.HALQA["MAX_RETENTION_HOURS"])


def message_expiry(*, room: Room) -> datetime:
    return timezone.now() + timedelta(hours=room_retention_hours(room=room))


def is_facilitator(*, user: User, room: Room) -> bool:
    """Admins everywhere, facilitators in the circles they are assigned to. Read fresh."""
    return user.is_halqa_admin or room.facilitators.filter(pk=user.pk).exists()


def invitation_holds(*, user: User, room: Room) -> bool:
    """Whether this identity entered a circle by application with an invitation still valid
    (until the end of its session)."""
    return Membership.objects.filter(
        user=user, room=room, admission=Membership.Admission.ADMITTED,
        admitted_until__gt=timezone.now()).exists()


def rooms_facilitated(*, user: User) -> QuerySet[Room]:
    """The circles this identity facilitates: all of them for an admin."""
    if user.is_halqa_admin:
        return Room.objects.all()
    return user.facilitated_rooms.all()


def membership_fresh(*, membership_id: int) -> Membership:
    """A membership read now, with its circle and identity: decisions use the current state.
    `seated` says in the same query whether one of its sockets is present in the circle."""
    return (Membership.objects.select_related("room", "user")
            .annotate(seated=Exists(Presence.objects.filter(
                membership=OuterRef("pk"), seen_at__gte=presence_cutoff(), waiting=False)))
            .get(pk=membership_id))


def membership_by_alias(*, room: Room, alias: str) -> Membership | None:
    return Membership.objects.select_related("user").filter(room=room, alias=alias).first()


# --- Presence -----------------------------------------------------------------------------------
def presence_cutoff() -> datetime:
    """Sockets not seen since then belong to processes that died without saying goodbye."""
    return timezone.now() - timedelta(seconds=settings.HALQA["PRESENCE_TIMEOUT"])


def presence_live(*, room_id: int) -> QuerySet[Presence]:
    """The live sockets of people inside the circle (not those in its waiting room)."""
    return Presence.objects.filter(room_id=room_id, seen_at__gte=presence_cutoff(),
                                   waiting=False)


def presence_members(*, room_id: int) -> list[dict[str, str]]:
    """Everyone with at least one live socket in the circle, by alias."""
    rows = (
        presence_live(room_id=room_id)
        .values_list("membership__alias", "membership__role")
        .distinct()
        .order_by("membership__alias")
    )
    return [protocol.member_payload(alias=alias, role=role) for alias, role in rows]


def facilitator_present(*, room_id: int) -> bool:
    return presence_live(room_id=room_id).filter(
        membership__role=Membership.Role.FACILITATOR).exists()


def seat_held(*, membership: Membership) -> bool:
    """Whether this alias already counts as present in its circle (one of its sockets is in);
    read with the membership when it came from `membership_fresh`."""
    seated = getattr(membership, "seated", None)
    if seated is not None:
        return seated
    return presence_live(room_id=membership.room_id).filter(membership=membership).exists()


def seats_taken(*, room_id: int) -> int:
    return presence_live(room_id=room_id).values("membership_id").distinct().count()


# --- Messages -----------------------------------------------------------------------------------
_SESSION_OPEN_SQL = (
    "SELECT id, room_id, started_at, ended_at, wrapped_key FROM {table}"
    " WHERE room_id = %s AND ended_at IS NULL ORDER BY id DESC LIMIT 1"
)


def session_open(*, room_id: int) -> Session | None:
    """The circle's open session, if any. Read for every message stored: written as SQL once
    (`raw`, which still converts the columns) instead of a queryset compiled on each call,
    which cost about half of the whole write path."""
    found = list(Session.objects.raw(
        _SESSION_OPEN_SQL.format(table=Session._meta.db_table), [room_id]))
    return found[0] if found else None


def session_is_open(*, session: Session) -> bool:
    """Still open, and still this session (the same key: not a row id given again)."""
    return Session.objects.filter(pk=session.pk, room_id=session.room_id,
                                  wrapped_key=session.wrapped_key,
                                  ended_at__isnull=True).exists()


def session_wrapped_key(session: Session) -> str | None:
    """The session's wrapped key: on the row for timed circles, in the cache for ephemeral ones."""
    return session.wrapped_key or crypto.ephemeral_key_get(session_id=session.pk)


def author_key_wrapped(key: AuthorKey) -> str | None:
    """An author key, wrapped: on the row for timed circles, in the cache for ephemeral ones;
    None once destroyed."""
    return key.wrapped_key or crypto.ephemeral_author_key_get(key_id=key.pk)


def message_wrapped_key(message: Any) -> str | None:
    """The wrapped key a stored message (a circle message or a private one) is encrypted with:
    its author's key for its session (`key`, read with it), or for a message written before
    there were author keys, its session's. None once destroyed."""
    if message.key_id is None:
        return session_wrapped_key(message.session)
    return author_key_wrapped(message.key)


def message_text(message: Message) -> str | None:
    """The clear text of a stored message, or None once its key is destroyed."""
    try:
        return crypto.decrypt(wrapped_key=message_wrapped_key(message),
                              token=message.body_encrypted)
    except crypto.KeyDestroyed:
        return None


def message_payload(*, message: Message, author: Membership, body: str) -> dict[str, Any]:
    """A message as every client sees it."""
    return protocol.message_payload(
        id=message.pk, alias=author.alias, role=author.role, body=body,
        created_at=message.created_at,
    )


def message_live(*, room: Room, message_id: int) -> Message | None:
    """A message of this circle that has not expired, with its author and session."""
    return (Message.objects.select_related("author", "session", "key")
            .filter(pk=message_id, room=room, expires_at__gt=timezone.now()).first())


def message_by_client_id(*, membership: Membership, client_id: str
                         ) -> tuple[Message, str] | None:
    """The live message this alias already sent with this client_id, and its text."""
    message = (Message.objects.select_related("session", "key")
               .filter(author=membership, client_id=client_id, expires_at__gt=timezone.now())
               .first())
    text = message_text(message) if message is not None else None
    if message is None or text is None:
        return None
    return message, text


@dataclass(frozen=True)
class History:
    messages: list[dict[str, Any]]
    truncated: bool


def message_history(*, room_id: int, after: int | None = None, limit: int | None = None
                    ) -> History:
    """Recent messages, or exactly those after a given id (for a client that reconnects)."""
    rows = (
        Message.objects.filter(room_id=room_id, expires_at__gt=timezone.now())
        .select_related("author", "session", "key")
        .only("id", "body_encrypted", "created_at", "session_id", "session__wrapped_key",
              "key_id", "key__wrapped_key", "author__alias", "author__role")
    )
    if after is None:
        limit = limit or settings.HALQA["HISTORY_LIMIT"]
        page = list(rows.order_by("-id")[: limit + 1])
        truncated = len(page) > limit
        page = list(reversed(page[:limit]))
    else:
        limit = limit or settings.HALQA["RESUME_LIMIT"]
        page = list(rows.filter(id__gt=after).order_by("id")[: limit + 1])
        truncated = len(page) > limit
        page = page[:limit]
    messages = []
    for message in page:
        text = message_text(message)
        if text is not None:  # a shredded session's leftovers are never served
            messages.append(message_payload(message=message, author=message.author, body=text))
    return History(messages=messages, truncated=truncated)


# --- What a client draws ------------------------------------------------------------------------
def _pinned_payload(room: Room) -> dict[str, Any] | None:
    """The pinned message as everyone sees it, or None (none, expired, or unreadable)."""
    if room.pinned_message_id is None:
        return None
    message = message_live(room=room, message_id=room.pinned_message_id)
    text = message_text(message) if message is not None else None
    if message is None or text is None:
        return None
    return message_payload(message=message, author=message.author, body=text)


def room_snapshot(*, room: Room, with_pinned: bool = True) -> dict[str, Any]:
    """What a client needs to draw a circle's header and its live controls. The pinned message
    is circle content: only for those inside."""
    return {
        "slug": room.slug, "title": room.title, "theme": room.theme,
        "description": room.description, "language": room.language,
        "dir": "rtl" if room.is_rtl else "ltr", "capacity": room.capacity,
        "is_open": room.is_open, "access": room.access, "locked": room.is_locked,
        "paused": room.is_paused, "slow_mode_seconds": room.slow_mode_seconds,
        "max_message_length": room.max_message_length,
        "pinned": _pinned_payload(room) if with_pinned else None,
        # Who can help now, true at this moment (moderation.care): present, on_duty or none.
        "care": care.care_status(room=room,
                                 facilitator_present=facilitator_present(room_id=room.pk)),
    }


def room_state_frame(*, room_id: int) -> dict[str, Any]:
    return protocol.room_state_frame(room_snapshot(room=Room.objects.get(pk=room_id)))


def you_payload(*, membership: Membership) -> dict[str, Any]:
    """An alias's own state, as its own screens show it."""
    now = timezone.now()
    return {
        **protocol.member_payload(alias=membership.alias, role=membership.role),
        "muted_until": protocol.time_or_none(
            membership.muted_until if membership.muted_at(now) else None),
        "warnings": membership.warnings,
        "admission": membership.admission,
    }


def welcome_build(*, membership_id: int, joined: bool, after: int | None = None,
                  waiting: bool = False) -> dict[str, Any]:
    """The first frame a socket gets, and again once it has joined (then with history)."""
    membership = Membership.objects.select_related("room").get(pk=membership_id)
    room = membership.room
    history = (message_history(room_id=room.pk, after=after) if joined
               else History(messages=[], truncated=False))
    return protocol.welcome_frame(
        you=you_payload(membership=membership),
        waiting=waiting,
        room=room_snapshot(room=room, with_pinned=joined),
        rules=room.house_rules,
        rules_accepted=membership.rules_accepted,
        joined=joined,
        members=presence_members(room_id=room.pk),
        history=history.messages,
        history_truncated=history.truncated,
    )
