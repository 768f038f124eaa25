"""The duty desk: facilitators on duty, and what they do with the alerts of their circles.

Services, called by the duty desk's socket (moderation.consumers) and nothing else: each one
authorises the actor for every call, writes in one transaction, and schedules its live events
on commit. Reads are in moderation.care and moderation.support_reads.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from moderation import care, crisis, support_reads
from moderation import services as moderation
from moderation.models import Action, DutyShift, Report, SupportConversation
from rooms import events, protocol
from rooms import services as rooms
from rooms.errors import Conflict, Forbidden, NotFound
from rooms.models import Membership


def staff_check(*, actor: Any) -> User:
    """A facilitator or admin identity: only they have a duty desk."""
    if not care.is_staff_user(actor):
        raise Forbidden("not_facilitator", _("Only facilitators can use the duty desk."))
    return actor


# --- On duty ----------------------------------------------------------------------------------
def _care_changed_on_commit(*, user: User) -> None:
    """The circles this person answers redraw who can help (rooms.selectors.room_snapshot)."""
    for room_id in care.rooms_facilitated(user=user).values_list("pk", flat=True):
        rooms.room_state_broadcast_on_commit(room_id=room_id)


def desk_get(*, actor: Any) -> dict[str, Any]:
    """Everything the duty desk shows: on duty or not, the open queue of every circle this
    facilitator answers (alerts raised while nobody was on duty included), colleagues on duty
    to hand over to, and the private conversations this facilitator is in."""
    staff_check(actor=actor)
    return {
        "on_duty": care.duty_shift_open(user_id=actor.pk) is not None,
        "queue": care.desk_queue(user=actor),
        "colleagues": care.colleagues_on_duty(exclude_user_id=actor.pk),
        "conversations": [
            support_reads.conversation_payload(c, for_facilitator=True)
            for c in support_reads.conversations_of(user_id=actor.pk)
            if c.facilitator.user_id == actor.pk],
    }


def duty_start(*, actor: Any) -> dict[str, Any]:
    """Come on duty (platform-wide, for the circles one facilitates)."""
    staff_check(actor=actor)
    with transaction.atomic():
        if care.duty_shift_open(user_id=actor.pk) is None:
            try:
                with transaction.atomic():
                    DutyShift.objects.create(user=actor)
            except IntegrityError:  # another tab came on duty first
                pass
            else:
                Action.objects.create(actor=actor, kind=Action.Kind.DUTY_START)
                _care_changed_on_commit(user=actor)
    return {"on_duty": True}


def duty_end(*, actor: Any) -> dict[str, Any]:
    staff_check(actor=actor)
    with transaction.atomic():
        ended = DutyShift.objects.filter(user=actor, ended_at__isnull=True).update(
            ended_at=timezone.now())
        if ended:
            Action.objects.create(actor=actor, kind=Action.Kind.DUTY_END)
            _care_changed_on_commit(user=actor)
    return {"on_duty": False}


# --- What happens to an alert ------------------------------------------------------------------
def report_locked(*, actor: Any, report_id: int) -> tuple[Report, Membership]:
    """An open desk report, locked for this transaction, and the actor's membership in its
    circle if they facilitate it. Call inside a transaction."""
    staff_check(actor=actor)
    report = (Report.objects.select_for_update().filter(pk=report_id,
                                                        source__in=care.DESK_SOURCES).first())
    if report is None:
        raise NotFound("report_not_found", _("There is no such alert."))
    me = moderation.facilitator_check(actor=actor, room=report.room)
    if report.status != Report.Status.OPEN:
        raise Conflict("report_resolved", _("Someone already resolved this report."))
    return report, me


def _audit(*, report: Report, actor: User, me: Membership, kind: str, detail: str = "") -> None:
    Action.objects.create(room_id=report.room_id, actor=actor, actor_alias=me.alias, kind=kind,
                          target_alias=report.target_alias, detail=detail[:120])


def _person(report: Report) -> Membership | None:
    return care.membership_of(room_id=report.room_id, alias=report.target_alias)


def acknowledge_locked(*, report: Report, actor: User, me: Membership) -> bool:
    """Mark a locked report as seen, once: the person is told a facilitator has seen it (and
    only now), and the wait until then is recorded. Returns whether this call did it."""
    if report.acknowledged_at is not None:
        return False
    report.acknowledged_at = timezone.now()
    report.acknowledged_by_alias = me.alias
    report.save(update_fields=["acknowledged_at", "acknowledged_by_alias"])
    crisis.response_time_mark(report_id=report.pk, field="ack_seconds")
    _audit(report=report, actor=actor, me=me, kind=Action.Kind.REPORT_ACKNOWLEDGE)
    person = _person(report)
    if person is not None:
        events.notice_on_commit(events.member_group(person.pk), code="help_seen",
                                params={"report_id": report.pk, "help_state": crisis.HELP_SEEN})
    crisis.desk_update_on_commit(report_id=report.pk, room_id=report.room_id)
    return True


def take_locked(*, report: Report, actor: User, me: Membership) -> None:
    """Take a locked report: one facilitator answers it. Taking also acknowledges it."""
    if report.taken_by_id is not None and report.taken_by_id != me.pk:
        raise Conflict("report_taken", _("%(name)s has already taken this alert.")
                       % {"name": report.taken_by_alias}, taken_by=report.taken_by_alias)
    acknowledge_locked(report=report, actor=actor, me=me)
    if report.taken_by_id == me.pk:
        return
    report.taken_by, report.taken_by_alias = me, actor.display_name
    report.save(update_fields=["taken_by", "taken_by_alias"])
    _audit(report=report, actor=actor, me=me, kind=Action.Kind.REPORT_TAKE)
    crisis.desk_update_on_commit(report_id=report.pk, room_id=report.room_id)


def report_acknowledge(*, actor: Any, report_id: int) -> dict[str, Any]:
    with transaction.atomic():
        report, me = report_locked(actor=actor, report_id=report_id)
        acknowledge_locked(report=report, actor=actor, me=me)
    return {"report_id": report.pk, "acknowledged_by": report.acknowledged_by_alias}


def report_take(*, actor: Any, report_id: int) -> dict[str, Any]:
    """Take an alert so two facilitators do not both answer: the first one wins (the row is
    locked), the others are told who took it."""
    with transaction.atomic():
        report, me = report_locked(actor=actor, report_id=report_id)
        take_locked(report=report, actor=actor, me=me)
    return {"report_id": report.pk, "taken_by": report.taken_by_alias}


def report_handover(*, actor: Any, report_id: int, to_user_id: int) -> dict[str, Any]:
    """Hand an alert (and its private conversation, if one is open) to another facilitator on
    duty who facilitates the circle. Only the one who took it, or an admin, hands it over."""
    with transaction.atomic():
        report, me = report_locked(actor=actor, report_id=report_id)
        if report.taken_by_id not in (None, me.pk) and not actor.is_halqa_admin:
            raise Forbidden("not_taker", _("Only the facilitator who took this alert can hand "
                                           "it over."))
        target = care.on_duty_for(room_id=report.room_id).filter(pk=to_user_id).first()
        if target is None or target.pk == actor.pk:
            raise _not_on_duty()
        them = rooms.membership_ensure(user=target, room=report.room)
        report.taken_by, report.taken_by_alias = them, target.display_name
        report.save(update_fields=["taken_by", "taken_by_alias"])
        _audit(report=report, actor=actor, me=me, kind=Action.Kind.REPORT_HANDOVER,
               detail=target.display_name)
        conversation = (SupportConversation.objects.select_for_update()
                        .filter(report=report, ended_at__isnull=True).first())
        if conversation is not None:
            conversation_handover(conversation=conversation, to=them, actor=actor, me=me)
        crisis.desk_update_on_commit(report_id=report.pk, room_id=report.room_id)
    return {"report_id": report.pk, "taken_by": report.taken_by_alias}


def _not_on_duty() -> Conflict:
    return Conflict("not_on_duty", _("Hand it over to a facilitator of this circle who is on "
                                     "duty now."))


def conversation_handover(*, conversation: SupportConversation, to: Membership, actor: User,
                          me: Membership) -> None:
    """The conversation changes hands: the previous facilitator no longer reads it, the new one
    gets it with its messages, and the person is told."""
    previous = conversation.facilitator
    conversation.facilitator = to
    conversation.handovers += 1
    conversation.save(update_fields=["facilitator", "handovers"])
    ended = protocol.support_ended_frame(conversation_id=conversation.pk, by=me.alias)
    events.broadcast_on_commit(events.member_group(previous.pk), ended)
    events.broadcast_on_commit(care.duty_group(previous.user_id), ended)
    conversation_id = conversation.pk
    for group, for_facilitator in ((events.member_group(conversation.participant_id), False),
                                   (events.member_group(to.pk), True),
                                   (care.duty_group(to.user_id), True)):
        events.broadcast_on_commit(group, functools.partial(
            support_reads.opened_frame, conversation_id=conversation_id,
            for_facilitator=for_facilitator))
    events.notice_on_commit(events.member_group(conversation.participant_id),
                            code="help_handed_over",
                            params={"conversation_id": conversation.pk,
                                    "help_state": crisis.HELP_WITH_YOU})


def report_resolve(*, actor: Any, report_id: int, outcome: str) -> dict[str, Any]:
    """Resolve from the desk: the same service as the console's, and every desk updates."""
    with transaction.atomic():
        report, _me = report_locked(actor=actor, report_id=report_id)
        result = moderation.report_resolve(actor=actor, room=report.room, report_id=report.pk,
                                           outcome=outcome)
        crisis.desk_update_on_commit(report_id=report.pk, room_id=report.room_id)
    return result


DESK_SERVICES = {
    protocol.DUTY_START: duty_start,
    protocol.DUTY_END: duty_end,
    protocol.DESK_ACKNOWLEDGE: report_acknowledge,
    protocol.DESK_TAKE: report_take,
    protocol.DESK_HANDOVER: report_handover,
    protocol.DESK_RESOLVE: report_resolve,
}
assert set(DESK_SERVICES) == set(protocol.DESK_REQUESTS)


def desk_perform(*, actor: Any, request: str, params: dict[str, Any]) -> dict[str, Any]:
    """One duty desk request, already parsed by rooms.protocol (DESK_REQUESTS)."""
    return DESK_SERVICES[request](actor=actor, **params)
