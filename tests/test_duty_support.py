"""No one in crisis is left alone (issue 10): duty and honest status, the duty desk, private
one-to-one support, and the measured wait. Over the real ASGI stack, on the in-memory layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from accounts.models import User
from accounts.services import identity_erase
from moderation import care, duty, support
from moderation.models import (
    Action,
    DutyShift,
    Report,
    Resource,
    ResponseTime,
    SupportConversation,
    SupportMessage,
)
from rooms import protocol, services
from rooms.errors import Conflict, NotFound
from rooms.models import Room, ScheduledSession
from rooms.retention import purge_expired
from tests.conftest import ORIGIN, Socket, room_create, session_cookie_for
from tests.test_consumer import enter

ROOT = Path(__file__).resolve().parents[1]
adb = database_sync_to_async
pytestmark = pytest.mark.django_db(transaction=True)
CRISIS = "honestly I want to kill myself"


def facilitator_for(*rooms: Room, name: str = "") -> User:
    user = User.objects.create_user(username=name or f"fac-{uuid.uuid4().hex[:6]}",
                                    password="x", role=User.Role.FACILITATOR)
    for room in rooms:
        room.facilitators.add(user)
    return user


def member(user, room):
    return services.rules_accept(membership=services.membership_ensure(user=user, room=room))


async def desk(user) -> Socket:
    """A duty desk socket of this identity, through the real stack; its first frame read."""
    from server.asgi import application

    headers = [(b"origin", ORIGIN),
               (b"cookie", await adb(session_cookie_for)(user))]
    communicator = WebsocketCommunicator(application, "/ws/duty/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return Socket(communicator)


async def ask(socket: Socket, frame_type: str, **params) -> dict:
    """Send a request; return its `duty.ack` (or the `error` answering it)."""
    await socket.send({"type": frame_type, "ref": "r1", **params})
    frame = await socket.receive()
    while frame["type"] not in (protocol.DUTY_ACK, protocol.ERROR):
        frame = await socket.receive()
    return frame


# --- 1. Duty and honest status ------------------------------------------------------------------
def test_care_status_is_present_on_duty_or_none_with_the_next_session(identity):
    room = room_create()
    elsewhere = room_create()
    fac = facilitator_for(room)
    other = facilitator_for(elsewhere)
    assert care.care_status(room=room, facilitator_present=False) == {
        "status": "none", "on_duty": False, "next_session": None}
    ScheduledSession.objects.create(room=room, first_date=date.today() + timedelta(days=2),
                                    start_time=time(19, 0))
    upcoming = care.care_status(room=room, facilitator_present=False)
    assert upcoming["status"] == "none" and upcoming["next_session"]

    duty.duty_start(actor=other)  # on duty, but not for this circle
    assert care.care_status(room=room, facilitator_present=False)["status"] == "none"
    duty.duty_start(actor=fac)
    duty.duty_start(actor=fac)  # twice is still one shift
    assert DutyShift.objects.filter(user=fac, ended_at__isnull=True).count() == 1
    assert care.care_status(room=room, facilitator_present=False)["status"] == "on_duty"
    assert care.care_status(room=room, facilitator_present=True)["status"] == "present"
    duty.duty_end(actor=fac)
    assert care.care_status(room=room, facilitator_present=False)["status"] == "none"
    assert set(Action.objects.values_list("kind", flat=True)) >= {"duty_start", "duty_end"}


def test_only_facilitators_go_on_duty(identity):
    with pytest.raises(Exception) as refused:
        duty.duty_start(actor=identity())
    assert refused.value.code == "not_facilitator"


def test_with_nobody_on_duty_the_help_card_says_so_and_the_alert_waits_for_the_desk(identity):
    Resource.objects.create(name="Listening line", kind="crisis_line", languages="en")
    Resource.objects.create(name="Ambulance", kind="emergency", phone="15", languages="en")
    room = room_create(region="Oriental")
    person = identity()
    member(person, room)
    from moderation.services import help_request

    with translation.override("en"):
        result = help_request(user=person, room=room)
    card = result["notice"]
    assert result["help_state"] == "waiting" and card["help_state"] == "waiting"
    assert card["someone_on_duty"] is False and card["help_lines_first"] is True
    assert "No facilitator is on duty" in card["detail"]
    assert "has been told" not in card["detail"] and "reach out" not in card["detail"]
    assert [r["name"] for r in card["resources"]] == ["Ambulance", "Listening line"]

    fac = facilitator_for(room)  # comes on duty later: the alert is on the desk
    duty.duty_start(actor=fac)
    queue = duty.desk_get(actor=fac)["queue"]
    assert [(i["id"], i["source"], i["acknowledged_at"]) for i in queue] == [
        (result["report_id"], "help", None)]
    assert ResponseTime.objects.get(report_id=result["report_id"]).ack_seconds is None


async def test_welcome_and_room_state_carry_the_care_status(connect, identity, room):
    fac = await adb(facilitator_for)(room)
    a, welcome = await enter(connect, await adb(identity)(), room)
    assert welcome["room"]["care"]["status"] == "none"
    await adb(duty.duty_start)(actor=fac)
    state = await a.receive_type(protocol.ROOM_STATE)
    assert state["room"]["care"] == {"status": "on_duty", "on_duty": True, "next_session": None}


# --- 2. The duty desk -----------------------------------------------------------------------------
async def test_alert_reaches_the_desk_live_and_the_status_is_true_at_each_step(
        connect, identity):
    """A writes crisis language in a circle with no facilitator present; F, on duty on the
    desk, gets it live, acknowledges (only then is A told it was seen), opens a private
    conversation; A and F talk; B, in the same circle, sees none of it."""
    room = await adb(room_create)()
    fac = await adb(facilitator_for)(room)
    d = await desk(fac)
    state = await d.receive_type(protocol.DUTY_STATE)
    assert state["on_duty"] is False and state["queue"] == []
    assert (await ask(d, "duty.start"))["result"] == {"on_duty": True}
    assert (await d.receive_type(protocol.DUTY_STATE))["on_duty"] is True

    a, welcome_a = await enter(connect, await adb(identity)(), room)
    b, _ = await enter(connect, await adb(identity)(), room)
    assert welcome_a["room"]["care"]["status"] == "on_duty"
    await a.send({"type": "message.send", "body": CRISIS, "client_id": "c1"})
    card = await a.receive_type("notice")
    assert card["code"] == "crisis_support" and card["help_state"] == "waiting"
    assert card["someone_on_duty"] is True and "no facilitator has seen this yet" in card["detail"]
    alert = await d.receive_type(protocol.DUTY_ALERT)
    report = alert["report"]
    assert report["alias"] == welcome_a["you"]["alias"] and report["source"] == "crisis"
    assert report["room"]["slug"] == room.slug and report["created_at"]
    while not await a.nothing(0.3):  # nothing claims it was seen yet
        assert (await a.receive())["type"] != "notice"

    assert (await ask(d, "desk.acknowledge", report_id=report["id"]))["type"] == "duty.ack"
    seen = await a.receive_type("notice")
    assert (seen["code"], seen["help_state"]) == ("help_seen", "seen")
    assert "has seen your request" in seen["detail"]

    opened = await ask(d, "support.open", report_id=report["id"])
    assert opened["type"] == "duty.ack", opened
    conversation_id = opened["result"]["conversation_id"]
    panel = await a.receive_type(protocol.SUPPORT_OPENED)
    assert panel["conversation"]["facilitator"] == fac.display_name
    with_you = await a.receive_type("notice")
    assert with_you["code"] == "help_with_you"

    await d.send({"type": "support.send", "conversation_id": conversation_id,
                  "body": "I am here with you", "client_id": "f1"})
    heard = await a.receive_type(protocol.SUPPORT_MESSAGE)
    assert heard["message"]["body"] == "I am here with you"
    assert heard["message"]["role"] == "facilitator"
    await a.send({"type": "support.send", "conversation_id": conversation_id,
                  "body": "thank you <b>so much</b>", "client_id": "p1"})
    ack = await a.receive_type(protocol.DUTY_ACK)
    assert ack["result"]["message"]["body"] == "thank you so much"  # house rules sanitise
    mine = await d.receive_type(protocol.SUPPORT_MESSAGE)  # the desk sees its own message too
    assert mine["message"]["body"] == "I am here with you"
    assert (await d.receive_type(protocol.SUPPORT_MESSAGE))["message"]["body"] == (
        "thank you so much")

    # B saw none of it: no frame about the conversation or the alert reached B's socket.
    while not await b.nothing(0.3):
        frame = await b.receive()
        assert frame["type"] in ("presence", "message.new", "room.state"), frame
        assert "I am here" not in json.dumps(frame)

    stored = await adb(lambda: list(SupportMessage.objects.values_list("body_encrypted",
                                                                       flat=True)))()
    assert len(stored) == 2 and not any("I am here" in token for token in stored)
    times = await adb(ResponseTime.objects.get)(report_id=report["id"])
    assert times.ack_seconds is not None and times.answer_seconds is not None
    kinds = await adb(lambda: set(Action.objects.filter(room=room)
                                  .values_list("kind", flat=True)))()
    assert {"report_acknowledge", "report_take", "support_open", "support_answer"} <= kinds
    details = await adb(lambda: " ".join(
        f"{a.reason} {a.detail}" for a in Action.objects.all()))()
    assert "here with you" not in details and "thank you" not in details
    await d.close()


async def test_two_facilitators_only_one_takes_the_other_sees_who(connect, identity):
    room = await adb(room_create)()
    first = await adb(facilitator_for)(room, name="Samira")
    second = await adb(facilitator_for)(room, name="Youssef")
    d1, d2 = await desk(first), await desk(second)
    for socket in (d1, d2):
        await socket.receive_type(protocol.DUTY_STATE)
        await ask(socket, "duty.start")
    a, _ = await enter(connect, await adb(identity)(), room)
    await a.send({"type": "help.request"})
    report_id = (await d1.receive_type(protocol.DUTY_ALERT))["report"]["id"]
    await d2.receive_type(protocol.DUTY_ALERT)

    assert (await ask(d1, "desk.take", report_id=report_id))["result"]["taken_by"] == "Samira"
    update = await d2.receive_type(protocol.DUTY_UPDATE)
    while update["report"]["taken_by"] != "Samira":
        update = await d2.receive_type(protocol.DUTY_UPDATE)
    refused = await ask(d2, "desk.take", report_id=report_id)
    assert (refused["code"], refused["taken_by"]) == ("report_taken", "Samira")
    refused = await ask(d2, "support.open", report_id=report_id)
    assert refused["code"] == "report_taken"

    # Handed over to the second one: the conversation follows, the first loses it.
    opened = await ask(d1, "support.open", report_id=report_id)
    conversation_id = opened["result"]["conversation_id"]
    handed = await ask(d1, "desk.handover", report_id=report_id, to=second.pk)
    assert handed["result"]["taken_by"] == "Youssef"
    assert (await d2.receive_type(protocol.SUPPORT_OPENED))["conversation"]["id"] == (
        conversation_id)
    refused = await ask(d1, "support.send", conversation_id=conversation_id, body="hi",
                        client_id="x1")
    assert refused["code"] == "conversation_not_found"
    assert (await ask(d2, "support.send", conversation_id=conversation_id, body="hi",
                      client_id="x2"))["type"] == "duty.ack"
    assert (await a.receive_type(protocol.SUPPORT_MESSAGE))["message"]["body"] == "hi"
    for socket in (d1, d2):
        await socket.close()


def test_only_one_of_two_concurrent_takes_wins(identity):
    """The row lock decides: two takes of one alert, one wins, the other is told who."""
    room = room_create()
    people = [facilitator_for(room) for _ in range(2)]
    person = identity()
    member(person, room)
    from moderation.services import help_request

    report_id = help_request(user=person, room=room)["report_id"]
    duty.report_take(actor=people[0], report_id=report_id)
    with pytest.raises(Conflict) as refused:
        duty.report_take(actor=people[1], report_id=report_id)
    assert refused.value.code == "report_taken"
    assert Report.objects.get(pk=report_id).taken_by.user_id == people[0].pk


async def test_the_desk_is_for_facilitators_only(identity):
    socket = await desk(await adb(identity)())
    error = await socket.receive()
    assert error["code"] == "not_facilitator"
    out = await socket.communicator.receive_output(timeout=2)
    assert out["code"] == protocol.CLOSE_NOT_FACILITATOR


# --- 3. Private conversations: only the two parties, over both transports ------------------------
def test_nobody_but_the_two_parties_reads_or_writes_over_rest(identity):
    room = room_create()
    fac, colleague = facilitator_for(room), facilitator_for(room)
    person, bystander = identity(), identity()
    alias = member(person, room).alias
    member(bystander, room)
    conversation_id = support.support_open(actor=fac, room=room, alias=alias)["conversation_id"]
    base = f"/api/v1/rooms/{room.slug}/support/{conversation_id}"

    def client(user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    sent = client(person).post(f"{base}/messages/", {"body": "only for you", "client_id": "a"},
                               content_type="application/json")
    assert sent.status_code == 200, sent.content
    again = client(person).post(f"{base}/messages/", {"body": "only for you", "client_id": "a"},
                                content_type="application/json").json()
    assert again["duplicate"] is True
    read = client(fac).get(f"{base}/messages/").json()
    assert [m["body"] for m in read["conversation"]["messages"]] == ["only for you"]
    for outsider in (bystander, colleague):
        for response in (client(outsider).get(f"{base}/messages/"),
                         client(outsider).post(f"{base}/messages/",
                                               {"body": "x", "client_id": "b"},
                                               content_type="application/json"),
                         client(outsider).post(f"{base}/end/")):
            assert response.status_code == 404
            assert response.json()["code"] == "conversation_not_found"
        listing = client(outsider).get(f"/api/v1/rooms/{room.slug}/support/").json()
        assert listing["conversations"] == []
    assert Client().get(f"{base}/messages/").status_code in (401, 403)
    assert SupportMessage.objects.count() == 1
    mine = client(person).get(f"/api/v1/rooms/{room.slug}/support/").json()
    assert [c["id"] for c in mine["conversations"]] == [conversation_id]
    # A participant cannot open one.
    opened = client(bystander).post(f"/api/v1/rooms/{room.slug}/support/open/",
                                    {"alias": alias}, content_type="application/json")
    assert opened.status_code == 403
    assert client(person).post(f"{base}/end/").json() == {"conversation_id": conversation_id,
                                                           "ended": True}
    late = client(fac).post(f"{base}/messages/", {"body": "x", "client_id": "c"},
                            content_type="application/json")
    assert late.status_code == 409 and late.json()["code"] == "conversation_ended"


async def test_nobody_but_the_two_parties_reads_or_writes_over_the_websocket(
        connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    a, welcome_a = await enter(connect, await adb(identity)(), room)
    b, _ = await enter(connect, await adb(identity)(), room)
    opened = await ask(f, "support.open", alias=welcome_a["you"]["alias"])
    conversation_id = opened["result"]["conversation_id"]
    await a.receive_type(protocol.SUPPORT_OPENED)
    refused = await ask(b, "support.send", conversation_id=conversation_id, body="let me in",
                        client_id="b1")
    assert refused["code"] == "conversation_not_found"
    refused = await ask(b, "support.end", conversation_id=conversation_id)
    assert refused["code"] == "conversation_not_found"
    synced = await ask(b, "support.sync")
    assert synced["result"]["conversations"] == []
    assert (await b.receive_type(protocol.SUPPORT_STATE))["conversations"] == []
    refused = await ask(b, "support.open", alias=welcome_a["you"]["alias"])
    assert refused["code"] == "not_facilitator"
    await ask(a, "support.send", conversation_id=conversation_id, body="hello", client_id="a1")
    assert (await f.receive_type(protocol.SUPPORT_MESSAGE))["message"]["body"] == "hello"
    synced = await ask(a, "support.sync")
    assert [m["body"] for m in synced["result"]["conversations"][0]["messages"]] == ["hello"]
    # A ends it; both are told.
    await ask(a, "support.end", conversation_id=conversation_id)
    assert (await f.receive_type(protocol.SUPPORT_ENDED))["conversation_id"] == conversation_id
    assert await adb(SupportMessage.objects.filter(body_encrypted__contains="let me").count)() == 0


async def test_a_participant_asks_to_talk_privately_and_it_enters_the_desk(connect, identity):
    room = await adb(room_create)()
    fac = await adb(facilitator_for)(room)
    a, _ = await enter(connect, await adb(identity)(), room)
    answer = await ask(a, "support.request")
    assert answer["result"]["help_state"] == "waiting"
    notice = await a.receive_type("notice")
    assert notice["code"] == "support_requested" and notice["help_lines_first"] is True
    d = await desk(fac)
    state = await d.receive_type(protocol.DUTY_STATE)
    assert [i["source"] for i in state["queue"]] == ["private"]
    await d.close()


def test_a_resource_card_goes_into_the_conversation(identity):
    room = room_create()
    fac = facilitator_for(room)
    person = identity()
    alias = member(person, room).alias
    line = Resource.objects.create(name="Listening line", kind="crisis_line", languages="en",
                                   facilitator_note="for staff only")
    conversation_id = support.support_open(actor=fac, room=room, alias=alias)["conversation_id"]
    sent = support.support_resource(user=fac, conversation_id=conversation_id,
                                    resource_id=line.pk)
    assert sent["message"]["resource"]["name"] == "Listening line"
    assert "facilitator_note" not in sent["message"]["resource"]
    with pytest.raises(Exception) as refused:
        support.support_resource(user=person, conversation_id=conversation_id,
                                 resource_id=line.pk)
    assert refused.value.code == "not_facilitator"


async def test_from_a_person_s_card_the_facilitator_gets_the_fitting_resources_the_person_not(
        connect, identity):
    """The console's "Private conversation" button: support.open with an alias over the
    circle's socket. The facilitator's copy lists the help resources to send, the circle's
    region and the person's language first, with notes for facilitators and never an example
    entry; the person's copy lists none. An example entry cannot be sent."""
    room = await adb(room_create)(region="Oriental")
    fac = await adb(facilitator_for)(room)

    def directory() -> dict[str, int]:
        rows = [Resource.objects.create(name="Elsewhere", kind="crisis_line", languages="en",
                                        regions="Souss-Massa"),
                Resource.objects.create(name="National", kind="crisis_line", languages="en"),
                Resource.objects.create(name="Local", kind="legal_aid", languages="en,fr",
                                        regions="Fès-Meknès, Oriental",
                                        facilitator_note="Free for low incomes."),
                Resource.objects.create(name="French only", kind="youth", languages="fr"),
                Resource.objects.create(name="Example", kind="youth", languages="en",
                                        is_example=True)]
        return {r.name: r.pk for r in rows}

    ids = await adb(directory)()
    f, _ = await enter(connect, fac, room)
    a, welcome_a = await enter(connect, await adb(identity)("en"), room)
    await f.send({"type": "support.open", "ref": "o1", "alias": welcome_a["you"]["alias"]})
    got: dict[str, dict] = {}
    while len(got) < 2:  # the answer and the conversation, in either order
        frame = await f.receive()
        if frame["type"] in (protocol.DUTY_ACK, protocol.SUPPORT_OPENED):
            got[frame["type"]] = frame
    conversation_id = got[protocol.DUTY_ACK]["result"]["conversation_id"]
    mine = got[protocol.SUPPORT_OPENED]["conversation"]
    assert mine["id"] == conversation_id
    assert [(r["name"], r["fits"]) for r in mine["resources"]] == [
        ("Local", True), ("National", True), ("Elsewhere", False), ("French only", False)]
    assert mine["resources"][0]["facilitator_note"] == "Free for low incomes."
    assert mine["resources"][0]["regions"] == ["Fès-Meknès", "Oriental"]
    theirs = (await a.receive_type(protocol.SUPPORT_OPENED))["conversation"]
    assert "resources" not in theirs and "Free for low incomes" not in json.dumps(theirs)
    assert "resources" in (await ask(f, "support.sync"))["result"]["conversations"][0]
    assert "resources" not in (await ask(a, "support.sync"))["result"]["conversations"][0]

    refused = await ask(f, "support.resource", conversation_id=conversation_id,
                        resource_id=ids["Example"])
    assert refused["code"] == "resource_not_found"
    sent = await ask(f, "support.resource", conversation_id=conversation_id,
                     resource_id=ids["Local"])
    assert sent["result"]["message"]["resource"]["name"] == "Local"
    card = await a.receive_type(protocol.SUPPORT_MESSAGE)
    assert card["message"]["resource"]["name"] == "Local"
    assert "facilitator_note" not in card["message"]["resource"]


