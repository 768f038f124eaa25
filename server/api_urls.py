"""REST API v1: one place that lists every endpoint."""

from django.urls import path

from accounts import api as accounts_api
from moderation import api as moderation_api
from moderation import support_api
from rooms import api as rooms_api
from rooms import schedule_api

urlpatterns = [
    path("identities/anonymous/", accounts_api.AnonymousIdentityView.as_view(),
         name="identity-anonymous"),
    path("identities/me/", accounts_api.MeView.as_view(), name="identity-me"),
    path("identities/passphrase/", accounts_api.PassphraseView.as_view(),
         name="identity-passphrase"),
    path("identities/login/", accounts_api.PassphraseLoginView.as_view(), name="identity-login"),
    path("rooms/", rooms_api.RoomListView.as_view(), name="room-list"),
    path("rooms/<slug:slug>/", rooms_api.RoomDetailView.as_view(), name="room-detail"),
    path("rooms/<slug:slug>/rules/accept/", rooms_api.RulesAcceptView.as_view(),
         name="room-rules-accept"),
    path("rooms/<slug:slug>/join/", rooms_api.JoinView.as_view(), name="room-join"),
    path("rooms/<slug:slug>/messages/", rooms_api.MessageListView.as_view(),
         name="room-messages"),
    path("rooms/<slug:slug>/moderation/<str:action>/", moderation_api.ModerationView.as_view(),
         name="room-moderation"),
    path("rooms/<slug:slug>/console/", moderation_api.ConsoleView.as_view(),
         name="api-room-console"),
    path("rooms/<slug:slug>/audit/", moderation_api.AuditListView.as_view(), name="room-audit"),
    path("rooms/<slug:slug>/reports/", moderation_api.ReportListView.as_view(),
         name="room-reports"),
    path("rooms/<slug:slug>/help/", moderation_api.HelpRequestView.as_view(), name="room-help"),
    path("rooms/<slug:slug>/support/", support_api.SupportView.as_view(), name="room-support"),
    path("rooms/<slug:slug>/support/open/", support_api.SupportOpenView.as_view(),
         name="room-support-open"),
    path("rooms/<slug:slug>/support/<int:conversation_id>/messages/",
         support_api.SupportMessagesView.as_view(), name="room-support-messages"),
    path("rooms/<slug:slug>/support/<int:conversation_id>/end/",
         support_api.SupportEndView.as_view(), name="room-support-end"),
    path("audit.csv", moderation_api.AuditCsvView.as_view(), name="audit-csv"),
    path("rooms/<slug:slug>/sessions/", schedule_api.RoomScheduleView.as_view(),
         name="room-sessions"),
    path("rooms/<slug:slug>/applications/", schedule_api.RoomApplicationsView.as_view(),
         name="room-applications"),
    path("sessions/", schedule_api.ScheduleView.as_view(), name="sessions"),
    path("applications/", schedule_api.ApplicationView.as_view(), name="applications"),
    path("applications/mine/", schedule_api.MyApplicationsView.as_view(),
         name="applications-mine"),
    path("applications/<int:application_id>/decision/",
         schedule_api.ApplicationDecisionView.as_view(), name="application-decision"),
    path("invitations/<str:token>/accept/", schedule_api.InvitationAcceptView.as_view(),
         name="invitation-accept"),
    path("resources/", schedule_api.ResourcesView.as_view(), name="resources"),
]
