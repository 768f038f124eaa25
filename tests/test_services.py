"""The core services against the database, without a socket in between."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.services import identity_create_anonymous
from moderation import services as moderation
from rooms import selectors, services
from rooms.errors import Conflict, Forbidden, NotFound
from rooms.models import Membership, Message, Presence, Room
from tests.conftest import room_create

pytestmark = pytest.mark.django_db


def member(room: Room, *, accepted: bool = True) -> Membership:
    membership = services.membership_ensure(user=identity_create_anonymous(), room=room)
    if accepted:
        services.rules_accept(membership=membership)
    return membership


def facilitator_of(room: Room) -> User:
    user = User.objects.create_user(username=f"f-{room.slug}", password="x",
                                    role=User.Role.FACILITATOR)
    room.facilitators.add(user)
    return user


def test_room_get_unknown_slug_is_not_found():
    with pytest.raises(NotFound) as exc:
        selectors.room_get(slug="nowhere")
    assert exc.value.code == "room_not_found"


def test_one_identity_has_a_different_alias_in_each_circle(room):
    user = identity_create_anonymous()
    other = room_create()
    first = services.membership_ensure(user=user, room=room)
    second = services.membership_ensure(user=user, room=other)
    assert first.alias != second.alias
    assert services.membership_ensure(user=user, room=room).pk == first.pk  # stable


def test_role_follows_facilitator_assignment(room):
    user = User.objects.create_user(username="volunteer", password="x")
    assert services.membership_ensure(user=user, room=room).role == "participant"
    room.facilitators.add(user)
    assert services.membership_ensure(user=user, room=room).role == "facilitator"
    room.facilitators.remove(user)
    assert services.membership_ensure(user=user, room=room).role == "participant"


def test_entering_needs_the_rules_then_counts_capacity():
    room = room_create(capacity=1)
    first, second = member(room, accepted=False), member(room)
    with pytest.raises(Forbidden) as exc:
        services.presence_enter(membership=first, channel_name="a")
    assert exc.value.code == "rules_not_accepted"
    services.rules_accept(membership=first)
    assert services.presence_enter(membership=first, channel_name="a") is True
    assert services.presence_enter(membership=first, channel_name="a2") is True  # 2nd tab
    with pytest.raises(Conflict) as exc:
        services.presence_enter(membership=second, channel_name="b")
    assert exc.value.code == "room_full"
    services.presence_leave(channel_name="a")
    services.presence_leave(channel_name="a2")
    assert services.presence_enter(membership=second, channel_name="b") is True


def test_closed_room_refuses_participants_but_not_facilitators():
    room = room_create(is_open=False)
    with pytest.raises(Forbidden) as exc:
        services.presence_enter(membership=member(room), channel_name="p")
    assert exc.value.code == "room_closed"
    staff = services.membership_ensure(user=facilitator_of(room), room=room)
    services.rules_accept(membership=staff)
    assert services.presence_enter(membership=staff, channel_name="f") is True


def test_locked_room_takes_back_who_was_in_but_nobody_new(room):
    inside, newcomer = member(room), member(room)
    services.presence_enter(membership=inside, channel_name="in")
    moderation.room_lock(actor=facilitator_of(room), room=room, on=True)
    services.presence_leave(channel_name="in")  # a reload
    assert services.presence_enter(membership=inside, channel_name="in2") is True
    with pytest.raises(Forbidden) as exc:
        services.presence_enter(membership=newcomer, channel_name="new")
    assert exc.value.code == "room_locked"


def test_waiting_room_holds_arrivals_until_admitted():
    room = room_create(access="waiting_room")
    arrival = member(room)
    assert services.presence_enter(membership=arrival, channel_name="w") is False
    assert Presence.objects.get(channel_name="w").waiting is True
    assert selectors.presence_members(room_id=room.pk) == []  # not shown to the circle
    arrival.refresh_from_db()
    assert arrival.admission == "pending"
    moderation.member_admit(actor=facilitator_of(room), room=room, alias=arrival.alias)
    assert services.presence_enter(membership=arrival, channel_name="w") is True
    assert [m["alias"] for m in selectors.presence_members(room_id=room.pk)] == [arrival.alias]


def test_message_post_stores_encrypted_with_expiry_and_is_idempotent(room):
    author = member(room)
    posted = services.message_post(membership_id=author.pk, body="hello circle", client_id="c1")
    stored = Message.objects.get(pk=posted.message.pk)
    assert "hello circle" not in stored.body_encrypted
    assert stored.expires_at > timezone.now() + timedelta(hours=room.retention_hours - 1)
    again = services.message_post(membership_id=author.pk, body="hello circle", client_id="c1")
    assert again.duplicate and again.message.pk == posted.message.pk
    assert Message.objects.count() == 1


def test_history_after_an_id_gives_exactly_the_later_messages(room):
    author = member(room)
    ids = [services.message_post(membership_id=author.pk, body=f"m{i}", client_id=f"c{i}")
           .message.pk for i in range(5)]
    later = selectors.message_history(room_id=room.pk, after=ids[1])
    assert [m["id"] for m in later.messages] == ids[2:]
    assert [m["body"] for m in later.messages] == ["m2", "m3", "m4"]
    recent = selectors.message_history(room_id=room.pk, limit=2)
    assert [m["id"] for m in recent.messages] == ids[3:] and recent.truncated


def test_history_costs_the_same_queries_for_many_authors(room):
    for i in range(3):
        services.message_post(membership_id=member(room).pk, body="x", client_id=f"a{i}")
    with CaptureQueriesContext(connection) as few:
        selectors.message_history(room_id=room.pk)
    for i in range(12):
        services.message_post(membership_id=member(room).pk, body="y", client_id=f"b{i}")
    with CaptureQueriesContext(connection) as many:
        selectors.message_history(room_id=room.pk)
    assert len(many) == len(few)  # no query per message or per author


def test_muted_or_paused_participant_cannot_post_but_facilitator_can(room):
    author = member(room)
    staff_user = facilitator_of(room)
    moderation.member_mute(actor=staff_user, room=room, alias=author.alias, minutes=5)
    with pytest.raises(Forbidden) as exc:
        services.message_post(membership_id=author.pk, body="hi", client_id="m1")
    assert exc.value.code == "muted" and exc.value.extra["retry_after"] > 250
    moderation.member_unmute(actor=staff_user, room=room, alias=author.alias)
    moderation.room_pause(actor=staff_user, room=room, on=True)
    with pytest.raises(Forbidden) as exc:
        services.message_post(membership_id=author.pk, body="hi", client_id="m2")
    assert exc.value.code == "paused"
    staff = services.membership_ensure(user=staff_user, room=room)
    services.rules_accept(membership=staff)
    assert services.message_post(membership_id=staff.pk, body="a pause to breathe",
                                 client_id="f1").message.pk


def test_expired_message_is_not_served(room):
    author = member(room)
    posted = services.message_post(membership_id=author.pk, body="soon gone", client_id="e1")
    Message.objects.filter(pk=posted.message.pk).update(expires_at=timezone.now())
    assert selectors.message_history(room_id=room.pk).messages == []


def test_ending_an_ephemeral_session_deletes_its_messages():
    room = room_create(retention="ephemeral")
    author = member(room)
    posted = services.message_post(membership_id=author.pk, body="only now", client_id="s1")
    services.session_end(session=posted.message.session)
    assert not Message.objects.filter(pk=posted.message.pk).exists()


def test_a_stored_message_costs_three_sql_statements(room, identity):
    """The lean write path, in one transaction: the membership with its seat and the insert
    (transaction control statements aside); the circle's open session is remembered by the
    process once read, and the insert checks it is still open. At most three, as issue 11
    asks; two on SQLite, where no advisory lock is needed."""
    member = services.membership_ensure(user=identity(), room=room)
    services.rules_accept(membership=member)
    services.presence_enter(membership=member, channel_name="test.lean")
    services.message_post(membership_id=member.pk, body="warm-up", client_id="w")  # session
    services.message_post(membership_id=member.pk, body="warm-up", client_id="w2")  # read
    with CaptureQueriesContext(connection) as queries:
        posted = services.message_post(membership_id=member.pk, body="hello", client_id="c1")
    statements = [q["sql"] for q in queries.captured_queries
                  if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 3, statements
    assert len(statements) == (2 if connection.vendor == "sqlite" else 3), statements
    assert not posted.duplicate
    again = services.message_post(membership_id=member.pk, body="hello", client_id="c1")
    assert again.duplicate and again.message.pk == posted.message.pk
    assert [m["body"] for m in selectors.message_history(room_id=room.pk).messages] == [
        "warm-up", "warm-up", "hello"]


def test_a_session_ended_elsewhere_is_noticed_by_the_insert(room, identity):
    """The write path remembers each circle's open session (no read per message); a session
    another process ended (here: its row changed behind this process's back) is noticed by the
    insert itself, and the message goes to the circle's new session, never to the ended one."""
    from rooms.models import Session

    member = services.membership_ensure(user=identity(), room=room)
    services.rules_accept(membership=member)
    services.presence_enter(membership=member, channel_name="test.session")
    first = services.message_post(membership_id=member.pk, body="one", client_id="s1")
    second = services.message_post(membership_id=member.pk, body="two", client_id="s2")
    assert second.message.session_id == first.message.session_id
    with CaptureQueriesContext(connection) as queries:
        services.message_post(membership_id=member.pk, body="three", client_id="s3")
    assert not any("rooms_session" in q["sql"] and q["sql"].startswith("SELECT")
                   for q in queries.captured_queries)  # remembered, not read

    Session.objects.filter(pk=first.message.session_id).update(ended_at=timezone.now())
    after = services.message_post(membership_id=member.pk, body="four", client_id="s4")
    assert after.message.session_id != first.message.session_id
    stored = Message.objects.get(pk=after.message.pk)
    assert stored.session_id == after.message.session_id
    assert Session.objects.get(pk=stored.session_id).ended_at is None
    assert [m["body"] for m in selectors.message_history(room_id=room.pk).messages][-1] == "four"
    again = services.message_post(membership_id=member.pk, body="four", client_id="s4")
    assert again.duplicate and again.message.pk == after.message.pk


def test_ending_a_session_here_forgets_it_at_once(room, identity):
    member = services.membership_ensure(user=identity(), room=room)
    services.rules_accept(membership=member)
    services.presence_enter(membership=member, channel_name="test.session-end")
    first = services.message_post(membership_id=member.pk, body="one", client_id="e1")
    services.session_end(session=first.message.session)
    later = services.message_post(membership_id=member.pk, body="two", client_id="e2")
    assert later.message.session_id != first.message.session_id


def test_a_remembered_session_whose_row_id_came_back_is_not_used(room, identity):
    """SQLite gives a deleted row's id again: a session this process remembers and a new one
    with the same id are told apart by their key, and the message is written with the key of
    the session it is stored in (it reads back)."""
    from rooms import crypto
    from rooms.models import AuthorKey, Session

    member = services.membership_ensure(user=identity(), room=room)
    services.rules_accept(membership=member)
    services.presence_enter(membership=member, channel_name="test.reused")
    services.message_post(membership_id=member.pk, body="one", client_id="r1")
    old = services.message_post(membership_id=member.pk, body="two", client_id="r2").message
    old_id = old.session_id
    AuthorKey.objects.filter(session_id=old_id).delete()
    Session.objects.filter(pk=old_id).delete()
    new = Session.objects.create(id=old_id, room=room, wrapped_key=crypto.session_key_new())
    posted = services.message_post(membership_id=member.pk, body="three", client_id="r3")
    stored = Message.objects.get(pk=posted.message.pk)
    assert stored.session_id == new.pk
    assert selectors.message_text(stored) == "three"
