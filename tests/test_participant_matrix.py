"""Who may act as a participant: every participant write × every door state × both edges
(websocket and REST), against one expected table.

The facilitator matrix (tests/test_moderation_matrix.py) asks "may this actor moderate?"; this one
asks "may this alias take part?". Whichever edge the write came through, the services decide
(`rooms.services.participation_check`, `speak_check`, `room_enter`), so both edges must give the
same answer and the same error code. A refused write changes nothing (messages, reports,
memberships' rights, the circle's flags, the audit trail) and nothing reaches the circle: the
circle's facilitator, connected all along, gets no `message.new`, `report.new`, `help.alert` or
`crisis.alert`; an allowed one reaches them (so the silence is not a deaf socket).

One world per (state, transport); the five writes run one after the other in it, each through a
fresh socket of the acting alias on the websocket.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from accounts.models import User
from moderation.models import Action, Report
from rooms.models import Membership, Message, Presence, Room
from rooms.services import message_post
from tests.conftest import room_create

adb = database_sync_to_async

WRITES = ("post", "report", "help", "join", "rules")
OK = None  # allowed
WAIT = "waiting"  # let in as far as the waiting room: REST 202, welcome with waiting true


def _refused(code: str) -> tuple[str, ...]:
    """Refused at the door: every write, rules accept included, gets the door's code."""
    return (code,) * len(WRITES)


# state → the answer to (post, report, help, join, rules accept). Accepting the house rules then
# enters, so its refusals are the door's. Muted and paused people are in the circle: they read,
# report and ask for help, they only cannot write.
EXPECTED: dict[str, tuple[str | None, ...]] = {
    #                   post              report          help            join    rules accept
    "open":             (OK,              OK,             OK,             OK,     OK),
    "rules_pending":    (*("rules_not_accepted",) * 4,                            OK),
    "locked_newcomer":  _refused("room_locked"),
    "locked_returning": (OK,              OK,             OK,             OK,     OK),
    "waiting":          ("not_admitted",  "not_admitted", "not_admitted", WAIT,   WAIT),
    "declined":         _refused("declined"),
    "admitted":         (OK,              OK,             OK,             OK,     OK),
    "application":      _refused("invitation_needed"),
    "invited":          (OK,              OK,             OK,             OK,     OK),
    "full":             _refused("room_full"),
    "banned":           _refused("banned"),
    "removed":          _refused("removed"),
    "muted":            ("muted",         OK,             OK,             OK,     OK),
    "paused":           ("paused",        OK,             OK,             OK,     OK),
    "closed":           _refused("room_closed"),
}
CONFLICTS = {"room_full"}  # 409 over REST; every other refusal here is a 403

TARGET_TEXT = "an ordinary sentence to be reported"
# What a write puts on the facilitator's screen when it is allowed (join and rules accept write
# no circle content).
BROADCAST = {"post": "message.new", "report": "report.new", "help": "help.alert"}
CONTENT_FRAMES = {"message.new", "report.new", "help.alert", "crisis.alert"}


# --- The world: a circle with a facilitator, someone to report, and the acting alias -------------
@dataclass
class World:
    room: Room
    actor: User
    actor_membership_id: int
    facilitator: User
    message_id: int


def _user(kind: str, **fields: Any) -> User:
    return User.objects.create(username=f"{kind}-{uuid.uuid4().hex[:8]}", **fields)


def build_world(state: str) -> World:
    """An open circle where the target has written, then put in `state` for the actor."""
    room = room_create()
    now = timezone.now()
    facilitator = _user("fac", role=User.Role.FACILITATOR)
    room.facilitators.add(facilitator)
    Membership.objects.create(user=facilitator, room=room, alias="Facilitator Cedar",
                              role=Membership.Role.FACILITATOR, rules_accepted_at=now)
    target = Membership.objects.create(user=_user("target"), room=room, alias="Target Olive",
                                       rules_accepted_at=now)
    message = message_post(membership_id=target.pk, body=TARGET_TEXT, client_id="t1").message
    actor = _user("actor")
    member = Membership.objects.create(user=actor, room=room, alias="Actor Fig",
                                       rules_accepted_at=now)
    state_apply(state, room=room, member=member)
    return World(room=room, actor=actor, actor_membership_id=member.pk,
                 facilitator=facilitator, message_id=message.pk)


