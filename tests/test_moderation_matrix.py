"""Who may do what: every moderation action × every kind of actor × both edges (websocket and
REST), and the REST endpoints around them (reports, help, console, audit, CSV export, admin).

Allowed: acknowledged, and the effect is in the database. Refused: `not_facilitator` (403 over
REST) and NOTHING changed — memberships' state, circle flags, messages, reports, sessions and
the audit trail are compared before and after.
"""

from __future__ import annotations

import csv
import io
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
from rooms import crypto, protocol
from rooms.models import Membership, Message, Room, Session
from rooms.selectors import message_wrapped_key
from rooms.services import message_post
from tests.conftest import room_create

adb = database_sync_to_async

TARGET = "Target Olive"
TARGET_TEXT = "a very unkind sentence about someone"
ACTORS = ("participant", "facilitator", "other_facilitator", "admin")
ALLOWED = {"participant": False, "facilitator": True, "other_facilitator": False, "admin": True}


# --- The world every case starts from, built straight in the database -------------------------
@dataclass
class World:
    room: Room
    other_room: Room
    users: dict[str, User]
    target: Membership
    target_user: User
    message_id: int
    report_id: int


def _user(kind: str, **fields: Any) -> User:
    return User.objects.create(username=f"{kind}-{uuid.uuid4().hex[:8]}", **fields)


def build_world(*, access: str = "open") -> World:
    room = room_create(access=access)
    other_room = room_create()
    now = timezone.now()
    users = {
        "participant": _user("participant"),
        "facilitator": _user("fac", role=User.Role.FACILITATOR),
        "other_facilitator": _user("otherfac", role=User.Role.FACILITATOR),
        "admin": _user("admin", role=User.Role.ADMIN, is_staff=True),
    }
    room.facilitators.add(users["facilitator"])
    other_room.facilitators.add(users["other_facilitator"])
    # Every actor already has a membership here (as it would after opening the page), with the
    # role it has in this circle, so entering changes nothing the snapshots compare.
    for kind, user in users.items():
        role = (Membership.Role.FACILITATOR if ALLOWED[kind] else Membership.Role.PARTICIPANT)
        Membership.objects.create(user=user, room=room, alias=f"{kind} alias", role=role,
                                  rules_accepted_at=now)
    target_user = _user("target")
    # The target was let in (a waiting room admits it), so it could write its message.
    target = Membership.objects.create(user=target_user, room=room, alias=TARGET,
                                       rules_accepted_at=now,
                                       admission=Membership.Admission.ADMITTED)
    message = message_post(membership_id=target.pk, body=TARGET_TEXT, client_id="t1").message
    report = Report.objects.create(
        room=room, source=Report.Source.PARTICIPANT, reason=Report.Reason.HARASSMENT,
        message_id=message.pk, reporter_alias="someone else", target_alias=TARGET,
        # The copy a report keeps: under the message's own key (moderation.services._snapshot).
        snapshot_encrypted=crypto.encrypt(wrapped_key=message_wrapped_key(message),
                                          text=TARGET_TEXT),
        snapshot_key_id=message.key_id, snapshot_expires_at=message.expires_at)
    return World(room=room, other_room=other_room, users=users, target=target,
                 target_user=target_user, message_id=message.pk, report_id=report.pk)


def snapshot() -> dict[str, Any]:
    """Everything a moderation action may change, for every circle."""
    return {
        "members": list(Membership.objects.order_by("pk").values_list(
            "pk", "alias", "role", "admission", "muted_until", "removed_until", "banned_at",
            "banned_until", "ban_reason", "warnings", "rules_accepted_at")),
        "rooms": list(Room.objects.order_by("pk").values_list(
            "pk", "is_open", "is_locked", "locked_at", "is_paused", "slow_mode_seconds",
            "pinned_message_id", "access")),
        "messages": list(Message.objects.order_by("pk").values_list("pk", "author_id",
                                                                     "body_encrypted")),
        "reports": list(Report.objects.order_by("pk").values_list(
            "pk", "status", "resolved_at", "resolved_by_alias", "snapshot_encrypted")),
        "sessions": list(Session.objects.order_by("pk").values_list("pk", "ended_at")),
        "actions": Action.objects.count(),
    }


