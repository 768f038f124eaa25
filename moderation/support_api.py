"""REST mirror of private support (/api/v1/rooms/<slug>/support/...): the same services and the
same checks (rooms.protocol SUPPORT_REQUESTS) as the `support.*` websocket frames. Only the two
parties of a conversation read or write it; anyone else gets 404 `conversation_not_found`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation import support
from rooms import protocol
from rooms import selectors as rooms
from rooms.errors import Invalid

TAGS = ["support"]


class _Error(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {s: OpenApiResponse(_Error) for s in statuses}


def _params(request_type: str, request: Request, **extra: Any) -> dict[str, Any]:
    """The body checked exactly as the websocket frame of that type is."""
    data = request.data if request.data is not None else {}
    if not isinstance(data, dict):
        raise Invalid("bad_body", _("The request body must be a JSON object."))
    try:
        return protocol.SUPPORT_REQUESTS[request_type]({**data, **extra})
    except protocol.ProtocolError as exc:
        raise Invalid(exc.code, exc.detail) from None


def _perform(request: Request, slug: str, request_type: str, **extra: Any) -> dict[str, Any]:
    return support.support_perform(user=request.user, room=rooms.room_get(slug=slug),
                                   request=request_type,
                                   params=_params(request_type, request, **extra))


class ConversationList(serializers.Serializer):
    conversations = serializers.ListField(child=serializers.DictField())


class SupportRequested(serializers.Serializer):
    report_id = serializers.IntegerField()
    help_state = serializers.CharField()
    notice = serializers.DictField(help_text="A `support_requested` notice, as over the "
                                             "websocket.")


class OpenBody(serializers.Serializer):
    report_id = serializers.IntegerField(required=False, help_text="Open it from this alert "
                                                                   "(and take the alert).")
    alias = serializers.CharField(required=False, help_text="Or with this alias.")


class Opened(serializers.Serializer):
    conversation_id = serializers.IntegerField()


class SendBody(serializers.Serializer):
    body = serializers.CharField()
    client_id = serializers.CharField(help_text="1-64 of A-Z a-z 0-9 - _; a retry returns the "
                                                "stored message.")


class Sent(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    message = serializers.DictField()
    duplicate = serializers.BooleanField()


class OneConversation(serializers.Serializer):
    conversation = serializers.DictField()


class Ended(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    ended = serializers.BooleanField()


class SupportView(APIView):
    """Your open private conversations in this circle (GET), or ask to talk to a facilitator
    privately (POST): the request enters the duty desk."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, operation_id="support_list",
                   responses={200: ConversationList, **_errors(403, 404)})
    def get(self, request: Request, slug: str) -> Response:
        return Response(_perform(request, slug, protocol.SUPPORT_SYNC))

    @extend_schema(tags=TAGS, operation_id="support_request", request=None,
                   responses={200: SupportRequested, **_errors(403, 404)})
    def post(self, request: Request, slug: str) -> Response:
        return Response(_perform(request, slug, protocol.SUPPORT_REQUEST))


class SupportOpenView(APIView):
    """Facilitators: open a private conversation with an alias, or from an alert."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, request=OpenBody,
                   responses={200: Opened, **_errors(400, 403, 404, 409)})
    def post(self, request: Request, slug: str) -> Response:
        return Response(_perform(request, slug, protocol.SUPPORT_OPEN))


class SupportMessagesView(APIView):
    """One conversation with its messages (GET), or write in it (POST); its two parties only."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, operation_id="support_messages_list",
                   responses={200: OneConversation, **_errors(404)})
    def get(self, request: Request, slug: str, conversation_id: int) -> Response:
        return Response(support.support_messages(user=request.user,
                                                 conversation_id=conversation_id,
                                                 room=rooms.room_get(slug=slug)))

    @extend_schema(tags=TAGS, operation_id="support_messages_create", request=SendBody,
                   responses={200: Sent, **_errors(400, 403, 404, 409, 429)})
    def post(self, request: Request, slug: str, conversation_id: int) -> Response:
        return Response(_perform(request, slug, protocol.SUPPORT_SEND,
                                 conversation_id=conversation_id))


class SupportEndView(APIView):
    """End a private conversation (either party)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, request=None, responses={200: Ended, **_errors(404)})
    def post(self, request: Request, slug: str, conversation_id: int) -> Response:
        return Response(_perform(request, slug, protocol.SUPPORT_END,
                                 conversation_id=conversation_id))
