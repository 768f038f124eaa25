"""The websocket edge of a circle: parse a frame, call a service, send the answer.

Business rules live in rooms.services and the house-rules pipeline; this file only keeps the
state of one socket (which membership, joined or not) and translates errors into frames.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.services import identity_touch
from moderation import console, support
from moderation import services as moderation
from rooms import events, hub, lanes, protocol, selectors, services
from rooms.errors import NotFound, ServiceError
from rooms.models import Membership

log = logging.getLogger(__name__)

TYPING_EVERY = 2.0  # seconds between two typing signals of one socket
TOUCH_EVERY = 20.0  # seconds between two presence refreshes of one socket
KNOWN_FOR = 5.0  # seconds a socket may reuse its membership as read (see `known`)


def _enter(user: Any, slug: str) -> Membership:
    room = selectors.room_get(slug=slug)
    identity_touch(user=user)
    membership = services.membership_ensure(user=user, room=room)
    membership.room = room  # the consumer reads it from the event loop: no lazy query
    return membership


class RoomConsumer(AsyncWebsocketConsumer):
    membership: Membership | None = None
    joined = False
    waiting = False  # in a waiting room, until a facilitator admits this alias
    join_error: ServiceError | None = None
    # The newest message id of the history this socket was sent: a live message.new at or below
    # it repeats the history (ids grow in commit order within a circle), so it is dropped. One
    # int, not a set of ids: an idle socket keeps as little as it can.
    history_last: int = 0
    early: list[dict[str, Any]] | None = None  # circle events held back until the welcome
    last_typing = 0.0
    # This alias's membership (circle, identity, seat) as read at most KNOWN_FOR seconds ago,
    # dropped on any `stale` event (the circle's controls, this alias's state): message_post
    # still checks it, and saves a read per message.
    known: Membership | None = None
    known_at = 0.0
    last_touch = 0.0
    flooding = False  # closed with 4429: frames still on their way are not handled

    # --- lifecycle ----------------------------------------------------------------------------
    lang = "en"

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its `aclose_old_connections()` before every handler: that
        is a round trip to the database thread for each frame and each event a socket gets,
        to tidy connections this consumer never uses from the event loop. Every database call
        made here tidies the connections of the thread it runs on already
        (`database_sync_to_async` around each call, rooms.lanes once a second)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        self.lang = self._language(user)
        with translation.override(self.lang):
            await self._connect(user)

    def _language(self, user: Any) -> str:
        """The page's language, chosen as Django's LocaleMiddleware chose it (the language cookie,
        then the browser's Accept-Language), else the identity's, else the site default."""
        known = {code for code, _name in settings.LANGUAGES}
        headers = dict(self.scope.get("headers", []))
        accepted = [code for code, _q in parse_accept_lang_header(
            headers.get(b"accept-language", b"").decode("latin-1")[:500])]
        for candidate in (
            self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, ""),
            *accepted,
            getattr(user, "language", "") or "",
            settings.LANGUAGE_CODE,
        ):
            if candidate[:2] in known:
                return candidate[:2]
        return "en"

    async def _connect(self, user: Any) -> None:
        if user is None or not user.is_authenticated:
            await self.send_frame(protocol.error_frame(
                code="not_authenticated",
                detail=_("Join anonymously or sign in before entering a circle."),
            ))
            await self.close(code=protocol.CLOSE_NOT_AUTHENTICATED)
            return
        try:  # a reconnect storm is refused here, before anything is read or written
            await database_sync_to_async(services.connection_admit)(user_id=user.pk)
        except ServiceError as exc:
            await self.send_error(exc)
            await self.close(code=protocol.CLOSE_FLOODING)
            return
        self.after = await self._resume_point()
        try:
            self.membership = await database_sync_to_async(_enter)(
                user, self.scope["url_route"]["kwargs"]["slug"]
            )
        except NotFound as exc:
            await self.send_error(exc)
            await self.close(code=protocol.CLOSE_ROOM_NOT_FOUND)
            return
        await self.channel_layer.group_add(events.user_group(user.pk), self.channel_name)
        await self.channel_layer.group_add(events.member_group(self.membership.pk),
                                           self.channel_name)
        if not self.membership.rules_accepted or not await self._join():
            await self._send_welcome(joined=False)
            if self.join_error is not None:
                await self.send_error(self.join_error)

    async def disconnect(self, code: int) -> None:
        if self.membership is None:
            return
        room_id = self.membership.room_id
        await self._hub().detach(room_id, self)
        if self.joined or self.waiting:
            await database_sync_to_async(services.presence_leave)(channel_name=self.channel_name)
        for group in (events.staff_group(room_id),
                      events.waiting_group(room_id), events.member_group(self.membership.pk),
                      events.user_group(self.membership.user_id)):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _resume_point(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = (query.get("after") or [""])[0]
        if not raw:
            return None
        if raw.isdigit() and len(raw) < 19:
            return int(raw)
        await self.send_frame(protocol.error_frame(
            code="invalid_after",
            detail=_("“after” must be the id of the last message you saw; sending recent ones."),
        ))
        return None

    def _hub(self) -> hub.Hub:
        return hub.hub_for(self.channel_layer_alias)

    async def _join(self) -> bool:
        """Enter the live circle: the hub first, then presence, then history, so nothing is
        lost. Circle events that arrive before the welcome wait for it (`hub_event`).

        In a waiting-room circle an alias not yet admitted waits instead (welcome with
        `waiting: true`); `member_admitted` brings it in when a facilitator admits it.
        """
        assert self.membership is not None
        room_id = self.membership.room_id
        self.early = []
        await self._hub().attach(room_id, self)
        try:
            entered = await database_sync_to_async(services.presence_enter)(
                membership=self.membership, channel_name=self.channel_name
            )
        except ServiceError as exc:
            await self._hub().detach(room_id, self)
            self.early = None
            self.join_error = exc
            return False
        self.membership = await database_sync_to_async(selectors.membership_fresh)(
            membership_id=self.membership.pk)
        self.last_touch = time.monotonic()
        self.join_error = None
        if not entered:
            await self._hub().detach(room_id, self)
            self.early = None
            await self.channel_layer.group_add(events.waiting_group(room_id), self.channel_name)
            self.waiting = True
            await self._send_welcome(joined=False)
            return True
        await self.channel_layer.group_discard(events.waiting_group(room_id), self.channel_name)
        self.waiting = False
        if self.membership.is_facilitator:
            await self.channel_layer.group_add(events.staff_group(room_id), self.channel_name)
        self.joined = True
        welcome = await self._send_welcome(joined=True)
        # Live events that came while the history was read may repeat it: drop those once.
        self.history_last = max((m["id"] for m in welcome["history"]), default=self.after or 0)
        await self._release_held()
        if self.membership.is_facilitator:
            await self.send_frame(await database_sync_to_async(console.console_frame)(
                room_id=room_id))
        return True

    async def _send_welcome(self, *, joined: bool) -> dict[str, Any]:
        welcome = await database_sync_to_async(selectors.welcome_build)(
            membership_id=self.membership.pk, joined=joined, after=self.after,
            waiting=self.waiting)
        await self.send_frame(welcome)
        return welcome

    # --- incoming frames ----------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.membership is None or self.flooding:  # closed for flooding: the rest is dropped
            return
        try:
            with translation.override(self.lang):
                frame = protocol.parse_client_frame(text_data)
        except protocol.ProtocolError as exc:
            await self.send_frame(protocol.error_frame(code=exc.code, detail=exc.detail))
            return
        ref = getattr(frame, "client_id", None) or getattr(frame, "ref", None)
        # Circle events caused by this frame reach this socket after its answer (the ack
        # before the echo, moderate.ack before the session closes), as they always have.
        holding = self.early is None and frame.type not in (protocol.PING, protocol.TYPING)
        if holding:
            self.early = []
        try:
            with translation.override(self.lang):
                await self._handlers[frame.type](self, frame)
        except ServiceError as exc:
            await self.send_error(exc, ref=ref)
            if exc.extra.get("disconnect"):  # repeated flooding: this socket is closed
                self.flooding = True
                await self.close(code=protocol.CLOSE_FLOODING)
        except Exception:
            log.exception("frame of type %s failed", frame.type)  # never the frame's text
            with translation.override(self.lang):  # out here, the server's default language
                detail = _("Something went wrong on our side. Please retry.")
            await self.send_frame(protocol.error_frame(code="internal", detail=detail, ref=ref))
        finally:
            if holding:
                await self._release_held()

    async def _release_held(self) -> None:
        held, self.early = self.early or [], None
        for event in held:
            await self.hub_event(event)

    async def on_rules_accept(self, frame: protocol.ClientFrame) -> None:
        self.membership = await database_sync_to_async(services.rules_accept)(
            membership=self.membership
        )
        await self.on_join(frame)

    async def on_join(self, frame: protocol.ClientFrame) -> None:
        if self.joined or self.waiting:
            return
        if not await self._join():
            await self._send_welcome(joined=False)
            raise self.join_error

    async def on_message_send(self, frame: protocol.MessageSend) -> None:
        # The service decides whether this alias may post, whatever this socket remembers.
        known = self.known if time.monotonic() - self.known_at < KNOWN_FOR else None
        posted = await lanes.write_lane(self._post)(frame, known)
        await self.send_frame(protocol.message_ack_frame(
            client_id=frame.client_id, id=posted.message.pk, duplicate=posted.duplicate
        ))
        for notice in posted.notices:
            await self.send_frame(notice)

    def _post(self, frame: protocol.MessageSend, known: Membership | None
              ) -> services.MessagePosted:
        if known is None and self.joined:
            known = selectors.membership_fresh(membership_id=self.membership.pk)
            self.known, self.known_at = known, time.monotonic()
        return services.message_post(membership_id=self.membership.pk, body=frame.body,
                                     client_id=frame.client_id, known=known)

    async def on_typing(self, frame: protocol.ClientFrame) -> None:
        now = time.monotonic()
        if self.joined and now - self.last_typing >= TYPING_EVERY:
            self.last_typing = now
            services.typing_announce(room_id=self.membership.room_id,
                                     alias=self.membership.alias)

    async def on_ping(self, frame: protocol.ClientFrame) -> None:
        await self.send_frame(protocol.pong_frame())
        now = time.monotonic()
        if self.joined and now - self.last_touch >= TOUCH_EVERY:
            self.last_touch = now
            await database_sync_to_async(services.presence_touch)(channel_name=self.channel_name)

    async def on_moderate(self, frame: protocol.Moderate) -> None:
        """A facilitator's action; the service authorises it, for every frame."""
        result = await database_sync_to_async(self._moderate)(frame)
        await self.send_frame(protocol.moderate_ack_frame(action=frame.action, ref=frame.ref,
                                                          result=result))

    def _moderate(self, frame: protocol.Moderate) -> dict[str, Any]:
        room = selectors.room_get(slug=self.scope["url_route"]["kwargs"]["slug"])
        return moderation.moderation_perform(actor=self.scope["user"], room=room,
                                             action=frame.action, params=frame.params)

    async def on_report(self, frame: protocol.Report) -> None:
        result = await database_sync_to_async(moderation.report_create)(
            user=self.scope["user"], room=self.membership.room, message_id=frame.message_id,
            reason=frame.reason)
        await self.send_frame(protocol.notice_frame(
            code="report_received", detail=_("Thank you. The facilitators will look at it."),
            report_id=result["report_id"]))

    async def on_help_request(self, frame: protocol.ClientFrame) -> None:
        result = await database_sync_to_async(moderation.help_request)(
            user=self.scope["user"], room=self.membership.room)
        await self.send_frame(result["notice"])

    async def on_staff_say(self, frame: protocol.StaffSay) -> None:
        await database_sync_to_async(moderation.staff_say)(
            actor=self.scope["user"], room=self.membership.room, body=frame.body)

    async def on_support(self, frame: protocol.Request) -> None:
        """Private support (support.*): the service decides who may read or write."""
        result = await database_sync_to_async(support.support_perform)(
            user=self.scope["user"], room=self.membership.room, request=frame.type,
            params=frame.params)
        notice = result.pop("notice", None)
        await self.send_frame(protocol.duty_ack_frame(request=frame.type, ref=frame.ref,
                                                      result=result))
        if frame.type == protocol.SUPPORT_SYNC:
            await self.send_frame(protocol.support_state_frame(result["conversations"]))
        if notice is not None:
            await self.send_frame(notice)

    _handlers = {
        protocol.RULES_ACCEPT: on_rules_accept,
        protocol.JOIN: on_join,
        protocol.MESSAGE_SEND: on_message_send,
        protocol.TYPING: on_typing,
        protocol.PING: on_ping,
        protocol.MODERATE: on_moderate,
        protocol.REPORT: on_report,
        protocol.HELP_REQUEST: on_help_request,
        protocol.STAFF_SAY: on_staff_say,
        **dict.fromkeys(protocol.SUPPORT_REQUESTS, on_support),
    }

    # --- outgoing -----------------------------------------------------------------------------
    async def hub_event(self, event: dict[str, Any]) -> None:
        """A circle event from the fan-out hub (rooms.hub), in the order it was published."""
        if self.early is not None:  # joining: after the welcome, not before
            self.early.append(event)
            return
        kind = event["type"]
        if event.get("stale"):
            self.known = None
        if kind == events.RELAY:
            if self._backlog() > settings.HALQA["SLOW_READER_BYTES"]:
                await self._too_far_behind()
            elif event.get("message_id", self.history_last + 1) > self.history_last:
                await self._send_encoded(event)
        elif kind == events.LOCALIZED:
            await self.frame_localized(event)
        elif kind == events.CLOSE_SOCKETS:
            await self.sockets_close(event)

    async def frame_relay(self, event: dict[str, Any]) -> None:
        """A pre-encoded frame from rooms.events: forward it as it is."""
        if event.get("stale"):
            self.known = None
        if event.get("message_id", self.history_last + 1) <= self.history_last:
            return
        await self.send(text_data=event["text"])

    async def _send_encoded(self, event: dict[str, Any]) -> None:
        """A circle frame the hub encoded once for all its sockets: written as it is where the
        server offers it (`halqa.write_frame`, manage.py serve) and the connection is in its
        plain sending state; through the ASGI send otherwise."""
        write = self._frame_writer()
        if write is None or hub.WIRE not in event or not write(event[hub.WIRE]):
            await self.send(text_data=event["text"])

    def _frame_writer(self) -> Any:
        """`halqa.write_frame(frame) -> bool` where the server offers it, else None."""
        return (self.scope.get("extensions") or {}).get("halqa.write_frame")

    def _backlog(self) -> int:
        """Bytes already written to this socket that the network has not taken yet, as the
        server tells (`manage.py serve` adds the ASGI extension `halqa.backlog`); 0 where it
        does not say."""
        backlog = (self.scope.get("extensions") or {}).get("halqa.backlog")
        return backlog() if backlog is not None else 0

    async def _too_far_behind(self) -> None:
        """Stop writing to a reader that cannot keep up: it reconnects and resumes exactly
        where it was (?after=), the others never wait for it."""
        if self.membership is not None:
            await self._hub().detach(self.membership.room_id, self)
        log.info("a socket fell too far behind and was closed")
        await self.close(code=protocol.CLOSE_TOO_FAR_BEHIND)

    async def frame_localized(self, event: dict[str, Any]) -> None:
        """A notice about a decision, rendered in this socket's reader's language."""
        await self.send_frame(self._localized(event))

    def _localized(self, event: dict[str, Any]) -> dict[str, Any]:
        with translation.override(self.lang):
            return protocol.localized_frame(frame_type=event["frame_type"], code=event["code"],
                                            params=event["params"])

    async def sockets_close(self, event: dict[str, Any]) -> None:
        """The server ends this socket: identity erased, removed, banned, declined, session
        ended. Presence was already cleared by the service that decided it."""
        if "notice" in event:
            await self.send_frame(self._localized(event["notice"]))
        self.joined = self.waiting = False
        if self.membership is not None:
            await self._hub().detach(self.membership.room_id, self)
        await self.close(code=event["code"])

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None,
                   close: bool = False) -> None:
        """A socket that closed while a frame was on its way is normal, not an error: the
        frame is dropped, and the disconnect that follows does the usual bookkeeping (presence,
        the last person leaving an ephemeral circle)."""
        if text_data is not None and bytes_data is None and not close:
            # Straight to the socket where the server offers it (see _send_encoded): an ack
            # or an error skips Channels' and autobahn's layers, as circle frames do.
            write = self._frame_writer()
            if write is not None and write(hub.wire_text_frame(text_data)):
                return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            return

    async def member_admitted(self, event: dict[str, Any]) -> None:
        """A facilitator admitted this alias: a waiting socket enters the circle now."""
        if self.waiting:
            with translation.override(self.lang):
                if not await self._join():
                    await self.send_error(self.join_error)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=protocol.encode(frame))

    async def send_error(self, exc: ServiceError, ref: str | None = None) -> None:
        """The error frame, then any private notice that goes with it (help for someone in
        danger whose message bounced)."""
        error = exc.as_dict()
        notices = error.pop("notices", [])
        await self.send_frame(protocol.error_frame(ref=ref, **error))
        for notice in notices:
            await self.send_frame(notice)
