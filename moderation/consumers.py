"""The duty desk's websocket (/ws/duty/): parse a frame, call a service, send the answer.

One socket per open desk page of a facilitator. It joins that facilitator's duty group
(moderation.care.duty_group), where the alerts of every circle they answer arrive, live, and the
private conversations they are in. Business rules live in moderation.duty and moderation.support.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from moderation import care, duty, support
from rooms import protocol
from rooms.errors import ServiceError

log = logging.getLogger(__name__)


class DutyConsumer(AsyncWebsocketConsumer):
    group: str | None = None
    lang = "en"

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        self.lang = self._language(user)
        with translation.override(self.lang):
            if user is None or not user.is_authenticated:
                await self.send_frame(protocol.error_frame(
                    code="not_authenticated",
                    detail=_("Sign in as a facilitator to use the duty desk.")))
                await self.close(code=protocol.CLOSE_NOT_AUTHENTICATED)
                return
            if not care.is_staff_user(user):
                await self.send_frame(protocol.error_frame(
                    code="not_facilitator",
                    detail=_("Only facilitators can use the duty desk.")))
                await self.close(code=protocol.CLOSE_NOT_FACILITATOR)
                return
            self.group = care.duty_group(user.pk)
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self._send_state()

    def _language(self, user: Any) -> str:
        known = {code for code, _name in settings.LANGUAGES}
        for candidate in (self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, ""),
                          getattr(user, "language", "") or "", settings.LANGUAGE_CODE):
            if candidate[:2] in known:
                return candidate[:2]
        return "en"

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _send_state(self) -> None:
        state = await database_sync_to_async(duty.desk_get)(actor=self.scope["user"])
        await self.send_frame(protocol.duty_state_frame(**state))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.group is None:
            return
        with translation.override(self.lang):
            try:
                frame = protocol.parse_client_frame(text_data, parsers=protocol.DUTY_PARSERS)
            except protocol.ProtocolError as exc:
                await self.send_frame(protocol.error_frame(code=exc.code, detail=exc.detail))
                return
            if frame.type == protocol.PING:
                await self.send_frame(protocol.pong_frame())
                return
            try:
                await self._perform(frame)
            except ServiceError as exc:
                await self.send_frame(protocol.error_frame(ref=frame.ref, **exc.as_dict()))
            except Exception:
                log.exception("duty frame of type %s failed", frame.type)  # never its text
                await self.send_frame(protocol.error_frame(
                    code="internal", detail=_("Something went wrong on our side. Please retry."),
                    ref=frame.ref))

    async def _perform(self, frame: protocol.Request) -> None:
        user = self.scope["user"]
        if frame.type in protocol.DESK_REQUESTS:
            result = await database_sync_to_async(duty.desk_perform)(
                actor=user, request=frame.type, params=frame.params)
        else:
            result = await database_sync_to_async(support.support_perform)(
                user=user, room=None, request=frame.type, params=frame.params)
        await self.send_frame(protocol.duty_ack_frame(request=frame.type, ref=frame.ref,
                                                      result=result))
        if frame.type in (protocol.DUTY_START, protocol.DUTY_END):
            await self._send_state()
        elif frame.type == protocol.SUPPORT_SYNC:
            await self.send_frame(protocol.support_state_frame(result["conversations"]))

    # --- outgoing -----------------------------------------------------------------------------
    async def frame_relay(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=protocol.encode(frame))
