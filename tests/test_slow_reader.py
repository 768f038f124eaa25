"""A reader that cannot keep up is closed with 4414, the others never wait for it (issue 11).

Over a real server (`manage.py serve`, daphne) on a spare port: one member's socket stops
reading (a tiny receive buffer, nothing read), another member sends long messages. Once the
frames the network has not taken for the slow socket pass HALQA_SLOW_READER_BYTES, the server
closes it with 4414 (after the frames already queued) and it leaves the circle's presence, while
the sender keeps receiving every message.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from websockets.sync.client import connect

from tests.browser.conftest import ROOT, server_env
from tests.test_daphne_e2e import TEXT, RawSocket, serve, signed_in_cookie, stop

SLUG = "slow-reader-circle"
LIMIT = 16 * 1024
CREATE = (
    "from rooms.models import Room; "
    f"Room.objects.create(slug={SLUG!r}, title='Slow', language='en', house_rules='Be kind.', "
    "flood_burst=1000, flood_per_minute=10000, max_message_length=16000)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    var = tmp_path_factory.mktemp("slow-reader")
    env = server_env(var, "slow.sqlite3", HALQA_SLOW_READER_BYTES=str(LIMIT))
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    subprocess.run([*manage, "shell", "-c", CREATE], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    process, port = serve(var, env)
    yield SimpleNamespace(port=port, origin=f"http://127.0.0.1:{port}")
    stop(process)


class StalledSocket(RawSocket):
    """A websocket client with a tiny receive buffer that stops reading after its handshake."""

    def __init__(self, port: int, path: str, *, origin: str, cookie: str) -> None:
        original = socket.create_connection

        def small_buffer(address, timeout=None):  # type: ignore[no-untyped-def]
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(timeout)
            sock.connect(address)
            return sock

        socket.create_connection = small_buffer  # type: ignore[assignment]
        try:
            super().__init__(port, path, origin=origin, cookie=cookie)
        finally:
            socket.create_connection = original  # type: ignore[assignment]


def test_a_stalled_reader_is_closed_with_4414_and_the_others_get_everything(server):
    slow = StalledSocket(server.port, f"/ws/rooms/{SLUG}/", origin=server.origin,
                         cookie=signed_in_cookie(server.port))
    assert slow.status == 101
    slow.send_frame(TEXT, json.dumps({"type": "rules.accept"}).encode())

    sent, seen = 0, set()
    with connect(f"ws://127.0.0.1:{server.port}/ws/rooms/{SLUG}/", origin=server.origin,
                 additional_headers={"Cookie": signed_in_cookie(server.port)},
                 max_size=None) as sender:
        sender.send(json.dumps({"type": "rules.accept"}))
        for n in range(250):  # 250 × ~30 KB: more than any socket buffer holds
            sender.send(json.dumps({"type": "message.send", "body": f"{n} " + "\u0628" * 15000,
                                    "client_id": f"m{n}"}, ensure_ascii=False))
            sent += 1
        present = 2
        while len(seen) < sent or present > 1:
            frame = json.loads(sender.recv(timeout=20))
            if frame["type"] == "message.new":
                seen.add(frame["message"]["id"])
            elif frame["type"] == "presence":
                present = frame["count"]
    # The sender was never held up by the stalled member, and saw it leave the circle.
    assert len(seen) == sent

    # The stalled socket: what was queued for it, then its close frame, 4414, when it reads in
    # time to get it; a reader too stalled even for that sees the connection end (1006).
    # Either way its page reconnects and resumes with ?after=.
    slow.sock.settimeout(20)
    code = slow.close_code()
    slow.close()
    assert code in (4414, 1006)
