"""REST edge of the facilitators' tools: the same services as the websocket's `moderate`,
`report` and `help.request` frames, over HTTP.

Views only translate: the body is checked by rooms.protocol (exactly as a websocket frame is),
the service in moderation.services authorises and acts, and its errors become JSON 4xx with a
`code` (server.api.exception_handler). Documented in docs/protocol.md (REST section).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.serializers import PolymorphicProxySerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import permissions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation import services as moderation
from moderation.models import Report
from rooms import protocol
from rooms import selectors as rooms
from rooms.errors import Invalid

ACTIONS = tuple(protocol.MODERATION_ACTIONS)
TAGS = ["moderation"]


# --- Helpers ------------------------------------------------------------------------------------
def _body(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise Invalid("bad_body", _("The request body must be a JSON object."))
    return dict(data)


def _checked(parse: Any, data: dict[str, Any]) -> Any:
    """Run a rooms.protocol parser; its ProtocolError becomes a 400 with the same code."""
    try:
        return parse(data)
    except protocol.ProtocolError as exc:
        raise Invalid(exc.code, exc.detail) from None


# --- Request bodies, one per action (for the schema; rooms.protocol does the checking) ----------
REASON_HELP = f"Why, in a few words (at most {protocol.MAX_REASON_CHARS} characters). Optional."
MINUTES_MAX = protocol.MAX_MINUTES


def _reason() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                 max_length=protocol.MAX_REASON_CHARS, help_text=REASON_HELP)


def _alias() -> serializers.CharField:
    return serializers.CharField(max_length=80, help_text="The person's alias in this circle.")


def _switch(what: str) -> serializers.BooleanField:
    return serializers.BooleanField(help_text=what)


class _Params(serializers.Serializer):
    ref = serializers.RegexField(protocol.CLIENT_ID_RE.pattern, required=False,
                                 help_text="Optional, 1-64 of A-Z a-z 0-9 - _; ignored over REST.")


class MessageDeleteParams(_Params):
    message_id = serializers.IntegerField(min_value=1)
    reason = _reason()


class MessagePinParams(_Params):
    message_id = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                          help_text="The message to pin; null or absent unpins.")


class AnnounceParams(_Params):
    body = serializers.CharField(help_text="Posted through the house rules, then pinned.")


class MemberParams(_Params):
    alias = _alias()


class MemberReasonParams(MemberParams):
    reason = _reason()


class MemberMuteParams(MemberReasonParams):
    minutes = serializers.IntegerField(min_value=1, max_value=MINUTES_MAX)


class MemberRemoveParams(MemberReasonParams):
    cooldown_minutes = serializers.IntegerField(
        min_value=0, max_value=MINUTES_MAX, help_text="Minutes before they can come back.")


class MemberBanParams(MemberReasonParams):
    minutes = serializers.IntegerField(min_value=1, max_value=MINUTES_MAX, required=False,
                                       allow_null=True, help_text="Absent or null: no end.")


class RoomOpenParams(_Params):
    on = _switch("true opens the circle to participants, false closes it.")


class RoomLockParams(_Params):
    on = _switch("true: no new arrivals; false lets them in again.")


class RoomPauseParams(_Params):
    on = _switch("true: read-only for participants; false resumes the chat.")


class RoomSlowModeParams(_Params):
    seconds = serializers.IntegerField(min_value=0, max_value=protocol.MAX_SLOW_MODE_SECONDS,
                                       help_text="Seconds between two messages; 0 is off.")


class SessionEndParams(_Params):
    reason = _reason()


class ReportResolveParams(_Params):
    report_id = serializers.IntegerField(min_value=1)
    outcome = serializers.ChoiceField(choices=protocol.REPORT_OUTCOMES)


PARAMS_BY_ACTION: dict[str, type[serializers.Serializer]] = {
    "message.delete": MessageDeleteParams,
    "message.pin": MessagePinParams,
    "announce": AnnounceParams,
    "member.warn": MemberReasonParams,
    "member.mute": MemberMuteParams,
    "member.unmute": MemberParams,
    "member.remove": MemberRemoveParams,
    "member.ban": MemberBanParams,
    "member.unban": MemberParams,
    "member.admit": MemberParams,
    "member.decline": MemberReasonParams,
    "room.open": RoomOpenParams,
    "room.lock": RoomLockParams,
    "room.pause": RoomPauseParams,
    "room.slow_mode": RoomSlowModeParams,
    "session.end": SessionEndParams,
    "report.resolve": ReportResolveParams,
}
assert set(PARAMS_BY_ACTION) == set(ACTIONS)


class AnyOfProxySerializer(PolymorphicProxySerializer):
    """drf-spectacular's proxy, documented as `anyOf` rather than `oneOf`: the action in the path
    picks the shape, and one body often fits several (`{}` is a whole `message.pin` body and a
    whole `session.end` one), so with `oneOf` no body at all would match the schema."""


class AnyOfProxySerializerExtension(PolymorphicProxySerializerExtension):
    target_class = AnyOfProxySerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = super().map_serializer(auto_schema, direction)
        return {"anyOf": schema.pop("oneOf"), **schema}


ModerationParams = AnyOfProxySerializer(
    component_name="ModerationParams",
    serializers=list(dict.fromkeys(PARAMS_BY_ACTION.values())),
    resource_type_field_name=None,
)


# --- Response bodies ----------------------------------------------------------------------------
class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=protocol.REPORT_SOURCES)
    reason = serializers.ChoiceField(choices=protocol.REPORT_REASONS)
    message_id = serializers.IntegerField(allow_null=True)
    reporter = serializers.CharField(help_text="Alias of who reported; empty for automatic ones.")
    alias = serializers.CharField(help_text="Alias the report is about.")
    status = serializers.ChoiceField(choices=Report.Status.choices)
    text = serializers.CharField(
        allow_null=True, help_text="The reported text as it was, until the message would have "
        "expired; null afterwards, or when there is no copy.")
    expired = serializers.BooleanField(
        help_text="The report had a copy of the text and it is gone: the message expired (or "
        "its key was destroyed: an ephemeral session ended, its author was erased).")
    created_at = serializers.CharField(help_text="ISO 8601, rounded down to the minute.")


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=protocol.AUDIT_KINDS)
    label = serializers.CharField()
    by = serializers.CharField(help_text="The facilitator's alias in this circle.")
    alias = serializers.CharField(help_text="The alias acted on, if any.")
    reason = serializers.CharField()
    detail = serializers.CharField(help_text="The action's setting: \"30 min\", \"10 s\"…")
    created_at = serializers.CharField()


class ConsolePersonSerializer(serializers.Serializer):
    alias = serializers.CharField()
    role = serializers.CharField()
    present = serializers.BooleanField()
    waiting = serializers.BooleanField()
    muted_until = serializers.CharField(allow_null=True)
    removed_until = serializers.CharField(allow_null=True)
    banned = serializers.BooleanField()
    banned_until = serializers.CharField(allow_null=True)
    warnings = serializers.IntegerField()
    breaches = serializers.DictField(child=serializers.IntegerField())
    admission = serializers.CharField()


class ConsoleSerializer(serializers.Serializer):
    room = serializers.DictField(help_text="As `room` in the websocket's `welcome`.")
    people = ConsolePersonSerializer(many=True)
    reports = ReportSerializer(many=True)
    audit = AuditEntrySerializer(many=True)


class ModerationResultSerializer(serializers.Serializer):
    """What the action did; the keys depend on the action (docs/protocol.md, `moderate.ack`)."""

    message_id = serializers.IntegerField(required=False, allow_null=True)
    alias = serializers.CharField(required=False)
    warnings = serializers.IntegerField(required=False)
    muted_until = serializers.CharField(required=False, allow_null=True)
    removed_until = serializers.CharField(required=False)
    banned_until = serializers.CharField(required=False, allow_null=True)
    admission = serializers.CharField(required=False)
    is_open = serializers.BooleanField(required=False)
    is_locked = serializers.BooleanField(required=False)
    locked_at = serializers.CharField(required=False, allow_null=True)
    is_paused = serializers.BooleanField(required=False)
    slow_mode_seconds = serializers.IntegerField(required=False)
    report_id = serializers.IntegerField(required=False)
    status = serializers.CharField(required=False)


class ReportCreateRequest(serializers.Serializer):
    message_id = serializers.IntegerField(min_value=1)
    reason = serializers.ChoiceField(choices=protocol.REPORT_REASONS)


class ReportCreateResponse(serializers.Serializer):
    report_id = serializers.IntegerField()
    duplicate = serializers.BooleanField(help_text="You had already reported this message.")


class HelpResponse(serializers.Serializer):
    report_id = serializers.IntegerField()
    notice = serializers.DictField(help_text="A `crisis_support` notice with help resources, as "
                                             "over the websocket.")


@extend_schema_field({"oneOf": [
    {"type": "string"},
    {"type": "object", "additionalProperties": True,
     "description": "For invalid input: what is wrong, by field."},
]})
class ErrorDetailField(serializers.JSONField):
    pass


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = ErrorDetailField(help_text="What went wrong, in the language of the request.")


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {s: OpenApiResponse(ErrorSerializer) for s in statuses}


class StatusQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=Report.Status.values, default=Report.Status.OPEN)


class AuditCsvQuery(serializers.Serializer):
    room = serializers.SlugField(required=False, allow_blank=True,
                                 help_text="A circle's slug: only its entries.")


class LimitQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=200)


# --- Views --------------------------------------------------------------------------------------
class ModerationView(APIView):
    """One moderation action in a circle: for its facilitators and admins only."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAGS, operation_id="rooms_moderation_perform",
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=list(ACTIONS),
                                     description="The moderation action, as in the websocket's "
                                                 "`moderate` frame.")],
        request=ModerationParams,
        responses={200: ModerationResultSerializer, **_errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, slug: str, action: str) -> Response:
        frame = _checked(protocol.parse_moderation, {**_body(request), "action": action})
        room = rooms.room_get(slug=slug)
        result = moderation.moderation_perform(actor=request.user, room=room,
                                               action=frame.action, params=frame.params)
        return Response(result)


