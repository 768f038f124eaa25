"""The live circle over a websocket, on the in-memory channel layer, through the real ASGI stack."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async

from rooms import protocol
from rooms.models import Membership, Message, Presence
from rooms.services import message_post
from tests.conftest import room_create

pytestmark = pytest.mark.django_db(transaction=True)

adb = database_sync_to_async


async def enter(connect, user, room, **kwargs):
    """Connect, accept the rules and return (socket, joined welcome)."""
    socket = await connect(user, room, **kwargs)
    first = await socket.receive_type("welcome")
    if first["joined"]:
        return socket, first
    assert first["rules"]["accepted"] is False
    await socket.send({"type": "rules.accept"})
    return socket, await socket.receive_type("welcome")


async def test_unauthenticated_socket_gets_error_and_close(connect, room):
    socket = await connect(None, room)
    frame = await socket.receive()
    assert frame == {"type": "error", "code": "not_authenticated", "detail": frame["detail"]}
    assert frame["detail"]
    out = await socket.communicator.receive_output(timeout=2)
    assert out == {"type": "websocket.close", "code": protocol.CLOSE_NOT_AUTHENTICATED}


async def test_unknown_room_gets_error_and_close(connect, identity):
    user = await adb(identity)()
    socket = await connect(user, "no-such-circle")
    frame = await socket.receive()
    assert frame["type"] == "error" and frame["code"] == "room_not_found"
    out = await socket.communicator.receive_output(timeout=2)
    assert out["code"] == protocol.CLOSE_ROOM_NOT_FOUND


async def test_welcome_before_rules_has_rules_but_no_history(connect, identity, room):
    user = await adb(identity)()
    other = await adb(identity)()
    older = await adb(Membership.objects.create)(
        user=other, room=room, alias="Older", rules_accepted_at="2026-01-01T00:00Z")
    await adb(message_post)(membership_id=older.pk, body="before you came", client_id="old1")
    socket = await connect(user, room)
    welcome = await socket.receive_type("welcome")
    assert welcome["joined"] is False
    assert welcome["rules"] == {"text": room.house_rules, "accepted": False}
    assert welcome["history"] == []
    assert welcome["you"]["alias"] and welcome["you"]["role"] == "participant"
    assert welcome["room"]["slug"] == room.slug and welcome["room"]["dir"] == "ltr"


async def test_posting_before_accepting_rules_is_refused_and_socket_stays_usable(
        connect, identity, room):
    user = await adb(identity)()
    socket = await connect(user, room)
    await socket.receive_type("welcome")
    await socket.send({"type": "message.send", "body": "hello", "client_id": "c1"})
    error = await socket.receive_type("error")
    assert error["code"] == "rules_not_accepted" and error["ref"] == "c1"
    assert await adb(Message.objects.count)() == 0
    await socket.send({"type": "ping"})
    assert (await socket.receive())["type"] == "pong"


async def test_two_members_talk_and_message_is_stored_before_broadcast(connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, alice, room)
    b, welcome_b = await enter(connect, bilal, room)
    assert {m["alias"] for m in welcome_b["members"]} >= {welcome_b["you"]["alias"]}

    await a.send({"type": "message.send", "body": "  salam <b>everyone</b> ", "client_id": "m-1"})
    # The author gets the ack and the broadcast in either order (the hub publishes on commit).
    got = {}
    while len(got) < 2:
        frame = await a.receive()
        if frame["type"] in ("message.ack", "message.new"):
            got[frame["type"]] = frame
    ack, own = got["message.ack"], got["message.new"]
    assert ack["client_id"] == "m-1" and ack["duplicate"] is False
    seen_by_b = await b.receive_type("message.new")
    assert seen_by_b["message"]["id"] == ack["id"]
    assert seen_by_b["message"]["body"] == "salam everyone"  # sanitised, tags stripped
    assert seen_by_b["message"]["created_at"].endswith(":00+00:00")  # coarse: minutes only
    assert own["message"]["id"] == ack["id"]
    stored = await adb(Message.objects.get)(pk=ack["id"])
    assert "salam" not in stored.body_encrypted  # encrypted at rest


async def test_presence_follows_joins_and_leaves(connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, welcome_a = await enter(connect, alice, room)
    b, welcome_b = await enter(connect, bilal, room)
    presence = await a.receive_type("presence")
    while presence["count"] < 2:
        presence = await a.receive_type("presence")
    assert {m["alias"] for m in presence["members"]} == {
        welcome_a["you"]["alias"], welcome_b["you"]["alias"]}
    await b.close()
    presence = await a.receive_type("presence")
    assert [m["alias"] for m in presence["members"]] == [welcome_a["you"]["alias"]]
    assert await adb(Presence.objects.count)() == 1


async def test_typing_reaches_the_others(connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, welcome_a = await enter(connect, alice, room)
    b, _ = await enter(connect, bilal, room)
    await a.send({"type": "typing"})
    typing = await b.receive_type("typing")
    assert typing == {"type": "typing", "alias": welcome_a["you"]["alias"]}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("this is not json", "bad_json"),
        ("[1, 2, 3]", "bad_frame"),
        ('{"no": "type"}', "bad_frame"),
        ('{"type": 42}', "bad_frame"),
        ('{"type": "message.delete_everything"}', "unknown_type"),
        ('{"type": "message.send", "client_id": "x"}', "invalid_field"),
        ('{"type": "message.send", "body": 12, "client_id": "x"}', "invalid_field"),
        ('{"type": "message.send", "body": "hi"}', "invalid_field"),
        ('{"type": "message.send", "body": "hi", "client_id": "has spaces!"}', "invalid_field"),
        (json.dumps({"type": "message.send", "body": "x" * 20000, "client_id": "big"}),
         "frame_too_large"),
    ],
)
async def test_bad_frames_get_a_clear_error_and_the_socket_stays_usable(
        connect, identity, room, raw, code):
    user = await adb(identity)()
    socket, _ = await enter(connect, user, room)
    await socket.send(raw)
    error = await socket.receive_type("error")
    assert error["code"] == code and error["detail"]
    await socket.send({"type": "message.send", "body": "still here", "client_id": "ok"})
    assert (await socket.receive_type("message.ack"))["client_id"] == "ok"


async def test_binary_frame_is_refused(connect, identity, room):
    user = await adb(identity)()
    socket, _ = await enter(connect, user, room)
    await socket.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_type("error"))["code"] == "bad_frame"


@pytest.mark.parametrize(
    ("body", "code"),
    [("", "empty"), ("   \n\t ", "empty"), ("<script></script>", "empty"),
     ("x" * 2001, "too_long")],
)
async def test_empty_or_over_long_messages_are_refused(connect, identity, room, body, code):
    user = await adb(identity)()
    socket, _ = await enter(connect, user, room)
    await socket.send({"type": "message.send", "body": body, "client_id": "c"})
    error = await socket.receive_type("error")
    assert error["code"] == code and error["ref"] == "c" and error["detail"]
    assert await adb(Message.objects.count)() == 0
    await socket.send({"type": "message.send", "body": "fine", "client_id": "c2"})
    assert (await socket.receive_type("message.ack"))["client_id"] == "c2"


async def test_posting_to_a_room_closed_meanwhile_is_refused(connect, identity, room):
    user = await adb(identity)()
    socket, _ = await enter(connect, user, room)
    room.is_open = False
    await adb(room.save)()
    await socket.send({"type": "message.send", "body": "anyone?", "client_id": "c"})
    assert (await socket.receive_type("error"))["code"] == "room_closed"
    await socket.send({"type": "ping"})
    assert (await socket.receive())["type"] == "pong"


async def test_entering_a_closed_room(connect, identity):
    room = await adb(room_create)(is_open=False)
    user = await adb(identity)()
    socket = await connect(user, room)
    await socket.receive_type("welcome")
    await socket.send({"type": "rules.accept"})
    welcome = await socket.receive_type("welcome")
    assert welcome["joined"] is False and welcome["rules"]["accepted"] is True
    assert (await socket.receive_type("error"))["code"] == "room_closed"
    await socket.send({"type": "message.send", "body": "hi", "client_id": "c"})
    assert (await socket.receive_type("error"))["code"] == "room_closed"


async def test_full_room_refuses_newcomer_until_a_place_frees(connect, identity):
    room = await adb(room_create)(capacity=1)
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, alice, room)
    b = await connect(bilal, room)
    await b.receive_type("welcome")
    await b.send({"type": "rules.accept"})
    assert (await b.receive_type("welcome"))["joined"] is False
    assert (await b.receive_type("error"))["code"] == "room_full"
    await b.send({"type": "message.send", "body": "let me in", "client_id": "c"})
    assert (await b.receive_type("error"))["code"] == "room_full"
    await a.close()
    await b.send({"type": "join"})
    assert (await b.receive_type("welcome"))["joined"] is True


async def test_second_tab_of_a_present_member_does_not_count_twice(connect, identity):
    room = await adb(room_create)(capacity=1)
    alice = await adb(identity)()
    await enter(connect, alice, room)
    tab2 = await connect(alice, room)
    assert (await tab2.receive_type("welcome"))["joined"] is True


async def test_same_client_id_is_stored_and_broadcast_once(connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, alice, room)
    b, _ = await enter(connect, bilal, room)
    frame = {"type": "message.send", "body": "once", "client_id": "same"}
    await a.send(frame)
    first = await a.receive_type("message.ack")
    await a.send(frame)
    second = await a.receive_type("message.ack")
    assert second == {**first, "duplicate": True}
    assert (await b.receive_type("message.new"))["message"]["id"] == first["id"]
    assert await b.nothing(timeout=0.5)
    assert await adb(Message.objects.count)() == 1


async def test_reconnect_with_after_gets_exactly_the_missed_messages(connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, alice, room)
    b, _ = await enter(connect, bilal, room)
    ids = []
    for n in range(3):
        await a.send({"type": "message.send", "body": f"seen {n}", "client_id": f"s{n}"})
        ids.append((await a.receive_type("message.ack"))["id"])
    last_seen = ids[-1]
    for n in range(3):
        assert (await b.receive_type("message.new"))["message"]["id"] == ids[n]
    await b.close()
    missed = []
    for n in range(4):
        await a.send({"type": "message.send", "body": f"missed {n}", "client_id": f"m{n}"})
        missed.append((await a.receive_type("message.ack"))["id"])

    b2 = await connect(bilal, room, after=last_seen)
    welcome = await b2.receive_type("welcome")
    assert welcome["joined"] is True
    assert [m["id"] for m in welcome["history"]] == missed
    assert [m["body"] for m in welcome["history"]] == [f"missed {n}" for n in range(4)]
    # and then live again, without repeats
    await a.send({"type": "message.send", "body": "live", "client_id": "live"})
    live = await b2.receive_type("message.new")
    assert live["message"]["body"] == "live"
    assert await b2.nothing()


async def test_resume_point_that_is_not_a_number_gets_an_error_then_recent_history(
        connect, identity, room):
    user = await adb(identity)()
    socket = await connect(user, room, after="banana")
    assert (await socket.receive())["code"] == "invalid_after"
    assert (await socket.receive_type("welcome"))["type"] == "welcome"


async def test_retry_after_reconnect_is_idempotent(connect, identity, room):
    alice = await adb(identity)()
    a, _ = await enter(connect, alice, room)
    frame = {"type": "message.send", "body": "did it arrive?", "client_id": "retry-1"}
    await a.send(frame)
    ack = await a.receive_type("message.ack")
    await a.close()
    a2, welcome = await enter(connect, alice, room, after=ack["id"] - 1)
    assert [m["id"] for m in welcome["history"]] == [ack["id"]]
    await a2.send(frame)
    assert (await a2.receive_type("message.ack"))["duplicate"] is True
    assert await adb(Message.objects.count)() == 1


async def test_arabic_room_is_rtl_and_keeps_text_intact(connect, identity):
    room = await adb(room_create)(language="ary", title="حلقة")
    user = await adb(identity)("ar")
    socket, welcome = await enter(connect, user, room)
    assert welcome["room"]["dir"] == "rtl"
    await socket.send({"type": "message.send", "body": "السلام، كيداير؟ ça va", "client_id": "a"})
    assert (await socket.receive_type("message.new"))["message"]["body"] == "السلام، كيداير؟ ça va"


async def test_socket_with_foreign_origin_is_rejected(identity, room):
    from channels.testing import WebsocketCommunicator

    from server.asgi import application

    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room.slug}/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect(timeout=3)
    assert connected is False


@pytest.mark.parametrize(("header", "language"), [(b"fr-MA,fr;q=0.9", "fr"),
                                                  (b"en-US,en;q=0.8", "en"), (b"ar", "ar")])
async def test_server_text_follows_the_browsers_language(room, header, language):
    """Like the page itself (LocaleMiddleware): without a language cookie, Accept-Language."""
    from channels.testing import WebsocketCommunicator
    from django.utils import translation

    from server.asgi import application

    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room.slug}/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"accept-language", header)])
    assert (await communicator.connect(timeout=3))[0]
    frame = json.loads(await communicator.receive_from(timeout=3))
    with translation.override(language):
        expected = translation.gettext("Join anonymously or sign in before entering a circle.")
    assert frame["code"] == "not_authenticated" and frame["detail"] == expected
    await communicator.disconnect()


async def test_a_history_read_does_not_wait_behind_another_sockets_write(
        connect, identity, room, monkeypatch):
    """Message writes run on their own thread (rooms.lanes): while one is held up, another
    person still enters the circle and gets its history, and the held message then reaches
    both (issue 11: reads for one socket must not wait behind another socket's write)."""
    import asyncio
    import threading

    from rooms import services

    release = threading.Event()
    writing = threading.Event()
    original = services.message_post

    def held_post(**kwargs):
        writing.set()
        release.wait(10)
        return original(**kwargs)

    monkeypatch.setattr(services, "message_post", held_post)
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, alice, room)
    await a.send({"type": "message.send", "body": "a slow one", "client_id": "slow-1"})
    assert await asyncio.to_thread(writing.wait, 5)
    try:
        b, welcome_b = await asyncio.wait_for(enter(connect, bilal, room), timeout=5)
        assert not release.is_set()  # entered, history read, while the write was held
        assert welcome_b["joined"] is True
    finally:
        release.set()
    ack = await a.receive_type("message.ack")
    assert (await b.receive_type("message.new"))["message"]["id"] == ack["id"]