# --- Retention and "Forget me" ---------------------------------------------------------------
def test_support_messages_expire_with_the_circle_and_forget_me_removes_them(identity):
    room = room_create(retention_hours=1)
    fac = facilitator_for(room)
    person, other = identity(), identity()
    alias = member(person, room).alias
    conversation_id = support.support_open(actor=fac, room=room, alias=alias)["conversation_id"]
    support.support_send(user=person, conversation_id=conversation_id, body="private words",
                         client_id="a1")
    message = SupportMessage.objects.get()
    assert timedelta(minutes=59) < message.expires_at - timezone.now() <= timedelta(hours=1)
    report = purge_expired(now=timezone.now() + timedelta(hours=2))
    assert report.support_messages == 2  # the message, then the conversation row
    assert not SupportMessage.objects.exists() and not SupportConversation.objects.exists()

    alias = member(other, room).alias
    conversation_id = support.support_open(actor=fac, room=room, alias=alias)["conversation_id"]
    support.support_send(user=other, conversation_id=conversation_id, body="forget this",
                         client_id="b1")
    identity_erase(user=other)
    assert not SupportMessage.objects.exists() and not SupportConversation.objects.exists()
    with pytest.raises(NotFound):
        support.support_messages(user=fac, conversation_id=conversation_id)