def state_apply(state: str, *, room: Room, member: Membership) -> None:
    now = timezone.now()
    later = now + timedelta(hours=2)
    rooms = Room.objects.filter(pk=room.pk)
    members = Membership.objects.filter(pk=member.pk)
    if state == "rules_pending":
        members.update(rules_accepted_at=None)
    elif state == "locked_newcomer":  # never seen here: nobody new comes in
        rooms.update(is_locked=True, locked_at=now)
    elif state == "locked_returning":  # was here after the circle was locked: may come back
        rooms.update(is_locked=True, locked_at=now - timedelta(minutes=10))
        members.update(last_seen_at=now - timedelta(minutes=1))
    elif state in ("waiting", "declined", "admitted"):
        rooms.update(access=Room.Access.WAITING_ROOM)
        members.update(admission={"waiting": Membership.Admission.PENDING,
                                  "declined": Membership.Admission.DECLINED,
                                  "admitted": Membership.Admission.ADMITTED}[state])
    elif state == "application":
        rooms.update(access=Room.Access.APPLICATION)
    elif state == "invited":  # came in with a personal invitation, valid for this session
        rooms.update(access=Room.Access.APPLICATION)
        members.update(admission=Membership.Admission.ADMITTED, admitted_until=later)
    elif state == "full":  # two others are present; the facilitator's socket is the third seat
        rooms.update(capacity=3)
        for n in range(2):
            other = Membership.objects.create(user=_user("other"), room=room,
                                              alias=f"Present {n}", rules_accepted_at=now)
            Presence.objects.create(membership=other, room=room, channel_name=f"other-{n}",
                                    seen_at=now)
    elif state == "banned":
        members.update(banned_at=now, ban_reason="harassment")
    elif state == "removed":
        members.update(removed_until=later)
    elif state == "muted":
        members.update(muted_until=later)
    elif state == "paused":
        rooms.update(is_paused=True)
    elif state == "closed":
        rooms.update(is_open=False)
    else:
        assert state == "open", state


def snapshot(*, rules_of: int | None = None) -> dict[str, Any]:
    """Everything a participant write may change. With `rules_of`, that membership's house-rules
    acceptance is left out (accepting the rules records it, whatever the door then says)."""
    members = [
        (*row[:-1], "<accepted?>") if row[0] == rules_of else row
        for row in Membership.objects.order_by("pk").values_list(
            "pk", "alias", "role", "admission", "admitted_until", "muted_until",
            "removed_until", "banned_at", "banned_until", "warnings", "rules_accepted_at")
    ]
    return {
        "members": members,
        "rooms": list(Room.objects.order_by("pk").values_list(
            "pk", "is_open", "is_locked", "locked_at", "is_paused", "access", "capacity",
            "pinned_message_id")),
        "messages": list(Message.objects.order_by("pk").values_list("pk", "author_id",
                                                                     "body_encrypted")),
        "reports": list(Report.objects.order_by("pk").values_list(
            "pk", "source", "reason", "status", "reporter_alias", "target_alias")),
        "actions": Action.objects.count(),
    }


def assert_written(write: str, w: World, client_id: str) -> None:
    """The allowed write left its mark."""
    member = Membership.objects.get(pk=w.actor_membership_id)
    if write == "post":
        assert Message.objects.filter(author=member, client_id=client_id).exists()
    elif write == "report":
        assert Report.objects.filter(source=Report.Source.PARTICIPANT, message_id=w.message_id,
                                     reporter_alias=member.alias).exists()
    elif write == "help":
        assert Report.objects.filter(source=Report.Source.HELP,
                                     target_alias=member.alias).exists()
    else:
        assert member.rules_accepted


