"""REST edge of circles: the same services as the websocket, over HTTP."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms import protocol, selectors, services
from rooms.errors import Invalid
from rooms.models import Membership, Room


class RoomSerializer(serializers.ModelSerializer):
    dir = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = ["slug", "title", "theme", "description", "language", "dir", "capacity",
                  "is_open", "access", "house_rules"]

    def get_dir(self, room: Room) -> str:
        return "rtl" if room.is_rtl else "ltr"


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    alias = serializers.CharField()
    role = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.CharField()


class MessagePageSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    truncated = serializers.BooleanField()


class MessagePostRequest(serializers.Serializer):
    body = serializers.CharField(max_length=20000, trim_whitespace=False, allow_blank=True)
    client_id = serializers.RegexField(protocol.CLIENT_ID_RE.pattern, trim_whitespace=False)

    def to_internal_value(self, data: object) -> dict[str, object]:
        """`client_id` is checked first, exactly as over the socket (rooms.protocol): the same
        rule (no trimming, so "abc\n" is refused, not turned into "abc") and the same answer,
        `invalid_field`, raised as a service error for the exception handler."""
        if isinstance(data, dict):
            client_id = data.get("client_id")
            if not isinstance(client_id, str) or not protocol.CLIENT_ID_RE.fullmatch(client_id):
                raise Invalid("invalid_field",
                              _("“client_id” must be 1 to 64 letters, digits, “-” or “_”."))
        return super().to_internal_value(data)


class MessagePostResponse(serializers.Serializer):
    message = MessageSerializer()
    duplicate = serializers.BooleanField()
    notices = serializers.ListField(child=serializers.DictField())


class AfterQuery(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, required=False)


class MembershipSerializer(serializers.ModelSerializer):
    rules_accepted = serializers.BooleanField(read_only=True)

    class Meta:
        model = Membership
        fields = ["alias", "role", "rules_accepted"]


class EntrySerializer(serializers.Serializer):
    alias = serializers.CharField()
    role = serializers.CharField()
    rules_accepted = serializers.BooleanField()
    joined = serializers.BooleanField(help_text="In the circle: may read, write and report.")
    waiting = serializers.BooleanField(help_text="Waiting for a facilitator to admit you.")


def _membership(request: Request, slug: str) -> Membership:
    return services.membership_ensure(user=request.user, room=selectors.room_get(slug=slug))


def _entry(request: Request, slug: str, *, accept_rules: bool) -> Response:
    """The door, over REST: the same service and the same refusals as a socket's join."""
    room = selectors.room_get(slug=slug)
    entry = services.room_enter(user=request.user, room=room, accept_rules=accept_rules)
    return Response({**MembershipSerializer(entry.membership).data, "joined": entry.joined,
                     "waiting": entry.waiting},
                    status=status.HTTP_202_ACCEPTED if entry.waiting else status.HTTP_200_OK)


class RoomListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=RoomSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(RoomSerializer(selectors.room_list(), many=True).data)


class RoomDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=RoomSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(RoomSerializer(selectors.room_get(slug=slug)).data)


class RulesAcceptView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: EntrySerializer, 202: EntrySerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Accept the house rules and come in (as the socket's `rules.accept`)."""
        return _entry(request, slug, accept_rules=True)


class JoinView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: EntrySerializer, 202: EntrySerializer})
    def post(self, request: Request, slug: str) -> Response:
        """Come in (as the socket's `join`): 200 when in, 202 when waiting to be admitted, or
        the refusal (banned, locked, full, invitation needed...)."""
        return _entry(request, slug, accept_rules=False)


class MessageListView(APIView):
    """Read a circle's recent messages (or those after an id), or post one."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("after", int, required=False)],
        responses=MessagePageSerializer,
    )
    def get(self, request: Request, slug: str) -> Response:
        membership = _membership(request, slug)
        services.participation_check(membership=membership, room=membership.room)
        query = AfterQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data.get("after")
        history = selectors.message_history(room_id=membership.room_id, after=after)
        return Response({"messages": history.messages, "truncated": history.truncated})

    @extend_schema(request=MessagePostRequest, responses={201: MessagePostResponse})
    def post(self, request: Request, slug: str) -> Response:
        data = MessagePostRequest(data=request.data)
        data.is_valid(raise_exception=True)
        membership = _membership(request, slug)
        posted = services.message_post(membership_id=membership.pk, **data.validated_data)
        return Response(
            {"message": posted.payload, "duplicate": posted.duplicate, "notices": posted.notices},
            status=status.HTTP_200_OK if posted.duplicate else status.HTTP_201_CREATED,
        )