SQLITE_SCRIPT = """
import sys
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from accounts.models import User
from accounts.services import identity_create_anonymous
from moderation import support
from moderation.models import SupportMessage
from rooms import services
from rooms.models import Room
from rooms.retention import purge_expired

marker = sys.argv[-1]
room = Room.objects.create(slug="support-room", title="m", house_rules="r", retention_hours=1,
                           flood_limit=False)
fac = User.objects.create_user(username="fac", password="x", role="facilitator")
room.facilitators.add(fac)
person = identity_create_anonymous()
alias = services.rules_accept(membership=services.membership_ensure(user=person, room=room)).alias
conversation = support.support_open(actor=fac, room=room, alias=alias)["conversation_id"]
for n in range(30):
    support.support_send(user=person, conversation_id=conversation, body=f"{marker} {n}",
                         client_id=f"c{n}")
tokens = list(SupportMessage.objects.values_list("body_encrypted", flat=True))
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print("TOKEN", tokens[0][:60])
print("PURGED", purge_expired(now=timezone.now() + timedelta(hours=2)).support_messages)
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
"""


def test_support_marker_is_nowhere_in_the_sqlite_file_after_expiry_and_purge(tmp_path):
    marker = f"SUPPORT-MARKER-{uuid.uuid4().hex}"
    db_file = tmp_path / "halqa.sqlite3"
    env = {**os.environ, "HALQA_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{db_file}",
           "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "server.settings"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"], env=env,
                   cwd=ROOT, check=True, capture_output=True)
    script = tmp_path / "marker.py"
    script.write_text(SQLITE_SCRIPT)
    done = subprocess.run(
        [sys.executable, "-c",
         "import django, runpy, sys; django.setup(); runpy.run_path(sys.argv[1])",
         str(script), marker],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["PURGED"] == "31"  # 30 messages and the conversation
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir()
                    if p.name.startswith("halqa.sqlite3"))
    assert marker.encode() not in data
    assert lines["TOKEN"].encode() not in data
    assert b"support-room" in data


