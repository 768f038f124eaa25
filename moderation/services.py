"""What facilitators do to keep a circle safe, and what participants ask of them.

One service per action. The websocket consumer (a `moderate` frame), the REST API
(`/api/v1/rooms/<slug>/moderation/<action>/`) and the console call these and nothing else. Each
one authorises the actor itself, for every call, writes its change and its audit entry in one
transaction, and schedules its live events on commit, so a refused call changes nothing and an
accepted one reaches every process through the channel layer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from moderation import console, crisis, ratelimit, selectors
from moderation.models import Action, Report
from moderation.pipeline import sanitise_text
from rooms import crypto, events, protocol
from rooms import selectors as room_selectors
from rooms import services as rooms
from rooms.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from rooms.models import Membership, Message, Presence, Room

MAX_STAFF_NOTE_CHARS = 2000


# --- Who may act -------------------------------------------------------------------------------
def facilitator_check(*, actor: User, room: Room) -> Membership:
    """The actor's membership in this circle, if they facilitate it (admins everywhere)."""
    if not getattr(actor, "is_authenticated", False) or not room_selectors.is_facilitator(
            user=actor, room=room):
        raise Forbidden("not_facilitator",
                        _("Only this circle's facilitators can do that."))
    return rooms.membership_ensure(user=actor, room=room)


def _member(*, room: Room, alias: str, actor_membership: Membership) -> Membership:
    """The alias acted on: someone in this circle other than the actor and its facilitators."""
    target = room_selectors.membership_by_alias(room=room, alias=alias)
    if target is None:
        raise NotFound("member_not_found", _("There is nobody with that alias in this circle."))
    if target.pk == actor_membership.pk:
        raise Invalid("not_yourself", _("You cannot do that to yourself."))
    if room_selectors.is_facilitator(user=target.user, room=room):
        raise Forbidden("target_is_facilitator",
                        _("Facilitators cannot act on each other; ask an admin."))
    return target


def _message(*, room: Room, message_id: int) -> Message:
    message = room_selectors.message_live(room=room, message_id=message_id)
    if message is None:
        raise NotFound("message_not_found", _("That message is not in this circle any more."))
    return message


def _audit(*, room: Room, actor: User | None, actor_alias: str, kind: str,
           target_alias: str = "", reason: str = "", detail: str = "") -> Action:
    return Action.objects.create(room=room, actor=actor, actor_alias=actor_alias, kind=kind,
                                 target_alias=target_alias, reason=reason[:300],
                                 detail=detail[:120])


def _you_on_commit(membership: Membership) -> None:
    """The alias's own screens redraw its state (muted, warned, admitted)."""
    events.broadcast_on_commit(
        events.member_group(membership.pk),
        protocol.you_frame(room_selectors.you_payload(membership=membership)), stale=True)


def _notice_on_commit(membership: Membership, code: str, **params: Any) -> None:
    """A notice to this alias's sockets, each in its reader's language."""
    events.notice_on_commit(events.member_group(membership.pk), code=code, params=params)


@contextmanager
def _acting_on(*, actor: User, room: Room, alias: str) -> Iterator[tuple[Membership, Membership]]:
    """One facilitator action on one alias: authorised, in one transaction, and the console
    refreshed once it commits. Yields (the actor's membership, the target's)."""
    with transaction.atomic():
        me = facilitator_check(actor=actor, room=room)
        yield me, _member(room=room, alias=alias, actor_membership=me)
        console.console_refresh_on_commit(room_id=room.pk)


def _minutes(minutes: int) -> str:
    return f"{minutes} min"


# --- Messages ----------------------------------------------------------------------------------
def message_delete(*, actor: User, room: Room, message_id: int, reason: str = ""
                   ) -> dict[str, Any]:
    """Delete a message for real; it leaves every connected screen."""
    with transaction.atomic():
        me = facilitator_check(actor=actor, room=room)
        message = _message(room=room, message_id=message_id)
        rooms.message_delete_many(room_id=room.pk, ids=[message.pk], by="facilitator")
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MESSAGE_DELETE,
               target_alias=message.author.alias, reason=reason)
        if room.pinned_message_id == message.pk:
            rooms.room_state_broadcast_on_commit(room_id=room.pk)
        console.console_refresh_on_commit(room_id=room.pk)
    return {"message_id": message_id}


