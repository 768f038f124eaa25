""""Forget me" forgets the person everywhere it shows: the audit trail (console, audit API, CSV,
admin) no longer holds their alias or the reasons written about them; the note of the erasure
links no two circles; the browser loses its language cookie and local storage; and the other
identity edges (a passphrase, REST activity) keep the promises of the privacy page."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import ERASED_ALIAS, identity_create_anonymous
from moderation.models import Action
from rooms import services
from rooms.models import Membership, Room
from rooms.retention import purge_expired
from tests.conftest import room_create

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def member(user: User, room: Room, alias: str | None = None) -> Membership:
    membership = services.rules_accept(
        membership=services.membership_ensure(user=user, room=room))
    if alias:  # a distinctive alias, so that finding it in a page means exactly this one
        Membership.objects.filter(pk=membership.pk).update(alias=alias)
        membership.alias = alias
    return membership


def facilitator_of(room: Room, alias: str) -> User:
    user = User.objects.create(username=f"fac-{uuid.uuid4().hex[:8]}",
                               role=User.Role.FACILITATOR)
    room.facilitators.add(user)
    member(user, room, alias)
    return user


def moderate(actor: User, room: Room, action: str, **params: object) -> None:
    response = signed_in(actor).post(f"/api/v1/rooms/{room.slug}/moderation/{action}/", params,
                                     content_type="application/json")
    assert response.status_code == 200, response.content


def forget(user: User) -> None:
    assert signed_in(user).delete("/api/v1/identities/me/").status_code == 204


def audit_everywhere(room: Room, facilitator: User) -> dict[str, str]:
    """The circle's audit trail as each place shows it: the console, the audit API, the CSV
    export and the admin's list."""
    admin = User.objects.create(username=f"admin-{uuid.uuid4().hex[:8]}",
                                role=User.Role.ADMIN, is_staff=True)
    pages = {
        "console": signed_in(facilitator).get(f"/api/v1/rooms/{room.slug}/console/"),
        "audit": signed_in(facilitator).get(f"/api/v1/rooms/{room.slug}/audit/"),
        "csv": signed_in(admin).get("/api/v1/audit.csv"),
        "admin": signed_in(admin).get("/admin/moderation/action/"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in pages.items()}


# --- Finding 3: the audit trail after "Forget me" -------------------------------------------------
def test_forget_me_leaves_no_alias_of_theirs_and_no_reason_about_them_in_the_audit():
    room = room_create()
    tag = uuid.uuid4().hex[:8]
    facilitator = facilitator_of(room, f"Guide-{tag}")
    leaving = member(identity_create_anonymous(), room, f"Leaving-{tag}")
    staying = member(identity_create_anonymous(), room, f"Staying-{tag}")
    about_them = [f"REASON-warn-{tag}", f"REASON-mute-{tag}"]
    moderate(facilitator, room, "member.warn", alias=leaving.alias, reason=about_them[0])
    moderate(facilitator, room, "member.mute", alias=leaving.alias, minutes=10,
             reason=about_them[1])
    moderate(facilitator, room, "member.warn", alias=staying.alias, reason=f"KEPT-{tag}")
    for name, text in audit_everywhere(room, facilitator).items():  # the scan does see them
        assert leaving.alias in text and all(r in text for r in about_them), name

    forget(leaving.user)

    for name, text in audit_everywhere(room, facilitator).items():
        assert leaving.alias not in text, f"{name} still names them"
        for reason in about_them:
            assert reason not in text, f"{name} still holds a reason about them"
        assert staying.alias in text and f"KEPT-{tag}" in text, name  # others' entries stay
    entries = signed_in(facilitator).get(f"/api/v1/rooms/{room.slug}/audit/").json()
    assert sorted((e["kind"], e["alias"], e["reason"]) for e in entries) == sorted([
        ("identity_erased", "", ""),
        ("member_mute", ERASED_ALIAS, ""),
        ("member_warn", ERASED_ALIAS, ""),
        ("member_warn", staying.alias, f"KEPT-{tag}"),
    ])
    rows = list(csv.DictReader(io.StringIO(audit_everywhere(room, facilitator)["csv"])))
    assert sorted(row["alias"] for row in rows if row["action"] != "identity_erased") == sorted(
        [ERASED_ALIAS, ERASED_ALIAS, staying.alias])


def test_a_facilitator_who_is_forgotten_is_no_longer_named_as_the_one_who_acted():
    room = room_create()
    tag = uuid.uuid4().hex[:8]
    facilitator = facilitator_of(room, f"Guide-{tag}")
    witness = facilitator_of(room, f"Witness-{tag}")
    staying = member(identity_create_anonymous(), room, f"Staying-{tag}")
    moderate(facilitator, room, "member.warn", alias=staying.alias, reason=f"KEPT-{tag}")
    moderate(facilitator, room, "room.lock", on=True)

    forget(facilitator)

    for name, text in audit_everywhere(room, witness).items():
        assert f"Guide-{tag}" not in text, f"{name} still names them"
    entries = signed_in(witness).get(f"/api/v1/rooms/{room.slug}/audit/").json()
    # What they did stays, unnamed; the reason was about someone else, so it stays too.
    assert sorted((e["kind"], e["by"], e["alias"], e["reason"]) for e in entries) == sorted([
        ("identity_erased", "", "", ""),
        ("room_lock", ERASED_ALIAS, "", ""),
        ("member_warn", ERASED_ALIAS, staying.alias, f"KEPT-{tag}"),
    ])
    assert not Action.objects.filter(actor_id=facilitator.pk).exists()


# --- Finding 4: the erasure records ---------------------------------------------------------------
def test_erasure_notes_go_only_where_something_changed_and_carry_the_minute_only():
    wrote, acted_on, only_visited = room_create(), room_create(), room_create()
    user = identity_create_anonymous()
    mine = member(user, wrote)
    services.message_post(membership_id=mine.pk, body="my words", client_id="w1")
    target = member(user, acted_on)
    moderate(facilitator_of(acted_on, "Guide"), acted_on, "member.warn", alias=target.alias,
             reason="be kind")
    member(user, only_visited)

    forget(user)

    notes = Action.objects.filter(kind=Action.Kind.IDENTITY_ERASED)
    assert sorted(notes.values_list("room_id", flat=True)) == sorted([wrote.pk, acted_on.pk])
    for note in notes:
        assert (note.created_at.second, note.created_at.microsecond) == (0, 0)
        assert note.created_at <= timezone.now()
    assert len({note.created_at for note in notes}) == 1  # nothing in them tells them apart
    assert not Action.objects.filter(room=only_visited).exists()


def test_an_erasure_that_changed_no_circle_is_counted_once_without_a_circle():
    user = identity_create_anonymous()
    member(user, room_create())  # entered, wrote nothing, nobody acted on them

    forget(user)

    note = Action.objects.get()
    assert (note.kind, note.room_id, note.target_alias, note.actor_id) == (
        Action.Kind.IDENTITY_ERASED, None, "", None)
    assert (note.created_at.second, note.created_at.microsecond) == (0, 0)


def test_the_purge_of_unused_identities_writes_its_notes_the_same_way():
    wrote, only_visited = room_create(), room_create()
    user = identity_create_anonymous()
    services.message_post(membership_id=member(user, wrote).pk, body="old words",
                          client_id="o1")
    member(user, only_visited)
    User.objects.filter(pk=user.pk).update(last_active_on=timezone.localdate() - timedelta(
        days=400))

    assert purge_expired().identities == 1

    note = Action.objects.get()
    assert (note.kind, note.room_id) == (Action.Kind.IDENTITY_EXPIRED, wrote.pk)
    assert (note.created_at.second, note.created_at.microsecond) == (0, 0)


# --- Finding 7: the browser, the passphrase, REST activity ----------------------------------------
def test_forget_me_deletes_the_language_cookie_and_asks_the_browser_to_empty_its_storage():
    user = identity_create_anonymous()
    client = signed_in(user)
    client.cookies["django_language"] = "ar"

    response = client.delete("/api/v1/identities/me/")

    assert response.status_code == 204
    language = response.cookies["django_language"]
    assert language.value == "" and language["max-age"] == 0
    assert response.cookies["sessionid"].value == ""  # signed out too
    assert response["Clear-Site-Data"] == '"storage"'
    assert "django_language" not in {name for name, c in client.cookies.items() if c.value}
    assert client.get("/api/v1/identities/me/").status_code == 403


def test_setting_a_passphrase_keeps_this_browser_signed_in():
    user = identity_create_anonymous()
    client = signed_in(user)

    response = client.post("/api/v1/identities/passphrase/",
                           {"passphrase": "a long and unusual passphrase"},
                           content_type="application/json")

    assert response.status_code == 204
    me = client.get("/api/v1/identities/me/")
    assert me.status_code == 200 and me.json()["has_passphrase"] is True
    # ...so this browser can still use "Forget me".
    assert client.delete("/api/v1/identities/me/").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def _unused_for(days: int) -> User:
    user = identity_create_anonymous()
    User.objects.filter(pk=user.pk).update(
        last_active_on=timezone.localdate() - timedelta(days=days))
    return user


def test_using_the_rest_api_counts_as_using_the_identity(settings):
    days = settings.HALQA["STALE_IDENTITY_DAYS"]
    active_over_rest, unused = _unused_for(days + 5), _unused_for(days + 5)

    assert signed_in(active_over_rest).get("/api/v1/rooms/").status_code == 200
    Client().get("/api/v1/rooms/")  # a visitor without an identity touches nobody

    active_over_rest.refresh_from_db()
    assert active_over_rest.last_active_on == timezone.localdate()
    assert purge_expired().identities == 1
    assert User.objects.filter(pk=active_over_rest.pk).exists()
    assert not User.objects.filter(pk=unused.pk).exists()


def test_signing_in_with_a_passphrase_counts_as_using_the_identity(settings):
    user = _unused_for(settings.HALQA["STALE_IDENTITY_DAYS"] + 5)
    user.set_password("a long and unusual passphrase")
    user.save()

    response = Client().post("/api/v1/identities/login/",
                             {"pseudonym": user.pseudonym,
                              "passphrase": "a long and unusual passphrase"},
                             content_type="application/json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.last_active_on == timezone.localdate()
