"""The close race (issue 14, finding 2), over a real server (`manage.py serve`, daphne) on a spare
port, spoken to with raw websockets: people join an ephemeral circle, send, and close at once,
while the server is still answering them and relaying the others' messages to them. Between a
client's close frame and the moment daphne learns the connection is gone, autobahn refuses every
frame ("Attempt to send on a closed protocol"): the consumer must take that as the normal end it
is, so the usual goodbye follows: no presence row is left, and the last person leaving ends the
session (its messages deleted, its keys destroyed).

Each of 200 rounds has three people join, send three messages each, and leave at once, each in
one of five ways: the close handshake (a close frame, a moment, then the server's answer and the
end of TCP), the same after the server's first answer, dropping the connection, a reset, a reset
right after the server's first answer. Only this test's server runs, without its purge, so
nothing tidies up after a consumer that died; and a frame refused by autobahn that reached any
code as an exception shows as a traceback in the server's output. (Run against the consumer as
it was before, its `send` not catching autobahn's Disconnected, each run of these rounds left
such tracebacks, and some left a consumer dead, with its presence row and an open session.)
"""

from __future__ import annotations

import json
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

from tests.browser.conftest import ROOT, server_env
from tests.test_daphne_e2e import CLOSE, RawSocket, serve, stop

ROOM_SLUG = "close-race-circle"
ROUNDS = 200
GROUP = 3  # people per round
MESSAGES = 3  # each, sent at once before leaving
PEOPLE = 100  # each opens 6 sockets: well within the reconnect limit per identity
MAKE_PEOPLE = f"""
from datetime import timedelta
from django.test import Client
from django.utils import timezone
from accounts.models import User
from accounts.services import identity_create_anonymous
from rooms import services
from rooms.models import Room

room = Room.objects.create(slug={ROOM_SLUG!r}, title="Race", language="en",
                           house_rules="Be kind.", retention="ephemeral", flood_limit=False,
                           capacity=12)
for _ in range({PEOPLE}):
    user = identity_create_anonymous()
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=1))
    services.rules_accept(membership=services.membership_ensure(user=user, room=room))
    client = Client()
    client.force_login(user)
    print("COOKIE", client.cookies["sessionid"].value)
"""
STYLES = ("handshake", "drop", "handshake-after-ack", "reset", "handshake",
          "reset-after-ack")


def _reset(raw: RawSocket) -> None:
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()


def _send(raw: RawSocket, client_id: str) -> None:
    for n in range(MESSAGES):
        raw.send_frame(0x1, json.dumps({"type": "message.send", "body": f"race {client_id}",
                                        "client_id": f"{client_id}-{n}"}).encode())


def _leave(raw: RawSocket, style: str) -> None:
    """Start leaving; a handshake is finished by `_finish`."""
    if style == "handshake-after-ack":
        raw.receive_json("message.ack")
    if style.startswith("handshake"):
        raw.send_frame(CLOSE, struct.pack("!H", 1000))
    elif style == "drop":
        raw.close()
    elif style == "reset":
        _reset(raw)
    else:
        raw.receive_json("message.ack")
        _reset(raw)


def _finish(raw: RawSocket, style: str) -> None:
    if style.startswith("handshake"):
        raw.close_code()  # the server's close frame (or the end of the connection)
        raw.close()


def _state(db_file: Path) -> tuple[int, int, int]:
    """(presence rows, open sessions, messages) of the circle, read beside the server."""
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=10) as db:
        room_id = db.execute("SELECT id FROM rooms_room WHERE slug = ?",
                             [ROOM_SLUG]).fetchone()[0]
        return tuple(db.execute(sql, [room_id]).fetchone()[0] for sql in (
            "SELECT COUNT(*) FROM rooms_presence WHERE room_id = ?",
            "SELECT COUNT(*) FROM rooms_session WHERE room_id = ? AND ended_at IS NULL",
            "SELECT COUNT(*) FROM rooms_message WHERE room_id = ?"))


def _settled(db_file: Path, *, seconds: float = 10.0) -> tuple[int, int, int]:
    deadline = time.monotonic() + seconds
    while True:
        state = _state(db_file)
        if state == (0, 0, 0) or time.monotonic() > deadline:
            return state
        time.sleep(0.02)


def test_join_send_close_at_once_200_times_leaves_no_presence_and_ends_every_session(
        tmp_path: Path) -> None:
    env = server_env(tmp_path, "race.sqlite3", PYTHONUNBUFFERED="1")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    made = subprocess.run([*manage, "shell", "-c", MAKE_PEOPLE], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True)
    cookies = [line.split(" ", 1)[1] for line in made.stdout.splitlines()
               if line.startswith("COOKIE ")]
    assert len(cookies) == PEOPLE
    db_file = tmp_path / "race.sqlite3"
    server, port = serve(tmp_path, env)
    origin = f"http://127.0.0.1:{port}"
    unsettled = []
    sessions_before = 0
    try:
        for round_ in range(ROUNDS):
            group = [RawSocket(port, f"/ws/rooms/{ROOM_SLUG}/", origin=origin,
                               cookie=f"sessionid={cookies[(GROUP * round_ + n) % PEOPLE]}")
                     for n in range(GROUP)]
            for raw in group:
                assert raw.status == 101
                assert raw.receive_json("welcome")["joined"]
            styles = [STYLES[(round_ + n) % len(STYLES)] for n in range(GROUP)]
            for n, raw in enumerate(group):
                _send(raw, f"r{round_}-{n}")
            for raw, style in zip(group, styles, strict=True):
                _leave(raw, style)
            # Closing tabs do not read at once: meanwhile the server still has frames for them.
            time.sleep(0.02)
            for raw, style in zip(group, styles, strict=True):
                _finish(raw, style)
            state = _settled(db_file)
            if state != (0, 0, 0):
                unsettled.append((round_, state))
                if len(unsettled) > 5:
                    break
        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as db:
            sessions_before = db.execute("SELECT COUNT(*) FROM rooms_session").fetchone()[0]
    finally:
        stop(server)
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert not unsettled, f"(round, (presence, open sessions, messages)): {unsettled}\n{log}"
    # Every round opened a session and ended it (its messages were deleted with it).
    assert sessions_before == ROUNDS
    assert "Exception inside application" not in log, log
    assert "Traceback" not in log, log
