"""The live circle across two channel-layer instances on the real Redis, as with two server
processes: what one socket's process sends must reach a socket held by the other."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.test_consumer import enter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

adb = database_sync_to_async


async def test_messages_cross_redis_between_two_layer_instances(
        redis_layers, connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, welcome_a = await enter(connect, alice, room, layer="default")
    b, _ = await enter(connect, bilal, room, layer="second")
    await a.send({"type": "message.send", "body": "across processes", "client_id": "x1"})
    ack = await a.receive_type("message.ack")
    seen = await b.receive_type("message.new", timeout=5)
    assert seen["message"] == {**seen["message"], "id": ack["id"], "body": "across processes",
                               "alias": welcome_a["you"]["alias"]}
    await b.send({"type": "message.send", "body": "and back", "client_id": "y1"})
    back = await a.receive_type("message.new", timeout=5)
    while back["message"]["body"] != "and back":
        back = await a.receive_type("message.new", timeout=5)
    assert back["message"]["body"] == "and back"


async def test_presence_and_typing_cross_redis(redis_layers, connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, welcome_a = await enter(connect, alice, room, layer="default")
    b, welcome_b = await enter(connect, bilal, room, layer="second")
    presence = await a.receive_type("presence", timeout=5)
    while presence["count"] < 2:
        presence = await a.receive_type("presence", timeout=5)
    assert {m["alias"] for m in presence["members"]} == {
        welcome_a["you"]["alias"], welcome_b["you"]["alias"]}
    await b.send({"type": "typing"})
    assert (await a.receive_type("typing", timeout=5))["alias"] == welcome_b["you"]["alias"]
    await b.close()
    presence = await a.receive_type("presence", timeout=5)
    assert [m["alias"] for m in presence["members"]] == [welcome_a["you"]["alias"]]


async def test_resume_over_redis_gets_exactly_the_missed_messages(
        redis_layers, connect, identity, room):
    alice, bilal = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, alice, room, layer="default")
    b, _ = await enter(connect, bilal, room, layer="second")
    await a.send({"type": "message.send", "body": "first", "client_id": "f"})
    first = (await a.receive_type("message.ack"))["id"]
    assert (await b.receive_type("message.new", timeout=5))["message"]["id"] == first
    await b.close()
    missed = []
    for n in range(5):
        await a.send({"type": "message.send", "body": f"m{n}", "client_id": f"m{n}"})
        missed.append((await a.receive_type("message.ack"))["id"])
    b2, welcome = await enter(connect, bilal, room, after=first, layer="second")
    assert [m["id"] for m in welcome["history"]] == missed
    await a.send({"type": "message.send", "body": "now live", "client_id": "live"})
    assert (await b2.receive_type("message.new", timeout=5))["message"]["body"] == "now live"
    assert await b2.nothing(timeout=0.5)
