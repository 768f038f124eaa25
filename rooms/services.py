"""The circles' core: entering, house rules, presence, posting, history.

Websocket consumers, REST views and the admin call these functions and nothing else. A function
that writes schedules its live event on commit (rooms.events), so every event has one origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.pseudonyms import pseudonym_generate
from moderation import house_rules
from moderation.pipeline import Outcome
from rooms import crypto, events, protocol
from rooms.errors import Conflict, Forbidden, NotFound
from rooms.models import Membership, Message, Presence, Room, Session


# --- Errors specific to circles ---------------------------------------------------------------
def _room_closed() -> Forbidden:
    return Forbidden("room_closed", _("This circle is closed at the moment."))


def _room_full() -> Conflict:
    return Conflict("room_full", _("This circle is full. You can try again in a little while."))


def rules_not_accepted_error() -> Forbidden:
    return Forbidden(
        "rules_not_accepted", _("Please read and accept the house rules before writing.")
    )


# --- Rooms and memberships --------------------------------------------------------------------
def room_get(*, slug: str) -> Room:
    try:
        return Room.objects.get(slug=slug)
    except Room.DoesNotExist:
        raise NotFound("room_not_found", _("There is no circle with that address.")) from None


def _pinned_payload(room: Room) -> dict[str, Any] | None:
    """The pinned message as everyone sees it, or None (none, expired, or unreadable)."""
    if room.pinned_message_id is None:
        return None
    message = (Message.objects.select_related("author", "session")
               .filter(pk=room.pinned_message_id, expires_at__gt=timezone.now()).first())
    text = message_text(message) if message is not None else None
    if message is None or text is None:
        return None
    return _message_payload(message, message.author, text)


def room_snapshot(*, room: Room, with_pinned: bool = True) -> dict[str, Any]:
    """What a client needs to draw a circle's header and its live controls. The pinned message
    is circle content: only for those inside."""
    return {
        "slug": room.slug, "title": room.title, "theme": room.theme,
        "description": room.description, "language": room.language,
        "dir": "rtl" if room.is_rtl else "ltr", "capacity": room.capacity,
        "is_open": room.is_open, "access": room.access, "locked": room.is_locked,
        "paused": room.is_paused, "slow_mode_seconds": room.slow_mode_seconds,
        "pinned": _pinned_payload(room) if with_pinned else None,
    }


def room_state_broadcast_on_commit(*, room_id: int) -> None:
    """Everyone in the circle redraws its controls (lock, pause, slow mode, pin)."""

    def send() -> None:
        room = Room.objects.get(pk=room_id)
        frame = protocol.room_state_frame(room_snapshot(room=room))
        events._send(events.room_group(room_id), events.relay_event(frame))

    transaction.on_commit(send)


def is_facilitator(*, user: User, room: Room) -> bool:
    """Admins everywhere, facilitators in the circles they are assigned to. Read fresh."""
    return user.is_halqa_admin or room.facilitators.filter(pk=user.pk).exists()


def facilitators_changed(*, room_ids: list[int], user_ids: list[int]) -> None:
    """Someone was made or unmade a facilitator of a circle: their open sockets there are
    closed so they reconnect in their new role (an unassigned facilitator must stop receiving
    the console, reports and crisis alerts at once)."""
    for membership_id in Membership.objects.filter(room_id__in=room_ids, user_id__in=user_ids
                                                   ).values_list("pk", flat=True):
        events.close_sockets_on_commit(events.member_group(membership_id),
                                       code=protocol.CLOSE_ROLE_CHANGED)


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


def _alias_for(*, user: User, room: Room, attempt: int) -> str:
    # A fresh alias per circle by default, so two circles cannot link one person.
    if (user.same_alias_everywhere or not user.is_pseudonymous) and attempt == 0:
        return user.display_name
    if attempt >= 3:
        return pseudonym_generate(language=room.language, suffix=True)
    return pseudonym_generate(language=room.language)


def membership_ensure(*, user: User, room: Room) -> Membership:
    """This identity's membership of this circle, created with a new alias on first entry."""
    role = (Membership.Role.FACILITATOR if is_facilitator(user=user, room=room)
            else Membership.Role.PARTICIPANT)
    membership = Membership.objects.filter(user=user, room=room).first()
    if membership is not None:
        if membership.role != role:  # assigned or unassigned since last time
            membership.role = role
            membership.save(update_fields=["role"])
        return membership
    for attempt in range(8):
        try:
            with transaction.atomic():
                return Membership.objects.create(
                    user=user, room=room, role=role,
                    alias=_alias_for(user=user, room=room, attempt=attempt),
                )
        except IntegrityError:
            existing = Membership.objects.filter(user=user, room=room).first()
            if existing is not None:  # a second tab got there first
                return existing
    raise Conflict("alias_exhausted", _("Could not find a free alias here, please retry."))