# --- The facilitator's socket: what reached the circle -------------------------------------------
async def frames_drained(socket, quiet: float = 0.05) -> list[dict[str, Any]]:
    """Every frame already on its way to this socket (never times the consumer out)."""
    frames = []
    while not await socket.communicator.receive_nothing(timeout=quiet, interval=0.01):
        frames.append(await socket.receive())
    return frames


async def assert_circle_saw(observer, write: str, allowed: bool) -> None:
    if allowed and write in BROADCAST:
        await observer.receive_type(BROADCAST[write])
    else:
        seen = {frame["type"] for frame in await frames_drained(observer)}
        assert not seen & CONTENT_FRAMES, seen


# --- The two transports -------------------------------------------------------------------------
def rest_write(w: World, write: str, client_id: str) -> str | None:
    client = Client()
    client.force_login(w.actor)
    base = f"/api/v1/rooms/{w.room.slug}/"
    response = {
        "post": lambda: client.post(base + "messages/",
                                    {"body": "hello, everyone", "client_id": client_id},
                                    content_type="application/json"),
        "report": lambda: client.post(base + "reports/",
                                      {"message_id": w.message_id, "reason": "harassment"},
                                      content_type="application/json"),
        "help": lambda: client.post(base + "help/"),
        "join": lambda: client.post(base + "join/"),
        "rules": lambda: client.post(base + "rules/accept/"),
    }[write]()
    body = response.json()
    if response.status_code >= 400:
        expected_status = 409 if body["code"] in CONFLICTS else 403
        assert response.status_code == expected_status, (write, response.status_code, body)
        assert body["detail"]
        return body["code"]
    if write in ("join", "rules"):
        assert body["joined"] is not body["waiting"], body
        assert response.status_code == (202 if body["waiting"] else 200), body
        assert body["rules_accepted"] is True
        return WAIT if body["waiting"] else OK
    assert response.status_code == {"post": 201, "report": 201, "help": 200}[write], body
    if write == "help":
        assert body["notice"]["code"] == "crisis_support"
    return OK


async def ws_answer(socket, w: World, write: str, client_id: str) -> str | None:
    """Send a post, a report or a help request over an open socket; its answer."""
    if write == "post":
        await socket.send({"type": "message.send", "body": "hello, everyone",
                           "client_id": client_id})
        while True:
            frame = await socket.receive()
            if frame["type"] == "message.ack" and frame["client_id"] == client_id:
                return OK
            if frame["type"] == "error" and frame.get("ref") == client_id:
                return frame["code"]
    await socket.send({"type": "report", "message_id": w.message_id, "reason": "harassment"}
                      if write == "report" else {"type": "help.request"})
    answer = "report_received" if write == "report" else "crisis_support"
    while True:
        frame = await socket.receive()
        if frame["type"] == "notice" and frame["code"] == answer:
            return OK
        if frame["type"] == "error":
            return frame["code"]


async def ws_write(connect, w: World, write: str, client_id: str) -> str | None:
    """A fresh socket of the actor: its welcome (and the door's refusal, if any, without a
    `ref`) first; then the frame, and its answer."""
    socket = await connect(w.actor, w.room)
    welcome = await socket.receive_type("welcome")
    at_door = None
    if welcome["rules"]["accepted"] and not welcome["joined"] and not welcome["waiting"]:
        at_door = (await socket.receive_type("error"))["code"]  # the join on connect failed
    try:
        if write in ("post", "report", "help"):
            return await ws_answer(socket, w, write, client_id)
        if write == "join":
            # A socket whose rules are accepted tries the door as it connects; `join` tries it
            # again when that failed (and is a no-op once in or waiting). The ping marks the end.
            await socket.send({"type": "join"})
            await socket.send({"type": "ping"})
            while True:
                frame = await socket.receive()
                if frame["type"] == "error":
                    if welcome["rules"]["accepted"]:  # the same refusal as on connect
                        assert frame["code"] == at_door, (frame, at_door)
                    return frame["code"]
                if frame["type"] == "pong":
                    assert at_door is None
                    assert welcome["joined"] is not welcome["waiting"], welcome
                    return WAIT if welcome["waiting"] else OK
        assert write == "rules"
        assert not welcome["rules"]["accepted"] and not welcome["joined"]
        await socket.send({"type": "rules.accept"})
        while True:
            frame = await socket.receive()
            if frame["type"] == "error":
                return frame["code"]
            if frame["type"] == "welcome" and frame["joined"]:
                return OK
            if frame["type"] == "welcome" and frame["waiting"]:
                return WAIT
    finally:
        await socket.close()