# --- Each action: its parameters, what must hold before, and what it does ---------------------
def _params(action: str, w: World) -> dict[str, Any]:
    return {
        "message.delete": {"message_id": w.message_id, "reason": "unkind"},
        "message.pin": {"message_id": w.message_id},
        "announce": {"body": "Welcome, everyone. Take your time."},
        "member.warn": {"alias": TARGET, "reason": "be kind"},
        "member.mute": {"alias": TARGET, "minutes": 10, "reason": "cool down"},
        "member.unmute": {"alias": TARGET},
        "member.remove": {"alias": TARGET, "cooldown_minutes": 5, "reason": "a break"},
        "member.ban": {"alias": TARGET, "reason": "harassment"},
        "member.unban": {"alias": TARGET},
        "member.admit": {"alias": TARGET},
        "member.decline": {"alias": TARGET, "reason": "not this session"},
        "room.open": {"on": False},
        "room.lock": {"on": True},
        "room.pause": {"on": True},
        "room.slow_mode": {"seconds": 30},
        "session.end": {"reason": "time is up"},
        "report.resolve": {"report_id": w.report_id, "outcome": "dismissed"},
    }[action]


def _before(action: str, w: World) -> None:
    """Put the target in a state the action visibly undoes."""
    later = timezone.now() + timedelta(hours=1)
    if action == "member.unmute":
        Membership.objects.filter(pk=w.target.pk).update(muted_until=later)
    if action == "member.unban":
        Membership.objects.filter(pk=w.target.pk).update(banned_at=timezone.now(),
                                                         ban_reason="earlier")
    if action in ("member.admit", "member.decline"):
        Membership.objects.filter(pk=w.target.pk).update(admission="pending")


KINDS = {
    "message.delete": "message_delete", "message.pin": "message_pin", "announce": "message_pin",
    "member.warn": "member_warn", "member.mute": "member_mute", "member.unmute": "member_unmute",
    "member.remove": "member_remove", "member.ban": "member_ban", "member.unban": "member_unban",
    "member.admit": "member_admit", "member.decline": "member_decline",
    "room.open": "room_close", "room.lock": "room_lock", "room.pause": "room_pause",
    "room.slow_mode": "room_slow_mode", "session.end": "session_end",
    "report.resolve": "report_resolve",
}
assert set(KINDS) == set(protocol.MODERATION_ACTIONS), "a new action needs a row in the matrix"


def assert_effect(action: str, w: World, actor: User) -> None:
    room = Room.objects.get(pk=w.room.pk)
    target = Membership.objects.get(pk=w.target.pk)
    now = timezone.now()
    check = {
        "message.delete": lambda: not Message.objects.filter(pk=w.message_id).exists(),
        "message.pin": lambda: room.pinned_message_id == w.message_id,
        "announce": lambda: (room.pinned_message_id is not None
                             and room.pinned_message.author.user_id == actor.pk),
        "member.warn": lambda: target.warnings == 1,
        "member.mute": lambda: target.muted_until and target.muted_until > now,
        "member.unmute": lambda: target.muted_until is None,
        "member.remove": lambda: target.removed_until and target.removed_until > now,
        "member.ban": lambda: target.banned_on(now) and target.ban_reason == "harassment",
        "member.unban": lambda: target.banned_at is None,
        "member.admit": lambda: target.admission == "admitted",
        "member.decline": lambda: target.admission == "declined",
        "room.open": lambda: room.is_open is False,
        "room.lock": lambda: room.is_locked and room.locked_at is not None,
        "room.pause": lambda: room.is_paused,
        "room.slow_mode": lambda: room.slow_mode_seconds == 30,
        # The session ends, the circle stays open for its next ones (closing is room.open).
        "session.end": lambda: room.is_open and not room.sessions.filter(
            ended_at__isnull=True).exists(),
        "report.resolve": lambda: Report.objects.get(pk=w.report_id).status == "dismissed",
    }[action]
    assert check(), f"{action} had no effect"
    entry = Action.objects.filter(room=w.room, kind=KINDS[action]).get()
    assert entry.actor_id == actor.pk
    assert TARGET_TEXT not in f"{entry.reason} {entry.detail}"


