"""The Django admin is a door like the console: a ban, a lock, a closure or a facilitator
assignment made at /admin/ goes through moderation.services, so the audit entry, the live frames
and the socket closes happen as they would from the console. Real admin pages, real sockets."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from accounts.models import User
from moderation.models import Action
from moderation.services import room_facilitators_set
from rooms import protocol
from rooms.errors import Forbidden
from rooms.models import Membership, Room
from rooms.services import membership_ensure
from tests.test_consumer import enter
from tests.test_facilitator_live import facilitator_for

adb = database_sync_to_async
pytestmark = pytest.mark.django_db(transaction=True)


def admin_user() -> User:
    return User.objects.create_superuser("the-admin", password="x" * 12, role=User.Role.ADMIN)


def admin_client(user: User) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def alias_of(user: User, room: Room) -> str:
    return Membership.objects.get(user=user, room=room).alias


def change_form_data(client: Client, url: str) -> dict[str, Any]:
    """What the admin's change page would post back untouched: every field with its current
    value, and the inlines' management forms."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue  # an unticked box is absent from a real POST
        if value is True:
            data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [getattr(item, "pk", item) for item in value]
        else:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, "")
    return data


def room_change(client: Client, room: Room, **changes: Any) -> None:
    url = f"/admin/rooms/room/{room.pk}/change/"
    data = change_form_data(client, url)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors


async def close_code(socket: Any) -> int:
    out = await socket.communicator.receive_output(timeout=3)
    while out["type"] != "websocket.close":
        out = await socket.communicator.receive_output(timeout=3)
    return out["code"]


async def test_a_ban_in_the_admin_closes_the_socket_audits_and_reaches_the_console(
        connect, identity, room):
    fac = await adb(facilitator_for)(room)
    f, _ = await enter(connect, fac, room)
    person = await adb(identity)()
    p, welcome = await enter(connect, person, room)
    alias = welcome["you"]["alias"]
    admin = await adb(admin_user)()
    client = await adb(admin_client)(admin)
    membership = await adb(Membership.objects.get)(user=person, room=room)

    response = await adb(client.post)("/admin/rooms/membership/", {
        "action": "ban", "_selected_action": [membership.pk]})
    assert response.status_code == 302

    notice = await p.receive_type("notice")
    assert notice["code"] == "banned"
    assert await close_code(p) == protocol.CLOSE_BANNED
    entry = await adb(Action.objects.get)(kind=Action.Kind.MEMBER_BAN)
    assert (entry.target_alias, entry.reason) == (alias, "Set in the admin")
    assert entry.actor_alias == await adb(alias_of)(admin, room)
    console = await f.receive_type("console")
    while not any(one["alias"] == alias and one["banned"] for one in console["people"]):
        console = await f.receive_type("console")
    assert console["audit"][0]["kind"] == "member_ban"
    again = await connect(person, room)
    await again.receive_type("welcome")
    assert (await again.receive_type("error"))["code"] == "banned"


async def test_locking_and_closing_in_the_room_form_audits_and_redraws_the_circle(
        connect, identity, room):
    p, _ = await enter(connect, await adb(identity)(), room)
    admin = await adb(admin_user)()
    client = await adb(admin_client)(admin)

    await adb(room_change)(client, room, is_locked=True, is_open=False, title="Renamed circle")

    state = await p.receive_type("room.state")
    while not (state["room"]["locked"] and not state["room"]["is_open"]):
        state = await p.receive_type("room.state")
    saved = await adb(Room.objects.get)(pk=room.pk)
    assert (saved.is_locked, saved.is_open, saved.title) == (True, False, "Renamed circle")
    assert saved.locked_at is not None  # set by the service, as from the console
    admin_alias = await adb(alias_of)(admin, room)
    entries = await adb(list)(Action.objects.filter(room=room).values_list("kind", "actor_alias"))
    assert sorted(entries) == [("room_close", admin_alias), ("room_lock", admin_alias)]

    # Saving the form again with nothing changed writes nothing more.
    await adb(room_change)(client, room)
    assert await adb(Action.objects.filter(room=room).count)() == 2


