"""Someone may be in danger: the one home of what follows. The author gets a caring card with
help resources at once, privately; the circle's facilitators get an alert live; and the alert
waits in their queue (a report with source "crisis") until one of them resolves it, so a
facilitator who arrives later still sees it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from moderation import selectors
from moderation.console import console_refresh_on_commit
from moderation.models import Report
from rooms import events, protocol
from rooms.models import Membership, Room


def crisis_support_notice(*, room: Room, language: str) -> dict[str, Any]:
    """The card the person receives, privately, in the active language (theirs)."""
    return protocol.notice_frame(
        code="crisis_support",
        detail=_(
            "Thank you for telling us. You are not alone. If you are in danger right now, call "
            "15 (ambulance) or 19 (police). A facilitator of this circle has been told and may "
            "reach out to you privately. These services can help too:"
        ),
        resources=selectors.resources_for(language=language, region=room.region),
    )


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
    events.broadcast_on_commit(
        events.staff_group(room.pk),
        protocol.crisis_alert_frame(alias=membership.alias, message_id=message_id,
                                    categories=list(categories), report_id=report.pk),
    )
    console_refresh_on_commit(room_id=room.pk)
    language = membership.user.language or room.language
    return [crisis_support_notice(room=room, language=language)]
