"""Issue 12 at the service and page level: the limit a client counts down to, a facilitator's
deletion named as such, ending a session without closing the circle, "Let back in" audited as
itself, staff shown under a display name (never their login name) and landing on their own
page, the error pages, the API's index and the schedule a week at a time."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from accounts.models import User
from accounts.services import identity_create_anonymous, staff_display_name_set
from moderation import services as moderation
from moderation.models import Action
from rooms import applications, events, protocol, selectors, services
from rooms.errors import Conflict, Forbidden, Invalid
from rooms.models import Membership, Room, ScheduledSession
from server.api import error_500
from tests.conftest import room_create

pytestmark = pytest.mark.django_db


def member(room: Room) -> Membership:
    membership = services.membership_ensure(user=identity_create_anonymous(), room=room)
    return services.rules_accept(membership=membership)


def facilitator_of(room: Room, username: str = "") -> User:
    user = User.objects.create_user(username=username or f"f-{room.slug}", password="x",
                                    role=User.Role.FACILITATOR, is_staff=True)
    room.facilitators.add(user)
    return user


def english() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    return client


def test_the_snapshot_carries_the_longest_message():
    room = room_create(max_message_length=640)
    assert selectors.room_snapshot(room=room)["max_message_length"] == 640


def test_a_facilitators_deletion_is_named_as_such(monkeypatch):
    room = room_create()
    author = member(room)
    posted = services.message_post(membership_id=author.pk, body="hello", client_id="c1")
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "broadcast_on_commit",
                        lambda group, frame, **kw: sent.append(frame))
    moderation.message_delete(actor=facilitator_of(room), room=room,
                              message_id=posted.message.pk)
    deleted = [f for f in sent if isinstance(f, dict) and f.get("type") == "message.deleted"]
    assert deleted == [{"type": "message.deleted", "ids": [posted.message.pk],
                        "by": "facilitator"}]
    # Expiry and erasure say nobody in particular.
    assert protocol.messages_deleted_frame([1]) == {"type": "message.deleted", "ids": [1]}


def test_ending_a_session_leaves_the_circle_open_with_its_next_sessions():
    room = room_create(access="application")
    local = timezone.localtime(timezone.now() + timedelta(days=2))
    ScheduledSession.objects.create(room=room, first_date=local.date(), start_time=time(19, 0),
                                    repeat="weekly")
    before = len(applications.schedule_upcoming(room=room))
    assert before >= 1
    result = moderation.room_session_end(actor=facilitator_of(room), room=room)
    assert result == {"ended": True}
    room.refresh_from_db()
    assert room.is_open
    assert len(applications.schedule_upcoming(room=room)) == before
    # Closing stays its own act.
    moderation.room_open(actor=facilitator_of(room, "f-2"), room=room, on=False)
    room.refresh_from_db()
    assert not room.is_open


def test_lifting_a_removal_is_audited_as_let_back_in_and_a_ban_as_ban_lifted():
    room = room_create()
    facilitator = facilitator_of(room)
    removed, banned = member(room), member(room)
    moderation.member_remove(actor=facilitator, room=room, alias=removed.alias,
                             cooldown_minutes=10)
    moderation.member_ban(actor=facilitator, room=room, alias=banned.alias)
    moderation.member_unban(actor=facilitator, room=room, alias=removed.alias)
    moderation.member_unban(actor=facilitator, room=room, alias=banned.alias)
    kinds = dict(Action.objects.filter(room=room, kind__in=["member_readmit", "member_unban"])
                 .values_list("target_alias", "kind"))
    assert kinds == {removed.alias: "member_readmit", banned.alias: "member_unban"}
    with translation.override("en"):
        assert protocol.vocabulary()["audit_kinds"]["member_readmit"] == "Let back in"


def test_staff_never_show_their_login_name():
    room = room_create()
    admin = User.objects.create_superuser(username="admin", password="x")
    alias = services.membership_ensure(user=admin, room=room).alias
    assert alias and alias != "admin"
    # A membership made before display names existed, under the login name, is renamed.
    other = room_create()
    Membership.objects.create(user=admin, room=other, alias="admin", role="facilitator")
    assert services.membership_ensure(user=admin, room=other).alias != "admin"

    staff_display_name_set(user=admin, name="  Amine  ")
    assert admin.pseudonym == "Amine"
    assert set(Membership.objects.filter(user=admin).values_list("alias", flat=True)) == {
        "Amine"}
    third = room_create()
    assert services.membership_ensure(user=admin, room=third).alias == "Amine"


def test_a_display_name_is_checked():
    room = room_create()
    salma = facilitator_of(room, "salma-login")
    with pytest.raises(Invalid) as short:
        staff_display_name_set(user=salma, name="S")
    assert short.value.code == "invalid_display_name"
    with pytest.raises(Invalid):
        staff_display_name_set(user=salma, name="Salma-Login")
    taken = identity_create_anonymous()
    with pytest.raises(Conflict) as clash:
        staff_display_name_set(user=salma, name=taken.pseudonym.upper())
    assert clash.value.code == "display_name_taken"
    with pytest.raises(Forbidden):
        staff_display_name_set(user=identity_create_anonymous(), name="Anything")


def test_a_facilitator_lands_on_their_own_page():
    room = room_create(title="Evening circle", access="application")
    client = english()
    client.force_login(facilitator_of(room))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/facilitator/"
    page = client.get("/facilitator/").content.decode()
    assert "Evening circle" in page and f"/rooms/{room.slug}/console/" in page
    assert f"/rooms/{room.slug}/applications/" in page
    # An admin keeps the admin; a participant gets no facilitators' page.
    admin = english()
    admin.force_login(User.objects.create_superuser(username="root", password="x"))
    assert admin.get("/admin/").status_code == 200
    participant = english()
    participant.force_login(identity_create_anonymous())
    assert participant.get("/facilitator/").status_code == 403
    assert english().get("/facilitator/").status_code == 302  # to the sign-in


def test_error_pages_are_the_sites_and_the_api_keeps_json():
    page = english().get("/no/such/page/")
    assert page.status_code == 404
    html = page.content.decode()
    assert 'id="quick-exit"' in html and "This page does not exist" in html
    assert english().get("/api/v1/nothing-here/").json()["code"] == "not_found"
    request = RequestFactory().get("/somewhere/")
    request.LANGUAGE_CODE = "en"
    with translation.override("fr"):
        crashed = error_500(request)
    assert crashed.status_code == 500
    assert 'id="quick-exit"' in crashed.content.decode()
    assert "Un problème est survenu de notre côté" in crashed.content.decode()


def test_the_api_answers_with_an_index():
    body = english().get("/api/v1/").json()
    assert body["documentation"] == "/api/v1/docs/"
    assert set(body["endpoints"]) >= {"rooms", "sessions", "resources", "identity"}


def test_the_schedule_starts_on_this_week():
    room = room_create(title="Weekly listening")
    today = timezone.localdate()
    ScheduledSession.objects.create(room=room, first_date=today + timedelta(days=1),
                                    start_time=time(12, 0), repeat="weekly")
    this_week = english().get("/schedule/").content.decode()
    assert this_week.count('class="session-card"') == 1
    assert 'value="0" selected' in this_week
    every = english().get("/schedule/?week=all").content.decode()
    assert every.count('class="session-card"') == 4
    assert english().get("/schedule/?week=9").status_code == 200  # out of range: this week