MATRIX = [pytest.param(action, actor, id=f"{action}-{actor}")
          for action in protocol.MODERATION_ACTIONS for actor in ACTORS]


# --- The matrix over REST -------------------------------------------------------------------------
def rest(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def moderation_url(room: Room, action: str) -> str:
    return f"/api/v1/rooms/{room.slug}/moderation/{action}/"


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "actor"), MATRIX)
def test_matrix_rest(action, actor):
    w = build_world()
    _before(action, w)
    user = w.users[actor]
    client = rest(user)
    before = snapshot()
    response = client.post(moderation_url(w.room, action), _params(action, w),
                           content_type="application/json")
    if ALLOWED[actor]:
        assert response.status_code == 200, response.content
        assert isinstance(response.json(), dict)
        assert_effect(action, w, user)
    else:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "not_facilitator"
        assert response.json()["detail"]
        assert snapshot() == before


# --- The matrix over the websocket --------------------------------------------------------------
async def moderate(socket, action: str, **params) -> dict[str, Any]:
    await socket.send({"type": "moderate", "action": action, "ref": "r1", **params})
    frame = await socket.receive()
    while frame["type"] not in ("moderate.ack", "error"):
        frame = await socket.receive()
    return frame


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("action", "actor"), MATRIX)
async def test_matrix_websocket(connect, action, actor):
    w = await adb(build_world)()
    await adb(_before)(action, w)
    user = w.users[actor]
    socket = await connect(user, w.room)
    assert (await socket.receive_type("welcome"))["joined"] is True
    before = await adb(snapshot)()
    frame = await moderate(socket, action, **_params(action, w))
    if ALLOWED[actor]:
        assert frame["type"] == "moderate.ack", frame
        assert (frame["action"], frame["ref"]) == (action, "r1")
        await adb(assert_effect)(action, w, user)
    else:
        assert frame["type"] == "error", frame
        assert (frame["code"], frame["ref"]) == ("not_facilitator", "r1")
        assert await adb(snapshot)() == before
        await socket.send({"type": "ping"})  # the socket stays usable after a refusal
        assert (await socket.receive_type("pong"))["type"] == "pong"


# --- Bad input over REST: checked exactly like a websocket frame ---------------------------------

@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.mark.parametrize(("action", "body", "status", "code"), [
    ("member.explode", {"alias": TARGET}, 400, "unknown_action"),
    ("member.mute", {"alias": TARGET, "minutes": "ten"}, 400, "invalid_field"),
    ("member.mute", {"alias": TARGET, "minutes": 0}, 400, "invalid_field"),
    ("member.mute", {"alias": TARGET, "minutes": True}, 400, "invalid_field"),
    ("member.mute", {"alias": TARGET, "minutes": protocol.MAX_MINUTES + 1}, 400, "invalid_field"),
    ("member.mute", {"alias": TARGET}, 400, "invalid_field"),
    ("member.mute", {"alias": "Nobody Here", "minutes": 5}, 404, "member_not_found"),
    ("member.warn", {"alias": "admin alias"}, 403, "target_is_facilitator"),
    ("member.warn", {"alias": "facilitator alias"}, 400, "not_yourself"),
    ("member.remove", {"alias": TARGET, "cooldown_minutes": -1}, 400, "invalid_field"),
    ("room.lock", {"on": "yes"}, 400, "invalid_field"),
    ("room.slow_mode", {"seconds": 3601}, 400, "invalid_field"),
    ("message.delete", {"message_id": 999999}, 404, "message_not_found"),
    ("message.delete", {"message_id": "1"}, 400, "invalid_field"),
    ("member.warn", {"alias": TARGET, "reason": "x" * 301}, 400, "invalid_field"),
    ("report.resolve", {"report_id": 1, "outcome": "ignored"}, 400, "invalid_field"),
    ("member.warn", {"alias": TARGET, "ref": "not a ref!"}, 400, "invalid_field"),
    ("member.admit", {"alias": "S\u0000oft Olive"}, 400, "invalid_field"),
    ("member.warn", {"alias": TARGET, "reason": "x\u0000y"}, 400, "invalid_field"),
])
def test_bad_input_is_a_clear_4xx_and_changes_nothing(world, action, body, status, code):
    client = rest(world.users["facilitator"])
    before = snapshot()
    response = client.post(moderation_url(world.room, action), body,
                           content_type="application/json")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code and response.json()["detail"]
    assert snapshot() == before


