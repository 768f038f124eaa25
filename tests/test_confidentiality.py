"""Halqa's confidentiality promises, each checked where it could break: the SQL rows, the
SQLite file's bytes, Redis, the logs, the keys, and the screens of the others."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from moderation.models import Action
from rooms import crypto, selectors, services
from rooms.models import Membership, Message, Presence, Session
from rooms.retention import purge_expired
from tests.conftest import REDIS_URL, room_create
from tests.test_consumer import enter

ROOT = Path(__file__).resolve().parents[1]
adb = database_sync_to_async


def member(user, room) -> Membership:
    membership = services.membership_ensure(user=user, room=room)
    return services.rules_accept(membership=membership)


def post(membership: Membership, body: str) -> int:
    return services.message_post(membership_id=membership.pk, body=body,
                                 client_id=uuid.uuid4().hex).message.pk


# --- Retention -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_message_gets_its_expiry_from_the_room_when_written(identity):
    timed = room_create(retention_hours=5)
    ephemeral = room_create(retention="ephemeral")
    user = identity()
    before = timezone.now()
    m1 = Message.objects.get(pk=post(member(user, timed), "timed"))
    m2 = Message.objects.get(pk=post(member(user, ephemeral), "ephemeral"))
    assert timedelta(hours=5) <= m1.expires_at - before < timedelta(hours=5, minutes=1)
    assert m2.expires_at - before < timedelta(hours=13)  # the ephemeral backstop


@pytest.mark.django_db
def test_no_circle_keeps_a_message_longer_than_the_limit(identity, settings):
    settings.HALQA = {**settings.HALQA, "MAX_RETENTION_HOURS": 24}
    room = room_create(retention_hours=100)  # set before the limit was lowered
    before = timezone.now()
    message = Message.objects.get(pk=post(member(identity(), room), "capped"))
    assert timedelta(hours=24) <= message.expires_at - before < timedelta(hours=24, minutes=1)


@pytest.mark.django_db
def test_a_passphrase_is_kept_only_as_a_one_way_hash(identity):
    user = identity()
    client = Client()
    client.force_login(user)
    passphrase = f"olive trees {uuid.uuid4().hex}"
    assert client.post("/api/v1/identities/passphrase/", {"passphrase": passphrase},
                       content_type="application/json").status_code == 204
    user.refresh_from_db()
    assert user.check_password(passphrase) and passphrase not in user.password
    assert user.password.split("$", 1)[0] in {"pbkdf2_sha256", "argon2", "bcrypt_sha256",
                                              "scrypt"}
    with connection.cursor() as cursor:  # in no column of the identity's row either
        cursor.execute("SELECT * FROM accounts_user WHERE id = %s", [user.pk])
        assert passphrase not in repr(cursor.fetchone())


@pytest.mark.django_db
def test_the_admin_site_has_no_page_that_shows_message_text(identity):
    from django.contrib import admin

    assert Message not in admin.site._registry
    staff = User.objects.create_superuser("an-admin", password="x" * 12)
    room = room_create()
    post(member(identity(), room), "text the admin never sees")
    client = Client()
    client.force_login(staff)
    for model in admin.site._registry:
        meta = model._meta
        response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
        assert b"text the admin never sees" not in response.content, meta.label
    # Administrators enter any circle as its facilitators.
    assert services.membership_ensure(user=staff, room=room).role == "facilitator"


@pytest.mark.django_db
def test_expired_message_is_never_served_again_even_before_the_purge(identity):
    room = room_create(retention_hours=1)
    user = identity()
    membership = member(user, room)
    old, fresh = post(membership, "old news"), post(membership, "fresh")
    Message.objects.filter(pk=old).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert [m["body"] for m in selectors.message_history(room_id=room.pk).messages] == ["fresh"]
    assert [m["id"] for m in selectors.message_history(room_id=room.pk, after=0).messages] == [
        fresh]
    client = Client()
    client.force_login(user)
    listing = client.get(f"/api/v1/rooms/{room.slug}/messages/?after=0").json()
    assert [m["body"] for m in listing["messages"]] == ["fresh"]
    assert Message.objects.filter(pk=old).exists()  # still a row, until the purge


@pytest.mark.django_db
def test_after_the_purge_no_row_is_older_than_its_retention(identity):
    rooms = [room_create(retention_hours=1), room_create(retention_hours=48)]
    user = identity()
    for room in rooms:
        membership = member(user, room)
        for n in range(7):
            post(membership, f"message {n}")
    stale = identity()
    User.objects.filter(pk=stale.pk).update(last_active_on=timezone.localdate() - timedelta(
        days=400))
    Action.objects.create(kind="identity_erased")
    Action.objects.filter().update(created_at=timezone.now() - timedelta(days=400))

    later = timezone.now() + timedelta(hours=2)
    report = purge_expired(now=later)
    assert report.messages == 7 and report.identities == 1

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM rooms_message WHERE expires_at <= %s", [later])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT COUNT(*) FROM rooms_message")
        assert cursor.fetchone()[0] == 7  # the 48-hour circle keeps its own
        cursor.execute("SELECT COUNT(*) FROM accounts_user WHERE is_pseudonymous AND "
                       "last_active_on < %s", [timezone.localdate() - timedelta(days=90)])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT COUNT(*) FROM moderation_action WHERE created_at < %s",
                       [timezone.now() - timedelta(days=180)])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT COUNT(*) FROM django_session WHERE expire_date < %s", [later])
        assert cursor.fetchone()[0] == 0
    # every key whose messages are gone is gone too
    assert not Session.objects.filter(ended_at__isnull=False, messages__isnull=True).exists()


def _report(room, *, age: timedelta, resolved_ago: timedelta | None = None, text="copied"):
    from moderation.models import Report

    now = timezone.now()
    copy = Fernet(Fernet.generate_key()).encrypt(text.encode()).decode()
    report = Report.objects.create(room=room, source=Report.Source.PARTICIPANT,
                                   reason=Report.Reason.OTHER, target_alias="Someone",
                                   reporter_alias="Reporter", snapshot_encrypted=copy)
    resolved = {} if resolved_ago is None else {
        "status": Report.Status.DISMISSED, "resolved_at": now - resolved_ago}
    Report.objects.filter(pk=report.pk).update(created_at=now - age, **resolved)
    return report.pk


@pytest.mark.django_db
def test_reports_go_after_their_grace_period_or_the_longest_retention(identity, settings):
    settings.HALQA = {**settings.HALQA, "REPORT_GRACE_HOURS": 10, "MAX_RETENTION_HOURS": 100}
    room = room_create()
    gone = [
        _report(room, age=timedelta(hours=20), resolved_ago=timedelta(hours=11)),
        _report(room, age=timedelta(hours=101)),  # open, but as old as any message can be
        _report(room, age=timedelta(hours=200), resolved_ago=timedelta(hours=10, seconds=1)),
    ]
    kept = [
        _report(room, age=timedelta(hours=20), resolved_ago=timedelta(hours=9)),  # in grace
        _report(room, age=timedelta(hours=99)),  # open, not yet at the longest retention
        _report(room, age=timedelta(hours=150), resolved_ago=timedelta(hours=1)),
    ]
    report = purge_expired()
    assert report.reports == len(gone)
    from moderation.models import Report

    assert sorted(Report.objects.values_list("pk", flat=True)) == sorted(kept)


@pytest.mark.django_db
def test_the_admin_log_is_kept_no_longer_than_the_audit_trail(identity, settings):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    settings.HALQA = {**settings.HALQA, "AUDIT_RETENTION_DAYS": 30}
    admin = User.objects.create_user("an-admin", is_staff=True, is_superuser=True)
    target = identity()
    for days in (31, 29):
        entry = LogEntry.objects.create(
            user=admin, content_type=ContentType.objects.get_for_model(User),
            object_id=str(target.pk), object_repr=target.username, action_flag=CHANGE,
            change_message="Changed language.")
        LogEntry.objects.filter(pk=entry.pk).update(
            action_time=timezone.now() - timedelta(days=days))
    assert purge_expired().admin_log_entries == 1
    assert LogEntry.objects.count() == 1


# Every table whose rows hold words someone wrote, an alias, or a trace of a person's visit.
USER_TEXT_TABLES = ("rooms_message", "moderation_report", "moderation_action", "django_admin_log",
                    "django_session", "rooms_presence", "rooms_application")


@pytest.mark.django_db
def test_sql_no_row_of_any_table_with_user_text_is_past_its_retention(identity, settings):
    """Every table that holds words someone wrote or an alias, filled with rows on both sides of
    its limit; after one purge, SQL finds none past it."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.backends.db import SessionStore

    halqa = settings.HALQA
    room = room_create(retention_hours=1)
    author = identity()
    membership = member(author, room)
    for n in range(4):
        post(membership, f"text {n}")
    now = timezone.now()
    for days_old in (1, halqa["AUDIT_RETENTION_DAYS"] + 1):
        Action.objects.filter(pk=Action.objects.create(kind="room_lock", room=room,
                                                       actor_alias="Facilitator").pk
                              ).update(created_at=now - timedelta(days=days_old))
        entry = LogEntry.objects.create(
            user=User.objects.create_user(f"staff-{days_old}", is_staff=True),
            content_type=ContentType.objects.get_for_model(Membership),
            object_id=str(membership.pk), object_repr=f"{membership.alias} @ {room.pk}",
            action_flag=ADDITION)
        LogEntry.objects.filter(pk=entry.pk).update(action_time=now - timedelta(days=days_old))
    grace = timedelta(hours=halqa["REPORT_GRACE_HOURS"])
    longest = timedelta(hours=halqa["MAX_RETENTION_HOURS"])
    _report(room, age=grace * 2, resolved_ago=grace + timedelta(minutes=1))
    _report(room, age=grace * 2, resolved_ago=grace - timedelta(hours=3))  # kept, at `later` too
    _report(room, age=longest + timedelta(minutes=1))
    _report(room, age=longest - timedelta(hours=3))  # kept
    for age in (timedelta(days=1), -timedelta(days=1)):
        store = SessionStore()
        store["note"] = "a signed-in browser"
        store.create()
        store.model.objects.filter(session_key=store.session_key).update(expire_date=now - age)

    later = now + timedelta(hours=2)  # the messages' hour is over
    from rooms.models import Application, ScheduledSession

    scheduled = ScheduledSession.objects.create(room=room, first_date=now.date(),
                                                start_time=now.time())
    for n, ends in enumerate((later - timedelta(minutes=1), later + timedelta(hours=1))):
        Application.objects.create(session=scheduled, occurrence_date=now.date(), ends_at=ends,
                                   applicant=member(identity(), room),
                                   note_sealed=crypto.seal(f"note {n}"),
                                   contact_sealed=crypto.seal(f"person{n}@example.org"))
    timeout = timedelta(seconds=halqa["PRESENCE_TIMEOUT"])
    for n, seen in enumerate((later - timeout * 3, later - timeout)):
        Presence.objects.create(membership=membership, room=room, channel_name=f"socket-{n}",
                                seen_at=seen)
    report = purge_expired(now=later)
    assert (report.messages, report.reports, report.audit_entries, report.admin_log_entries,
            report.browser_sessions, report.sockets) == (4, 2, 1, 1, 1, 1)

    limits = {
        "rooms_message": ("expires_at <= %s", [later]),
        "moderation_report": (
            "(resolved_at IS NOT NULL AND resolved_at <= %s) OR "
            "(resolved_at IS NULL AND created_at <= %s)", [later - grace, later - longest]),
        "moderation_action": ("created_at < %s",
                              [later - timedelta(days=halqa["AUDIT_RETENTION_DAYS"])]),
        "django_admin_log": ("action_time < %s",
                             [later - timedelta(days=halqa["AUDIT_RETENTION_DAYS"])]),
        "django_session": ("expire_date < %s", [later]),
        "rooms_presence": ("seen_at < %s", [later - timeout * 2]),
        "rooms_application": ("ends_at <= %s", [later]),
    }
    assert set(limits) == set(USER_TEXT_TABLES)
    with connection.cursor() as cursor:
        for table, (where, params) in limits.items():
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)
            assert cursor.fetchone()[0] == 0, f"{table} keeps rows past their retention"
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            assert cursor.fetchone()[0] > 0 or table == "rooms_message", (
                f"{table}: the rows within their retention should still be there")