# --- The matrix ---------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("transport", ["websocket", "rest"])
@pytest.mark.parametrize("state", list(EXPECTED))
async def test_participant_matrix(connect, state, transport):
    w = await adb(build_world)(state)
    observer = await connect(w.facilitator, w.room)  # the circle's facilitator, in every state
    assert (await observer.receive_type("welcome"))["joined"] is True
    got: dict[str, str | None] = {}
    for write in WRITES:
        client_id = f"{transport}-{write}"
        if write == "rules":  # the actor has not accepted the house rules yet
            await adb(Membership.objects.filter(pk=w.actor_membership_id).update)(
                rules_accepted_at=None)
        rules_of = w.actor_membership_id if write == "rules" else None
        await frames_drained(observer, quiet=0.02)
        before = await adb(snapshot)(rules_of=rules_of)
        if transport == "rest":
            got[write] = await adb(rest_write)(w, write, client_id)
        else:
            got[write] = await ws_write(connect, w, write, client_id)
        allowed = got[write] in (OK, WAIT)
        await assert_circle_saw(observer, write, allowed=got[write] is OK)
        if allowed:
            await adb(assert_written)(write, w, client_id)
        else:
            assert await adb(snapshot)(rules_of=rules_of) == before, write
        if write == "rules":  # recorded on both edges, in or not: the person read them
            assert (await adb(Membership.objects.get)(pk=w.actor_membership_id)).rules_accepted
    assert got == dict(zip(WRITES, EXPECTED[state], strict=True))


# --- A socket that is already in: its `joined` flag is a cache, never the guard -----------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("state", ["declined", "application", "banned", "removed", "muted",
                                   "paused", "closed"])
async def test_a_socket_already_in_meets_the_door_again(connect, state):
    """The state changes under an open socket, straight in the database (no service closed the
    socket or told it anything): its next post, report and help request get the table's answer,
    and nothing reaches the circle."""
    w = await adb(build_world)("open")
    observer = await connect(w.facilitator, w.room)
    assert (await observer.receive_type("welcome"))["joined"] is True
    socket = await connect(w.actor, w.room)
    assert (await socket.receive_type("welcome"))["joined"] is True
    room = await adb(Room.objects.get)(pk=w.room.pk)
    member = await adb(Membership.objects.get)(pk=w.actor_membership_id)
    await adb(state_apply)(state, room=room, member=member)
    got = {}
    for write in ("post", "report", "help"):
        await frames_drained(observer, quiet=0.02)
        before = await adb(snapshot)()
        got[write] = await ws_answer(socket, w, write, f"stale-{write}")
        await assert_circle_saw(observer, write, allowed=got[write] is OK)
        if got[write] is not OK:
            assert await adb(snapshot)() == before, write
    assert got == dict(zip(("post", "report", "help"), EXPECTED[state][:3], strict=True))


def test_the_table_covers_every_refusal_of_the_doors():
    """Every error code the doors and `speak_check` raise appears in the table."""
    codes = {answer for row in EXPECTED.values() for answer in row} - {OK, WAIT}
    assert codes == {"rules_not_accepted", "banned", "removed", "room_closed", "room_locked",
                     "declined", "invitation_needed", "not_admitted", "room_full", "muted",
                     "paused"}
