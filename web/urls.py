from django.urls import path
from django.views.i18n import JavaScriptCatalog

from web import views

urlpatterns = [
    path("", views.room_list, name="room-list-page"),
    path("rooms/<slug:slug>/", views.room_page, name="room-page"),
    path("rooms/<slug:slug>/console/", views.room_console, name="room-console"),
    path("privacy/", views.privacy, name="privacy"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
