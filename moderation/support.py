"""Private one-to-one support: a facilitator and a participant of one circle, nobody else.

Services for both edges (the circle's socket, the duty desk's socket, REST). Each one decides
itself who may act: only the conversation's two parties read or write it, and a hand-over
(moderation.duty) changes who the facilitator is. Messages go through the circle's house rules,
are encrypted with their author's key for the circle session, like circle messages, and
expire with the circle's retention; the audit trail records that a conversation happened and
how long the first answer took, never its text. Live frames go to the two parties' sockets
only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from moderation import care, crisis, duty, house_rules, support_reads
from moderation import services as moderation
from moderation.models import Action, Report, Resource, SupportConversation, SupportMessage
from rooms import crypto, events, protocol
from rooms import selectors as room_selectors
from rooms import services as rooms
from rooms.errors import Conflict, Forbidden, Invalid, NotFound
from rooms.models import Membership, Room


def _not_found() -> NotFound:
    # The same answer whether it does not exist or is someone else's: nothing leaks.
    return NotFound("conversation_not_found", _("There is no such private conversation."))


def _party(*, user: Any, conversation_id: int, room: Room | None = None
           ) -> tuple[SupportConversation, Membership]:
    """The conversation and the acting party's membership, if `user` is one of its two
    parties now (a facilitator must still facilitate the circle)."""
    if not getattr(user, "is_authenticated", False):
        raise _not_found()
    conversation = support_reads.conversation_get(conversation_id=conversation_id)
    if conversation is None or (room is not None and conversation.room_id != room.pk):
        raise _not_found()
    if conversation.participant.user_id == user.pk:
        me = conversation.participant
    elif (conversation.facilitator.user_id == user.pk
          and room_selectors.is_facilitator(user=user, room=conversation.room)):
        me = conversation.facilitator
    else:
        raise _not_found()
    me.room = conversation.room
    return conversation, me


def _to_parties_on_commit(conversation: SupportConversation,
                          frame: dict[str, Any] | Callable[[], dict[str, Any] | None]) -> None:
    """To the two parties' sockets in the circle, and to the facilitator's duty desk."""
    for group in (events.member_group(conversation.participant_id),
                  events.member_group(conversation.facilitator_id),
                  care.duty_group(conversation.facilitator.user_id)):
        events.broadcast_on_commit(group, frame)


def support_opened_on_commit(*, conversation: SupportConversation) -> None:
    """`support.opened` to the two parties: the facilitator's copy with the resources they can
    send (support_reads.conversation_payload), the person's without."""
    conversation_id = conversation.pk
    events.broadcast_on_commit(
        events.member_group(conversation.participant_id),
        lambda: support_reads.opened_frame(conversation_id=conversation_id,
                                           for_facilitator=False))
    for group in (events.member_group(conversation.facilitator_id),
                  care.duty_group(conversation.facilitator.user_id)):
        events.broadcast_on_commit(
            group, lambda: support_reads.opened_frame(conversation_id=conversation_id,
                                                      for_facilitator=True))


def _audit(*, conversation: SupportConversation, actor: User, alias: str, kind: str,
           detail: str = "") -> None:
    Action.objects.create(room_id=conversation.room_id, actor=actor, actor_alias=alias,
                          kind=kind, target_alias=conversation.participant.alias, detail=detail)


# --- Opening -----------------------------------------------------------------------------------
def support_open(*, actor: Any, room: Room | None = None, report_id: int | None = None,
                 alias: str | None = None) -> dict[str, Any]:
    """A facilitator opens a private conversation with an alias of their circle, or with the
    person an alert is about (which takes the alert: one facilitator answers it). Opening an
    open conversation again returns it."""
    with transaction.atomic():
        report = None
        if report_id is not None:
            report, me = duty.report_locked(actor=actor, report_id=report_id)
            if room is not None and report.room_id != room.pk:
                raise NotFound("report_not_found", _("There is no such alert."))
            duty.take_locked(report=report, actor=actor, me=me)
            room, alias = report.room, report.target_alias
        elif room is None:
            raise Invalid("invalid_field", _("Open a private conversation from an alert or "
                                             "from a person's card in a circle."))
        else:
            me = moderation.facilitator_check(actor=actor, room=room)
        person = room_selectors.membership_by_alias(room=room, alias=alias or "")
        if person is None:
            raise NotFound("member_not_found", _("There is nobody with that alias in this "
                                                 "circle."))
        if person.pk == me.pk:
            raise Invalid("not_yourself", _("You cannot do that to yourself."))
        if room_selectors.is_facilitator(user=person.user, room=room):
            raise Forbidden("target_is_facilitator",
                            _("Facilitators cannot act on each other; ask an admin."))
        existing = (SupportConversation.objects.select_for_update()
                    .filter(participant=person, ended_at__isnull=True).first())
        if existing is not None:
            if existing.facilitator_id != me.pk:
                raise Conflict("conversation_open", _("Another facilitator is already talking "
                                                      "with this person privately."))
            conversation = existing
        else:
            try:
                with transaction.atomic():
                    conversation = SupportConversation.objects.create(
                        room=room, report=report, participant=person, facilitator=me,
                        expires_at=room_selectors.message_expiry(room=room))
            except IntegrityError:  # opened a moment ago by someone else
                raise Conflict("conversation_open", _("Another facilitator is already "
                                                      "talking with this person "
                                                      "privately.")) from None
            _audit(conversation=conversation, actor=actor, alias=me.alias,
                   kind=Action.Kind.SUPPORT_OPEN)
            support_opened_on_commit(conversation=conversation)
            events.notice_on_commit(events.member_group(person.pk), code="help_with_you",
                                    params={"conversation_id": conversation.pk,
                                            "report_id": report.pk if report else None,
                                            "help_state": crisis.HELP_WITH_YOU})
            if report is not None:
                crisis.desk_update_on_commit(report_id=report.pk, room_id=report.room_id)
    return {"conversation_id": conversation.pk}