def message_pin(*, actor: User, room: Room, message_id: int | None) -> dict[str, Any]:
    """Pin a message at the top of the circle (or unpin with no id)."""
    with transaction.atomic():
        me = facilitator_check(actor=actor, room=room)
        target_alias = ""
        if message_id is not None:
            target_alias = _message(room=room, message_id=message_id).author.alias
        Room.objects.filter(pk=room.pk).update(pinned_message_id=message_id)
        _audit(room=room, actor=actor, actor_alias=me.alias, target_alias=target_alias,
               kind=Action.Kind.MESSAGE_PIN if message_id else Action.Kind.MESSAGE_UNPIN)
        rooms.room_state_broadcast_on_commit(room_id=room.pk)
        console.console_refresh_on_commit(room_id=room.pk)
    return {"message_id": message_id}


def announce(*, actor: User, room: Room, body: str) -> dict[str, Any]:
    """Post an announcement (through the same house rules as any message) and pin it, in one
    transaction: a failure leaves neither half."""
    with transaction.atomic():
        me = facilitator_check(actor=actor, room=room)
        rooms.rules_accept(membership=me)
        posted = rooms.message_post(membership_id=me.pk, body=body,
                                    client_id=f"announce-{timezone.now().timestamp():.6f}"
                                    .replace(".", "-"))
        message_pin(actor=actor, room=room, message_id=posted.message.pk)
    return {"message_id": posted.message.pk}


