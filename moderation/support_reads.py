"""Reads of private support conversations: their payloads as the two parties see them. Nothing
here writes or authorises; moderation.support and moderation.duty decide who may read."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from moderation import care
from moderation.models import SupportConversation, SupportMessage
from rooms import crypto, protocol
from rooms import selectors as room_selectors
from rooms.models import Room

CONVERSATION_MESSAGE_LIMIT = 500


def support_message_text(message: SupportMessage) -> str | None:
    """The clear text of a private message, or None once its key is destroyed."""
    if not message.body_encrypted:
        return ""
    try:
        return crypto.decrypt(wrapped_key=room_selectors.message_wrapped_key(message),
                              token=message.body_encrypted)
    except crypto.KeyDestroyed:
        return None


def support_message_payload(*, message: SupportMessage, body: str, facilitator: bool
                            ) -> dict[str, Any]:
    return {"id": message.pk, "alias": message.author.alias,
            "role": "facilitator" if facilitator else "participant", "body": body,
            "resource": (care.resource_payload(message.resource)
                         if message.resource_id and message.resource else None),
            "created_at": protocol.coarse_time(message.created_at)}


def support_messages(*, conversation: SupportConversation) -> list[dict[str, Any]]:
    rows = (SupportMessage.objects.select_related("author", "session", "key", "resource")
            .filter(conversation=conversation, expires_at__gt=timezone.now())
            .order_by("id")[:CONVERSATION_MESSAGE_LIMIT])
    out = []
    for message in rows:
        text = support_message_text(message)
        if text is not None:  # a shredded session's leftovers are never served
            out.append(support_message_payload(
                message=message, body=text,
                facilitator=message.author_id != conversation.participant_id))
    return out


def conversation_payload(conversation: SupportConversation, *, with_messages: bool = True,
                         for_facilitator: bool = False) -> dict[str, Any]:
    """A conversation as both parties see it. The facilitator is named (display name), the
    participant by their alias in that circle. The facilitator's copy (`for_facilitator`) also
    lists the help resources they can send, those that fit the person first (the circle's
    region, the person's language, as on the person's crisis card), with notes for
    facilitators."""
    room = conversation.room
    facilitator = conversation.facilitator
    payload = {
        "id": conversation.pk, "report_id": conversation.report_id,
        "room": {"slug": room.slug, "title": room.title, "dir": "rtl" if room.is_rtl else "ltr",
                 "language": room.language, "region": room.region},
        "participant": conversation.participant.alias,
        "facilitator": facilitator.user.display_name if facilitator.user_id else "",
        "facilitator_alias": facilitator.alias,
        "opened_at": protocol.coarse_time(conversation.opened_at),
        "ended_at": protocol.time_or_none(conversation.ended_at),
        "messages": support_messages(conversation=conversation) if with_messages else [],
    }
    if for_facilitator:
        person = conversation.participant.user
        payload["resources"] = care.resources_ranked(
            language=(person.language if person else "") or room.language, region=room.region,
            for_staff=True)
    return payload


def opened_frame(*, conversation_id: int, for_facilitator: bool) -> dict[str, Any] | None:
    """`support.opened` as one party sees it, read when it is sent (after the commit)."""
    fresh = conversation_get(conversation_id=conversation_id)
    if fresh is None:
        return None
    return protocol.support_opened_frame(conversation_payload(fresh,
                                                              for_facilitator=for_facilitator))


def conversation_get(*, conversation_id: int) -> SupportConversation | None:
    return (SupportConversation.objects
            .select_related("room", "participant__user", "facilitator__user", "report")
            .filter(pk=conversation_id).first())


def conversations_of(*, user_id: int, room: Room | None = None, open_only: bool = True
                     ) -> QuerySet[SupportConversation]:
    """The conversations this identity is a party to (in one circle, or all of them)."""
    rows = (SupportConversation.objects
            .select_related("room", "participant__user", "facilitator__user")
            .filter(Q(participant__user_id=user_id) | Q(facilitator__user_id=user_id),
                    expires_at__gt=timezone.now()))
    if room is not None:
        rows = rows.filter(room=room)
    if open_only:
        rows = rows.filter(ended_at__isnull=True)
    return rows.order_by("opened_at", "id")
