"""The circles' core: entering, house rules, presence, posting, and the keys of circle sessions.

Websocket consumers, REST views, the admin and management commands call these functions. Each
decides itself who may act (reading the current state, whatever the calling edge remembers),
writes in one transaction, and schedules its live events on commit (rooms.events), so every
event has one origin. Reads live in rooms.selectors.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.pseudonyms import pseudonym_generate
from moderation import crisis, house_rules, ratelimit
from moderation.console import console_refresh_on_commit
from moderation.models import SupportMessage
from rooms import crypto, events, protocol, selectors
from rooms.errors import Conflict, Forbidden, RateLimited, ServiceError
from rooms.models import AuthorKey, Membership, Message, Presence, Room, Session

log = logging.getLogger(__name__)


# --- Errors specific to circles ---------------------------------------------------------------
def _room_closed() -> Forbidden:
    return Forbidden("room_closed", _("This circle is closed at the moment."))


def _room_full() -> Conflict:
    return Conflict("room_full", _("This circle is full. You can try again in a little while."))


def rules_not_accepted_error() -> Forbidden:
    return Forbidden(
        "rules_not_accepted", _("Please read and accept the house rules before writing.")
    )


def _not_admitted() -> Forbidden:
    return Forbidden("not_admitted", _("A facilitator has not let you in yet."))


# --- Limits on the doors (moderation.ratelimit; docs/security.md) ----------------------------
def rate_limited(decision: ratelimit.Decision, *, code: str, detail: str) -> RateLimited:
    """The refusal of a limit: its code, a sentence with the wait, and `retry_after` (whole
    seconds, at least 1), the same on the socket and over REST."""
    seconds = max(1, math.ceil(decision.retry_after))
    return RateLimited(code, detail + " " + _("Try again in %(seconds)d s.") % {
        "seconds": seconds}, retry_after=seconds)


def limit_take(limit: ratelimit.Limit, *parts: object, code: str, detail: str,
               strike: tuple[int, int] | None = None) -> None:
    """One token of a door's limit, or its refusal (`rate_limited`). With `strike` (identity,
    circle), the refusal counts as a flood strike there, like a refused message: the fifth
    within a minute closes the socket (`flooding_close`)."""
    decision = ratelimit.take(limit, *parts)
    if not decision.allowed:
        error = rate_limited(decision, code=code, detail=detail)
        if strike is not None:
            user_id, room_id = strike
            if ratelimit.flood_strike(user_id=user_id, room_id=room_id) \
                    >= ratelimit.STRIKES_TO_DISCONNECT:
                flooding_close(error, user_id=user_id)
        raise error


def flooding_close(error: ServiceError, *, user_id: int) -> None:
    """This refusal closes the flooding socket (4429, `disconnect: true`): its identity then
    opens no socket for FLOOD_CLOSE_HOLD_SECONDS (`connection_admit`), and `retry_after` says
    so."""
    error.extra["disconnect"] = True
    ratelimit.hold_set("flooding", user_id, seconds=ratelimit.FLOOD_CLOSE_HOLD_SECONDS)
    error.extra["retry_after"] = max(error.extra.get("retry_after", 0),
                                     ratelimit.FLOOD_CLOSE_HOLD_SECONDS)


def connection_admit(*, user_id: int) -> None:
    """Whether a socket of this identity may open now: not in the pause after one of its
    sockets was closed for flooding, and within the reconnects allowed per identity. Checked
    before anything else is read or written, so a reconnect storm costs one counter each."""
    decision = ratelimit.hold_left("flooding", user_id)
    if decision.allowed:
        decision = ratelimit.take(ratelimit.CONNECTS, user_id)
    if not decision.allowed:
        raise rate_limited(decision, code="too_many_connections",
                           detail=_("Too many connections at once."))


# --- Memberships ------------------------------------------------------------------------------
def _alias_for(*, user: User, room: Room, attempt: int) -> str:
    # A fresh alias per circle by default, so two circles cannot link one person. Staff show
    # under the display name they set (accounts.services.staff_display_name_set), never under
    # their login name: without one, they get a made-up alias like anyone.
    if (user.same_alias_everywhere or not user.is_pseudonymous) and user.pseudonym \
            and attempt == 0:
        return user.pseudonym
    if attempt >= 3:
        return pseudonym_generate(language=room.language, suffix=True)
    return pseudonym_generate(language=room.language)


def _alias_replace(*, membership: Membership, user: User, room: Room) -> None:
    """A staff alias made before staff had display names was their login name: give it the
    display name, or a made-up alias, the first time they come back."""
    for attempt in range(8):
        alias = _alias_for(user=user, room=room, attempt=attempt)
        try:
            with transaction.atomic():
                Membership.objects.filter(pk=membership.pk).update(alias=alias)
        except IntegrityError:
            continue
        membership.alias = alias
        return


def membership_ensure(*, user: User, room: Room) -> Membership:
    """This identity's membership of this circle, created with a new alias on first entry."""
    role = (Membership.Role.FACILITATOR if selectors.is_facilitator(user=user, room=room)
            else Membership.Role.PARTICIPANT)
    membership = Membership.objects.filter(user=user, room=room).first()
    if membership is not None:
        if membership.role != role:  # assigned or unassigned since last time
            membership.role = role
            membership.save(update_fields=["role"])
        if not user.is_pseudonymous and membership.alias == user.username:
            _alias_replace(membership=membership, user=user, room=room)  # a login name, shown
        membership.room = room
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