@pytest.mark.django_db
def test_a_timed_circle_gets_a_new_key_and_the_old_one_goes_with_its_last_message(identity,
                                                                                  settings):
    room = room_create(retention_hours=1)
    membership = member(identity(), room)
    first = Message.objects.get(pk=post(membership, "under the first key")).session
    Session.objects.filter(pk=first.pk).update(started_at=timezone.now() - timedelta(
        hours=settings.HALQA["SESSION_KEY_HOURS"], minutes=1))
    purge_expired()  # the key is too old: its session ends, its message is still within its hour
    assert Session.objects.get(pk=first.pk).ended_at is not None
    second = Message.objects.get(pk=post(membership, "under a new key")).session
    assert second.pk != first.pk and second.wrapped_key != first.wrapped_key

    report = purge_expired(now=timezone.now() + timedelta(hours=2))
    assert report.messages == 2 and report.keys_destroyed == 1  # the open session keeps its key
    assert list(Session.objects.values_list("pk", flat=True)) == [second.pk]


@pytest.mark.django_db(transaction=True)
async def test_the_purge_takes_expired_messages_off_open_screens(connect, identity):
    room = await adb(room_create)(retention_hours=1)
    a, _ = await enter(connect, await adb(identity)(), room)
    await a.send({"type": "message.send", "body": "soon gone", "client_id": "g1"})
    message_id = (await a.receive_type("message.ack"))["id"]
    await adb(purge_expired)(now=timezone.now() + timedelta(hours=2))
    assert (await a.receive_type("message.deleted"))["ids"] == [message_id]


