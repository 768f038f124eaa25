from django.urls import path

from moderation.consumers import DutyConsumer
from rooms.consumers import RoomConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi()),
    path("ws/duty/", DutyConsumer.as_asgi()),
]
