"""Facilitator actions over the live websocket: what each one does to the other screens."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from moderation.models import Action, Report
from moderation.services import room_facilitators_set
from rooms import protocol
from rooms.models import Membership, Message, Room
from tests.conftest import room_create
from tests.test_consumer import enter

adb = database_sync_to_async
pytestmark = pytest.mark.django_db(transaction=True)


def facilitator_for(room: Room) -> User:
    user = User.objects.create_user(username=f"fac-{room.slug}", password="x",
                                    role=User.Role.FACILITATOR)
    room.facilitators.add(user)
    return user


async def moderate(socket, action: str, **params):
    await socket.send({"type": "moderate", "action": action, **params})
    frame = await socket.receive()
    while frame["type"] not in ("moderate.ack", "error"):
        frame = await socket.receive()
    return frame


async def say(socket, body: str, client_id: str) -> dict:
    await socket.send({"type": "message.send", "body": body, "client_id": client_id})
    return await socket.receive_type("message.ack")


async def test_facilitator_deletes_a_message_and_everyone_loses_it(connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    a, _ = await enter(connect, await adb(identity)(), room)
    b, _ = await enter(connect, await adb(identity)(), room)
    ack = await say(a, "something unkind", "m1")
    ack_frame = await moderate(f, "message.delete", message_id=ack["id"], reason="unkind")
    assert ack_frame["type"] == "moderate.ack", ack_frame
    for socket in (a, b):
        assert (await socket.receive_type("message.deleted"))["ids"] == [ack["id"]]
    assert not await adb(Message.objects.filter(pk=ack["id"]).exists)()
    entry = await adb(Action.objects.get)(kind="message_delete")
    assert (entry.reason, entry.actor_alias) == ("unkind", (await adb(
        Membership.objects.get)(user=fac, room=room)).alias)


async def test_participant_cannot_moderate_and_nothing_changes(connect, identity, room):
    a, _ = await enter(connect, await adb(identity)(), room)
    b, welcome_b = await enter(connect, await adb(identity)(), room)
    ack = await say(b, "hello", "m1")
    refused = await moderate(a, "message.delete", message_id=ack["id"])
    assert refused["code"] == "not_facilitator"
    refused = await moderate(a, "member.mute", alias=welcome_b["you"]["alias"], minutes=5)
    assert refused["code"] == "not_facilitator"
    assert await adb(Message.objects.filter(pk=ack["id"]).exists)()
    assert await adb(Action.objects.count)() == 0


async def test_muted_person_can_read_not_write_and_stays_muted_after_reconnect(
        connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    person = await adb(identity)()
    p, welcome = await enter(connect, person, room)
    ack = await moderate(f, "member.mute", alias=welcome["you"]["alias"], minutes=10,
                         reason="cool down")
    assert ack["type"] == "moderate.ack"
    notice = await p.receive_type("notice")
    assert notice["code"] == "muted"
    you = await p.receive_type("you")
    assert you["you"]["muted_until"]
    await p.send({"type": "message.send", "body": "let me talk", "client_id": "x1"})
    refused = await p.receive_type("error")
    assert refused["code"] == "muted" and refused["retry_after"] > 500
    await p.close()
    p2, welcome2 = await enter(connect, person, room)
    assert welcome2["you"]["muted_until"]
    await p2.send({"type": "message.send", "body": "again", "client_id": "x2"})
    assert (await p2.receive_type("error"))["code"] == "muted"
    # the facilitator still reads them, and can lift it
    await moderate(f, "member.unmute", alias=welcome["you"]["alias"])
    assert (await say(p2, "thank you", "x3"))["id"]


async def test_ban_closes_the_socket_and_reentry_is_refused(connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    person = await adb(identity)()
    p, welcome = await enter(connect, person, room)
    await moderate(f, "member.ban", alias=welcome["you"]["alias"], reason="harassment")
    notice = await p.receive_type("notice")
    assert notice["code"] == "banned"
    out = await p.communicator.receive_output(timeout=2)
    assert out == {"type": "websocket.close", "code": protocol.CLOSE_BANNED}
    again = await connect(person, room)
    await again.receive_type("welcome")
    assert (await again.receive_type("error"))["code"] == "banned"


async def test_waiting_room_admit_brings_the_arrival_in(connect, identity):
    room = await adb(room_create)(access="waiting_room")
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    p, welcome = await enter(connect, await adb(identity)(), room)
    assert welcome["waiting"] is True and welcome["joined"] is False
    console = await f.receive_type("console")
    while not any(person["waiting"] for person in console["people"]):
        console = await f.receive_type("console")
    await moderate(f, "member.admit", alias=welcome["you"]["alias"])
    joined = await p.receive_type("welcome")
    assert joined["joined"] is True
    assert (await say(p, "hello all", "w1"))["id"]


async def test_report_reaches_the_facilitators_queue(connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    a, _ = await enter(connect, await adb(identity)(), room)
    b, _ = await enter(connect, await adb(identity)(), room)
    ack = await say(a, "you are stupid", "r1")
    await b.send({"type": "report", "message_id": ack["id"], "reason": "harassment"})
    assert (await b.receive_type("notice"))["code"] == "report_received"
    report = (await f.receive_type("report.new"))["report"]
    assert (report["reason"], report["text"]) == ("harassment", "you are stupid")
    resolved = await moderate(f, "report.resolve", report_id=report["id"], outcome="dismissed")
    assert resolved["type"] == "moderate.ack"
    assert (await adb(Report.objects.get)(pk=report["id"])).status == "dismissed"


async def test_end_session_tells_everyone_and_closes_their_sockets(connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    p, _ = await enter(connect, await adb(identity)(), room)
    await moderate(f, "session.end")
    assert (await p.receive_type("session.ended"))["detail"]
    out = await p.communicator.receive_output(timeout=2)
    assert out == {"type": "websocket.close", "code": protocol.CLOSE_SESSION_ENDED}
    # The session ended, not the circle: it stays open for its next sessions.
    assert (await adb(Room.objects.get)(pk=room.pk)).is_open


async def test_an_unassigned_facilitator_stops_receiving_staff_frames_at_once(
        connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, welcome = await enter(connect, fac, room)
    assert welcome["you"]["role"] == "facilitator"
    admin = await adb(User.objects.create_user)(username="an-admin", password="x",
                                                role=User.Role.ADMIN)
    await adb(room_facilitators_set)(actor=admin, room=room, user_ids=[])  # e.g. in the admin
    out = await f.communicator.receive_output(timeout=3)
    while out["type"] != "websocket.close":
        out = await f.communicator.receive_output(timeout=3)
    assert out["code"] == protocol.CLOSE_ROLE_CHANGED
    again, welcome = await enter(connect, fac, room)
    assert welcome["you"]["role"] == "participant"
    p, _ = await enter(connect, await adb(identity)(), room)
    await p.send({"type": "message.send", "body": "I want to die", "client_id": "c1"})
    await p.receive_type("message.ack")
    while not await again.nothing(timeout=0.5):
        assert (await again.receive())["type"] not in ("crisis.alert", "console", "report.new")
    refused = await moderate(again, "room.lock", on=True)
    assert refused["code"] == "not_facilitator"
