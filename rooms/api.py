"""REST edge of circles: the same services as the websocket, over HTTP."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms import services
from rooms.models import Membership, Room


class RoomSerializer(serializers.ModelSerializer):
    dir = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = ["slug", "title", "theme", "description", "language", "dir", "capacity",
                  "is_open", "house_rules"]

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
    client_id = serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$")


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


def _membership(request: Request, slug: str) -> Membership:
    return services.membership_ensure(user=request.user, room=services.room_get(slug=slug))


class RoomListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=RoomSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(RoomSerializer(Room.objects.all(), many=True).data)


class RoomDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=RoomSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(RoomSerializer(services.room_get(slug=slug)).data)


class RulesAcceptView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=MembershipSerializer)
    def post(self, request: Request, slug: str) -> Response:
        membership = services.rules_accept(membership=_membership(request, slug))
        return Response(MembershipSerializer(membership).data)


class MessageListView(APIView):
    """Read a circle's recent messages (or those after an id), or post one."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("after", int, required=False)],
        responses=MessagePageSerializer,
    )
    def get(self, request: Request, slug: str) -> Response:
        membership = _membership(request, slug)
        services.read_check(membership=membership)
        query = AfterQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data.get("after")
        history = services.message_history(room_id=membership.room_id, after=after)
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
