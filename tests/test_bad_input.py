"""Bad input answers as the contract says (issue 13, item 6): a `client_id` with a trailing
newline is refused over both transports, and an unexpected failure answers in the socket's
language."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import translation

from accounts.services import identity_create_anonymous
from rooms import services
from rooms.models import Message
from tests.conftest import room_create

pytestmark = pytest.mark.django_db(transaction=True)

adb = database_sync_to_async

# "$" matches before a final newline: r"^…$" with .match let these through.
BAD_CLIENT_IDS = ["abc\n", "a" * 64 + "\n", "\nabc", "abc\r", "abc\n\n", " abc", "a" * 65, "",
                  12, None]


async def enter(connect, user, room):
    socket = await connect(user, room)
    welcome = await socket.receive_type("welcome")
    if not welcome["joined"]:
        await socket.send({"type": "rules.accept"})
        welcome = await socket.receive_type("welcome")
    assert welcome["joined"]
    return socket


@pytest.mark.parametrize("client_id", BAD_CLIENT_IDS)
async def test_socket_refuses_a_client_id_with_a_newline(connect, room, client_id):
    user = await adb(identity_create_anonymous)(language="en")
    socket = await enter(connect, user, room)
    await socket.send({"type": "message.send", "body": "hello", "client_id": client_id})
    frame = await socket.receive_type("error")
    assert frame["code"] == "invalid_field" and "client_id" in frame["detail"]
    assert await adb(Message.objects.count)() == 0


@pytest.mark.parametrize("client_id", BAD_CLIENT_IDS)
def test_rest_refuses_a_client_id_with_a_newline(room, client_id):
    user = identity_create_anonymous(language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.post(f"/api/v1/rooms/{room.slug}/messages/",
                           {"body": "hello", "client_id": client_id},
                           content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_field"
    assert "client_id" in response.json()["detail"]
    assert Message.objects.count() == 0


def test_rest_still_takes_a_good_client_id(room):
    user = identity_create_anonymous(language="en")
    client = Client()
    client.force_login(user)
    assert client.post(f"/api/v1/rooms/{room.slug}/rules/accept/").status_code == 200
    response = client.post(f"/api/v1/rooms/{room.slug}/messages/",
                           {"body": "hello", "client_id": "A-z_09" * 10 + "abcd"},
                           content_type="application/json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
async def test_internal_error_comes_in_the_sockets_language(connect, settings, monkeypatch,
                                                             language):
    """The server's default language is Arabic; an English socket got its `internal` text in
    Arabic because the text was translated outside the socket's language."""
    settings.LANGUAGE_CODE = "ar"

    def broken(**kwargs):
        raise RuntimeError("boom")

    room = await adb(room_create)()
    user = await adb(identity_create_anonymous)(language=language)
    socket = await enter(connect, user, room)
    monkeypatch.setattr(services, "message_post", broken)
    await socket.send({"type": "message.send", "body": "hello", "client_id": "c1"})
    frame = await socket.receive_type("error")
    with translation.override(language):
        expected = translation.gettext("Something went wrong on our side. Please retry.")
    assert frame["code"] == "internal" and frame["ref"] == "c1"
    assert frame["detail"] == expected