def support_request(*, user: Any, room: Room) -> dict[str, Any]:
    """A participant asks to talk to a facilitator privately: the request enters the duty
    desk of every facilitator of the circle (and waits there until one takes it)."""
    with transaction.atomic():
        membership = rooms.membership_ensure(user=user, room=room)
        membership = room_selectors.membership_fresh(membership_id=membership.pk)
        rooms.participation_check(membership=membership, room=membership.room)
        report = Report.objects.filter(room=room, status=Report.Status.OPEN,
                                       source__in=(Report.Source.PRIVATE, Report.Source.HELP),
                                       target_alias=membership.alias).first()
        if report is None:
            report = Report.objects.create(room=room, source=Report.Source.PRIVATE,
                                           reason=Report.Reason.OTHER,
                                           target_alias=membership.alias)
            crisis.alert_raise(report=report, staff_frame=protocol.help_alert_frame(
                alias=membership.alias, report_id=report.pk))
    return {"report_id": report.pk, "help_state": crisis.HELP_WAITING,
            "notice": crisis.support_requested_notice(room=room, report_id=report.pk)}


# --- Talking -----------------------------------------------------------------------------------
def _first_answer(*, conversation: SupportConversation, actor: User, me: Membership) -> None:
    """The facilitator's first answer: its time is kept (numbers only) and audited."""
    if me.pk != conversation.facilitator_id or conversation.first_answer_at is not None:
        return
    now = timezone.now()
    updated = SupportConversation.objects.filter(
        pk=conversation.pk, first_answer_at__isnull=True).update(first_answer_at=now)
    if not updated:
        return
    since = conversation.report.created_at if conversation.report_id else conversation.opened_at
    crisis.response_time_mark(report_id=conversation.report_id, field="answer_seconds")
    _audit(conversation=conversation, actor=actor, alias=me.alias,
           kind=Action.Kind.SUPPORT_ANSWER,
           detail=f"{max(0, int((now - since).total_seconds()))} s")


def _store(*, conversation: SupportConversation, me: Membership, client_id: str, text: str,
           resource: Resource | None = None) -> SupportMessage:
    room = conversation.room
    session = rooms.session_current(room=room)
    key_id, wrapped = None, None
    if text:  # under the author's key for this session, like their circle messages
        key_id, wrapped = rooms.author_key_ensure(session=session, room=room,
                                                  membership_id=me.pk, cached=False)
    message = SupportMessage.objects.create(
        conversation=conversation, session=session, author=me, client_id=client_id,
        resource=resource, key_id=key_id,
        body_encrypted=crypto.encrypt(wrapped_key=wrapped, text=text) if text else "",
        expires_at=room_selectors.message_expiry(room=room))
    SupportConversation.objects.filter(pk=conversation.pk).update(expires_at=message.expires_at)
    return message


def _posted(*, conversation: SupportConversation, me: Membership, message: SupportMessage,
            text: str, duplicate: bool) -> dict[str, Any]:
    message.author = me
    payload = support_reads.support_message_payload(
        message=message, body=text, facilitator=me.pk != conversation.participant_id)
    if not duplicate:
        _to_parties_on_commit(conversation, protocol.support_message_frame(
            conversation_id=conversation.pk, message=payload))
    return {"conversation_id": conversation.pk, "message": payload, "duplicate": duplicate}


