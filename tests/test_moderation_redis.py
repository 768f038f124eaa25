"""Facilitator actions across two channel-layer instances on the real Redis, as with two server
processes: the facilitator's socket is on "default", the participants' on "second", and every
effect must reach them there — and hold when they reconnect to either instance."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import User
from rooms import protocol
from rooms.models import Membership, Room
from tests.conftest import room_create
from tests.test_consumer import enter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

adb = database_sync_to_async
WAIT = 5  # seconds: frames cross Redis


def _facilitator(room: Room) -> User:
    user = User.objects.create(username=f"fac-{uuid.uuid4().hex[:8]}",
                               role=User.Role.FACILITATOR)
    room.facilitators.add(user)
    return user


async def facilitator(room: Room) -> User:
    return await adb(_facilitator)(room)


async def moderate(socket, action: str, **params: Any) -> dict[str, Any]:
    await socket.send({"type": "moderate", "action": action, **params})
    frame = await socket.receive(timeout=WAIT)
    while frame["type"] not in ("moderate.ack", "error"):
        frame = await socket.receive(timeout=WAIT)
    assert frame["type"] == "moderate.ack", frame
    return frame


async def say(socket, body: str, client_id: str) -> int:
    await socket.send({"type": "message.send", "body": body, "client_id": client_id})
    return (await socket.receive_type("message.ack", timeout=WAIT))["id"]


async def close_code(socket) -> int:
    """Skip the frames still queued for a socket until the server closes it; the close code."""
    while True:
        out = await socket.communicator.receive_output(timeout=WAIT)
        if out["type"] == "websocket.close":
            return out["code"]


async def room_state(socket, **expected: Any) -> dict[str, Any]:
    """The first room.state frame whose room matches `expected`."""
    while True:
        room = (await socket.receive_type("room.state", timeout=WAIT))["room"]
        if all(room[key] == value for key, value in expected.items()):
            return room


@pytest.fixture
async def circle(redis_layers, connect, identity):
    """A facilitator on "default" and two participants on "second", all joined."""
    room = await adb(room_create)()
    fac = await facilitator(room)
    f, _ = await enter(connect, fac, room, layer="default")
    people = []
    for _n in range(2):
        user = await adb(identity)()
        socket, welcome = await enter(connect, user, room, layer="second")
        people.append((user, socket, welcome["you"]["alias"]))
    return room, f, people


# --- Messages and the circle ----------------------------------------------------------------------
async def test_delete_reaches_the_other_instance(circle):
    _room, f, [(_, a, _alias), (_, b, _)] = circle
    message_id = await say(a, "something unkind", "d1")
    await moderate(f, "message.delete", message_id=message_id, reason="unkind")
    for socket in (a, b):
        deleted = await socket.receive_type("message.deleted", timeout=WAIT)
        assert deleted["ids"] == [message_id]


async def test_lock_pause_slow_mode_and_pin_redraw_the_other_instance(circle):
    _room, f, [(_, a, _), (_, b, _)] = circle
    message_id = await say(a, "a thought worth keeping", "p1")
    await moderate(f, "room.lock", on=True)
    assert (await room_state(b, locked=True))["locked"] is True
    await moderate(f, "room.pause", on=True)
    assert (await room_state(b, paused=True))["paused"] is True
    await a.send({"type": "message.send", "body": "during the pause", "client_id": "p2"})
    assert (await a.receive_type("error", timeout=WAIT))["code"] == "paused"
    await moderate(f, "room.pause", on=False)
    await room_state(b, paused=False)
    await moderate(f, "room.slow_mode", seconds=45)
    assert (await room_state(b, slow_mode_seconds=45))["slow_mode_seconds"] == 45
    await moderate(f, "message.pin", message_id=message_id)
    pinned = (await room_state(b, slow_mode_seconds=45))["pinned"]
    while pinned is None:
        pinned = (await room_state(b))["pinned"]
    assert (pinned["id"], pinned["body"]) == (message_id, "a thought worth keeping")
    await moderate(f, "message.pin", message_id=None)
    await room_state(b, pinned=None)
    await moderate(f, "room.open", on=False)
    await room_state(b, is_open=False)
    await b.send({"type": "message.send", "body": "hello?", "client_id": "p3"})
    assert (await b.receive_type("error", timeout=WAIT))["code"] == "room_closed"


async def test_announcement_is_pinned_on_the_other_instance(circle):
    _room, f, [(_, a, _), _] = circle
    await moderate(f, "announce", body="Ten more minutes, everyone.")
    new = await a.receive_type("message.new", timeout=WAIT)
    assert new["message"]["body"] == "Ten more minutes, everyone."
    pinned = (await room_state(a))["pinned"]
    while pinned is None:
        pinned = (await room_state(a))["pinned"]
    assert pinned["id"] == new["message"]["id"]


async def test_end_session_tells_and_closes_the_other_instance(circle):
    room, f, [(_, a, _), (_, b, _)] = circle
    await moderate(f, "session.end", reason="time is up")
    for socket in (a, b):
        assert (await socket.receive_type("session.ended", timeout=WAIT))["detail"]
        assert await close_code(socket) == protocol.CLOSE_SESSION_ENDED
    assert await close_code(f) == protocol.CLOSE_SESSION_ENDED
    assert (await adb(Room.objects.get)(pk=room.pk)).is_open  # the circle stays open


async def test_rest_action_reaches_sockets_on_both_instances(redis_layers, connect, identity):
    room = await adb(room_create)()
    fac = await facilitator(room)
    a, _ = await enter(connect, await adb(identity)(), room, layer="default")
    b, _ = await enter(connect, await adb(identity)(), room, layer="second")
    message_id = await say(a, "posted then deleted over HTTP", "h1")

    def delete() -> int:
        client = Client()
        client.force_login(fac)
        return client.post(f"/api/v1/rooms/{room.slug}/moderation/message.delete/",
                           {"message_id": message_id}, content_type="application/json"
                           ).status_code

    assert await adb(delete)() == 200
    for socket in (a, b):
        assert (await socket.receive_type("message.deleted", timeout=WAIT))["ids"] == [
            message_id]


# --- People -------------------------------------------------------------------------------------
async def test_warn_is_private_to_the_person_on_the_other_instance(circle):
    _room, f, [(_, a, alias_a), (_, b, _)] = circle
    await moderate(f, "member.warn", alias=alias_a, reason="please be gentle")
    notice = await a.receive_type("notice", timeout=WAIT)
    assert (notice["code"], notice["reason"]) == ("warned", "please be gentle")
    assert (await a.receive_type("you", timeout=WAIT))["you"]["warnings"] == 1
    await b.send({"type": "ping"})
    frame = await b.receive(timeout=WAIT)
    while frame["type"] != "pong":
        assert frame["type"] not in ("notice", "you"), frame
        frame = await b.receive(timeout=WAIT)


async def test_mute_across_instances_and_it_survives_reconnecting_anywhere(
        circle, connect):
    room, f, [(user_a, a, alias_a), (_, b, _)] = circle
    await moderate(f, "member.mute", alias=alias_a, minutes=10, reason="cool down")
    notice = await a.receive_type("notice", timeout=WAIT)
    assert notice["code"] == "muted" and notice["until"]
    assert (await a.receive_type("you", timeout=WAIT))["you"]["muted_until"]
    await a.send({"type": "message.send", "body": "let me talk", "client_id": "m1"})
    refused = await a.receive_type("error", timeout=WAIT)
    assert refused["code"] == "muted" and refused["retry_after"] > 500
    # can still read: b's message arrives
    await say(b, "we still hear you", "m2")
    assert (await a.receive_type("message.new", timeout=WAIT))["message"]["body"] == (
        "we still hear you")
    await a.close()
    for layer in ("second", "default"):
        again, welcome = await enter(connect, user_a, room, layer=layer)
        assert welcome["joined"] is True and welcome["you"]["muted_until"]
        await again.send({"type": "message.send", "body": "again", "client_id": f"m-{layer}"})
        assert (await again.receive_type("error", timeout=WAIT))["code"] == "muted"
        await again.close()
    # lifting it reaches the other instance too
    again, _ = await enter(connect, user_a, room, layer="second")
    await moderate(f, "member.unmute", alias=alias_a)
    assert (await again.receive_type("notice", timeout=WAIT))["code"] == "unmuted"
    assert await say(again, "thank you", "m3")


async def test_remove_closes_the_socket_on_the_other_instance_until_the_cooldown(
        circle, connect):
    room, f, [(user_a, a, alias_a), (_, b, _)] = circle
    await moderate(f, "member.remove", alias=alias_a, cooldown_minutes=15, reason="a break")
    notice = await a.receive_type("notice", timeout=WAIT)
    assert notice["code"] == "removed" and notice["until"]
    assert await close_code(a) == protocol.CLOSE_REMOVED
    presence = await b.receive_type("presence", timeout=WAIT)
    while alias_a in {m["alias"] for m in presence["members"]}:
        presence = await b.receive_type("presence", timeout=WAIT)
    for layer in ("default", "second"):
        again = await connect(user_a, room, layer=layer)
        assert (await again.receive_type("welcome", timeout=WAIT))["joined"] is False
        refused = await again.receive_type("error", timeout=WAIT)
        assert refused["code"] == "removed" and refused["retry_after"] > 800
        await again.close()


async def test_ban_closes_the_socket_on_the_other_instance_and_survives_reconnecting(
        circle, connect):
    room, f, [(user_a, a, alias_a), (_, _b, _)] = circle
    await moderate(f, "member.ban", alias=alias_a, reason="harassment")
    notice = await a.receive_type("notice", timeout=WAIT)
    assert (notice["code"], notice["reason"], notice["until"]) == ("banned", "harassment", None)
    assert await close_code(a) == protocol.CLOSE_BANNED
    for layer in ("second", "default"):
        again = await connect(user_a, room, layer=layer)
        welcome = await again.receive_type("welcome", timeout=WAIT)
        assert welcome["joined"] is False
        refused = await again.receive_type("error", timeout=WAIT)
        assert (refused["code"], refused["reason"]) == ("banned", "harassment")
        await again.send({"type": "join"})
        assert (await again.receive_type("error", timeout=WAIT))["code"] == "banned"
        await again.send({"type": "message.send", "body": "still here?", "client_id": "b1"})
        assert (await again.receive_type("error", timeout=WAIT))["code"] == "banned"
        await again.close()
    membership = await adb(Membership.objects.get)(room=room, alias=alias_a)
    assert membership.banned_at is not None
    # lifting the ban lets them back in, on either instance
    await moderate(f, "member.unban", alias=alias_a)
    back, welcome = await enter(connect, user_a, room, layer="second")
    assert welcome["joined"] is True
    assert await say(back, "sorry, everyone", "b2")


async def test_waiting_room_admit_and_decline_across_instances(redis_layers, connect, identity):
    room = await adb(room_create)(access="waiting_room")
    fac = await facilitator(room)
    f, _ = await enter(connect, fac, room, layer="default")
    arrivals = []
    for _n in range(2):
        socket, welcome = await enter(connect, await adb(identity)(), room, layer="second")
        assert welcome["waiting"] is True and welcome["joined"] is False
        arrivals.append((socket, welcome["you"]["alias"]))
    console = await f.receive_type("console", timeout=WAIT)
    while sum(person["waiting"] for person in console["people"]) < 2:
        console = await f.receive_type("console", timeout=WAIT)
    (admitted, alias_in), (declined, alias_out) = arrivals
    await moderate(f, "member.admit", alias=alias_in)
    assert (await admitted.receive_type("welcome", timeout=WAIT))["joined"] is True
    await moderate(f, "member.decline", alias=alias_out, reason="not this session")
    assert (await declined.receive_type("notice", timeout=WAIT))["code"] == "declined"
    assert await close_code(declined) == protocol.CLOSE_DECLINED


# --- Reports, help, and the side channel ----------------------------------------------------------
async def test_report_and_help_reach_a_facilitator_on_the_other_instance(circle):
    _room, f, [(_, a, alias_a), (_, b, alias_b)] = circle
    message_id = await say(a, "you are all stupid", "r1")
    await b.send({"type": "report", "message_id": message_id, "reason": "harassment"})
    assert (await b.receive_type("notice", timeout=WAIT))["code"] == "report_received"
    report = (await f.receive_type("report.new", timeout=WAIT))["report"]
    assert (report["reason"], report["alias"], report["reporter"], report["text"]) == (
        "harassment", alias_a, alias_b, "you are all stupid")
    await b.send({"type": "help.request"})
    assert (await b.receive_type("notice", timeout=WAIT))["code"] == "crisis_support"
    alert = await f.receive_type("help.alert", timeout=WAIT)
    assert alert["alias"] == alias_b and alert["report_id"]
    # participants never get the staff frames
    await a.send({"type": "ping"})
    frame = await a.receive(timeout=WAIT)
    while frame["type"] != "pong":
        assert frame["type"] not in ("report.new", "help.alert", "console"), frame
        frame = await a.receive(timeout=WAIT)


async def test_side_channel_reaches_another_facilitator_on_the_other_instance(
        redis_layers, connect, identity):
    room = await adb(room_create)()
    one, two = await facilitator(room), await facilitator(room)
    f1, welcome1 = await enter(connect, one, room, layer="default")
    f2, _ = await enter(connect, two, room, layer="second")
    p, _ = await enter(connect, await adb(identity)(), room, layer="second")
    await f1.send({"type": "staff.say", "body": "I'll take the next report."})
    note = await f2.receive_type("staff.message", timeout=WAIT)
    assert (note["alias"], note["body"]) == (welcome1["you"]["alias"],
                                             "I'll take the next report.")
    await p.send({"type": "ping"})
    frame = await p.receive(timeout=WAIT)
    while frame["type"] != "pong":
        assert frame["type"] != "staff.message", frame
        frame = await p.receive(timeout=WAIT)
    # a participant cannot speak in it
    await p.send({"type": "staff.say", "body": "let me in"})
    assert (await p.receive_type("error", timeout=WAIT))["code"] == "not_facilitator"