@pytest.mark.django_db
def test_purge_works_in_batches(identity, settings):
    settings.HALQA = {**settings.HALQA, "PURGE_BATCH": 3}
    room = room_create(retention_hours=1)
    membership = member(identity(), room)
    for n in range(10):
        post(membership, f"m{n}")
    assert purge_expired(now=timezone.now() + timedelta(hours=2)).messages == 10
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_purge_command_runs_once(identity, capsys):
    call_command("purge_expired")
    assert "purge_expired: messages=0" in capsys.readouterr().out


# --- Deleted means gone from the file ---------------------------------------------------------
SQLITE_SCRIPT = """
import sys
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from accounts.services import identity_create_anonymous
from rooms import services
from rooms.models import Message, Room
from rooms.retention import purge_expired

marker = sys.argv[-1]
room = Room.objects.create(slug="marker-room", title="m", house_rules="r", retention_hours=1,
                           flood_limit=False)
member = services.rules_accept(membership=services.membership_ensure(
    user=identity_create_anonymous(), room=room))
for n in range(50):
    services.message_post(membership_id=member.pk, body=f"{marker} {n}", client_id=f"c{n}")
tokens = list(Message.objects.values_list("body_encrypted", flat=True))
with connection.cursor() as cursor:
    cursor.execute("PRAGMA secure_delete")
    print("SECURE_DELETE", cursor.fetchone()[0])
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print("TOKEN", tokens[0][:60])
print("PURGED", purge_expired(now=timezone.now() + timedelta(hours=2)).messages)
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
"""


