"""Someone may be in danger: the one home of what follows. The author gets a caring card with
help resources at once, privately, that tells them truthfully who can see their alert; the
circle's facilitators get an alert live, in the circle's console and on the duty desk of every
facilitator of the circle wherever they are; and the alert waits in the queue (a report with
source "crisis", "help" or "private") until one of them resolves it, so a facilitator who
comes on duty later still finds it. The wait is measured (moderation.ResponseTime)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from moderation import care
from moderation.console import console_refresh_on_commit
from moderation.models import Report, ResponseTime
from rooms import events, protocol
from rooms import selectors as room_selectors
from rooms.models import Membership, Room

HELP_WAITING = "waiting"  # nobody has seen it yet
HELP_SEEN = "seen"  # a facilitator acknowledged it
HELP_WITH_YOU = "with_you"  # a private conversation is open


def someone_can_see(*, room: Room) -> bool:
    """Whether an alert raised now reaches a human soon: a facilitator in the circle (its
    console) or one on duty for it."""
    return (room_selectors.facilitator_present(room_id=room.pk)
            or care.on_duty_for(room_id=room.pk).exists())


def crisis_support_notice(*, room: Room, language: str, report_id: int | None = None
                          ) -> dict[str, Any]:
    """The card the person receives, privately, in the active language (theirs). It promises
    nothing that is not true now: nobody has seen the alert yet, and with nobody there to see
    it, it says so and puts the help lines first."""
    reachable = someone_can_see(room=room)
    if reachable:
        detail = _(
            "Thank you for telling us. You are not alone. If you are in danger right now, call "
            "15 (ambulance) or 19 (police). A facilitator has been alerted, but no facilitator "
            "has seen this yet; you will see here when one has. These services can help too:"
        )
    else:
        detail = _(
            "Thank you for telling us. You are not alone. No facilitator is on duty right now, "
            "so nobody may see this soon. If you are in danger right now, call 15 (ambulance) "
            "or 19 (police). These services can help now:"
        )
    return protocol.notice_frame(
        code="crisis_support", detail=detail, report_id=report_id, help_state=HELP_WAITING,
        someone_on_duty=reachable, help_lines_first=not reachable,
        resources=care.resources_ranked(language=language, region=room.region),
    )


def support_requested_notice(*, room: Room, report_id: int) -> dict[str, Any]:
    """The answer to "talk to a facilitator privately", true at this moment."""
    reachable = someone_can_see(room=room)
    if reachable:
        detail = _("Your request is on the facilitators' duty desk. No facilitator has seen it "
                   "yet; you will see here when one has.")
    else:
        detail = _("No facilitator is on duty right now: your request waits until one comes "
                   "on duty. If you are in danger right now, call 15 (ambulance) or 19 "
                   "(police).")
    return protocol.notice_frame(code="support_requested", detail=detail, report_id=report_id,
                                 help_state=HELP_WAITING, someone_on_duty=reachable,
                                 help_lines_first=not reachable)


def desk_update_on_commit(*, report_id: int, room_id: int, new: bool = False) -> None:
    """Every responder of the circle (its facilitators, the admins) sees the alert as it is
    after this transaction: on their duty desk wherever they are."""
    def build_and_send() -> None:
        report = Report.objects.select_related("room", "taken_by").filter(pk=report_id).first()
        if report is None:
            return
        item = care.desk_item(report)
        frame = protocol.duty_alert_frame(item) if new else protocol.duty_update_frame(item)
        for user_id in care.responders(room_id=room_id).values_list("pk", flat=True):
            events.broadcast_on_commit(care.duty_group(user_id), frame)

    events.on_commit_once(f"desk:{report_id}:{new}", build_and_send)


def alert_raise(*, report: Report, staff_frame: dict[str, Any]) -> None:
    """A new alert: to the circle's console, to every duty desk of its responders, and its
    clock starts (numbers only)."""
    ResponseTime.objects.get_or_create(report=report, defaults={
        "room_id": report.room_id, "source": report.source, "raised_at": report.created_at})
    events.broadcast_on_commit(events.staff_group(report.room_id), staff_frame)
    desk_update_on_commit(report_id=report.pk, room_id=report.room_id, new=True)
    console_refresh_on_commit(room_id=report.room_id)


def response_time_mark(*, report_id: int | None, field: str) -> None:
    """Record the first acknowledgement ("ack_seconds") or first private answer
    ("answer_seconds") of an alert, once."""
    if report_id is None:
        return
    row = ResponseTime.objects.filter(report_id=report_id, **{f"{field}__isnull": True}).first()
    if row is not None:
        seconds = max(0, int((timezone.now() - row.raised_at).total_seconds()))
        ResponseTime.objects.filter(pk=row.pk).update(**{field: seconds})


def crisis_followup(*, membership: Membership, categories: tuple[str, ...],
                    message_id: int | None) -> list[dict[str, Any]]:
    """Queue the alert and tell the facilitators (on commit); return the author's card.

    `message_id` is None when the message itself was refused (too long, flooding): the person
    still gets help and the facilitators still hear of it."""
    room = membership.room
    report = Report.objects.create(
        room_id=room.pk, source=Report.Source.CRISIS, reason=Report.Reason.CRISIS,
        message_id=message_id, target_alias=membership.alias,
    )
    alert_raise(report=report, staff_frame=protocol.crisis_alert_frame(
        alias=membership.alias, message_id=message_id, categories=list(categories),
        report_id=report.pk))
    language = membership.user.language or room.language
    return [crisis_support_notice(room=room, language=language, report_id=report.pk)]