def rules_accept(*, membership: Membership) -> Membership:
    if membership.rules_accepted_at is None:
        membership.rules_accepted_at = timezone.now()
        membership.save(update_fields=["rules_accepted_at"])
    return membership


# --- Presence ---------------------------------------------------------------------------------
def _presence_cutoff():
    return timezone.now() - timedelta(seconds=settings.HALQA["PRESENCE_TIMEOUT"])


def presence_members(*, room_id: int) -> list[dict[str, str]]:
    """Everyone with at least one live socket in the circle, by alias."""
    rows = (
        Presence.objects.filter(room_id=room_id, seen_at__gte=_presence_cutoff(), waiting=False)
        .values_list("membership__alias", "membership__role")
        .distinct()
        .order_by("membership__alias")
    )
    return [protocol.member_payload(alias=alias, role=role) for alias, role in rows]


def presence_broadcast_on_commit(*, room_id: int) -> None:
    """Who is present, to the circle; and the console, to its facilitators."""

    def send() -> None:
        frame = protocol.presence_frame(presence_members(room_id=room_id))
        events._send(events.room_group(room_id), events.relay_event(frame))
        console_send(room_id=room_id)

    transaction.on_commit(send)


def console_send(*, room_id: int) -> None:
    """Send the facilitators' console of a circle to its staff group (after a commit), when a
    facilitator is there to see it: joins and leaves should not build it for nobody."""
    from moderation.services import console_snapshot_frame  # moderation builds on rooms

    if not Presence.objects.filter(room_id=room_id, waiting=False,
                                   membership__role=Membership.Role.FACILITATOR).exists():
        return
    frame = console_snapshot_frame(room_id=room_id)
    events._send(events.staff_group(room_id), events.relay_event(frame))