def test_marker_is_nowhere_in_the_sqlite_file_after_expiry_and_purge(tmp_path):
    marker = f"MARKER-{uuid.uuid4().hex}"
    db_file = tmp_path / "halqa.sqlite3"
    env = {**os.environ, "HALQA_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{db_file}",
           "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "server.settings"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    script = tmp_path / "marker.py"
    script.write_text(SQLITE_SCRIPT)
    done = subprocess.run(
        [sys.executable, "-c",
         "import django, runpy, sys; django.setup(); runpy.run_path(sys.argv[1])",
         str(script), marker],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["SECURE_DELETE"] == "1" and lines["PURGED"] == "50"
    token = lines["TOKEN"].encode()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("halqa.sqlite3")]
    data = b"".join(p.read_bytes() for p in files)
    assert marker.encode() not in data  # never there in clear: encrypted at rest
    assert token not in data  # and the ciphertext's pages were overwritten, not just freed
    assert b"marker-room" in data  # the scan does see what is really still stored


# --- Crypto-shredding --------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_ending_an_ephemeral_session_leaves_copies_of_its_rows_unreadable(identity, settings):
    room = room_create(retention="ephemeral")
    membership = member(identity(), room)
    for n in range(3):
        post(membership, f"secret {n}")
    session = Session.objects.get(room=room)
    backup_messages = list(Message.objects.values("body_encrypted", "session_id"))
    backup_sessions = list(Session.objects.values("id", "wrapped_key"))
    assert backup_sessions[0]["wrapped_key"] == ""  # its key never touches the database

    services.session_end(session=session)
    assert not Message.objects.filter(room=room).exists()

    # With every key that remains anywhere (master keys, session rows, the cache)...
    candidates = [row["wrapped_key"] for row in backup_sessions if row["wrapped_key"]]
    candidates += [w for w in Session.objects.values_list("wrapped_key", flat=True) if w]
    assert crypto.ephemeral_key_get(session_id=session.pk) is None
    keys = [Fernet(crypto.master().decrypt(w.encode())) for w in candidates]
    keys += [Fernet(key) for key in settings.HALQA_MASTER_KEYS]  # even the master keys
    for row in backup_messages:
        for key in keys:
            with pytest.raises(InvalidToken):
                key.decrypt(row["body_encrypted"].encode())


@pytest.mark.django_db(transaction=True)
async def test_last_person_leaving_an_ephemeral_circle_ends_it(connect, identity):
    room = await adb(room_create)(retention="ephemeral")
    a, _ = await enter(connect, await adb(identity)(), room)
    await a.send({"type": "message.send", "body": "only while we are here", "client_id": "e1"})
    await a.receive_type("message.ack")
    session = await adb(Session.objects.get)(room=room)
    assert await adb(crypto.ephemeral_key_get)(session_id=session.pk)
    await a.close()
    assert not await adb(Message.objects.filter(room=room).exists)()
    assert await adb(crypto.ephemeral_key_get)(session_id=session.pk) is None


@pytest.mark.django_db
def test_rotating_the_master_key_rewraps_session_keys_without_touching_messages(
        identity, settings):
    room = room_create()
    membership = member(identity(), room)
    post(membership, "kept across a rotation")
    tokens_before = list(Message.objects.values_list("body_encrypted", flat=True))
    old = settings.HALQA_MASTER_KEYS
    new = Fernet.generate_key().decode()
    settings.HALQA_MASTER_KEYS = [new, *old]
    call_command("rotate_master_key")
    settings.HALQA_MASTER_KEYS = [new]  # the old master key is gone
    crypto.forget(Session.objects.get().wrapped_key)
    assert [m["body"] for m in selectors.message_history(room_id=room.pk).messages] == [
        "kept across a rotation"]
    assert list(Message.objects.values_list("body_encrypted", flat=True)) == tokens_before


# --- Forget me ---------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_forget_me_erases_everything_and_updates_other_screens_live(connect, identity):
    room = await adb(room_create)()
    leaving, staying = await adb(identity)(), await adb(identity)()
    a, welcome_a = await enter(connect, leaving, room)
    b, _ = await enter(connect, staying, room)
    ids = []
    for n in range(2):
        await a.send({"type": "message.send", "body": f"mine {n}", "client_id": f"x{n}"})
        ids.append((await a.receive_type("message.ack"))["id"])
    await b.send({"type": "message.send", "body": "not mine", "client_id": "y"})
    await b.receive_type("message.ack")

    def forget_me():
        client = Client()
        client.force_login(leaving)
        return client.delete("/api/v1/identities/me/").status_code

    assert await adb(forget_me)() == 204
    deleted = await b.receive_type("message.deleted")
    assert deleted["ids"] == ids
    presence = await b.receive_type("presence")
    assert welcome_a["you"]["alias"] not in [m["alias"] for m in presence["members"]]
    assert (await a.receive_type("notice"))["code"] == "identity_erased"
    assert (await a.communicator.receive_output(timeout=3))["code"] == 4410

    assert not await adb(User.objects.filter(pk=leaving.pk).exists)()
    assert not await adb(Membership.objects.filter(user_id=leaving.pk).exists)()
    assert await adb(Message.objects.count)() == 1
    entries = await adb(list)(Action.objects.values("kind", "target_alias", "actor_id"))
    assert entries == [{"kind": "identity_erased", "target_alias": "", "actor_id": None}]
    assert not await adb(Presence.objects.filter(membership__user_id=leaving.pk).exists)()


@pytest.mark.django_db(transaction=True)
async def test_forget_me_takes_the_reports_about_them_and_unnames_their_own(connect, identity):
    from moderation.models import Report

    room = await adb(room_create)()
    leaving, other = await adb(identity)(), await adb(identity)()
    a, _ = await enter(connect, leaving, room)
    b, welcome_b = await enter(connect, other, room)
    await a.send({"type": "message.send", "body": "reported words", "client_id": "r1"})
    mine = (await a.receive_type("message.ack"))["id"]
    await b.send({"type": "message.send", "body": "other words", "client_id": "r2"})
    theirs = (await b.receive_type("message.ack"))["id"]
    await b.send({"type": "report", "message_id": mine, "reason": "harassment"})
    await b.receive_type("notice")
    await a.send({"type": "report", "message_id": theirs, "reason": "spam"})
    await a.receive_type("notice")

    def forget_me():
        client = Client()
        client.force_login(leaving)
        return client.delete("/api/v1/identities/me/").status_code

    assert await adb(forget_me)() == 204
    left = await adb(list)(Report.objects.values("target_alias", "reporter_alias"))
    assert left == [{"target_alias": welcome_b["you"]["alias"], "reporter_alias": ""}]


# --- No trace of who was there: logs ---------------------------------------------------------
CANARY_ADDRESS = "198.51.100.77"
CANARY_FORWARDED = "203.0.113.99"


@pytest.mark.django_db(transaction=True)
async def test_no_log_line_holds_a_client_address_or_message_text(identity, caplog):
    from channels.testing import WebsocketCommunicator

    from server.asgi import application
    from tests.conftest import ORIGIN, Socket, session_cookie_for

    canary_text = f"CANARY-TEXT-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)  # everything any logger says, at every level
    room = await adb(room_create)()
    user = await adb(identity)()
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", headers=[
        (b"origin", ORIGIN), (b"cookie", await adb(session_cookie_for)(user)),
        (b"x-forwarded-for", CANARY_FORWARDED.encode()),
    ])
    communicator.scope["client"] = (CANARY_ADDRESS, 40123)
    assert (await communicator.connect(timeout=5))[0]
    socket = Socket(communicator)
    await socket.receive_type("welcome")
    await socket.send({"type": "rules.accept"})
    await socket.receive_type("welcome")
    await socket.send({"type": "message.send", "body": canary_text, "client_id": "c1"})
    await socket.receive_type("message.ack")
    await socket.send({"type": "message.send", "body": canary_text + " word" * 500,
                       "client_id": "c2"})  # refused: too long
    await socket.receive_type("error")
    await socket.send('{"type": "message.send", "body": "' + canary_text + '"')  # bad JSON
    await socket.receive_type("error")

    def http_round():
        client = Client(REMOTE_ADDR=CANARY_ADDRESS, HTTP_X_FORWARDED_FOR=CANARY_FORWARDED)
        client.force_login(user)
        client.get(f"/rooms/{room.slug}/")
        client.get("/no-such-page/")
        client.post(f"/api/v1/rooms/{room.slug}/messages/",
                    {"body": canary_text, "client_id": "http1"}, content_type="application/json")
        client.post(f"/api/v1/rooms/{room.slug}/messages/", "{not json",
                    content_type="application/json")

    await adb(http_round)()
    await socket.close()
    await adb(purge_expired)()
    assert caplog.records, "the run should have logged something to check"
    for record in caplog.records:
        line = record.getMessage() + repr(record.args) + str(getattr(record, "request", ""))
        for secret in (CANARY_ADDRESS, CANARY_FORWARDED, canary_text):
            assert secret not in line, f"{record.name} logged {secret!r}"