def support_send(*, user: Any, conversation_id: int, body: str, client_id: str,
                 room: Room | None = None) -> dict[str, Any]:
    """Write in a private conversation, through the circle's house rules (sanitised, private
    data hidden, size and flood limits). A retried `client_id` returns the stored message."""
    conversation, me = _party(user=user, conversation_id=conversation_id, room=room)
    if conversation.ended_at is not None:
        raise Conflict("conversation_ended", _("This private conversation has ended."))
    if me.banned_on(timezone.now()):
        raise Forbidden("banned", _("You cannot take part in this circle any more."))
    existing = SupportMessage.objects.select_related("session", "key", "resource").filter(
        author=me, client_id=client_id).first()
    if existing is not None:
        text = support_reads.support_message_text(existing)
        return _posted(conversation=conversation, me=me, message=existing, text=text or "",
                       duplicate=True)
    with transaction.atomic():
        verdict = house_rules.house_rules_apply(membership=me, body=body)
        if verdict.error is None:
            message = _store(conversation=conversation, me=me, client_id=client_id,
                             text=verdict.outcome.text)
            _first_answer(conversation=conversation, actor=user, me=me)
            result = _posted(conversation=conversation, me=me, message=message,
                             text=verdict.outcome.text, duplicate=False)
    if verdict.error is not None:  # its breach counts are kept, like a circle message's
        raise verdict.error
    return result


def support_resource(*, user: Any, conversation_id: int, resource_id: int,
                     room: Room | None = None) -> dict[str, Any]:
    """The facilitator sends a help resource card into the conversation."""
    conversation, me = _party(user=user, conversation_id=conversation_id, room=room)
    if me.pk != conversation.facilitator_id:
        raise Forbidden("not_facilitator", _("Only this circle's facilitators can do that."))
    if conversation.ended_at is not None:
        raise Conflict("conversation_ended", _("This private conversation has ended."))
    # An example entry of the demo data has no checked number: never sent to anyone.
    resource = Resource.objects.filter(pk=resource_id, is_active=True, is_example=False).first()
    if resource is None:
        raise NotFound("resource_not_found", _("There is no such help resource."))
    with transaction.atomic():
        message = _store(conversation=conversation, me=me, resource=resource, text="",
                         client_id=f"resource-{timezone.now().timestamp():.6f}".replace(".", "-"))
        _first_answer(conversation=conversation, actor=user, me=me)
        return _posted(conversation=conversation, me=me, message=message, text="",
                       duplicate=False)


def support_end(*, user: Any, conversation_id: int, room: Room | None = None
                ) -> dict[str, Any]:
    """Either party ends the conversation; both screens are told. Its messages stay (for the
    two of them) until the circle's retention deletes them."""
    conversation, me = _party(user=user, conversation_id=conversation_id, room=room)
    with transaction.atomic():
        ended = SupportConversation.objects.filter(
            pk=conversation.pk, ended_at__isnull=True).update(ended_at=timezone.now())
        if ended:
            _audit(conversation=conversation, actor=user, alias=me.alias,
                   kind=Action.Kind.SUPPORT_END)
            _to_parties_on_commit(conversation, protocol.support_ended_frame(
                conversation_id=conversation.pk, by=me.alias))
            if conversation.report_id:
                crisis.desk_update_on_commit(report_id=conversation.report_id,
                                             room_id=conversation.room_id)
    return {"conversation_id": conversation.pk, "ended": True}


# --- Reading -----------------------------------------------------------------------------------
def support_sync(*, user: Any, room: Room | None = None) -> dict[str, Any]:
    """The open conversations this identity is a party to (in this circle, or everywhere for a
    duty desk), with their messages."""
    if not getattr(user, "is_authenticated", False):
        raise _not_found()
    conversations = [
        support_reads.conversation_payload(c, for_facilitator=c.participant.user_id != user.pk)
        for c in support_reads.conversations_of(user_id=user.pk, room=room)
        if c.participant.user_id == user.pk
        or room_selectors.is_facilitator(user=user, room=c.room)]
    return {"conversations": conversations}


def support_messages(*, user: Any, conversation_id: int, room: Room | None = None
                     ) -> dict[str, Any]:
    """One conversation with its messages, for one of its two parties."""
    conversation, me = _party(user=user, conversation_id=conversation_id, room=room)
    return {"conversation": support_reads.conversation_payload(
        conversation, for_facilitator=me.pk == conversation.facilitator_id)}


# --- One table for both sockets ----------------------------------------------------------------
def _open(*, user: Any, room: Room | None, **params: Any) -> dict[str, Any]:
    return support_open(actor=user, room=room, **params)


SUPPORT_SERVICES: dict[str, Callable[..., dict[str, Any]]] = {
    protocol.SUPPORT_REQUEST: support_request,
    protocol.SUPPORT_SYNC: support_sync,
    protocol.SUPPORT_OPEN: _open,
    protocol.SUPPORT_SEND: support_send,
    protocol.SUPPORT_END: support_end,
    protocol.SUPPORT_RESOURCE: support_resource,
}
assert set(SUPPORT_SERVICES) == set(protocol.SUPPORT_REQUESTS)


def support_perform(*, user: Any, room: Room | None, request: str, params: dict[str, Any]
                    ) -> dict[str, Any]:
    """One support request, already parsed by rooms.protocol (SUPPORT_REQUESTS). `room` is the
    circle of the socket it came through, or None on the duty desk."""
    if request == protocol.SUPPORT_REQUEST and room is None:
        raise Invalid("invalid_field", _("Ask for a private conversation from a circle."))
    return SUPPORT_SERVICES[request](user=user, room=room, **params)