# --- People ------------------------------------------------------------------------------------
def member_warn(*, actor: User, room: Room, alias: str, reason: str = "") -> dict[str, Any]:
    """A private warning, shown to that person only and counted in the console."""
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        Membership.objects.filter(pk=target.pk).update(warnings=F("warnings") + 1)
        target.refresh_from_db(fields=["warnings"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MEMBER_WARN,
               target_alias=alias, reason=reason)
        _notice_on_commit(target, "warned", reason=reason)
        _you_on_commit(target)
    return {"alias": alias, "warnings": target.warnings}


def member_mute(*, actor: User, room: Room, alias: str, minutes: int, reason: str = ""
                ) -> dict[str, Any]:
    """The person can read but not write until the time is up, on every socket and reload."""
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        target.muted_until = timezone.now() + timedelta(minutes=minutes)
        target.save(update_fields=["muted_until"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MEMBER_MUTE,
               target_alias=alias, reason=reason, detail=_minutes(minutes))
        _notice_on_commit(target, "muted", minutes=minutes,
                          until=target.muted_until.isoformat(), reason=reason)
        _you_on_commit(target)
    return {"alias": alias, "muted_until": target.muted_until.isoformat()}


def member_unmute(*, actor: User, room: Room, alias: str) -> dict[str, Any]:
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        target.muted_until = None
        target.save(update_fields=["muted_until"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MEMBER_UNMUTE,
               target_alias=alias)
        _notice_on_commit(target, "unmuted")
        _you_on_commit(target)
    return {"alias": alias, "muted_until": None}


def _close_member_sockets(target: Membership, *, code: int, notice: str,
                          **params: Any) -> None:
    """Close every socket of this alias in this circle, in every process, after telling it why
    in its reader's language. Its presence goes now, so the circle sees it leave at once."""
    rooms.presence_clear(membership=target)
    events.close_sockets_on_commit(events.member_group(target.pk), code=code,
                                   notice=events.localized_event(code=notice, params=params))


def member_remove(*, actor: User, room: Room, alias: str, cooldown_minutes: int,
                  reason: str = "") -> dict[str, Any]:
    """Take someone out of the session; they can come back after the cool-down."""
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        target.removed_until = timezone.now() + timedelta(minutes=cooldown_minutes)
        target.save(update_fields=["removed_until"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MEMBER_REMOVE,
               target_alias=alias, reason=reason, detail=_minutes(cooldown_minutes))
        _close_member_sockets(target, code=protocol.CLOSE_REMOVED, notice="removed",
                              minutes=cooldown_minutes, until=target.removed_until.isoformat(),
                              reason=reason)
    return {"alias": alias, "removed_until": target.removed_until.isoformat()}


def member_ban(*, actor: User, room: Room, alias: str, reason: str = "",
               minutes: int | None = None) -> dict[str, Any]:
    """Ban someone from this circle, with a reason, for a time or with no end."""
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        now = timezone.now()
        target.banned_at = now
        target.banned_until = now + timedelta(minutes=minutes) if minutes else None
        target.ban_reason = reason[:300]
        target.save(update_fields=["banned_at", "banned_until", "ban_reason"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MEMBER_BAN,
               target_alias=alias, reason=reason,
               detail=_minutes(minutes) if minutes else "")  # no end
        _close_member_sockets(target, code=protocol.CLOSE_BANNED, notice="banned",
                              until=protocol.time_or_none(target.banned_until), reason=reason)
    return {"alias": alias, "banned_until": protocol.time_or_none(target.banned_until)}


def member_unban(*, actor: User, room: Room, alias: str) -> dict[str, Any]:
    """Lift a ban or a removal's cool-down: the person may come back now, and is told so. The
    audit names what was lifted: a ban ("Ban lifted"), or only a removal ("Let back in")."""
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        kind = (Action.Kind.MEMBER_UNBAN if target.banned_at is not None
                else Action.Kind.MEMBER_READMIT)
        Membership.objects.filter(pk=target.pk).update(banned_at=None, banned_until=None,
                                                        ban_reason="", removed_until=None)
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=kind, target_alias=alias)
        _notice_on_commit(target, "let_back_in")
    return {"alias": alias}


def member_admit(*, actor: User, room: Room, alias: str) -> dict[str, Any]:
    """Let an arrival in from the waiting room; their waiting sockets enter at once."""
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        target.admission = Membership.Admission.ADMITTED
        target.save(update_fields=["admission"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MEMBER_ADMIT,
               target_alias=alias)
        events.admitted_on_commit(target.pk)
    return {"alias": alias, "admission": target.admission}


def member_decline(*, actor: User, room: Room, alias: str, reason: str = "") -> dict[str, Any]:
    """Do not let an arrival in for this session; their waiting sockets are closed."""
    with _acting_on(actor=actor, room=room, alias=alias) as (me, target):
        target.admission = Membership.Admission.DECLINED
        target.save(update_fields=["admission"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.MEMBER_DECLINE,
               target_alias=alias, reason=reason)
        _close_member_sockets(target, code=protocol.CLOSE_DECLINED, notice="declined",
                              reason=reason)
    return {"alias": alias, "admission": target.admission}


# --- The circle --------------------------------------------------------------------------------
def _room_switch(*, actor: User, room: Room, fields: dict[str, Any], kind: str,
                 detail: str = "") -> dict[str, Any]:
    with transaction.atomic():
        me = facilitator_check(actor=actor, room=room)
        Room.objects.filter(pk=room.pk).update(**fields)
        for name, value in fields.items():
            setattr(room, name, value)
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=kind, detail=detail)
        rooms.room_state_broadcast_on_commit(room_id=room.pk)
        console.console_refresh_on_commit(room_id=room.pk)
    return {name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in fields.items()}


def room_open(*, actor: User, room: Room, on: bool) -> dict[str, Any]:
    """Open the circle to participants, or close it (facilitators can still enter)."""
    return _room_switch(actor=actor, room=room, fields={"is_open": on},
                        kind=Action.Kind.ROOM_OPEN if on else Action.Kind.ROOM_CLOSE)


def room_lock(*, actor: User, room: Room, on: bool) -> dict[str, Any]:
    """No new arrivals while locked; people already in the circle can reconnect."""
    return _room_switch(actor=actor, room=room,
                        fields={"is_locked": on, "locked_at": timezone.now() if on else None},
                        kind=Action.Kind.ROOM_LOCK if on else Action.Kind.ROOM_UNLOCK)


def room_pause(*, actor: User, room: Room, on: bool) -> dict[str, Any]:
    """Read-only for participants while paused."""
    return _room_switch(actor=actor, room=room, fields={"is_paused": on},
                        kind=Action.Kind.ROOM_PAUSE if on else Action.Kind.ROOM_RESUME)


def room_slow_mode(*, actor: User, room: Room, seconds: int) -> dict[str, Any]:
    """Seconds between two messages of one person (0 switches it off)."""
    return _room_switch(actor=actor, room=room, fields={"slow_mode_seconds": seconds},
                        kind=Action.Kind.ROOM_SLOW_MODE, detail=f"{seconds} s")


def room_session_end(*, actor: User, room: Room, reason: str = "") -> dict[str, Any]:
    """End this session: everyone is told and their sockets close. The circle itself stays as it
    was (open for its next sessions on the schedule): closing it is its own act, `room.open`
    with `on` false. Removals, admissions, lock, pause and pin end with the session, and an
    ephemeral circle's messages are deleted and its key destroyed."""
    with transaction.atomic():
        me = facilitator_check(actor=actor, room=room)
        for session in room.sessions.filter(ended_at__isnull=True):
            rooms.session_end(session=session)
        Room.objects.filter(pk=room.pk).update(is_locked=False, locked_at=None,
                                               is_paused=False, pinned_message=None)
        Membership.objects.filter(room=room).update(admission=Membership.Admission.NONE,
                                                    removed_until=None)
        Presence.objects.filter(room=room).delete()
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.SESSION_END,
               reason=reason)
        ended = events.localized_event(code="session_ended",
                                       frame_type=protocol.SESSION_ENDED)
        events.close_sockets_on_commit(events.room_group(room.pk),
                                       code=protocol.CLOSE_SESSION_ENDED, notice=ended)
        # Waiting arrivals are not in the circle's group: close their sockets too.
        events.close_sockets_on_commit(events.waiting_group(room.pk),
                                       code=protocol.CLOSE_SESSION_ENDED, notice=ended)
        rooms.room_state_broadcast_on_commit(room_id=room.pk)
        console.console_refresh_on_commit(room_id=room.pk)
    return {"ended": True}


# --- Reports, help, and the queue --------------------------------------------------------------
def _participant(*, user: User, room: Room) -> Membership:
    """The acting participant's membership, if they are in the circle now (the same doors as
    posting: what you cannot read, you cannot report or raise an alert about)."""
    membership = rooms.membership_ensure(user=user, room=room)
    membership = room_selectors.membership_fresh(membership_id=membership.pk)
    rooms.participation_check(membership=membership, room=membership.room)
    return membership


def report_create(*, user: User, room: Room, message_id: int, reason: str) -> dict[str, Any]:
    """A participant reports a message. It reaches the facilitators live and waits in their
    queue, with a copy of the reported text encrypted with the message's own key: readable
    until the message would have expired, unreadable for good once that key is destroyed (an
    ephemeral session's end, its author's "Forget me")."""
    if reason not in Report.Reason.values:
        raise Invalid("invalid_field", _("Choose a reason for the report."))
    rooms.limit_take(ratelimit.REPORTS, room.pk, user.pk, code="too_many_reports",
                     detail=_("You have sent many reports just now."),
                     strike=(user.pk, room.pk))
    with transaction.atomic():
        reporter = _participant(user=user, room=room)
        message = _message(room=room, message_id=message_id)
        existing = Report.objects.filter(room=room, message_id=message.pk, status="open",
                                         reporter_alias=reporter.alias).first()
        if existing is not None:
            return {"report_id": existing.pk, "duplicate": True}
        report = Report.objects.create(
            room=room, source=Report.Source.PARTICIPANT, reason=reason, message_id=message.pk,
            reporter_alias=reporter.alias, target_alias=message.author.alias,
            **_snapshot(message),
        )
        events.broadcast_on_commit(events.staff_group(room.pk),
                                   protocol.report_new_frame(selectors.report_payload(report)))
        console.console_refresh_on_commit(room_id=room.pk)
    return {"report_id": report.pk, "duplicate": False}


def _snapshot(message: Message) -> dict[str, Any]:
    """A report's copy of a message: under the message's key (its author's for its session),
    kept no longer than the message. None for a message written before there were author keys
    or whose key is gone."""
    text = room_selectors.message_text(message)
    if text is None or message.key_id is None:
        return {}
    return {"snapshot_encrypted": crypto.encrypt(
                wrapped_key=room_selectors.message_wrapped_key(message), text=text),
            "snapshot_key_id": message.key_id, "snapshot_expires_at": message.expires_at}


def help_request(*, user: User, room: Room) -> dict[str, Any]:
    """"I need help now": the facilitators are alerted privately, and the person gets the help
    resources at once. One open request per person is enough: asking again within
    HELP_FOLD_SECONDS folds into the open alert (the card again, nobody alerted twice, no
    console rebuilt); later, it reminds the facilitators. Limited per alias, and the new alerts
    of a circle too (moderation.ratelimit); a refusal still says where help is."""
    rooms.limit_take(ratelimit.HELP_PER_ALIAS, room.pk, user.pk, code="too_many_help_requests",
                     detail=_("You asked for help a moment ago: the facilitators have been "
                              "alerted. If you are in danger right now, call 15 (ambulance) or "
                              "19 (police)."), strike=(user.pk, room.pk))
    with transaction.atomic():
        member = _participant(user=user, room=room)
        report = Report.objects.filter(room=room, source=Report.Source.HELP, status="open",
                                       target_alias=member.alias).first()
        if report is None or ratelimit.hold_left("help-fold", report.pk).allowed:
            # A new alert (or a reminder of one nobody answered for a while).
            try:
                rooms.limit_take(ratelimit.HELP_PER_CIRCLE, room.pk,
                                 code="too_many_help_requests",
                                 detail=_("Many people asked for help here just now. If you "
                                          "are in danger right now, call 15 (ambulance) or 19 "
                                          "(police)."))
            except ServiceError as refused:
                refused.extra["notices"] = [crisis.crisis_support_notice(
                    room=room, language=user.language or room.language)]
                raise
            if report is None:
                report = Report.objects.create(room=room, source=Report.Source.HELP,
                                               reason=Report.Reason.CRISIS,
                                               target_alias=member.alias)
            # The console, every duty desk of the circle's responders, and the clock.
            crisis.alert_raise(report=report, staff_frame=protocol.help_alert_frame(
                alias=member.alias, report_id=report.pk))
            report_id = report.pk
            transaction.on_commit(lambda: ratelimit.hold_set(
                "help-fold", report_id, seconds=ratelimit.HELP_FOLD_SECONDS))
    language = user.language or room.language
    # The card says truthfully who can see it: nobody has yet (moderation.duty tells the
    # person when a facilitator acknowledges it).
    return {"report_id": report.pk, "help_state": crisis.HELP_WAITING,
            "notice": crisis.crisis_support_notice(room=room, language=language,
                                                   report_id=report.pk)}


def report_resolve(*, actor: User, room: Room, report_id: int, outcome: str) -> dict[str, Any]:
    """Close a report: action taken, or dismissed. Its snapshot goes after the grace period."""
    if outcome not in (Report.Status.ACTIONED, Report.Status.DISMISSED):
        raise Invalid("invalid_field", _("A report is resolved as actioned or dismissed."))
    with transaction.atomic():
        me = facilitator_check(actor=actor, room=room)
        report = Report.objects.select_for_update().filter(pk=report_id, room=room).first()
        if report is None:
            raise NotFound("report_not_found", _("There is no such report in this circle."))
        if report.status != Report.Status.OPEN:
            raise Conflict("report_resolved", _("Someone already resolved this report."))
        report.status, report.resolved_at = outcome, timezone.now()
        report.resolved_by_alias = me.alias
        report.save(update_fields=["status", "resolved_at", "resolved_by_alias"])
        _audit(room=room, actor=actor, actor_alias=me.alias, kind=Action.Kind.REPORT_RESOLVE,
               target_alias=report.target_alias, detail=f"{report.source}: {outcome}")
        console.console_refresh_on_commit(room_id=room.pk)
    return {"report_id": report.pk, "status": outcome}


def staff_say(*, actor: User, room: Room, body: str) -> dict[str, Any]:
    """A note in the facilitators' side channel. Relayed live to them only, never stored."""
    me = facilitator_check(actor=actor, room=room)
    rooms.limit_take(ratelimit.STAFF_NOTES, room.pk, actor.pk, code="too_many_notes",
                     detail=_("You have written many notes just now."),
                     strike=(actor.pk, room.pk))
    text = sanitise_text(body)[:MAX_STAFF_NOTE_CHARS]
    if not text.strip():
        raise Invalid("empty_message", _("Write something first."))
    with transaction.atomic():  # on_commit runs at once outside a transaction; keep one origin
        events.broadcast_on_commit(events.staff_group(room.pk), protocol.staff_message_frame(
            alias=me.alias, body=text, created_at=timezone.now()))
    return {"sent": True}


# --- What facilitators read: the console, the audit trail, the queue ----------------------------
def console_get(*, actor: User, room: Room) -> dict[str, Any]:
    facilitator_check(actor=actor, room=room)
    return console.console_snapshot(room_id=room.pk)


def audit_list(*, actor: User, room: Room, limit: int = 200) -> list[dict[str, Any]]:
    """The circle's audit trail, newest first: for its facilitators and admins."""
    facilitator_check(actor=actor, room=room)
    return selectors.audit_recent(room_id=room.pk, limit=limit)


AUDIT_CSV_COLUMNS = ("when", "circle", "action", "by", "alias", "reason", "detail")


def audit_csv(*, actor: User, room: Room | None = None, ids: list[int] | None = None) -> str:
    """The audit trail (all of it, one circle's, or the chosen entries) as CSV, for admins
    only. Aliases and reasons, never message text."""
    if not getattr(actor, "is_halqa_admin", False):
        raise Forbidden("not_admin", _("Only admins can export the audit trail."))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_CSV_COLUMNS)
    for a in selectors.audit_for_export(room=room, ids=ids):
        row = [a.created_at.isoformat(), a.room.slug if a.room_id else "", a.kind,
               a.actor_alias, a.target_alias, a.reason, a.detail]
        # Cells starting with = + - @ (or a tab or CR) would run as formulas in a spreadsheet.
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c
                         for c in row])
    return out.getvalue()


def report_list(*, actor: User, room: Room, status: str = Report.Status.OPEN
                ) -> list[dict[str, Any]]:
    """The circle's reports with one status (the open queue by default), oldest first: for its
    facilitators and admins. The reported text is shown until the message would have
    expired (moderation.selectors.report_text)."""
    facilitator_check(actor=actor, room=room)
    if status not in Report.Status.values:
        raise Invalid("invalid_field", _("“status” must be one of: %(choices)s.")
                      % {"choices": ", ".join(Report.Status.values)})
    return selectors.report_queue(room_id=room.pk, status=status)


# --- One table for both edges ------------------------------------------------------------------
MODERATION_SERVICES: dict[str, Callable[..., dict[str, Any]]] = {
    "message.delete": message_delete,
    "message.pin": message_pin,
    "announce": announce,
    "member.warn": member_warn,
    "member.mute": member_mute,
    "member.unmute": member_unmute,
    "member.remove": member_remove,
    "member.ban": member_ban,
    "member.unban": member_unban,
    "member.admit": member_admit,
    "member.decline": member_decline,
    "room.open": room_open,
    "room.lock": room_lock,
    "room.pause": room_pause,
    "room.slow_mode": room_slow_mode,
    "session.end": room_session_end,
    "report.resolve": report_resolve,
}
assert set(MODERATION_SERVICES) == set(protocol.MODERATION_ACTIONS)


def moderation_perform(*, actor: User, room: Room, action: str, params: dict[str, Any]
                       ) -> dict[str, Any]:
    """Run one moderation action, already parsed by rooms.protocol.parse_moderation."""
    return MODERATION_SERVICES[action](actor=actor, room=room, **params)


# --- Who facilitates a circle (the admin) ------------------------------------------------------
def room_facilitators_set(*, actor: User, room: Room, user_ids: list[int]) -> dict[str, Any]:
    """Make exactly these identities the circle's facilitators; admins only. Each person made or
    unmade a facilitator gets an audit entry, their role in this circle follows at once, and
    their sockets there close (4412) so they reconnect in their new role: an unassigned
    facilitator stops receiving the console, reports and crisis alerts at once."""
    if not (getattr(actor, "is_authenticated", False)
            and getattr(actor, "is_halqa_admin", False)):
        raise Forbidden("not_admin", _("Only admins can choose a circle's facilitators."))
    wanted = set(user_ids)
    with transaction.atomic():
        Room.objects.select_for_update().filter(pk=room.pk).first()  # one change at a time
        current = set(room.facilitators.values_list("pk", flat=True))
        added, removed = sorted(wanted - current), sorted(current - wanted)
        if len(added) != User.objects.filter(pk__in=added).count():
            raise NotFound("user_not_found", _("There is no such identity."))
        if not added and not removed:
            return {"added": [], "removed": []}
        room.facilitators.remove(*removed)
        room.facilitators.add(*added)
        me = rooms.membership_ensure(user=actor, room=room)
        changed: dict[str, list[str]] = {"added": [], "removed": []}
        for key, ids, kind in (("added", added, Action.Kind.FACILITATOR_ADD),
                               ("removed", removed, Action.Kind.FACILITATOR_REMOVE)):
            for user in User.objects.filter(pk__in=ids).order_by("pk"):
                # Their membership here, made if need be, with the role read fresh: the alias
                # the trail names them by is the one this circle knows them by.
                member = rooms.membership_ensure(user=user, room=room)
                _audit(room=room, actor=actor, actor_alias=me.alias, kind=kind,
                       target_alias=member.alias)
                events.close_sockets_on_commit(events.member_group(member.pk),
                                               code=protocol.CLOSE_ROLE_CHANGED)
                changed[key].append(member.alias)
        console.console_refresh_on_commit(room_id=room.pk)
    return changed