# --- Redis: the marker never rests there, and nothing of the layer outlives its expiry ---------
LAYER_EXPIRY = 2  # seconds an undelivered frame may wait (30 in production)
GROUP_EXPIRY = 4  # seconds a membership of a dead socket lasts (86400 in production)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_redis_holds_no_marker_and_every_layer_key_expires(redis_layers, connect, identity,
                                                                  settings):
    import asyncio
    import time

    import redis.asyncio as aioredis
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer

    from rooms import events

    prefix = settings.REDIS_PREFIX
    config = {**redis_layers["default"]["CONFIG"], "expiry": LAYER_EXPIRY,
              "group_expiry": GROUP_EXPIRY, "symmetric_encryption_keys": ["test-layer-secret"]}
    settings.CHANNEL_LAYERS = {
        alias: {**layer, "CONFIG": dict(config)} for alias, layer in redis_layers.items()}
    marker = f"REDIS-MARKER-{uuid.uuid4().hex}"
    room = await adb(room_create)(retention_hours=1)
    a, _ = await enter(connect, await adb(identity)(), room, layer="default")
    b, _ = await enter(connect, await adb(identity)(), room, layer="second")
    # What crosses Redis for the circle: the fan-out hub's pub/sub channel (rooms.hub), read by
    # a raw subscriber as anyone with access to Redis could.
    listener = aioredis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    await listener.subscribe(f"{prefix}:hub:room:{room.pk}")
    # A socket whose server died without saying goodbye: it stays in a person's group, so a
    # frame for that person waits in Redis for a reader that is gone.
    for n in range(3):
        await a.send({"type": "message.send", "body": f"{marker} {n}", "client_id": f"r{n}"})
        await a.receive_type("message.ack")
    for _ in range(3):
        await b.receive_type("message.new", timeout=5)
    crossed = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # None also stands for the subscription's confirmation
        message = await listener.get_message(timeout=0.2)
        if message is not None:
            crossed.append(message["data"])
    await listener.aclose()
    assert len(crossed) >= 3  # the three messages (and presence) crossed, encrypted
    assert not [data for data in crossed if marker.encode() in data]
    layer = get_channel_layer()
    dead_channel = "specific.deadprocess!socket"
    await layer.group_add(events.member_group(0), dead_channel)
    await layer.group_send(events.member_group(0), {"type": "frame.relay", "text": marker})

    client = aioredis.from_url(REDIS_URL)

    def is_layer_key(key: bytes) -> bool:
        """Channel queues are `<prefix><channel>`, groups `<prefix>:group:<name>`; the cache
        (`<prefix>:1:...`) and the flood counters (`<prefix>:rate:...`) are not the layer's."""
        rest = key.decode()[len(prefix):]
        return rest.startswith(":group:") or not rest.startswith(":")

    async def raw_value(key: bytes) -> bytes | None:
        """Every byte a key holds, read by its type. (Not DUMP: its LZF compression splits
        a text into pieces, so a marker would never be found in it.)"""
        kind = (await client.type(key)).decode()
        if kind == "string":
            return await client.get(key)
        if kind == "list":
            parts = await client.lrange(key, 0, -1)
        elif kind == "set":
            parts = list(await client.smembers(key))
        elif kind == "zset":
            parts = [member for member, _ in await client.zrange(key, 0, -1, withscores=True)]
        elif kind == "hash":
            parts = [part for item in (await client.hgetall(key)).items() for part in item]
        elif kind == "none":
            return None
        else:
            raise AssertionError(f"unexpected Redis type {kind} at {key!r}")
        return b"\n".join(parts) or b""

    async def snapshot() -> dict[bytes, tuple[bytes, int]]:
        """Every key of this test: all the bytes it holds, and its TTL."""
        found = {}
        async for key in client.scan_iter(match=f"{prefix}*", count=500):
            value = await raw_value(key)
            if value is not None:
                found[key] = (value, await client.ttl(key))
        return found

    try:
        # The scan would see plain text if it were there: a frame sent on a layer without
        # encryption is found in the queue it waits in.
        probe = f"PROBE-{uuid.uuid4().hex}"
        plain = RedisChannelLayer(**{**config, "symmetric_encryption_keys": None})
        await plain.send("halqa.probe", {"type": "probe", "text": probe})
        await plain.close_pools()
        assert any(probe.encode() in value for value, _ in (await snapshot()).values())
        await client.delete(f"{prefix}halqa.probe")

        keys = await snapshot()
        layer_keys = {key: ttl for key, (_, ttl) in keys.items() if is_layer_key(key)}
        dead_queue = (prefix + "specific.deadprocess!").encode()
        assert dead_queue in layer_keys, f"the undelivered frames should be queued: {keys}"
        assert (prefix + ":group:member.0").encode() in layer_keys
        assert not [key for key, (dumped, _) in keys.items() if marker.encode() in dumped]
        # Nothing persists without an expiry (-1), the layer's keys within the layer's own.
        assert not [key for key, (_, ttl) in keys.items() if ttl < 0], keys
        for key, ttl in layer_keys.items():
            assert 0 < ttl <= (GROUP_EXPIRY if b":group:" in key else LAYER_EXPIRY), (key, ttl)

        await a.close()
        await b.close()
        await adb(purge_expired)(now=timezone.now() + timedelta(hours=2))
        assert not [key for key, (dumped, _) in (await snapshot()).items()
                    if marker.encode() in dumped]

        # After the layer's expiry, nothing of the layer is left in Redis for this test.
        deadline = time.monotonic() + max(LAYER_EXPIRY, GROUP_EXPIRY) + 3
        while time.monotonic() < deadline:
            left = [key for key in await snapshot() if is_layer_key(key)]
            if not left:
                break
            await asyncio.sleep(0.25)
        assert left == [], f"channel-layer keys outlived their expiry: {left}"
        assert not [key for key, (dumped, _) in (await snapshot()).items()
                    if marker.encode() in dumped]
    finally:
        await client.aclose()