def _until_detail(until) -> str:  # type: ignore[no-untyped-def]
    seconds = max(1, int((until - timezone.now()).total_seconds()))
    minutes = -(-seconds // 60)
    return ngettext("%(minutes)d more minute.", "%(minutes)d more minutes.", minutes) % {
        "minutes": minutes}


def entry_check(*, membership: Membership, room: Room) -> None:
    """Whether this alias may enter the circle now; raises the refusal it gets if not."""
    now = timezone.now()
    if membership.banned_on(now):
        detail = _("You cannot take part in this circle any more.")
        if membership.banned_until is not None:
            detail = _("You cannot take part in this circle for %(time)s") % {
                "time": _until_detail(membership.banned_until)}
        raise Forbidden("banned", detail, reason=membership.ban_reason)
    if membership.removed_at(now):
        raise Forbidden(
            "removed",
            _("A facilitator asked you to leave this session. You can come back in %(time)s")
            % {"time": _until_detail(membership.removed_until)},
            retry_after=int((membership.removed_until - now).total_seconds()) + 1,
        )
    if membership.is_facilitator:
        return
    if not room.is_open:
        raise _room_closed()
    if room.is_locked:
        # People who were in the circle when it was locked may come back (a reload, a lost
        # connection); nobody new comes in.
        grace = timedelta(seconds=settings.HALQA["PRESENCE_TIMEOUT"])
        was_in = (membership.last_seen_at is not None and room.locked_at is not None
                  and membership.last_seen_at >= room.locked_at - grace)
        if not was_in:
            raise Forbidden("room_locked", _("This circle is locked: no new arrivals for now."))
    if (room.access == Room.Access.WAITING_ROOM
            and membership.admission == Membership.Admission.DECLINED):
        raise Forbidden("declined", _("A facilitator did not admit you to this session."))
    if room.access == Room.Access.APPLICATION and not (
            membership.admission == Membership.Admission.ADMITTED
            and membership.admitted_until is not None and membership.admitted_until > now):
        raise Forbidden("invitation_needed",
                        _("This circle meets by application: apply to a session on the "
                          "schedule, then come in with your personal invitation."))


def read_check(*, membership: Membership) -> None:
    """Whether this alias may read the circle's messages (history over REST): the same doors
    as entering, and past the waiting room."""
    if not membership.rules_accepted:
        raise rules_not_accepted_error()
    room = membership.room
    entry_check(membership=membership, room=room)
    if (room.access == Room.Access.WAITING_ROOM and not membership.is_facilitator
            and membership.admission != Membership.Admission.ADMITTED):
        raise Forbidden("not_admitted", _("A facilitator has not let you in yet."))


def presence_enter(*, membership: Membership, channel_name: str) -> bool:
    """Count one socket of this member as present, if the circle lets them in and has room.

    Returns False when the circle has a waiting room and this alias is not admitted yet: the
    socket then waits, shown to the facilitators as an arrival.
    """
    if not membership.rules_accepted:
        raise rules_not_accepted_error()
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=membership.room_id)
        membership = Membership.objects.get(pk=membership.pk)  # fresh: bans, admission
        entry_check(membership=membership, room=room)
        waiting = (room.access == Room.Access.WAITING_ROOM and not membership.is_facilitator
                   and membership.admission != Membership.Admission.ADMITTED)
        cutoff = _presence_cutoff()
        live = Presence.objects.filter(room=room, seen_at__gte=cutoff, waiting=False)
        if not waiting and not live.filter(membership=membership).exists():
            others = live.values("membership_id").distinct().count()
            if others >= room.capacity:
                raise _room_full()
        # Sockets of processes that died never said goodbye: sweep them here.
        Presence.objects.filter(room=room, seen_at__lt=cutoff).delete()
        now = timezone.now()
        Presence.objects.update_or_create(
            channel_name=channel_name,
            defaults={"membership": membership, "room": room, "seen_at": now,
                      "waiting": waiting},
        )
        updates = {"last_seen_at": now}
        if waiting and membership.admission != Membership.Admission.PENDING:
            updates["admission"] = Membership.Admission.PENDING
        Membership.objects.filter(pk=membership.pk).update(**updates)
        presence_broadcast_on_commit(room_id=room.pk)
    return not waiting


def presence_leave(*, channel_name: str) -> None:
    """A socket closed. When the last person leaves an ephemeral circle, its session ends."""
    with transaction.atomic():
        row = Presence.objects.select_related("room").filter(channel_name=channel_name).first()
        if row is None:
            return
        row.delete()
        Membership.objects.filter(pk=row.membership_id).update(last_seen_at=timezone.now())
        presence_broadcast_on_commit(room_id=row.room_id)
        if row.room.is_ephemeral and not Presence.objects.filter(
                room_id=row.room_id, seen_at__gte=_presence_cutoff(), waiting=False).exists():
            for session in Session.objects.filter(room_id=row.room_id, ended_at__isnull=True):
                session_end(session=session)


def presence_touch(*, channel_name: str) -> None:
    now = timezone.now()
    Presence.objects.filter(channel_name=channel_name).update(seen_at=now)
    Membership.objects.filter(sockets__channel_name=channel_name).update(last_seen_at=now)


# --- Messages ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MessagePosted:
    message: Message
    payload: dict[str, Any]  # the message as every client sees it
    duplicate: bool
    # Private notes for the author only (why something was hidden, gentle reminders).
    notices: list[dict[str, Any]] = field(default_factory=list)


def _message_payload(message: Message, membership: Membership, body: str) -> dict[str, Any]:
    return protocol.message_payload(
        id=message.pk, alias=membership.alias, role=membership.role, body=body,
        created_at=message.created_at,
    )


