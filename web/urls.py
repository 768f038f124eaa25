from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from web import identity_views, protocol_views, schedule_views, staff_views, views

urlpatterns = [
    path("", views.room_list, name="room-list-page"),
    path("rooms/<slug:slug>/", views.room_page, name="room-page"),
    path("rooms/<slug:slug>/console/", views.room_console, name="room-console"),
    path("rooms/<slug:slug>/applications/", schedule_views.applications_page,
         name="applications-page"),
    path("rooms/<slug:slug>/calendar.ics", schedule_views.calendar_feed, name="room-calendar"),
    path("schedule/", schedule_views.schedule_page, name="schedule-page"),
    path("schedule/apply/", schedule_views.apply, name="schedule-apply"),
    path("invitations/<str:token>/", schedule_views.invitation_page, name="invitation-page"),
    path("duty/", views.duty_desk, name="duty-desk"),
    path("facilitator/", staff_views.facilitator_home, name="facilitator-home"),
    path("identity/", identity_views.identity_page, name="identity-page"),
    path("privacy/", views.privacy, name="privacy"),
    path("help/", views.help_directory, name="help"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("protocol.js", protocol_views.protocol_js, name="protocol-js"),
    # Pages outside the site's layout (the admin's) ask for /favicon.ico: the same icon.
    path("favicon.ico", RedirectView.as_view(url=static("halqa/favicon.svg"), permanent=False)),
]