# --- The doors: who may be in a circle now ----------------------------------------------------
def _until_detail(until) -> str:  # type: ignore[no-untyped-def]
    seconds = max(1, int((until - timezone.now()).total_seconds()))
    minutes = -(-seconds // 60)
    return ngettext("%(minutes)d more minute.", "%(minutes)d more minutes.", minutes) % {
        "minutes": minutes}


def entry_check(*, membership: Membership, room: Room) -> None:
    """Whether this alias may come to the circle's door now; raises the refusal if not."""
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


def door_check(*, membership: Membership, room: Room) -> bool:
    """The whole door, for any edge: house rules accepted and `entry_check`. Returns True when
    the alias may go in, False when it must wait for a facilitator (a waiting-room circle)."""
    if not membership.rules_accepted:
        raise rules_not_accepted_error()
    entry_check(membership=membership, room=room)
    return not (room.access == Room.Access.WAITING_ROOM and not membership.is_facilitator
                and membership.admission != Membership.Admission.ADMITTED)


def participation_check(*, membership: Membership, room: Room) -> None:
    """Whether this alias is in the circle now, for anything it does there (write, report, ask
    for help, read): through the door, past the waiting room, and holding a seat or finding
    one free. Every participant write calls it, whichever edge it came through."""
    if not door_check(membership=membership, room=room):
        raise _not_admitted()
    if membership.is_facilitator or selectors.seat_held(membership=membership):
        return
    if selectors.seats_taken(room_id=room.pk) >= room.capacity:
        raise _room_full()


def rules_accept(*, membership: Membership) -> Membership:
    if membership.rules_accepted_at is None:
        membership.rules_accepted_at = timezone.now()
        membership.save(update_fields=["rules_accepted_at"])
    return membership


@dataclass(frozen=True)
class Entry:
    membership: Membership
    joined: bool
    waiting: bool


def room_enter(*, user: User, room: Room, accept_rules: bool = False) -> Entry:
    """Come in (REST `join` and `rules/accept`): the same door a socket meets, without taking
    a seat (only a live socket holds one). Accepting the house rules comes first if asked."""
    membership = membership_ensure(user=user, room=room)
    if accept_rules:
        rules_accept(membership=membership)
    membership = selectors.membership_fresh(membership_id=membership.pk)
    if not door_check(membership=membership, room=membership.room):
        return Entry(membership=membership, joined=False, waiting=True)
    participation_check(membership=membership, room=membership.room)
    return Entry(membership=membership, joined=True, waiting=False)


# --- Presence ---------------------------------------------------------------------------------
def presence_broadcast_on_commit(*, room_id: int) -> None:
    """Who is present, to the circle (once per transaction; each process's hub delivers at most
    one every 250 ms, the newest, so a reconnect storm costs the others little); and the
    console, to its facilitators."""
    events.broadcast_on_commit(
        events.room_group(room_id),
        lambda: protocol.presence_frame(selectors.presence_members(room_id=room_id)),
        once=f"presence:{room_id}", coalesce="presence",
    )
    console_refresh_on_commit(room_id=room_id)


def room_state_broadcast_on_commit(*, room_id: int) -> None:
    """Everyone in the circle redraws its controls (lock, pause, slow mode, pin)."""
    events.broadcast_on_commit(events.room_group(room_id),
                               lambda: selectors.room_state_frame(room_id=room_id),
                               once=f"room-state:{room_id}", stale=True)


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
        waiting = not door_check(membership=membership, room=room)
        if (not waiting and not membership.is_facilitator
                and not selectors.seat_held(membership=membership)
                and selectors.seats_taken(room_id=room.pk) >= room.capacity):
            raise _room_full()
        # Sockets of processes that died never said goodbye: sweep them here.
        Presence.objects.filter(room=room, seen_at__lt=selectors.presence_cutoff()).delete()
        now = timezone.now()
        Presence.objects.update_or_create(
            channel_name=channel_name,
            defaults={"membership": membership, "room": room, "seen_at": now,
                      "waiting": waiting},
        )
        updates: dict[str, Any] = {"last_seen_at": now}
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
        if row.room.is_ephemeral and not selectors.presence_live(room_id=row.room_id).exists():
            for session in Session.objects.filter(room_id=row.room_id, ended_at__isnull=True):
                session_end(session=session)


def presence_touch(*, channel_name: str) -> None:
    now = timezone.now()
    Presence.objects.filter(channel_name=channel_name).update(seen_at=now)
    Membership.objects.filter(sockets__channel_name=channel_name).update(last_seen_at=now)


def presence_clear(*, membership: Membership) -> None:
    """Take every socket of this alias out of the circle now (removed, banned, declined): the
    circle sees it leave at once."""
    Presence.objects.filter(membership=membership).delete()
    presence_broadcast_on_commit(room_id=membership.room_id)


# --- Circle sessions and their keys -----------------------------------------------------------
# The open session of each circle as this process last read it (room id -> Session), for the
# write path: the insert of a message checks that the session is still open, with the same key
# (`_message_insert`), so one that another process ended, or a row id SQLite gave again after
# a deletion, is noticed by the very statement that would have used it. Only sessions read back
# from the database are kept, never one created in a transaction that may still roll back.
_open_sessions: dict[int, Session] = {}


class SessionGone(Exception):
    """The session a process remembered is not the circle's session any more (`_message_insert`
    reads the current one)."""


def _session_reread(*, room: Room) -> Session:
    _open_sessions.pop(room.pk, None)
    return session_current(room=room)


def _session_usable(*, session: Session, room: Room) -> bool:
    if room.is_ephemeral:
        return bool(selectors.session_wrapped_key(session))
    key_age = timezone.now() - session.started_at
    return bool(session.wrapped_key) and key_age < timedelta(
        hours=settings.HALQA["SESSION_KEY_HOURS"])


def session_current(*, room: Room, cached: bool = False) -> Session:
    """The open session of a circle, opened on demand.

    Timed circles start a new session (and key) every SESSION_KEY_HOURS, so each key can be
    destroyed as soon as the last message it protects has expired. With `cached`, the session
    this process last read is used while it is usable (the caller's statement must check it is
    still open: `_message_insert` does).
    """
    if cached:
        known = _open_sessions.get(room.pk)
        if known is not None and _session_usable(session=known, room=room):
            return known
    session = selectors.session_open(room_id=room.pk)
    if session is not None:
        session.room = room  # known: no lazy read of it
        if _session_usable(session=session, room=room):
            _open_sessions[room.pk] = session
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


def session_end(*, session: Session) -> int:
    """End a circle session. For an ephemeral circle its messages are deleted and its key
    destroyed, so even copies made earlier (backups) can no longer be read."""
    deleted = 0
    _open_sessions.pop(session.room_id, None)
    with transaction.atomic():
        Session.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=timezone.now())
        if session.room.is_ephemeral:
            deleted = message_delete_many(
                room_id=session.room_id,
                ids=list(Message.objects.filter(session=session).values_list("id", flat=True)),
            )
            # Private support messages of this session go with it (moderation.support).
            SupportMessage.objects.filter(session=session).delete()
            # Every author's key too: reports' copies of these messages die with them.
            author_keys_destroy(keys=AuthorKey.objects.filter(session=session))
            transaction.on_commit(lambda: crypto.ephemeral_key_destroy(session_id=session.pk))
    return deleted


