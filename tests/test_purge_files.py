"""After a purge, the deleted rows are out of the database's own files too, not only out of SQL:
SQLite's main file holds none of them right after the purge (no waiting for a later WAL
checkpoint), and PostgreSQL's pages hold no version of them (the purge VACUUMs what it deleted
from). Each runs on a database of its own, as the server would, outside any test transaction."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.utils import timezone

from rooms.retention import _TABLES_BY_STEP, PurgeReport, purge_expired

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("HALQA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def run_script(tmp_path: Path, source: str, env: dict[str, str], *args: str) -> list[list[str]]:
    """Migrate the database of `env`, run `source` against it in a process of its own, and
    return the lines it printed, each split into its first word and the rest."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    migrated = subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT,
                              capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    script = tmp_path / "purge.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, "-c",
         "import django, runpy, sys; django.setup(); runpy.run_path(sys.argv[1])",
         str(script), *args],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    return [line.split(" ", 1) for line in done.stdout.splitlines() if " " in line]


# Fifty messages are written and their pages checkpointed into the main file; the purge deletes
# them; the files are copied the moment it returns, the connection still open (closing the last
# connection checkpoints by itself, which would hide what the purge left).
SQLITE_SCRIPT = """
import shutil, sys
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from accounts.services import identity_create_anonymous
from rooms import services
from rooms.models import Message, Room
from rooms.retention import purge_expired

marker, db_file = sys.argv[-2], sys.argv[-1]
room = Room.objects.create(slug="purged-room", title="m", house_rules="r", retention_hours=1,
                           flood_limit=False)
member = services.rules_accept(membership=services.membership_ensure(
    user=identity_create_anonymous(), room=room))
for n in range(50):
    services.message_post(membership_id=member.pk, body=f"{marker} {n}", client_id=f"c{n}")
for token in Message.objects.values_list("body_encrypted", flat=True):
    print("TOKEN", token[:60])
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the rows are in the main file now
print("IN-MAIN", open(db_file, "rb").read().count(b"purged-room") > 0)
print("PURGED", purge_expired(now=timezone.now() + timedelta(hours=2)).messages)
shutil.copyfile(db_file, db_file + ".copy")
print("OPEN", connection.connection is not None)
"""


def test_the_main_sqlite_file_holds_no_purged_row_right_after_the_purge(tmp_path):
    marker = f"MARKER-{uuid.uuid4().hex}"
    db_file = tmp_path / "halqa.sqlite3"
    env = {**os.environ, "HALQA_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{db_file}",
           "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "server.settings"}
    lines = run_script(tmp_path, SQLITE_SCRIPT, env, marker, str(db_file))
    values = dict(lines)
    tokens = [value.encode() for key, value in lines if key == "TOKEN"]
    assert len(tokens) == 50 and values["PURGED"] == "50" and values["OPEN"] == "True"
    assert values["IN-MAIN"] == "True"  # before the purge, the main file did hold the rows

    main = (tmp_path / "halqa.sqlite3.copy").read_bytes()
    assert b"purged-room" in main  # the scan sees what is really still stored
    assert marker.encode() not in main  # never there in clear
    left = [token for token in tokens if token in main]
    assert not left, f"{len(left)} purged rows still in the main file"


PG_SCRIPT = """
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from accounts.services import identity_create_anonymous
from rooms import services
from rooms.models import Room
from rooms.retention import purge_expired

# Live and dead row versions in every page of the table, as its files hold them.
ROW_VERSIONS = '''
    SELECT count(*) FILTER (WHERE t_xmax = 0), count(*) FILTER (WHERE t_xmax <> 0)
    FROM generate_series(0, pg_relation_size('rooms_message')
                            / current_setting('block_size')::int - 1) AS block,
         heap_page_items(get_raw_page('rooms_message', block::int))
    WHERE lp_flags = 1'''
user = identity_create_anonymous()
for slug, hours, count in (("purged-room", 1, 20), ("kept-room", 48, 1)):
    room = Room.objects.create(slug=slug, title="m", house_rules="r", retention_hours=hours,
                               flood_limit=False)
    member = services.rules_accept(membership=services.membership_ensure(user=user, room=room))
    for n in range(count):
        services.message_post(membership_id=member.pk, body=f"{slug} {n}", client_id=f"c{n}")
with connection.cursor() as cursor:
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    cursor.execute(ROW_VERSIONS)
    print("BEFORE", *cursor.fetchone())
    print("PURGED", purge_expired(now=timezone.now() + timedelta(hours=2)).messages)
    cursor.execute(ROW_VERSIONS)
    print("AFTER", *cursor.fetchone())
"""


def test_on_postgresql_the_purge_leaves_no_version_of_a_purged_row_in_the_pages(tmp_path):
    name = f"halqa_purge_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "HALQA_VAR_DIR": str(tmp_path),
               "DATABASE_URL": f"{POSTGRES.replace('postgresql:', 'postgres:')}/{name}",
               "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "server.settings"}
        values = dict(run_script(tmp_path, PG_SCRIPT, env))
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert values["BEFORE"] == "21 0" and values["PURGED"] == "20"
    # A DELETE alone leaves the 20 as dead row versions in the page, next to the one kept; the
    # purge's VACUUM frees their line pointers (the freed bytes are not wiped: crypto-shredding
    # is what covers those).
    assert values["AFTER"] == "1 0"


@pytest.mark.django_db
def test_inside_a_transaction_the_purge_leaves_the_files_and_says_so(caplog):
    caplog.set_level(logging.DEBUG, logger="rooms.retention")
    purge_expired(now=timezone.now() + timedelta(hours=1))
    assert "in a transaction, database files not compacted" in caplog.text


def test_every_step_of_the_purge_names_the_tables_it_compacts():
    """A new step of the purge must say which tables it deletes from, or PostgreSQL would never
    VACUUM them after it."""
    assert set(_TABLES_BY_STEP) == {field.name for field in fields(PurgeReport)}