def test_the_action_in_the_path_wins_over_one_in_the_body(world):
    client = rest(world.users["facilitator"])
    response = client.post(moderation_url(world.room, "member.warn"),
                           {"action": "member.ban", "alias": TARGET},
                           content_type="application/json")
    assert response.status_code == 200
    assert Action.objects.get().kind == "member_warn"
    assert not Membership.objects.get(pk=world.target.pk).banned_at


def test_moderation_body_must_be_a_json_object(world):
    client = rest(world.users["facilitator"])
    url = moderation_url(world.room, "member.warn")
    listed = client.post(url, [TARGET], content_type="application/json")
    assert listed.status_code == 400 and listed.json()["code"] == "bad_body"
    form = client.post(url, {"alias": TARGET})  # form-encoded: only JSON is accepted
    assert form.status_code == 415 and form.json()["code"]
    assert Action.objects.count() == 0


def test_unknown_circle_is_404(world):
    response = rest(world.users["admin"]).post(
        "/api/v1/rooms/no-such-circle/moderation/room.lock/", {"on": True},
        content_type="application/json")
    assert response.status_code == 404 and response.json()["code"] == "room_not_found"


@pytest.mark.parametrize(("method", "path"), [
    ("post", "moderation/room.lock/"), ("get", "console/"), ("get", "audit/"),
    ("get", "reports/"), ("post", "reports/"), ("post", "help/"),
])
def test_unauthenticated_requests_are_refused_with_a_code(world, method, path):
    before = snapshot()
    response = getattr(Client(), method)(f"/api/v1/rooms/{world.room.slug}/{path}",
                                         {"on": True}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
    assert snapshot() == before


# --- Reports and help over REST -------------------------------------------------------------------
def reports_url(room: Room) -> str:
    return f"/api/v1/rooms/{room.slug}/reports/"


def test_participant_reports_a_message_and_facilitators_see_it_in_the_queue(world):
    reporter = rest(world.users["participant"])
    body = {"message_id": world.message_id, "reason": "identifying"}
    first = reporter.post(reports_url(world.room), body, content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["duplicate"] is False
    again = reporter.post(reports_url(world.room), body, content_type="application/json")
    assert again.status_code == 200
    assert again.json() == {"report_id": first.json()["report_id"], "duplicate": True}

    queue = rest(world.users["facilitator"]).get(reports_url(world.room))
    assert queue.status_code == 200
    mine = next(r for r in queue.json() if r["id"] == first.json()["report_id"])
    assert mine == {**mine, "reason": "identifying", "source": "participant",
                    "reporter": "participant alias", "alias": TARGET, "text": TARGET_TEXT,
                    "status": "open", "message_id": world.message_id}
    assert {r["id"] for r in queue.json()} == {world.report_id, mine["id"]}
    # the admin sees the queue too; resolved ones are listed by status
    assert rest(world.users["admin"]).get(reports_url(world.room)).status_code == 200
    dismissed = rest(world.users["facilitator"]).get(reports_url(world.room),
                                                     {"status": "dismissed"})
    assert dismissed.status_code == 200 and dismissed.json() == []


@pytest.mark.parametrize("actor", ["participant", "other_facilitator"])
def test_only_the_circles_facilitators_read_its_report_queue(world, actor):
    response = rest(world.users[actor]).get(reports_url(world.room))
    assert response.status_code == 403 and response.json()["code"] == "not_facilitator"
    assert TARGET_TEXT not in response.content.decode()


def test_report_queue_status_must_be_known(world):
    response = rest(world.users["facilitator"]).get(reports_url(world.room), {"status": "all"})
    assert response.status_code == 400


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"message_id": 1, "reason": "boring"}, 400, "invalid_field"),
    ({"reason": "spam"}, 400, "invalid_field"),
    ({"message_id": 999999, "reason": "spam"}, 404, "message_not_found"),
])
def test_bad_reports_are_refused(world, body, status, code):
    before = snapshot()
    response = rest(world.users["participant"]).post(reports_url(world.room), body,
                                                     content_type="application/json")
    assert response.status_code == status and response.json()["code"] == code
    assert snapshot() == before