def session_wrapped_key(session: Session) -> str | None:
    """The session's wrapped key: on the row for timed circles, in the cache for ephemeral ones."""
    return session.wrapped_key or crypto.ephemeral_key_get(session_id=session.pk)


def message_text(message: Message) -> str | None:
    """The clear text of a stored message, or None once its session key is destroyed."""
    try:
        return crypto.decrypt(wrapped_key=session_wrapped_key(message.session),
                              token=message.body_encrypted)
    except crypto.KeyDestroyed:
        return None


# --- Circle sessions and their keys -----------------------------------------------------------
def session_current(*, room: Room) -> Session:
    """The open session of a circle, opened on demand.

    Timed circles start a new session (and key) every SESSION_KEY_HOURS, so each key can be
    destroyed as soon as the last message it protects has expired.
    """
    session = Session.objects.filter(room=room, ended_at__isnull=True).order_by("-id").first()
    if session is not None:
        if room.is_ephemeral and session_wrapped_key(session):
            return session
        key_age = timezone.now() - session.started_at
        if (not room.is_ephemeral and session.wrapped_key
                and key_age < timedelta(hours=settings.HALQA["SESSION_KEY_HOURS"])):
            return session
        # Past its key age, or an ephemeral key lost with a restart: that session is over.
        session_end(session=session)
    wrapped = crypto.session_key_new()
    if room.is_ephemeral:
        session = Session.objects.create(room=room, wrapped_key="")
        crypto.ephemeral_key_put(session_id=session.pk, wrapped_key=wrapped,
                                 seconds=settings.HALQA["EPHEMERAL_MAX_HOURS"] * 3600)
        return session
    return Session.objects.create(room=room, wrapped_key=wrapped)


def _expiry_for(room: Room):
    hours = (settings.HALQA["EPHEMERAL_MAX_HOURS"] if room.is_ephemeral
             else min(room.retention_hours, settings.HALQA["MAX_RETENTION_HOURS"]))
    return timezone.now() + timedelta(hours=hours)


def session_end(*, session: Session) -> int:
    """End a circle session. For an ephemeral circle its messages are deleted and its key
    destroyed, so even copies made earlier (backups) can no longer be read."""
    deleted = 0
    with transaction.atomic():
        Session.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=timezone.now())
        if session.room.is_ephemeral:
            deleted = message_delete_many(
                room_id=session.room_id,
                ids=list(Message.objects.filter(session=session).values_list("id", flat=True)),
            )
            transaction.on_commit(lambda: crypto.ephemeral_key_destroy(session_id=session.pk))
    return deleted


def message_delete_many(*, room_id: int, ids: list[int]) -> int:
    """Delete messages for real and take them off every connected screen."""
    if not ids:
        return 0
    deleted, _detail = Message.objects.filter(pk__in=ids).delete()
    events.broadcast_on_commit(events.room_group(room_id), protocol.messages_deleted_frame(ids))
    return deleted


