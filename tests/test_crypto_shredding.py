"""Deleted means gone in every copy (issue 14, findings 1 and 5): each author writes in each
circle session with a key of their own (rooms.AuthorKey), and a report's copy of a message is
encrypted with the message's key, so destroying keys shreds every copy.

The attacker of these tests holds a copy of the database and the master keys, and uses the
project's own code: every Fernet token found in the copy is tried as a wrapped key (with the
master keys) and as a text under every key so found, plus whatever the cache still holds. A
"control" step shows the same attacker does read the copy while the keys live.

Finding 1: a copy taken before an ephemeral session ends (the SQLite file; a pg_dump restored into
a second PostgreSQL database) reads nothing of it afterwards, report copies and private messages
included; the report itself stays and says "message expired". Finding 5: after "Forget me" and
after the purge, no row version of the erased or purged messages in PostgreSQL's raw pages (read
with pg_read_binary_file after CHECKPOINT) decrypts.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import identity_erase
from moderation import services as moderation
from moderation.models import Report
from rooms import crypto, selectors, services
from rooms.models import AuthorKey, Message, Session
from rooms.retention import purge_expired
from tests.conftest import room_create
from tests.test_confidentiality import member, post
from tests.test_purge_files import POSTGRES, run_script


def _marker(kind: str) -> str:
    """A unique word of letters only: digits could look like a phone or ID number, which the
    house rules would hide before the text is stored."""
    return f"{kind}-" + uuid.uuid4().hex.translate(str.maketrans("0123456789", "ghijklmnop"))


# The attacker, shared by the scripts below (each runs in a process of its own, as the server).
ATTACKER = r'''
import pickle
import re
import sys
from django.core.cache import cache
from rooms import crypto

TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_=-]{60,}")
# A Fernet token is 57 + 16k bytes, base64url with padding; what follows it in a row (the next
# column, a length byte) may look like base64 too, so every valid length is tried.
LENGTHS = [4 * -(-(57 + 16 * k) // 3) for k in range(1, 700)]


def tokens_in(*blobs):
    found = set()
    for blob in blobs:
        for match in TOKEN.finditer(blob):
            text = match.group().decode()
            found.update(text[:size] for size in LENGTHS if size <= len(text))
    return found


def cache_values():
    """Every value the cache holds now (the server's memory: LocMemCache)."""
    values = []
    for raw in list(getattr(cache, "_cache", {}).values()):
        try:
            value = pickle.loads(raw)
        except Exception:
            continue
        if isinstance(value, str):
            values.append(value.encode())
    return values


def readable(tokens):
    """What the master keys and the project's own code get out of these tokens: one text per
    token that opens (sealed with a master key, or encrypted with a key wrapped by one)."""
    crypto.forget_all()
    wrapped = [token for token in tokens if crypto.unseal(token) is not None]
    texts = [crypto.unseal(token) for token in wrapped]
    for token in tokens:
        for key in wrapped:
            try:
                texts.append(crypto.decrypt(wrapped_key=key, token=token))
            except crypto.KeyDestroyed:
                continue
            break
    return texts


def count(texts, marker):
    return sum(1 for text in texts if marker in text)
'''

# An ephemeral circle: two people talk, one reports the other's message, a facilitator talks
# privately with the writer. Everything of it carries `marker`.
EPHEMERAL_CIRCLE = r'''
from accounts.models import User
from accounts.services import identity_create_anonymous
from moderation import services as moderation
from moderation import support
from moderation.models import Report
from moderation.selectors import report_payload
from rooms import services
from rooms.models import Room, Session


def ephemeral_circle(marker):
    room = Room.objects.create(slug="shredded", title="m", house_rules="r",
                               retention="ephemeral", flood_limit=False)
    writer, reporter = identity_create_anonymous(), identity_create_anonymous()
    helper = User.objects.create_user("helper", role=User.Role.FACILITATOR)
    room.facilitators.add(helper)
    a, b = (services.rules_accept(membership=services.membership_ensure(user=user, room=room))
            for user in (writer, reporter))
    services.presence_enter(membership=a, channel_name="socket-a")
    services.presence_enter(membership=b, channel_name="socket-b")
    said = [services.message_post(membership_id=a.pk, body=f"{marker} said {n}",
                                  client_id=f"a{n}").message.pk for n in range(3)]
    services.message_post(membership_id=b.pk, body=f"{marker} answered", client_id="b0")
    moderation.report_create(user=reporter, room=room, message_id=said[0], reason="other")
    talk = support.support_open(actor=helper, room=room, alias=a.alias)["conversation_id"]
    support.support_send(user=writer, conversation_id=talk, body=f"{marker} privately",
                         client_id="p0")
    support.support_send(user=helper, conversation_id=talk, body=f"{marker} answered privately",
                         client_id="p1")
    return room


def everyone_leaves():
    services.presence_leave(channel_name="socket-a")
    services.presence_leave(channel_name="socket-b")  # the last person: the session ends


def report_after():
    report = Report.objects.get()
    payload = report_payload(report)
    print("REPORT", payload["text"] is None, payload["expired"], payload["reason"])
    print("ENDED", Session.objects.filter(ended_at__isnull=True).count())
'''

SQLITE_COPY_SCRIPT = ATTACKER + EPHEMERAL_CIRCLE + r'''
from django.db import connection

marker, db_file, copy_dir = sys.argv[-3], sys.argv[-2], sys.argv[-1]
ephemeral_circle(marker)
with connection.cursor() as cursor:  # the rows in the main file, as a file backup finds them
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
copies = []
for suffix in ("", "-wal"):
    try:
        data = open(db_file + suffix, "rb").read()
    except FileNotFoundError:
        continue
    open(f"{copy_dir}/copy{suffix}", "wb").write(data)
    copies.append(data)
# The control: while the session is on, its keys in the cache open the copy.
print("BEFORE", count(readable(tokens_in(*copies, *cache_values())), marker))
everyone_leaves()
live = [open(db_file + suffix, "rb").read() for suffix in ("", "-wal")
        if __import__("os").path.exists(db_file + suffix)]
print("AFTER", count(readable(tokens_in(*copies, *live, *cache_values())), marker))
report_after()
'''

PG_DUMP_SCRIPT = ATTACKER + EPHEMERAL_CIRCLE + r'''
import subprocess
import psycopg
from django.db import connection

marker, server, restored = sys.argv[-3], sys.argv[-2], sys.argv[-1]
ephemeral_circle(marker)
dump = subprocess.run(["pg_dump", "--no-owner", f"{server}/{connection.settings_dict['NAME']}"],
                      capture_output=True, check=True).stdout
subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{server}/{restored}"], input=dump,
               capture_output=True, check=True)