def test_report_before_accepting_the_house_rules_is_refused(world):
    newcomer = _user("newcomer")
    response = rest(newcomer).post(reports_url(world.room),
                                   {"message_id": world.message_id, "reason": "spam"},
                                   content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "rules_not_accepted"
    assert Report.objects.count() == 1


def test_help_request_alerts_the_queue_once_and_answers_with_help(world):
    client = rest(world.users["participant"])
    url = f"/api/v1/rooms/{world.room.slug}/help/"
    first = client.post(url)
    assert first.status_code == 200, first.content
    assert first.json()["notice"]["type"] == "notice"
    assert first.json()["notice"]["code"] == "crisis_support"
    assert client.post(url).json()["report_id"] == first.json()["report_id"]
    queue = rest(world.users["facilitator"]).get(reports_url(world.room)).json()
    helps = [r for r in queue if r["source"] == "help"]
    assert [(r["alias"], r["reason"]) for r in helps] == [("participant alias", "crisis")]


# --- Console and audit list -----------------------------------------------------------------------
@pytest.mark.parametrize(("actor", "status"), [
    ("facilitator", 200), ("admin", 200), ("participant", 403), ("other_facilitator", 403),
])
def test_console_is_for_the_circles_facilitators(world, actor, status):
    Membership.objects.filter(pk=world.target.pk).update(warnings=2)
    response = rest(world.users[actor]).get(f"/api/v1/rooms/{world.room.slug}/console/")
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "not_facilitator"
        return
    console = response.json()
    assert set(console) == {"room", "people", "reports", "audit"}
    assert console["room"]["slug"] == world.room.slug
    assert [r["id"] for r in console["reports"]] == [world.report_id]


def test_audit_list_shows_who_did_what_never_the_text(world):
    fac = rest(world.users["facilitator"])
    fac.post(moderation_url(world.room, "message.delete"),
             {"message_id": world.message_id, "reason": "unkind words"},
             content_type="application/json")
    fac.post(moderation_url(world.room, "member.mute"),
             {"alias": TARGET, "minutes": 15}, content_type="application/json")
    url = f"/api/v1/rooms/{world.room.slug}/audit/"
    response = fac.get(url)
    assert response.status_code == 200
    entries = response.json()
    assert [(e["kind"], e["by"], e["alias"]) for e in entries] == [
        ("member_mute", "facilitator alias", TARGET),
        ("message_delete", "facilitator alias", TARGET)]
    assert entries[0]["detail"] == "15 min" and entries[1]["reason"] == "unkind words"
    assert TARGET_TEXT not in response.content.decode()
    assert len(fac.get(url, {"limit": 1}).json()) == 1
    assert fac.get(url, {"limit": 0}).status_code == 400
    for actor in ("participant", "other_facilitator"):
        refused = rest(world.users[actor]).get(url)
        assert refused.status_code == 403 and refused.json()["code"] == "not_facilitator"


# --- CSV export -----------------------------------------------------------------------------------
def test_admin_exports_the_audit_trail_as_csv_without_message_text(world):
    fac = rest(world.users["facilitator"])
    fac.post(moderation_url(world.room, "message.delete"),
             {"message_id": world.message_id, "reason": "=HYPERLINK(\"http://x\")"},
             content_type="application/json")
    fac.post(moderation_url(world.room, "member.warn"), {"alias": TARGET, "reason": "+1 -2 @3"},
             content_type="application/json")
    other = build_world()
    rest(other.users["facilitator"]).post(moderation_url(other.room, "room.pause"), {"on": True},
                                          content_type="application/json")

    response = rest(world.users["admin"]).get("/api/v1/audit.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = response.content.decode()
    assert TARGET_TEXT not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == ("when", "circle", "action", "by", "alias", "reason", "detail")
    by_kind = {row[2]: row for row in rows[1:]}
    assert set(by_kind) == {"message_delete", "member_warn", "room_pause"}
    # formula-injection guard: a cell a spreadsheet would run is quoted as text
    assert by_kind["message_delete"][5] == "'=HYPERLINK(\"http://x\")"
    assert by_kind["member_warn"][5] == "'+1 -2 @3"
    assert by_kind["message_delete"][1] == world.room.slug

    one = rest(world.users["admin"]).get("/api/v1/audit.csv", {"room": other.room.slug})
    assert [row[2] for row in csv.reader(io.StringIO(one.content.decode()))][1:] == [
        "room_pause"]
    # whatever the Accept header says, the answer is CSV
    accept = rest(world.users["admin"]).get("/api/v1/audit.csv", HTTP_ACCEPT="text/csv")
    assert accept.status_code == 200 and accept["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("actor", ["facilitator", "participant", "other_facilitator"])
def test_only_admins_export_the_audit_trail(world, actor):
    response = rest(world.users[actor]).get("/api/v1/audit.csv")
    assert response.status_code == 403 and response.json()["code"] == "not_admin"
    scoped = rest(world.users[actor]).get("/api/v1/audit.csv", {"room": world.room.slug})
    assert scoped.status_code == 403


def test_csv_export_unauthenticated_and_unknown_circle(world):
    anonymous = Client().get("/api/v1/audit.csv")
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["code"] == "not_authenticated"
    unknown = rest(world.users["admin"]).get("/api/v1/audit.csv", {"room": "no-such-circle"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "room_not_found"


def test_openapi_schema_documents_the_moderation_endpoints(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/rooms/{slug}/moderation/{action}/"]["post"]
    action = next(p for p in post["parameters"] if p["name"] == "action")
    assert set(action["schema"]["enum"]) == set(protocol.MODERATION_ACTIONS)
    assert "requestBody" in post and "200" in post["responses"]
    for path in ("/api/v1/rooms/{slug}/console/", "/api/v1/rooms/{slug}/audit/",
                 "/api/v1/rooms/{slug}/reports/", "/api/v1/rooms/{slug}/help/",
                 "/api/v1/audit.csv"):
        assert path in schema["paths"], path
    assert "text/csv" in schema["paths"]["/api/v1/audit.csv"]["get"]["responses"]["200"][
        "content"]


# --- The admin: read-only audit trail and reports, CSV through the service ------------------------
def admin_client(world: World, kind: str = "admin") -> Client:
    user = world.users[kind]
    User.objects.filter(pk=user.pk).update(is_staff=True)
    return rest(User.objects.get(pk=user.pk))


def test_admin_lists_the_audit_trail_read_only_and_exports_it(world):
    rest(world.users["facilitator"]).post(moderation_url(world.room, "member.warn"),
                                          {"alias": TARGET, "reason": "=1+1"},
                                          content_type="application/json")
    client = admin_client(world)
    changelist = client.get("/admin/moderation/action/", {"q": TARGET})
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert 'href="/admin/moderation/action/export.csv"' in page  # the "Export all" button
    assert TARGET in page
    assert client.get("/admin/moderation/action/add/").status_code == 403
    everything = client.get("/admin/moderation/action/export.csv")
    assert everything.status_code == 200 and everything["Content-Type"].startswith("text/csv")
    assert "'=1+1" in everything.content.decode()
    entry = Action.objects.get()
    selected = client.post("/admin/moderation/action/", {
        "action": "export_csv", "_selected_action": [entry.pk]})
    assert selected.status_code == 200 and selected["Content-Type"].startswith("text/csv")
    assert len(list(csv.reader(io.StringIO(selected.content.decode())))) == 2
    # read-only: the change page shows no save button and a POST changes nothing
    detail = client.get(f"/admin/moderation/action/{entry.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    client.post(f"/admin/moderation/action/{entry.pk}/change/", {"reason": "rewritten"})
    assert Action.objects.get().reason == "=1+1"


def test_report_admin_never_shows_the_sealed_text(world):
    client = admin_client(world)
    report = Report.objects.get(pk=world.report_id)
    for url in ("/admin/moderation/report/", f"/admin/moderation/report/{report.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert report.snapshot_encrypted not in page and TARGET_TEXT not in page
        assert "snapshot" not in page.lower()
        assert TARGET in page
    assert client.get("/admin/moderation/report/add/").status_code == 403


def test_staff_facilitators_do_not_get_the_audit_trail_in_the_admin(world):
    client = admin_client(world, "facilitator")
    assert client.get("/admin/moderation/action/").status_code == 403
    assert client.get("/admin/moderation/action/export.csv").status_code == 403
    assert client.get("/admin/moderation/report/").status_code == 403


# --- Nobody reads or reports what they could not enter --------------------------------------------
@pytest.mark.parametrize("state", ["banned", "removed"])
def test_banned_or_removed_person_reads_the_circle_over_rest(world, state):
    later = timezone.now() + timedelta(hours=1)
    fields = ({"banned_at": timezone.now()} if state == "banned" else {"removed_until": later})
    Membership.objects.filter(user=world.users["participant"], room=world.room).update(**fields)
    response = rest(world.users["participant"]).get(f"/api/v1/rooms/{world.room.slug}/messages/")
    assert response.status_code == 403
    assert TARGET_TEXT not in response.content.decode()


@pytest.mark.parametrize("admission", ["pending", "declined"])
def test_arrival_not_admitted_reads_the_circle_over_rest(db, admission):
    world = build_world(access="waiting_room")
    Membership.objects.filter(user=world.users["participant"], room=world.room).update(
        admission=admission)
    response = rest(world.users["participant"]).get(f"/api/v1/rooms/{world.room.slug}/messages/")
    assert response.status_code == 403
    assert TARGET_TEXT not in response.content.decode()


def test_banned_person_files_reports_over_rest(world):
    Membership.objects.filter(user=world.users["participant"], room=world.room).update(
        banned_at=timezone.now())
    response = rest(world.users["participant"]).post(
        reports_url(world.room), {"message_id": world.message_id, "reason": "spam"},
        content_type="application/json")
    assert response.status_code == 403
    assert Report.objects.count() == 1


@pytest.mark.django_db(transaction=True)
async def test_banned_person_gets_the_pinned_text_in_the_welcome(connect):
    world = await adb(build_world)()
    await adb(Room.objects.filter(pk=world.room.pk).update)(pinned_message_id=world.message_id)
    await adb(Membership.objects.filter(user=world.users["participant"], room=world.room).update)(
        banned_at=timezone.now())
    socket = await connect(world.users["participant"], world.room)
    welcome = await socket.receive_type("welcome")
    assert welcome["joined"] is False
    assert welcome["room"]["pinned"] is None