def _room_write_lock(room_id: int) -> None:
    """Serialise writers of one circle so message ids commit in order (resume relies on it).

    SQLite already has a single writer; PostgreSQL takes a transaction-scoped advisory lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7001, room_id])


def _outcome_notices(outcome: Outcome, *, membership: Membership) -> list[dict[str, Any]]:
    """Private notes for the author: what was hidden and why, reminders, and help if in crisis."""
    notices = [protocol.notice_frame(code=nudge.code, detail=_(nudge.message))
               for nudge in outcome.nudges]
    if any(flag.kind == "crisis" for flag in outcome.flags):
        language = membership.user.language or membership.room.language
        notices.insert(0, house_rules.crisis_support_notice(room=membership.room,
                                                            language=language))
    return notices


def message_post(*, membership_id: int, body: str, client_id: str) -> MessagePosted:
    """Run the house rules over a message, store it once, then broadcast it to the circle.

    Reads the membership fresh so a closed room or new rule applies at once. A retried
    `client_id` returns the stored message before the rules run, so a retry is never refused or
    counted against the flood limit; the unique constraint settles a race between two sockets.
    """
    membership = Membership.objects.select_related("room", "user").get(pk=membership_id)
    room = membership.room
    if not membership.rules_accepted:
        raise rules_not_accepted_error()
    if not room.is_open:
        raise _room_closed()
    speak_check(membership=membership, room=room)
    existing = _message_by_client_id(membership=membership, client_id=client_id)
    if existing is not None:
        return existing

    outcome = house_rules.house_rules_apply(membership=membership, body=body)
    try:
        with transaction.atomic():
            _room_write_lock(room.pk)
            session = session_current(room=room)
            message = Message.objects.create(
                room=room, session=session, author=membership, client_id=client_id,
                body_encrypted=crypto.encrypt(wrapped_key=session_wrapped_key(session),
                                              text=outcome.text),
                expires_at=_expiry_for(room),
            )
            payload = _message_payload(message, membership, outcome.text)
            events.broadcast_on_commit(
                events.room_group(room.pk),
                protocol.message_new_frame(payload),
                message_id=message.pk,
            )
            crisis = [flag for flag in outcome.flags if flag.kind == "crisis"]
            if crisis:
                house_rules.crisis_alert_on_commit(
                    room_id=room.pk, alias=membership.alias, message_id=message.pk,
                    categories=tuple(c for flag in crisis for c in flag.categories),
                )
    except IntegrityError:  # the same client_id raced in from another socket
        raced = _message_by_client_id(membership=membership, client_id=client_id)
        if raced is None:
            raise
        return raced
    return MessagePosted(message=message, payload=payload, duplicate=False,
                         notices=_outcome_notices(outcome, membership=membership))


def speak_check(*, membership: Membership, room: Room) -> None:
    """Whether this alias may write now: not muted, banned or removed, and the chat not paused
    (facilitators can always write, so they can steer a paused circle)."""
    now = timezone.now()
    if membership.banned_on(now) or membership.removed_at(now):
        raise Forbidden("not_in_circle", _("You are not taking part in this circle right now."))
    if membership.is_facilitator:
        return
    if membership.muted_at(now):
        raise Forbidden(
            "muted", _("A facilitator muted you: you can read, and write again in %(time)s")
            % {"time": _until_detail(membership.muted_until)},
            retry_after=int((membership.muted_until - now).total_seconds()) + 1,
            muted_until=membership.muted_until.isoformat(),
        )
    if room.is_paused:
        raise Forbidden("paused", _("The facilitators paused the chat for a moment. You can "
                                    "still read."))


def _message_by_client_id(*, membership: Membership, client_id: str) -> MessagePosted | None:
    message = (Message.objects.select_related("session")
               .filter(author=membership, client_id=client_id, expires_at__gt=timezone.now())
               .first())
    text = message_text(message) if message is not None else None
    if message is None or text is None:
        return None
    return MessagePosted(message=message, payload=_message_payload(message, membership, text),
                         duplicate=True)


@dataclass(frozen=True)
class History:
    messages: list[dict[str, Any]]
    truncated: bool


def message_history(*, room_id: int, after: int | None = None, limit: int | None = None
                    ) -> History:
    """Recent messages, or exactly those after a given id (for a client that reconnects)."""
    rows = (
        Message.objects.filter(room_id=room_id, expires_at__gt=timezone.now())
        .select_related("author", "session")
        .only("id", "body_encrypted", "created_at", "session_id", "session__wrapped_key",
              "author__alias", "author__role")
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
            messages.append(_message_payload(message, message.author, text))
    return History(messages=messages, truncated=truncated)


# --- Entering a circle over a socket ----------------------------------------------------------
def welcome_build(*, membership: Membership, joined: bool, after: int | None = None,
                  waiting: bool = False) -> dict[str, Any]:
    """The first frame a socket gets, and again once it has joined (then with history)."""
    membership = Membership.objects.select_related("room").get(pk=membership.pk)
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


async def typing_announce(*, room_id: int, alias: str) -> None:
    """Someone is typing: a passing signal, never stored."""
    await events.broadcast_now(events.room_group(room_id), protocol.typing_frame(alias=alias))