async def test_slow_mode_and_pause_in_the_room_form_go_through_their_services(
        connect, identity, room):
    p, _ = await enter(connect, await adb(identity)(), room)
    client = await adb(admin_client)(await adb(admin_user)())
    await adb(room_change)(client, room, is_paused=True, slow_mode_seconds=30)
    state = await p.receive_type("room.state")
    while not (state["room"]["paused"] and state["room"]["slow_mode_seconds"] == 30):
        state = await p.receive_type("room.state")
    kinds = await adb(list)(Action.objects.filter(room=room).values_list("kind", "detail"))
    assert sorted(kinds) == [("room_pause", ""), ("room_slow_mode", "30 s")]


async def test_assigning_a_facilitator_in_the_admin_reconnects_them_in_their_new_role(
        connect, room):
    volunteer = await adb(User.objects.create_user)(username="volunteer", password="x",
                                                    role=User.Role.FACILITATOR, is_staff=True)
    v, welcome = await enter(connect, volunteer, room)
    assert welcome["you"]["role"] == "participant"
    admin = await adb(admin_user)()
    client = await adb(admin_client)(admin)

    await adb(room_change)(client, room, facilitators=[volunteer.pk])
    assert await close_code(v) == protocol.CLOSE_ROLE_CHANGED
    entry = await adb(Action.objects.get)(kind=Action.Kind.FACILITATOR_ADD)
    assert (entry.target_alias, entry.actor_alias) == (
        welcome["you"]["alias"], await adb(alias_of)(admin, room))
    again, welcome = await enter(connect, volunteer, room)
    assert welcome["you"]["role"] == "facilitator"
    await again.receive_type("console")

    await adb(room_change)(client, room, facilitators=[])
    assert await close_code(again) == protocol.CLOSE_ROLE_CHANGED
    assert await adb(Action.objects.filter(kind=Action.Kind.FACILITATOR_REMOVE,
                                           target_alias=welcome["you"]["alias"]).exists)()
    assert (await adb(Membership.objects.get)(user=volunteer, room=room)).role == "participant"
    assert not await adb(room.facilitators.exists)()


def test_only_admins_choose_facilitators(room):
    fac = facilitator_for(room)
    with pytest.raises(Forbidden) as exc:
        room_facilitators_set(actor=fac, room=room, user_ids=[])
    assert exc.value.code == "not_admin"
    assert list(room.facilitators.all()) == [fac]
    assert not Action.objects.exists()


def test_the_membership_form_does_not_change_what_facilitators_decide(identity, room):
    person = identity()
    membership = Membership.objects.create(user=person, room=room, alias="Quiet Cedar")
    client = admin_client(admin_user())
    url = f"/admin/rooms/membership/{membership.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    client.post(url, {"banned_at_0": "2030-01-01", "banned_at_1": "10:00",
                      "ban_reason": "typed in the form", "role": "facilitator",
                      "muted_until_0": "2030-01-01", "muted_until_1": "10:00", "warnings": 9})
    membership.refresh_from_db()
    assert (membership.banned_at, membership.ban_reason, membership.role,
            membership.muted_until, membership.warnings) == (None, "", "participant", None, 0)
    assert not Action.objects.exists()
    assert client.get("/admin/rooms/membership/add/").status_code == 403


def test_a_refused_admin_action_changes_nothing_and_says_why(room):
    fac = facilitator_for(room)
    membership = membership_ensure(user=fac, room=room)
    client = admin_client(admin_user())
    response = client.post("/admin/rooms/membership/", {
        "action": "mute", "_selected_action": [membership.pk]}, follow=True)
    assert "Facilitators cannot act on each other" in response.content.decode()
    membership.refresh_from_db()
    assert membership.muted_until is None
    assert not Action.objects.exists()