# --- Author keys: one per alias and session (rooms.crypto) --------------------------------------
def author_key_ensure(*, session: Session, room: Room, membership_id: int,
                      cached: bool = True) -> tuple[int, str]:
    """The key this alias writes with in this session, as (key row id, wrapped key).

    Remembered by this process for KEY_CACHE_SECONDS (`cached`), so the common case costs no
    statement; the row is created with the alias's first message of the session (one
    statement), with the wrapped key on it for a timed circle and in the cache only for an
    ephemeral one. Whoever remembers a key must check its row is still there when using it
    (`_message_insert` does, in its insert): the transaction that created it may roll back."""
    spot = {"session_id": session.pk, "session_started": session.started_at,
            "membership_id": membership_id}
    if cached:
        hit = crypto.author_key_cached(**spot)
        if hit is not None:
            return hit
    wrapped = crypto.session_key_new()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuthorKey._meta.db_table} "  # names from the model, never user text
            "(session_id, membership_id, wrapped_key, created_at) SELECT %s, %s, %s, %s"
            f" WHERE EXISTS (SELECT 1 FROM {Session._meta.db_table}"
            " WHERE id = %s AND room_id = %s AND wrapped_key = %s)"
            " ON CONFLICT (session_id, membership_id) DO NOTHING RETURNING id",
            [session.pk, membership_id, "" if room.is_ephemeral else wrapped,
             connection.ops.adapt_datetimefield_value(timezone.now()),
             session.pk, room.pk, session.wrapped_key])
        row = cursor.fetchone()
    if row is not None:
        key_id = row[0]
        if room.is_ephemeral:
            crypto.ephemeral_author_key_put(
                key_id=key_id, wrapped_key=wrapped,
                seconds=settings.HALQA["EPHEMERAL_MAX_HOURS"] * 3600)
    else:  # written before: an earlier message, another tab or process
        found = AuthorKey.objects.filter(
            session_id=session.pk, membership_id=membership_id).values_list(
            "id", "wrapped_key").first()
        if found is None:  # no such session (any more): the caller remembered a stale one
            raise SessionGone
        key_id, stored = found
        wrapped = stored or crypto.ephemeral_author_key_get(key_id=key_id) or ""
        if not wrapped:  # an ephemeral key lost with the cache: what it wrote stays unreadable
            wrapped = crypto.ephemeral_author_key_renew(
                key_id=key_id, wrapped_key=crypto.session_key_new(),
                seconds=settings.HALQA["EPHEMERAL_MAX_HOURS"] * 3600)
    if cached:
        crypto.author_key_remember(**spot, key_id=key_id, wrapped=wrapped)
    return key_id, wrapped


