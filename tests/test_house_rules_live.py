"""Every house-rules verdict, seen over the live websocket: refusals, placeholders in the
broadcast, private notes to the author, crisis cards and alerts to facilitators only, floods."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from moderation.models import BlockedWord, Report, Resource, RuleBreach
from rooms import protocol
from rooms.models import Message
from rooms.selectors import message_history
from tests.conftest import room_create
from tests.test_consumer import enter

pytestmark = pytest.mark.django_db(transaction=True)

adb = database_sync_to_async


def facilitator_for(room) -> User:
    user = User.objects.create_user(username=f"fac-{room.pk}", password="x-long-passphrase",
                                    role=User.Role.FACILITATOR, pseudonym=f"Salma {room.pk}")
    room.facilitators.add(user)
    return user


async def say(socket, body: str, client_id: str) -> None:
    await socket.send({"type": "message.send", "body": body, "client_id": client_id})


async def test_phone_number_is_hidden_in_what_everyone_sees_and_author_is_told(
        connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, alice, room)
    b, _ = await enter(connect, bilal, room)
    await say(a, "call me on 06 12 34 56 78 tonight", "p1")
    await a.receive_type("message.ack")
    notice = await a.receive_type("notice")
    assert notice["detail"]
    seen = (await b.receive_type("message.new"))["message"]["body"]
    assert "06 12 34 56 78" not in seen and "[" in seen and "tonight" in seen
    history = await adb(message_history)(room_id=room.pk)
    assert [m["body"] for m in history.messages] == [seen]  # stored as broadcast
    assert await b.nothing()  # the other person gets no notice
    breaches = await adb(list)(RuleBreach.objects.values_list("rule", "count"))
    assert breaches and all(count == 1 for _, count in breaches)


async def test_links_are_hidden_unless_the_room_allows_them(connect, identity):
    strict = await adb(room_create)()
    relaxed = await adb(room_create)(allow_links=True)
    user = await adb(identity)()
    s, _ = await enter(connect, user, strict)
    await say(s, "see https://example.org/help", "l1")
    assert "example.org" not in (await s.receive_type("message.new"))["message"]["body"]
    r, _ = await enter(connect, user, relaxed)
    await say(r, "see https://example.org/help", "l2")
    assert "https://example.org/help" in (await r.receive_type("message.new"))["message"]["body"]


async def test_blocked_word_is_masked_or_refused_by_room_setting(connect, identity):
    await adb(BlockedWord.objects.create)(word="idiot", language="en")
    masking = await adb(room_create)(blocked_words_action="mask")
    refusing = await adb(room_create)(blocked_words_action="refuse")
    user = await adb(identity)()
    m, _ = await enter(connect, user, masking)
    await say(m, "you are an 1d1ooot", "w1")
    body = (await m.receive_type("message.new"))["message"]["body"]
    assert "1d1ooot" not in body and body.startswith("you are an ")
    r, _ = await enter(connect, user, refusing)
    await say(r, "you are an IDIOT", "w2")
    error = await r.receive_type("error")
    assert error["code"] == "blocked_word" and error["ref"] == "w2" and error["detail"]
    assert await adb(Message.objects.filter(room=refusing).count)() == 0


async def test_crisis_message_is_kept_author_gets_card_facilitator_gets_alert(
        connect, identity, room):
    await adb(Resource.objects.create)(name="Ambulance", kind="emergency", phone="15",
                                       languages="ar,ary,fr,en")
    await adb(Resource.objects.create)(name="Only in Spanish", kind="health", phone="1",
                                       languages="es")
    fac = await adb(facilitator_for)(room)
    author, bystander = await adb(identity)(), await adb(identity)()
    f, welcome_f = await enter(connect, fac, room)
    assert welcome_f["you"]["role"] == "facilitator"
    a, welcome_a = await enter(connect, author, room)
    b, _ = await enter(connect, bystander, room)

    await say(a, "honestly I want to kill myself", "c1")
    ack = await a.receive_type("message.ack")
    card = await a.receive_type("notice")
    assert card["code"] == "crisis_support"
    assert [r["name"] for r in card["resources"]] == ["Ambulance"]
    # never refused, never hidden: everyone sees the message as written
    assert (await b.receive_type("message.new"))["message"]["body"] == (
        "honestly I want to kill myself")
    alert = await f.receive_type(protocol.CRISIS_ALERT)
    assert alert == {"type": "crisis.alert", "alias": welcome_a["you"]["alias"],
                     "message_id": ack["id"], "categories": alert["categories"],
                     "report_id": alert["report_id"]}
    # ... and it waits in the facilitators' queue until one of them resolves it
    report = await adb(Report.objects.get)(pk=alert["report_id"])
    assert (report.source, report.status, report.message_id) == ("crisis", "open", ack["id"])
    assert "suicide" in alert["categories"]
    # nobody but facilitators hears of it
    while not await b.nothing(timeout=0.3):
        assert (await b.receive())["type"] not in ("crisis.alert", "notice")
    assert await adb(RuleBreach.objects.count)() == 0  # crisis is never a breach


async def test_crisis_message_that_bounces_still_brings_help_and_an_alert(connect, identity):
    """Too long to post: the text is refused, but the person in danger is not left alone."""
    room = await adb(room_create)(max_message_length=40)
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    a, welcome_a = await enter(connect, await adb(identity)(), room)
    await say(a, "I can't go on, I want to end my life. " * 3, "long1")
    error = await a.receive_type("error")
    assert error["code"] == "too_long" and "notices" not in error
    assert (await a.receive_type("notice"))["code"] == "crisis_support"
    alert = await f.receive_type(protocol.CRISIS_ALERT)
    assert (alert["alias"], alert["message_id"]) == (welcome_a["you"]["alias"], None)
    assert await adb(Message.objects.count)() == 0


@pytest.mark.parametrize("body", ["bghit nmout, ma b9itch baghi n3ich", "بغيت نموت",
                                  "je veux mourir", "mon mari me frappe"])
async def test_crisis_language_in_every_language_reaches_the_facilitator(
        connect, identity, room, body):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    a, _ = await enter(connect, await adb(identity)(), room)
    await say(a, body, "c")
    assert (await a.receive_type("notice"))["code"] == "crisis_support"
    assert (await f.receive_type("crisis.alert"))["categories"]


async def test_medical_advice_gets_a_private_nudge_not_a_refusal(connect, identity, room):
    a, _ = await enter(connect, await adb(identity)(), room)
    b, _ = await enter(connect, await adb(identity)(), room)
    await say(a, "you should take 50mg of sertraline", "d1")
    await a.receive_type("message.ack")
    nudge = await a.receive_type("notice")
    assert nudge["code"] == "medical_advice"
    assert (await b.receive_type("message.new"))["message"]["body"] == (
        "you should take 50mg of sertraline")


async def test_flood_is_refused_with_wait_time_then_socket_closed(connect, identity):
    room = await adb(room_create)(flood_burst=3, flood_per_minute=6)
    a, _ = await enter(connect, await adb(identity)(), room)
    for n in range(3):
        await say(a, f"message {n}", f"f{n}")
        await a.receive_type("message.ack")
    await say(a, "one too many", "f3")
    error = await a.receive_type("error")
    assert error["code"] == "rate_limited" and error["retry_after"] >= 1
    assert str(error["retry_after"]) in error["detail"]
    # Four more refusals make five within the window: the server closes this socket.
    for n in range(4, 8):
        await say(a, f"again {n}", f"f{n}")
    frames = []
    while (output := await a.communicator.receive_output(timeout=3))["type"] != (
            "websocket.close"):
        frames.append(output)
    closed = output
    assert len(frames) == 4  # one clear error frame per refused message, then the close
    assert closed == {"type": "websocket.close", "code": protocol.CLOSE_FLOODING}


async def test_slow_mode_spaces_one_persons_messages(connect, identity):
    room = await adb(room_create)(slow_mode_seconds=30)
    a, _ = await enter(connect, await adb(identity)(), room)
    b, _ = await enter(connect, await adb(identity)(), room)
    await say(a, "first", "s1")
    await a.receive_type("message.ack")
    await say(a, "second", "s2")
    error = await a.receive_type("error")
    assert error["code"] == "slow_mode" and 25 <= error["retry_after"] <= 30
    await say(b, "someone else can still talk", "s3")  # per person, not per room
    await b.receive_type("message.ack")


@pytest.mark.redis
async def test_flood_limit_is_shared_across_two_layer_instances_on_redis(
        redis_layers, connect, identity):
    room = await adb(room_create)(flood_burst=2, flood_per_minute=2)
    user = await adb(identity)()
    one, _ = await enter(connect, user, room, layer="default")
    two, _ = await enter(connect, user, room, layer="second")
    await say(one, "from the phone", "x1")
    await one.receive_type("message.ack")
    await say(two, "from the laptop", "x2")
    await two.receive_type("message.ack")
    await say(two, "and again", "x3")
    assert (await two.receive_type("error"))["code"] == "rate_limited"
    await say(one, "and again from the phone", "x4")
    assert (await one.receive_type("error"))["code"] == "rate_limited"
