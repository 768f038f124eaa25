"""REST edge of the schedule: sessions, applications, invitations, and the help resources.

The same services as the pages (rooms.applications, moderation.selectors); errors become JSON
4xx with a `code` (server.api.exception_handler).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation.selectors import resources_directory
from rooms import applications, protocol, selectors
from rooms.models import Application, Language

TAGS = ["schedule"]


class SessionRoomSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    language = serializers.CharField()
    dir = serializers.CharField()
    access = serializers.ChoiceField(choices=protocol.ACCESS_MODES)


class UpcomingSerializer(serializers.Serializer):
    session_id = serializers.IntegerField()
    date = serializers.DateField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    time_zone = serializers.CharField()
    theme = serializers.CharField()
    description = serializers.CharField()
    weekly = serializers.BooleanField()
    room = SessionRoomSerializer()


class ScheduleQuery(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.values, required=False)
    theme = serializers.CharField(max_length=80, required=False)
    days = serializers.IntegerField(min_value=1, max_value=92, required=False, default=31)


SCHEDULE_PARAMETERS = [
    OpenApiParameter("language", str, enum=Language.values, required=False),
    OpenApiParameter("theme", str, required=False, description="Part of the theme."),
    OpenApiParameter("days", int, required=False, description="How far ahead (1-92, 31)."),
]


def _schedule(request: Request, **extra: Any) -> Response:
    query = ScheduleQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    found = applications.schedule_upcoming(**query.validated_data, **extra)
    return Response([upcoming.as_dict() for upcoming in found])


class ScheduleView(APIView):
    """Coming sessions of every circle, soonest first."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=TAGS, parameters=SCHEDULE_PARAMETERS,
                   responses=UpcomingSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _schedule(request)


class RoomScheduleView(APIView):
    """Coming sessions of one circle."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=TAGS, parameters=SCHEDULE_PARAMETERS,
                   responses=UpcomingSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        return _schedule(request, room=selectors.room_get(slug=slug))


class ApplicationRequest(serializers.Serializer):
    session_id = serializers.IntegerField(min_value=1)
    date = serializers.DateField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                 trim_whitespace=False)
    contact_email = serializers.CharField(
        max_length=254, required=False, allow_blank=True,
        help_text="Only to receive the invitation by e-mail; deleted when the session ends.")


class MyApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    session_id = serializers.IntegerField()
    date = serializers.DateField()
    room = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Application.Status.choices)
    invitation = serializers.CharField(allow_null=True, help_text="The personal link, once.")
    invitation_used = serializers.BooleanField()


class ApplicationView(APIView):
    """Apply to one date of a session (applying again updates the note and address)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, request=ApplicationRequest,
                   responses={201: MyApplicationSerializer})
    def post(self, request: Request) -> Response:
        data = ApplicationRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        application = applications.application_submit(
            user=request.user, session_id=values["session_id"], day=values["date"],
            note=values.get("note", ""), contact_email=values.get("contact_email", ""))
        mine = {a["id"]: a for a in applications.applications_mine(user=request.user)}
        return Response(mine[application.pk], status=status.HTTP_201_CREATED)


class MyApplicationsView(APIView):
    """Your own applications, with your invitation link once approved."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, responses=MyApplicationSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(applications.applications_mine(user=request.user))


class PendingApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    date = serializers.DateField(source="occurrence_date")
    theme = serializers.CharField(source="session.theme")
    alias = serializers.CharField(source="applicant.alias")
    note = serializers.CharField()
    by_email = serializers.SerializerMethodField()

    def get_by_email(self, application: Application) -> bool:
        return bool(application.contact_sealed)  # the address itself is never shown


class RoomApplicationsView(APIView):
    """For the circle's facilitators: applications waiting for a decision."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, responses=PendingApplicationSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        pending = applications.applications_pending(actor=request.user,
                                                    room=selectors.room_get(slug=slug))
        return Response(PendingApplicationSerializer(pending, many=True).data)


class DecisionRequest(serializers.Serializer):
    approve = serializers.BooleanField()


class DecisionResponse(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Application.Status.choices)


class ApplicationDecisionView(APIView):
    """A facilitator approves (the invitation is made and sent) or declines."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, request=DecisionRequest, responses=DecisionResponse)
    def post(self, request: Request, application_id: int) -> Response:
        data = DecisionRequest(data=request.data)
        data.is_valid(raise_exception=True)
        application = applications.application_decide(
            actor=request.user, application_id=application_id,
            approve=data.validated_data["approve"])
        return Response({"id": application.pk, "status": application.status})


class InvitationAcceptResponse(serializers.Serializer):
    room = serializers.CharField()
    admitted_until = serializers.DateTimeField()


class InvitationAcceptView(APIView):
    """Use a personal invitation (once): it admits you to its session until it ends."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, request=None, responses=InvitationAcceptResponse)
    def post(self, request: Request, token: str) -> Response:
        membership = applications.invitation_accept(user=request.user, token=token)
        return Response({"room": membership.room.slug,
                         "admitted_until": membership.admitted_until})


class ResourceSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    url = serializers.CharField()
    hours = serializers.CharField()
    description = serializers.CharField()
    regions = serializers.ListField(child=serializers.CharField(),
                                    help_text="Empty: nationwide.")
    is_example = serializers.BooleanField(
        help_text="An example entry of the demo data, still to be filled in by the admin.")
    languages = serializers.SerializerMethodField()

    def get_languages(self, resource: dict[str, Any]) -> list[str]:
        return [code for code, _name in resource["languages"]]


class ResourceGroupSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    resources = ResourceSerializer(many=True)


class ResourcesView(APIView):
    """The help directory: active resources by kind, for a language and a region."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=["help"], parameters=[
        OpenApiParameter("language", str, required=False, enum=Language.values),
        OpenApiParameter("region", str, required=False)],
        responses=ResourceGroupSerializer(many=True))
    def get(self, request: Request) -> Response:
        directory = resources_directory(language=request.query_params.get("language", ""),
                                        region=request.query_params.get("region", ""))
        groups = [{"kind": g["kind"], "label": str(g["label"]), "resources": g["resources"]}
                  for g in directory["groups"]]
        return Response(ResourceGroupSerializer(groups, many=True).data)