def author_keys_destroy(*, keys: QuerySet[AuthorKey]) -> int:
    """Destroy these author keys: their rows now (with whatever they still encrypt: messages,
    private messages; reports keep their copy, unreadable), their cache entries and this
    process's unwrapped copies once the transaction commits. Other processes forget theirs
    within KEY_CACHE_SECONDS. On PostgreSQL, the row versions left behind are rewritten away by
    `key_storage_compact`."""
    rows = list(keys.values_list("id", "wrapped_key"))
    if not rows:
        return 0
    key_ids = [key_id for key_id, _wrapped in rows]
    stored = [wrapped for _key_id, wrapped in rows if wrapped]
    AuthorKey.objects.filter(pk__in=key_ids).delete()
    transaction.on_commit(lambda: crypto.author_keys_destroy(key_ids=key_ids, wrapped=stored))
    return len(rows)


def key_storage_compact() -> None:
    """Best effort: get destroyed keys out of the database's own files at once, so no dead row
    version still holds one. PostgreSQL: `VACUUM FULL` of the author keys' table, which
    rewrites its live rows into a new file and drops the old one (a plain VACUUM leaves the
    bytes); the table is small (one row per author and session kept), its exclusive lock brief
    and bounded by `lock_timeout`. SQLite: a WAL checkpoint into the main file, where
    `secure_delete` has zeroed the freed space. Outside a transaction only (skipped inside
    one: the purge runs it again)."""
    if connection.in_atomic_block or not connection.get_autocommit():
        log.debug("keys: in a transaction, the key table was not compacted")
        return
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            elif connection.vendor == "postgresql":
                table = connection.ops.quote_name(AuthorKey._meta.db_table)
                cursor.execute("SET lock_timeout = '5s'")
                try:
                    cursor.execute(f"VACUUM FULL {table}")
                finally:
                    cursor.execute("RESET lock_timeout")
                # VACUUM FULL leaves the table's count of dead row versions as it was; a plain
                # VACUUM of the fresh file sets it to what is there (the purge reads it).
                cursor.execute(f"VACUUM {table}")
    except DatabaseError:
        log.warning("keys: compacting the key table failed; the next purge retries",
                    exc_info=True)