def restored_rows():
    """Every row of every table of the restored copy, as text."""
    with psycopg.connect(f"{server}/{restored}") as copy:
        tables = [name for (name,) in copy.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return [repr(copy.execute(f'SELECT x::text FROM "{table}" x').fetchall()).encode()
                for table in tables]


def live_rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [name for (name,) in cursor.fetchall()]
        rows = []
        for table in tables:
            cursor.execute(f'SELECT x::text FROM "{table}" x')
            rows.append(repr(cursor.fetchall()).encode())
        return rows


copy = restored_rows()
print("RESTORED", sum(1 for rows in copy if marker.encode() in rows))  # never in clear
print("BEFORE", count(readable(tokens_in(*copy, *cache_values())), marker))
everyone_leaves()
print("AFTER", count(readable(tokens_in(dump, *restored_rows(), *live_rows(),
                                        *cache_values())), marker))
report_after()
'''


def test_a_sqlite_copy_taken_before_an_ephemeral_session_ends_reads_nothing_of_it(tmp_path):
    marker = _marker("EPHEMERAL")
    db_file = tmp_path / "halqa.sqlite3"
    copies = tmp_path / "copies"
    copies.mkdir()
    env = {**os.environ, "HALQA_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{db_file}",
           "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "server.settings"}
    values = dict(run_script(tmp_path, SQLITE_COPY_SCRIPT, env, marker, str(db_file),
                             str(copies)))
    assert marker.encode() not in (copies / "copy").read_bytes()  # never there in clear
    # Four messages, the report's copy, two private messages: all readable while the keys live.
    assert values["BEFORE"] == "7"
    assert values["AFTER"] == "0"
    # The report stays (its reason, who acted), without the text: "message expired".
    assert values["REPORT"] == "True True other" and values["ENDED"] == "0"


def _database(name: str, *, drop: bool = False) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        if drop:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            admin.execute(f'CREATE DATABASE "{name}"')


def _pg_env(tmp_path: Path, name: str) -> dict[str, str]:
    return {**os.environ, "HALQA_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"{POSTGRES.replace('postgresql:', 'postgres:')}/{name}",
            "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "server.settings"}


def test_a_pg_dump_taken_before_an_ephemeral_session_ends_reads_nothing_of_it(tmp_path):
    assert shutil.which("pg_dump") and shutil.which("psql")
    marker = _marker("EPHEMERAL")
    live, restored = (f"halqa_shred_{uuid.uuid4().hex[:10]}" for _ in range(2))
    _database(live)
    _database(restored)
    try:
        values = dict(run_script(tmp_path, PG_DUMP_SCRIPT, _pg_env(tmp_path, live), marker,
                                 POSTGRES, restored))
    finally:
        _database(live, drop=True)
        _database(restored, drop=True)
    assert values["RESTORED"] == "0"  # the dump holds no marker in clear
    assert values["BEFORE"] == "7"  # the control: with the live keys, the dump reads
    assert values["AFTER"] == "0"
    assert values["REPORT"] == "True True other" and values["ENDED"] == "0"


# --- Finding 5: "Forget me" and the purge, against PostgreSQL's raw pages ------------------------
PG_PAGES_SCRIPT = ATTACKER + r'''
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from accounts.models import User
from accounts.services import identity_create_anonymous, identity_erase
from moderation import services as moderation
from moderation import support
from rooms import services
from rooms.models import Message, Room
from rooms.retention import purge_expired

erased_marker, kept_marker, purged_marker = sys.argv[-3:]
kept_room = Room.objects.create(slug="kept", title="m", house_rules="r", retention_hours=48,
                                flood_limit=False)
short_room = Room.objects.create(slug="short", title="m", house_rules="r", retention_hours=1,
                                 flood_limit=False)
with connection.cursor() as cursor:  # nothing but our own code tidies the pages
    for table in ("rooms_message", "rooms_authorkey", "moderation_report",
                  "moderation_supportmessage"):
        cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
leaving, staying, writer = (identity_create_anonymous() for _ in range(3))
helper = User.objects.create_user("helper", role=User.Role.FACILITATOR)
kept_room.facilitators.add(helper)
a, b = (services.rules_accept(membership=services.membership_ensure(user=user, room=kept_room))
        for user in (leaving, staying))
mine = [services.message_post(membership_id=a.pk, body=f"{erased_marker} {n}",
                              client_id=f"a{n}").message.pk for n in range(6)]
for n in range(2):
    services.message_post(membership_id=b.pk, body=f"{kept_marker} {n}", client_id=f"b{n}")
moderation.report_create(user=staying, room=kept_room, message_id=mine[0], reason="other")
talk = support.support_open(actor=helper, room=kept_room, alias=a.alias)["conversation_id"]
support.support_send(user=leaving, conversation_id=talk, body=f"{erased_marker} privately",
                     client_id="p0")
c = services.rules_accept(membership=services.membership_ensure(user=writer, room=short_room))
for n in range(3):
    services.message_post(membership_id=c.pk, body=f"{purged_marker} {n}", client_id=f"c{n}")
erased_tokens = list(Message.objects.filter(pk__in=mine).values_list("body_encrypted",
                                                                     flat=True))
purged_tokens = list(Message.objects.filter(author=c).values_list("body_encrypted", flat=True))

identity_erase(user=leaving)  # "Forget me", as the API calls it: outside any transaction


def pages():
    """Every file of this database, as PostgreSQL's own files hold it."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT 'base/' || oid FROM pg_database WHERE datname = current_database()")
        directory = cursor.fetchone()[0]
        cursor.execute("SELECT pg_ls_dir(%s)", [directory])
        blobs = []
        for (name,) in cursor.fetchall():
            cursor.execute("SELECT pg_read_binary_file(%s)", [f"{directory}/{name}"])
            blobs.append(bytes(cursor.fetchone()[0] or b""))
        return blobs


def scan(step):
    raw = pages()
    everything = b"".join(raw)
    print(f"DEAD-{step}", sum(1 for token in erased_tokens if token.encode() in everything),
          sum(1 for token in purged_tokens if token.encode() in everything))
    texts = readable(tokens_in(*raw, *cache_values()))
    print(f"READ-{step}", count(texts, erased_marker), count(texts, kept_marker),
          count(texts, purged_marker))


scan("FORGET")
print("PURGED", purge_expired(now=timezone.now() + timedelta(hours=2)).messages)
scan("PURGE")
'''


def test_after_forget_me_and_the_purge_no_row_version_in_postgresql_pages_decrypts(tmp_path):
    markers = [_marker(kind) for kind in ("ERASED", "KEPT", "PURGED")]
    name = f"halqa_pages_{uuid.uuid4().hex[:10]}"
    _database(name)
    try:
        values = dict(run_script(tmp_path, PG_PAGES_SCRIPT, _pg_env(tmp_path, name), *markers))
    finally:
        _database(name, drop=True)
    assert values["PURGED"] == "3"
    # Right after "Forget me", the erased person's six messages are all still in the pages, as
    # dead row versions (nothing vacuumed rooms_message): only their key is gone.
    assert values["DEAD-FORGET"] == "6 3"
    # Erased: 6 messages and a private one; kept: 2, the control that raw pages do read.
    assert values["READ-FORGET"] == "0 2 3", "a row version of an erased message decrypts"
    # After the purge (whose plain VACUUM frees the tuples without wiping their bytes), none of
    # the purged messages decrypts either, wherever their bytes still are.
    erased_left, purged_left = map(int, values["DEAD-PURGE"].split())
    assert erased_left + purged_left > 0  # there still are bytes to try
    assert values["READ-PURGE"] == "0 2 0", "a row version of a purged message decrypts"


# --- The same rules, in the service layer -------------------------------------------------------
@pytest.mark.django_db
def test_each_author_writes_with_a_key_of_their_own_per_session(identity):
    room = room_create(retention_hours=5)
    first, second = member(identity(), room), member(identity(), room)
    mine = [Message.objects.get(pk=post(first, f"mine {n}")) for n in range(2)]
    theirs = Message.objects.get(pk=post(second, "theirs"))
    assert mine[0].key_id == mine[1].key_id != theirs.key_id
    key = AuthorKey.objects.get(pk=mine[0].key_id)
    assert (key.session_id, key.membership_id) == (mine[0].session_id, first.pk)
    assert key.wrapped_key != Session.objects.get(pk=key.session_id).wrapped_key
    # The session's key opens neither: each author's does.
    with pytest.raises(crypto.KeyDestroyed):
        crypto.decrypt(wrapped_key=key.session.wrapped_key, token=mine[0].body_encrypted)
    assert crypto.decrypt(wrapped_key=key.wrapped_key, token=mine[0].body_encrypted) == "mine 0"


@pytest.mark.django_db
def test_an_ephemeral_circles_author_keys_are_in_the_cache_only(identity):
    room = room_create(retention="ephemeral")
    message = Message.objects.get(pk=post(member(identity(), room), "only while we are here"))
    key = AuthorKey.objects.get(pk=message.key_id)
    assert key.wrapped_key == ""
    assert crypto.ephemeral_author_key_get(key_id=key.pk)
    assert selectors.message_text(message) == "only while we are here"


@pytest.mark.django_db
def test_a_reported_message_that_expired_shows_message_expired_and_the_report_stays(
        identity):
    room = room_create(retention_hours=1)
    writer, reporter = identity(), identity()
    reported = post(member(writer, room), "judge me while I last")
    member(reporter, room)
    moderation.report_create(user=reporter, room=room, message_id=reported, reason="harassment")
    facilitator = room.facilitators.create(username="fac", role="facilitator")
    [before] = moderation.report_list(actor=facilitator, room=room)
    assert (before["text"], before["expired"]) == ("judge me while I last", False)
    stored = Report.objects.get()
    assert stored.snapshot_key_id == Message.objects.get(pk=reported).key_id
    assert "judge me" not in stored.snapshot_encrypted
    # Deleted by a facilitator, the copy still shows until the message would have expired.
    Message.objects.filter(pk=reported).delete()
    assert moderation.report_list(actor=facilitator, room=room)[0]["text"] == (
        "judge me while I last")
    Report.objects.update(snapshot_expires_at=timezone.now() - timedelta(seconds=1))
    [after] = moderation.report_list(actor=facilitator, room=room)
    assert (after["text"], after["expired"]) == (None, True)
    assert (after["reason"], after["reporter"], after["status"]) == (
        "harassment", before["reporter"], "open")
    # Over REST too.
    client = Client()
    client.force_login(facilitator)
    listed = client.get(f"/api/v1/rooms/{room.slug}/reports/").json()
    assert [(r["text"], r["expired"]) for r in listed] == [(None, True)]


@pytest.mark.django_db
def test_the_purge_destroys_a_key_with_its_last_message_and_no_sooner(identity):
    room = room_create(retention_hours=1)
    writer, reporter = member(identity(), room), identity()
    reported = post(writer, "reported")
    member(reporter, room)
    moderation.report_create(user=reporter, room=room, message_id=reported, reason="other")
    key_id = Message.objects.get(pk=reported).key_id
    Message.objects.filter(pk=reported).delete()  # a facilitator took it down
    purge_expired()
    # The report's copy keeps the key until the message would have expired.
    assert AuthorKey.objects.filter(pk=key_id).exists()
    report = purge_expired(now=timezone.now() + timedelta(hours=2))
    assert report.author_keys == 1 and not AuthorKey.objects.filter(pk=key_id).exists()
    assert Report.objects.get().snapshot_key_id is None  # the report stays, unreadable
    # Writing again in the same (still open) session makes a new key.
    again = Message.objects.get(pk=post(writer, "back again"))
    assert again.key_id not in (None, key_id)
    assert selectors.message_text(again) == "back again"


@pytest.mark.django_db
def test_a_destroyed_key_leaves_this_process_at_once(identity,
                                                     django_capture_on_commit_callbacks):
    room = room_create(retention="ephemeral")
    writer = member(identity(), room)
    message = Message.objects.get(pk=post(writer, "soon shredded"))
    key = AuthorKey.objects.get(pk=message.key_id)
    wrapped = crypto.ephemeral_author_key_get(key_id=key.pk)
    spot = {"session_id": key.session_id, "session_started": key.session.started_at,
            "membership_id": writer.pk}
    assert crypto.author_key_cached(**spot) == (key.pk, wrapped)
    assert crypto._fernet_for(wrapped)  # unwrapped in this process's memory
    with django_capture_on_commit_callbacks(execute=True):
        services.session_end(session=message.session)
    assert crypto.author_key_cached(**spot) is None
    assert wrapped not in crypto._unwrapped
    assert crypto.ephemeral_author_key_get(key_id=key.pk) is None
    assert not AuthorKey.objects.filter(pk=key.pk).exists()


@pytest.mark.django_db
def test_forget_me_destroys_the_keys_of_the_person_only(identity,
                                                        django_capture_on_commit_callbacks):
    room = room_create(retention="ephemeral")
    leaving, staying = identity(), identity()
    gone = Message.objects.get(pk=post(member(leaving, room), "mine"))
    kept = Message.objects.get(pk=post(member(staying, room), "theirs"))
    with django_capture_on_commit_callbacks(execute=True):
        identity_erase(user=leaving)
    assert crypto.ephemeral_author_key_get(key_id=gone.key_id) is None
    assert not AuthorKey.objects.filter(pk=gone.key_id).exists()
    assert selectors.message_text(Message.objects.get(pk=kept.pk)) == "theirs"


@pytest.mark.django_db
def test_a_remembered_key_whose_row_is_gone_is_made_anew(identity):
    """This process remembers a key for a while; if its row went meanwhile (destroyed by
    another process, or its transaction rolled back), the insert notices and starts over."""
    room = room_create(retention_hours=5)
    writer = member(identity(), room)
    first = Message.objects.get(pk=post(writer, "first"))
    Message.objects.filter(pk=first.pk).delete()
    AuthorKey.objects.filter(pk=first.key_id).delete()  # behind this process's back
    assert crypto.author_key_cached(session_id=first.session_id,
                                    session_started=first.session.started_at,
                                    membership_id=writer.pk)
    second = Message.objects.get(pk=post(writer, "second"))
    assert second.key_id != first.key_id and selectors.message_text(second) == "second"


@pytest.mark.django_db
def test_only_an_authors_first_message_of_a_session_costs_one_more_statement(room, identity):
    """The key row is made with the author's first message of the session (one statement);
    after that this process remembers the key (and the circle's open session), and the lean
    write path is two statements: the membership and the insert."""
    def statements(membership, client_id: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            services.message_post(membership_id=membership.pk, body="hello", client_id=client_id)
        return len([q for q in queries.captured_queries if not q["sql"].startswith(
            ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))])

    first, second = member(identity(), room), member(identity(), room)
    for n, membership in enumerate((first, second)):
        services.presence_enter(membership=membership, channel_name=f"test.{n}")
    statements(first, "warm-up")  # opens the session
    statements(first, "warm-up-2")  # reads it back: this process now remembers it
    first_message, later = statements(second, "s1"), statements(second, "s2")
    assert first_message == later + 1  # its key row
    assert later == statements(first, "again") == (
        2 if connection.vendor == "sqlite" else 3)  # PostgreSQL: the circle's write lock


@pytest.mark.django_db
def test_a_message_written_before_author_keys_reads_with_its_session_key(identity):
    room = room_create(retention_hours=5)
    writer = member(identity(), room)
    session = services.session_current(room=room)
    Message.objects.create(room=room, session=session, author=writer, client_id="old",
                           body_encrypted=crypto.encrypt(wrapped_key=session.wrapped_key,
                                                         text="from before"),
                           expires_at=timezone.now() + timedelta(hours=1))
    assert [m["body"] for m in selectors.message_history(room_id=room.pk).messages] == [
        "from before"]
    # Reporting it keeps no copy: there is no key of its own for the copy to die with.
    reporter = identity()
    member(reporter, room)
    moderation.report_create(user=reporter, room=room, message_id=Message.objects.get().pk,
                             reason="other")
    assert Report.objects.get().snapshot_encrypted == ""


@pytest.mark.django_db
def test_an_ephemeral_author_key_lost_from_the_cache_is_renewed_not_a_dead_end(identity):
    room = room_create(retention="ephemeral")
    writer = member(identity(), room)
    lost = Message.objects.get(pk=post(writer, "before the cache forgot"))
    crypto.forget_all()  # this process's memory, and then the cache entry itself
    crypto.author_keys_destroy(key_ids=[lost.key_id], wrapped=[])
    again = Message.objects.get(pk=post(writer, "after"))
    assert again.key_id == lost.key_id  # the same row, with a new key in the cache
    assert [m["body"] for m in selectors.message_history(room_id=room.pk).messages] == ["after"]
