"""Master-key rotation: every session key, every author key (rooms.AuthorKey) and every sealed
field (rooms.crypto.SEALED_FIELDS) moves onto the new key, so nothing is lost when the old key
is removed; and the registry of sealed fields cannot fall behind the models."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import User
from moderation import services as moderation
from rooms import applications, crypto, selectors
from rooms.models import Application, AuthorKey, Invitation, Message, Session
from tests.conftest import room_create
from tests.test_confidentiality import member, post
from tests.test_schedule import circle_by_application, facilitator_of


def _rotate(settings) -> str:
    """Rotate onto a new key, then drop the old one, as docs/privacy.md says to."""
    old = list(settings.HALQA_MASTER_KEYS)
    new = Fernet.generate_key().decode()
    settings.HALQA_MASTER_KEYS = [new, *old]
    out = io.StringIO()
    call_command("rotate_master_key", stdout=out)
    settings.HALQA_MASTER_KEYS = [new]  # the old master key is gone
    crypto.forget_all()  # no key unwrapped under the old master key survives
    return out.getvalue()


def _sealed_values() -> dict[tuple[str, str, int], str]:
    values = {}
    for label, field in crypto.SEALED_FIELDS:
        for pk, value in apps.get_model(label).objects.exclude(**{field: ""}).values_list(
                "pk", field):
            values[(label, field, pk)] = value
    return values


@pytest.mark.django_db
def test_after_a_rotation_everything_sealed_reads_with_the_new_key_alone(
        identity, settings, django_capture_on_commit_callbacks):
    # Messages in a timed circle (key on the row) and an ephemeral one (key in the cache only).
    timed, ephemeral = room_create(retention_hours=5), room_create(retention="ephemeral")
    writer, reader = identity(), identity()
    reported = post(member(writer, timed), "said in a timed circle")
    post(member(writer, ephemeral), "said in an ephemeral circle")
    assert Session.objects.get(room=ephemeral).wrapped_key == ""  # its key is in the cache
    # A report holding a copy of the reported text (under the message's author key).
    member(reader, timed)
    moderation.report_create(user=reader, room=timed, message_id=reported, reason="other")
    timed_facilitator = facilitator_of(timed)
    # An approved application (its invitation link is sealed) and a pending one, both with a
    # note and an address.
    circle, session, day = circle_by_application()
    invited, waiting = identity(), identity()
    approved = applications.application_submit(
        user=invited, session_id=session.pk, day=day, note="first time",
        contact_email="amal@example.org")
    pending = applications.application_submit(
        user=waiting, session_id=session.pk, day=day, note="شكرا",
        contact_email="karim@example.org")
    facilitator = facilitator_of(circle)
    with django_capture_on_commit_callbacks(execute=True):
        applications.application_decide(actor=facilitator, application_id=approved.pk,
                                        approve=True)
    link = applications.applications_mine(user=invited)[0]["invitation"]
    assert link and link in mail.outbox[0].body
    before = _sealed_values()
    assert {(label, field) for label, field, _pk in before} == set(crypto.SEALED_FIELDS)
    wrapped_before = Session.objects.get(room=timed).wrapped_key
    cached_before = crypto.ephemeral_key_get(
        session_id=Session.objects.get(room=ephemeral).pk)
    # The writer's key in each circle: on its row (timed), in the cache only (ephemeral).
    timed_key = AuthorKey.objects.get(session__room=timed)
    ephemeral_key = AuthorKey.objects.get(session__room=ephemeral)
    assert timed_key.wrapped_key and ephemeral_key.wrapped_key == ""
    author_cached_before = crypto.ephemeral_author_key_get(key_id=ephemeral_key.pk)
    assert author_cached_before

    printed = _rotate(settings)

    assert "session_keys: 1" in printed and "ephemeral_session_keys: 1" in printed
    assert "author_keys: 1" in printed and "ephemeral_author_keys: 1" in printed
    assert "rooms.Application.contact_sealed: 2" in printed and "unreadable: 0" in printed
    # Every value was re-sealed (not merely still readable) and every key re-wrapped.
    after = _sealed_values()
    assert after.keys() == before.keys()
    assert all(after[spot] != before[spot] for spot in before)
    assert Session.objects.get(room=timed).wrapped_key != wrapped_before
    assert crypto.ephemeral_key_get(
        session_id=Session.objects.get(room=ephemeral).pk) != cached_before
    assert AuthorKey.objects.get(pk=timed_key.pk).wrapped_key != timed_key.wrapped_key
    assert crypto.ephemeral_author_key_get(key_id=ephemeral_key.pk) not in (
        None, author_cached_before)
    # The messages themselves were not touched, and read with the new key alone.
    assert [m["body"] for m in selectors.message_history(room_id=timed.pk).messages] == [
        "said in a timed circle"]
    assert [m["body"] for m in selectors.message_history(room_id=ephemeral.pk).messages] == [
        "said in an ephemeral circle"]
    assert selectors.message_text(Message.objects.get(pk=reported)) == "said in a timed circle"
    assert [r["text"] for r in moderation.report_list(actor=timed_facilitator, room=timed)] == [
        "said in a timed circle"]
    # The applicant still sees their invitation link, and it still works.
    assert applications.applications_mine(user=invited)[0]["invitation"] == link
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert applications.invitation_open(token=token)["room"] == circle
    # The notes and addresses read back; the facilitators' list shows the note.
    approved.refresh_from_db()
    assert (approved.note, approved.contact_email) == ("first time", "amal@example.org")
    assert [(a.note, a.contact_email) for a in applications.applications_pending(
        actor=facilitator, room=circle)] == [("شكرا", "karim@example.org")]
    # And approving the pending one now e-mails the address sealed before the rotation.
    with django_capture_on_commit_callbacks(execute=True):
        applications.application_decide(actor=facilitator, application_id=pending.pk,
                                        approve=True)
    assert mail.outbox[-1].to == ["karim@example.org"]


@pytest.mark.django_db
def test_a_value_no_configured_key_opens_is_left_alone_and_counted(identity, settings):
    room = room_create()
    lost = Fernet(Fernet.generate_key()).encrypt(b"under a key nobody has").decode()
    _room, session, day = circle_by_application()
    application = applications.application_submit(user=identity(), session_id=session.pk,
                                                  day=day)
    Application.objects.filter(pk=application.pk).update(note_sealed=lost)
    membership = member(identity(), room)
    post(membership, "written before the master key was lost")
    key = AuthorKey.objects.get(membership=membership)
    AuthorKey.objects.filter(pk=key.pk).update(wrapped_key=lost)
    printed = _rotate(settings)
    assert "unreadable: 2" in printed
    application.refresh_from_db()
    assert application.note_sealed == lost
    assert AuthorKey.objects.get(pk=key.pk).wrapped_key == lost


@pytest.mark.django_db
def test_the_note_and_the_address_are_never_stored_in_clear(identity):
    _room, session, day = circle_by_application()
    applications.application_submit(user=identity(), session_id=session.pk, day=day,
                                    note="a private note", contact_email="amal@example.org")
    applications.application_submit(user=identity(), session_id=session.pk, day=day)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM rooms_application")
        stored = repr(cursor.fetchall())
    assert "a private note" not in stored and "amal@example.org" not in stored
    empty = Application.objects.get(note_sealed="")
    assert (empty.note, empty.contact_email, empty.contact_sealed) == ("", "", "")


@pytest.mark.django_db
def test_the_admin_shows_the_note_unsealed_but_never_the_address(identity, client):
    _room, session, day = circle_by_application()
    application = applications.application_submit(
        user=identity(), session_id=session.pk, day=day, note="a private note",
        contact_email="amal@example.org")
    client.force_login(User.objects.create_superuser(username="admin", password="x",
                                                     role="admin"))
    page = client.get(f"/admin/rooms/application/{application.pk}/change/").content.decode()
    assert "a private note" in page
    assert "amal@example.org" not in page and application.contact_sealed not in page
    assert application.note_sealed not in page


# --- The registry ------------------------------------------------------------------------------
def test_every_registered_sealed_field_exists_as_text():
    for label, field in crypto.SEALED_FIELDS:
        found = apps.get_model(label)._meta.get_field(field)
        assert isinstance(found, models.TextField), f"{label}.{field}"
    assert len(set(crypto.SEALED_FIELDS)) == len(crypto.SEALED_FIELDS)


def test_every_sealed_field_of_every_model_is_registered():
    """A new `*_sealed` field that rotation would leave behind on the old key fails here."""
    sealed = {(model._meta.label, field.name)
              for model in apps.get_models() for field in model._meta.get_fields()
              if isinstance(field, models.CharField | models.TextField)
              and field.name.endswith("_sealed")}
    assert sealed == set(crypto.SEALED_FIELDS)
    assert {(Invitation._meta.label, "token_sealed"),
            (Application._meta.label, "note_sealed")} <= sealed  # the walk does find fields


# --- The migration that sealed the plain-text columns ---------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_notes_and_addresses(identity):
    before, sealed = [("rooms", "0003_scheduled_sessions_and_applications")], [
        ("rooms", "0004_seal_application_note_and_contact")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    room = old.get_model("rooms", "Room").objects.create(slug="migrated", title="Migrated",
                                                         access="application")
    user = old.get_model("accounts", "User").objects.create(username="anon-migrated")
    applicant = old.get_model("rooms", "Membership").objects.create(user=user, room=room,
                                                                     alias="Amal")
    scheduled = old.get_model("rooms", "ScheduledSession").objects.create(
        room=room, first_date=timezone.localdate(), start_time="19:00")
    rows = old.get_model("rooms", "Application").objects
    ends = timezone.now() + timedelta(hours=2)
    rows.create(session=scheduled, occurrence_date=timezone.localdate(), applicant=applicant,
                ends_at=ends, note="from before", contact_email="amal@example.org")
    try:
        MigrationExecutor(connection).migrate(sealed)
        new = MigrationExecutor(connection).loader.project_state(sealed).apps
        row = new.get_model("rooms", "Application").objects.get()
        assert crypto.unseal(row.note_sealed) == "from before"
        assert crypto.unseal(row.contact_sealed) == "amal@example.org"
        # And back: the plain columns come back from the sealed ones.
        MigrationExecutor(connection).migrate(before)
        back = (MigrationExecutor(connection).loader.project_state(before).apps
                .get_model("rooms", "Application").objects.get())
        assert (back.note, back.contact_email) == ("from before", "amal@example.org")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