def key_storage_compact_on_commit() -> None:
    transaction.on_commit(key_storage_compact)


# --- Messages ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MessagePosted:
    message: Message
    payload: dict[str, Any]  # the message as every client sees it
    duplicate: bool
    # Private notes for the author only (why something was hidden, gentle reminders, help).
    notices: list[dict[str, Any]] = field(default_factory=list)


def message_delete_many(*, room_id: int, ids: list[int], by: str = "") -> int:
    """Delete messages for real and take them off every connected screen (`by`: who decided,
    "facilitator" or nobody in particular: expiry, erasure)."""
    if not ids:
        return 0
    deleted, _detail = Message.objects.filter(pk__in=ids).delete()
    events.broadcast_on_commit(events.room_group(room_id),
                               protocol.messages_deleted_frame(ids, by=by))
    return deleted


def _room_write_lock(room_id: int) -> None:
    """Serialise writers of one circle so message ids commit in order (resume relies on it).

    SQLite already has a single writer; PostgreSQL takes a transaction-scoped advisory lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7001, room_id])


def speak_check(*, membership: Membership, room: Room) -> None:
    """Whether this alias may write now: not muted, and the chat not paused (facilitators can
    always write, so they can steer a paused circle)."""
    if membership.is_facilitator:
        return
    now = timezone.now()
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


def _duplicate(membership: Membership, client_id: str) -> MessagePosted | None:
    found = selectors.message_by_client_id(membership=membership, client_id=client_id)
    if found is None:
        return None
    message, text = found
    return MessagePosted(message=message, duplicate=True, payload=selectors.message_payload(
        message=message, author=membership, body=text))


def _message_insert(*, room: Room, session: Session, author: Membership, client_id: str,
                    text: str) -> Message | None:
    """Store one message, or nothing when this alias already stored this client_id (a retry):
    one statement, the unique constraint deciding, so no lookup precedes the common case.

    The text is encrypted with the author's key for this session (`author_key_ensure`); the
    same statement checks that key's row still exists (a key this process remembers may have
    been destroyed since, or its creating transaction rolled back): if not, the key is made
    anew and the insert tried once more. It also checks that the session is still open (this
    process remembers the circle's session, `session_current(cached=True)`): if another
    process ended it, the circle's current session is read and the insert tried again."""
    for _attempt in range(3):
        try:
            key_id, wrapped = author_key_ensure(session=session, room=room,
                                                membership_id=author.pk)
        except SessionGone:
            session = _session_reread(room=room)
            continue
        message = Message(room=room, session=session, author=author, key_id=key_id,
                          client_id=client_id,
                          body_encrypted=crypto.encrypt(wrapped_key=wrapped, text=text),
                          created_at=timezone.now(),
                          expires_at=selectors.message_expiry(room=room))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Message._meta.db_table} "  # names from the models, no user text
                "(room_id, session_id, author_id, key_id, client_id, body_encrypted, created_at,"
                " expires_at) SELECT %s, %s, %s, %s, %s, %s, %s, %s"
                f" WHERE EXISTS (SELECT 1 FROM {AuthorKey._meta.db_table}"
                " WHERE id = %s AND session_id = %s AND membership_id = %s)"
                f" AND EXISTS (SELECT 1 FROM {Session._meta.db_table}"
                " WHERE id = %s AND room_id = %s AND wrapped_key = %s AND ended_at IS NULL)"
                " ON CONFLICT (author_id, client_id) DO NOTHING RETURNING id",
                [room.pk, session.pk, author.pk, key_id, client_id, message.body_encrypted,
                 connection.ops.adapt_datetimefield_value(message.created_at),
                 connection.ops.adapt_datetimefield_value(message.expires_at),
                 key_id, session.pk, author.pk, session.pk, room.pk, session.wrapped_key])
            row = cursor.fetchone()
        if row is not None:
            message.pk = row[0]
            return message
        if not selectors.session_is_open(session=session):
            # Ended since this process read it (another process, a facilitator): the
            # circle's current session takes the message.
            session = _session_reread(room=room)
            continue
        if AuthorKey.objects.filter(pk=key_id, session=session, membership=author).exists():
            return None  # a retry of a stored client_id
        crypto.author_key_drop(session_id=session.pk, session_started=session.started_at,
                               membership_id=author.pk)
    return None