class ConsoleView(APIView):
    """The facilitators' console of a circle, as its `console` frame shows it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, responses={200: ConsoleSerializer, **_errors(403, 404)})
    def get(self, request: Request, slug: str) -> Response:
        return Response(moderation.console_get(actor=request.user,
                                               room=rooms.room_get(slug=slug)))


class AuditListView(APIView):
    """A circle's audit trail, newest first: for its facilitators and admins."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, parameters=[LimitQuery],
                   responses={200: AuditEntrySerializer(many=True), **_errors(400, 403, 404)})
    def get(self, request: Request, slug: str) -> Response:
        query = LimitQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(moderation.audit_list(actor=request.user, room=rooms.room_get(slug=slug),
                                              limit=query.validated_data["limit"]))


class ReportListView(APIView):
    """GET: the circle's report queue (facilitators). POST: report a message (participants)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, parameters=[StatusQuery],
                   responses={200: ReportSerializer(many=True), **_errors(400, 403, 404)})
    def get(self, request: Request, slug: str) -> Response:
        query = StatusQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(moderation.report_list(actor=request.user,
                                               room=rooms.room_get(slug=slug),
                                               status=query.validated_data["status"]))

    @extend_schema(tags=TAGS, request=ReportCreateRequest,
                   responses={201: ReportCreateResponse, 200: ReportCreateResponse,
                              **_errors(400, 403, 404)})
    def post(self, request: Request, slug: str) -> Response:
        frame = _checked(protocol.parse_report, _body(request))
        result = moderation.report_create(user=request.user, room=rooms.room_get(slug=slug),
                                          message_id=frame.message_id, reason=frame.reason)
        return Response(result, status=status.HTTP_200_OK if result["duplicate"]
                        else status.HTTP_201_CREATED)


class HelpRequestView(APIView):
    """"I need help now": alerts the circle's facilitators privately; answers with help lines."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, request=None, responses={200: HelpResponse, **_errors(403, 404)})
    def post(self, request: Request, slug: str) -> Response:
        return Response(moderation.help_request(user=request.user,
                                                room=rooms.room_get(slug=slug)))


class AuditCsvView(APIView):
    """The whole audit trail (or one circle's) as CSV: for admins only. Never message text."""

    permission_classes = [permissions.IsAuthenticated]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The answer is CSV whatever the Accept header asks; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        tags=TAGS, operation_id="audit_csv_export", parameters=[AuditCsvQuery],
        responses={(200, "text/csv"): OpenApiTypes.STR, **_errors(400, 403, 404)},
    )
    def get(self, request: Request) -> HttpResponse:
        # Checked as a slug first: text such as a NUL character must never reach the database
        # (PostgreSQL refuses it with an error: this was a 500 found by tests/test_api_fuzz.py).
        query = AuditCsvQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        slug = query.validated_data.get("room")
        room = rooms.room_get(slug=slug) if slug else None
        text = moderation.audit_csv(actor=request.user, room=room)
        name = f"halqa-audit-{slug + '-' if slug else ''}{timezone.now():%Y%m%d-%H%M}.csv"
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