def test_ending_an_ephemeral_session_deletes_its_support_messages(identity):
    room = room_create(retention="ephemeral")
    fac = facilitator_for(room)
    person = identity()
    alias = member(person, room).alias
    conversation_id = support.support_open(actor=fac, room=room, alias=alias)["conversation_id"]
    support.support_send(user=person, conversation_id=conversation_id, body="gone at the end",
                         client_id="e1")
    session = room.sessions.get()
    services.session_end(session=session)
    assert not SupportMessage.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM moderation_supportmessage")
        assert cursor.fetchone()[0] == 0


# --- 5. Response times, for admins ----------------------------------------------------------------
def test_admins_see_response_times_per_week_and_circle_as_numbers_only(identity):
    room = room_create(title="Darija circle")
    fac = facilitator_for(room)
    person = identity()
    member(person, room)
    from moderation.services import help_request

    report_id = help_request(user=person, room=room)["report_id"]
    ResponseTime.objects.filter(report_id=report_id).update(
        raised_at=timezone.now() - timedelta(seconds=90))
    opened = support.support_open(actor=fac, report_id=report_id)
    support.support_send(user=fac, conversation_id=opened["conversation_id"], body="hello",
                         client_id="f1")
    row = ResponseTime.objects.get(report_id=report_id)
    assert 89 <= row.ack_seconds <= 100 and 89 <= row.answer_seconds <= 100
    [line] = care.response_times_by_week()
    assert (line["circle"], line["alerts"], line["acknowledged"], line["answered"]) == (
        "Darija circle", 1, 1, 1)
    admin = User.objects.create_superuser("an-admin", password="x" * 12)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/moderation/report/response-times/")
    assert page.status_code == 200 and b"Darija circle" in page.content
    assert b"hello" not in page.content
    client.force_login(fac)
    assert client.get("/admin/moderation/report/response-times/").status_code in (302, 403)
    # Purged with the audit trail.
    purge_expired(now=timezone.now() + timedelta(days=400))
    assert not ResponseTime.objects.exists()


def test_the_duty_desk_page_is_for_facilitators(identity):
    fac = facilitator_for(room_create())
    client = Client()
    client.force_login(fac)
    page = client.get("/duty/", HTTP_ACCEPT_LANGUAGE="ar")
    assert page.status_code == 200 and b"halqa/duty.js" in page.content
    client.force_login(identity())
    assert client.get("/duty/").status_code == 403
    assert Client().get("/duty/").status_code == 302