def message_post(*, membership_id: int, body: str, client_id: str,
                 known: Membership | None = None) -> MessagePosted:
    """Run the house rules over a message, store it once, then broadcast it to the circle.

    Who may post is decided here, from the current state, whichever edge called: in the circle
    (`participation_check`), allowed to speak (`speak_check`). A retried `client_id` returns the
    stored message (the insert's unique constraint says so; a retry the rules would now refuse,
    say for flooding, still gets its stored message). The message, the crisis follow-up and the
    rule-breach counts are one transaction; a refused message keeps its breach counts and
    crisis alert, and its author gets the refusal. In the common case that is three SQL
    statements: the membership (with its seat), the circle's open session, the insert.

    `known` is the membership as a socket read it moments ago (`selectors.membership_fresh`),
    kept until an event that changes it (a `stale` event: the circle's controls, this alias's
    state) or for a few seconds at most: the checks below still run on it, the read is saved,
    and a refusal is always confirmed on a fresh read.
    """
    membership = (known if known is not None and known.pk == membership_id
                  else selectors.membership_fresh(membership_id=membership_id))
    try:
        participation_check(membership=membership, room=membership.room)
        speak_check(membership=membership, room=membership.room)
    except ServiceError:
        if membership is not known:
            raise
        # What the socket knew says no: ask the database before refusing (a mute just
        # lifted must not wait for the socket's copy to catch up).
        membership = selectors.membership_fresh(membership_id=membership_id)
        participation_check(membership=membership, room=membership.room)
        speak_check(membership=membership, room=membership.room)
    room = membership.room

    message: Message | None = None
    with transaction.atomic():
        verdict = house_rules.house_rules_apply(membership=membership, body=body,
                                                newcomer=_newcomer(membership))
        if verdict.error is None:
            _room_write_lock(room.pk)
            session = session_current(room=room, cached=True)
            message = _message_insert(room=room, session=session, author=membership,
                                      client_id=client_id, text=verdict.outcome.text)
            if message is None:
                duplicate = _duplicate(membership, client_id)
                if duplicate is None:  # stored, then expired: the client may send it anew
                    raise Conflict("duplicate_client_id",
                                   _("That message was already sent. Send it again with a new "
                                     "id."))
                return duplicate
            payload = selectors.message_payload(message=message, author=membership,
                                                body=verdict.outcome.text)
            events.broadcast_on_commit(events.room_group(room.pk),
                                       protocol.message_new_frame(payload),
                                       message_id=message.pk)
        help_card = (crisis.crisis_followup(membership=membership, categories=verdict.crisis,
                                            message_id=message.pk if message else None)
                     if verdict.crisis else [])
    if verdict.error is not None:
        retried = _duplicate(membership, client_id)
        if retried is not None:
            return retried
        _with_notices(verdict.error, help_card)
        if verdict.error.extra.get("disconnect"):  # the house rules' fifth strike
            flooding_close(verdict.error, user_id=membership.user_id)
        raise verdict.error
    assert message is not None
    return MessagePosted(message=message, payload=payload, duplicate=False,
                         notices=help_card + verdict.notices)


def _newcomer(membership: Membership) -> bool:
    """A pseudonymous identity made minutes ago, not facilitating: its messages also take a
    token from the bucket the circle's newcomers share (moderation.ratelimit.newcomer_take)."""
    return (membership.user.is_pseudonymous and not membership.is_facilitator
            and ratelimit.is_newcomer(joined_at=membership.user.date_joined))


def _with_notices(error: ServiceError, notices: list[dict[str, Any]]) -> None:
    """Private notices that go with a refusal (help for someone in danger whose message
    bounced); edges send them after the error."""
    if notices:
        error.extra["notices"] = notices


def typing_announce(*, room_id: int, alias: str) -> None:
    """Someone is typing: a passing signal, never stored (the socket sends it only once it has
    joined)."""
    events.broadcast_now(room_id, protocol.typing_frame(alias=alias))
