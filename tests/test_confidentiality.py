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
from rooms import crypto, services
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
def test_expired_message_is_never_served_again_even_before_the_purge(identity):
    room = room_create(retention_hours=1)
    user = identity()
    membership = member(user, room)
    old, fresh = post(membership, "old news"), post(membership, "fresh")
    Message.objects.filter(pk=old).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert [m["body"] for m in services.message_history(room_id=room.pk).messages] == ["fresh"]
    assert [m["id"] for m in services.message_history(room_id=room.pk, after=0).messages] == [
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
    assert [m["body"] for m in services.message_history(room_id=room.pk).messages] == [
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


# --- Redis: the marker never rests there -----------------------------------------------------
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_no_redis_key_holds_the_marker(redis_layers, connect, identity, settings):
    import redis.asyncio as aioredis

    for alias in ("default", "second"):
        settings.CHANNEL_LAYERS[alias]["CONFIG"]["symmetric_encryption_keys"] = [
            "test-layer-secret"]
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS}
    marker = f"REDIS-MARKER-{uuid.uuid4().hex}"
    room = await adb(room_create)(retention_hours=1)
    a, _ = await enter(connect, await adb(identity)(), room, layer="default")
    b, _ = await enter(connect, await adb(identity)(), room, layer="second")
    for n in range(3):
        await a.send({"type": "message.send", "body": f"{marker} {n}", "client_id": f"r{n}"})
        await a.receive_type("message.ack")
    await b.receive_type("message.new", timeout=5)
    await b.close()  # b's queue stops being read: anything left would sit in Redis

    client = aioredis.from_url(REDIS_URL)

    async def keys_holding(needle: bytes) -> list[bytes]:
        found = []
        async for key in client.scan_iter(count=500):
            dumped = await client.dump(key)
            if dumped and needle in dumped:
                found.append(key)
        return found

    # The scan would see plain text if it were there: a frame sent without encryption is found.
    probe = f"PROBE-{uuid.uuid4().hex}"
    await client.set(f"halqa-test-probe-{probe}", probe, ex=30)
    assert await keys_holding(probe.encode())
    await client.delete(f"halqa-test-probe-{probe}")

    assert await keys_holding(marker.encode()) == []
    await adb(purge_expired)(now=timezone.now() + timedelta(hours=2))
    assert await keys_holding(marker.encode()) == []
    await client.aclose()
