"""The contract under bad input, over a real server (`manage.py serve`, daphne) on a spare port,
spoken to with a raw socket (issue 13, items 5 and 6):

- the origin check compares the whole origin with the port this server serves (HTTP 403 before
  any frame otherwise);
- a websocket message over 64 KiB is closed with 1009 and a text frame that is not UTF-8 with
  1007: a close frame the client can read, not a dropped connection (1006);
- REST errors that only a real server shows: bodies nested too deep or over the upload limit,
  and a database that is down, are the JSON error body.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.browser.conftest import ROOT, _free_port, server_env

ROOM_SLUG = "raw-socket-circle"
CREATE_ROOM = (
    "from rooms.models import Room; "
    f"Room.objects.create(slug={ROOM_SLUG!r}, title='Raw', language='en', "
    "house_rules='Be kind.', flood_burst=100)"
)
LONG_SLUG = "long-history-circle"
LONG_HISTORY = (
    "from django.utils import timezone; "
    "from accounts.services import identity_create_anonymous; "
    "from rooms.models import Membership, Room; from rooms.services import message_post; "
    f"room = Room.objects.create(slug={LONG_SLUG!r}, title='Long', language='ar', "
    "house_rules='Be kind.', flood_burst=100); "
    "member = Membership.objects.create(user=identity_create_anonymous(language='ar'), "
    "room=room, alias='Writer', rules_accepted_at=timezone.now()); "
    "[message_post(membership_id=member.pk, body='\u0628' * 1900 + str(i), client_id=f'c{i}') "
    "for i in range(50)]"
)
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
NO_CLOSE_FRAME = 1006  # what a client reports when the connection ends without a close frame


def serve(var: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    manage = [sys.executable, str(ROOT / "manage.py")]
    log = open(var / "server.log", "wb")
    server = subprocess.Popen([*manage, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, port
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError((var / "server.log").read_text()) from None
            time.sleep(0.1)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def daphne(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    var = tmp_path_factory.mktemp("raw-socket")
    env = server_env(var, "raw.sqlite3", PYTHONUNBUFFERED="1")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    for script in (CREATE_ROOM, LONG_HISTORY):
        subprocess.run([*manage, "shell", "-c", script], env=env, cwd=ROOT, check=True,
                       capture_output=True)
    server, port = serve(var, env)
    yield SimpleNamespace(port=port, origin=f"http://127.0.0.1:{port}")
    stop(server)


@pytest.fixture(scope="module")
def database_down(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A server whose PostgreSQL is not there (nothing listens on the port)."""
    var = tmp_path_factory.mktemp("database-down")
    env = server_env(var, "unused.sqlite3",
                     DATABASE_URL=f"postgres://postgres@127.0.0.1:{_free_port()}/halqa")
    server, port = serve(var, env)
    yield SimpleNamespace(port=port)
    stop(server)


# --- HTTP ------------------------------------------------------------------------------------
def http_request(port: int, method: str, path: str, *, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers={"Accept-Language": "en",
                                                          **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    found = {"set-cookie": "; ".join(response.headers.get_all("Set-Cookie") or []),
             "content-type": response.headers.get("Content-Type", "")}
    connection.close()
    return response.status, found, data


def cookies_of(set_cookie: str, jar: dict[str, str]) -> dict[str, str]:
    for name, morsel in SimpleCookie(set_cookie).items():
        jar[name] = morsel.value
    return jar


def csrf(port: int) -> dict[str, str]:
    _status, found, _body = http_request(port, "GET", "/")
    return cookies_of(found["set-cookie"], {})


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def signed_in_cookie(port: int) -> str:
    jar = csrf(port)
    status, found, _body = http_request(
        port, "POST", "/api/v1/identities/anonymous/", body=b'{"language": "en"}',
        headers={"Content-Type": "application/json", "X-CSRFToken": jar["csrftoken"],
                 "Cookie": cookie_header(jar)})
    assert status == 201
    return cookie_header(cookies_of(found["set-cookie"], jar))


def post_json(port: int, path: str, body: bytes) -> tuple[int, str, bytes]:
    jar = csrf(port)
    status, found, data = http_request(
        port, "POST", path, body=body,
        headers={"Content-Type": "application/json", "X-CSRFToken": jar["csrftoken"],
                 "Cookie": cookie_header(jar)})
    return status, found["content-type"], data


# --- A websocket client that sends what no library would ---------------------------------------
class RawSocket:
    def __init__(self, port: int, path: str, *, origin: str | None,
                 cookie: str | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Version: 13",
                 f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}"]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        if cookie:
            lines.append(f"Cookie: {cookie}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        head, _sep, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1]) if head else 0

    def close(self) -> None:
        self.sock.close()

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """One final frame, masked as a client must."""
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        mask = os.urandom(4)
        repeated = (mask * (size // 4 + 1))[:size]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
            size, "big")
        try:
            self.sock.sendall(header + mask + masked)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close while a large frame is still on its way

    def _read(self, count: int) -> bytes | None:
        while len(self.buffer) < count:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                return None
            if not chunk:
                return None
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive_frame(self) -> tuple[int, bytes] | None:
        """The next frame from the server (never masked), or None when the connection ended."""
        head = self._read(2)
        if head is None:
            return None
        opcode, size = head[0] & 0x0F, head[1] & 0x7F
        if size == 126:
            extended = self._read(2)
            size = struct.unpack("!H", extended)[0] if extended else 0
        elif size == 127:
            extended = self._read(8)
            size = struct.unpack("!Q", extended)[0] if extended else 0
        payload = self._read(size) if size else b""
        return None if payload is None else (opcode, payload)

    def receive_json(self, frame_type: str) -> dict:
        while True:
            frame = self.receive_frame()
            assert frame is not None, f"closed before a {frame_type!r} frame"
            if frame[0] == TEXT:
                data = json.loads(frame[1])
                if data["type"] == frame_type:
                    return data

    def close_code(self) -> int:
        """The code of the server's close frame, answering it as the protocol asks; 1006 when
        the connection ends without one."""
        while True:
            frame = self.receive_frame()
            if frame is None:
                return NO_CLOSE_FRAME
            opcode, payload = frame
            if opcode == CLOSE:
                self.send_frame(CLOSE, payload[:2])
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


def joined_socket(daphne: SimpleNamespace, slug: str = ROOM_SLUG) -> RawSocket:
    """A signed-in socket in the circle, past its welcome."""
    raw = RawSocket(daphne.port, f"/ws/rooms/{slug}/", origin=daphne.origin,
                    cookie=signed_in_cookie(daphne.port))
    assert raw.status == 101
    raw.receive_json("welcome")
    return raw


# --- Origin --------------------------------------------------------------------------------------
def test_origin_is_the_whole_origin_of_the_served_port(daphne: SimpleNamespace) -> None:
    port = daphne.port
    cases = [
        (f"http://127.0.0.1:{port}", 101),  # same origin
        (f"http://localhost:{port}", 101),  # the other name in ALLOWED_HOSTS
        (f"http://127.0.0.1:{port + 1}", 403),  # other port
        ("http://127.0.0.1:8000", 403),  # the embedded default's port is not this server's
        (f"https://127.0.0.1:{port}", 403),  # other scheme
        (f"http://evil.example:{port}", 403),  # other host
        ("null", 403),
        (None, 403),  # missing
    ]
    for origin, status in cases:
        raw = RawSocket(port, f"/ws/rooms/{ROOM_SLUG}/", origin=origin)
        try:
            assert raw.status == status, origin
            if status == 403:  # refused: no websocket, so no frame at all
                assert raw.receive_frame() is None
        finally:
            raw.close()


# --- Close codes -------------------------------------------------------------------------------
def test_message_over_64_kib_is_closed_with_1009(daphne: SimpleNamespace) -> None:
    raw = joined_socket(daphne)
    try:
        raw.send_frame(TEXT, json.dumps({"type": "ping", "pad": "x" * 70 * 1024}).encode())
        assert raw.close_code() == 1009
    finally:
        raw.close()


def test_binary_message_over_64_kib_is_closed_with_1009(daphne: SimpleNamespace) -> None:
    raw = joined_socket(daphne)
    try:
        raw.send_frame(BINARY, os.urandom(65 * 1024))
        assert raw.close_code() == 1009
    finally:
        raw.close()


@pytest.mark.parametrize("payload", [b'{"type": "ping", "x": "\xff\xfe"}', b"\xc3\x28",
                                     b'{"type": "ping", "x": "\xed\xa0\x80"}'],  # a surrogate
                         ids=["bad bytes", "truncated sequence", "surrogate"])
def test_text_frame_that_is_not_utf8_is_closed_with_1007(daphne: SimpleNamespace,
                                                         payload: bytes) -> None:
    raw = joined_socket(daphne)
    try:
        raw.send_frame(TEXT, payload)
        assert raw.close_code() == 1007
    finally:
        raw.close()


def test_a_frame_under_the_limit_is_answered_and_the_socket_stays(daphne: SimpleNamespace
                                                                  ) -> None:
    """Between the frame limit (16 384 characters) and the message limit (64 KiB): an error
    frame, and the socket goes on."""
    raw = joined_socket(daphne)
    try:
        raw.send_frame(TEXT, json.dumps({"type": "ping", "pad": "x" * 30_000}).encode())
        assert raw.receive_json("error")["code"] == "frame_too_large"
        raw.send_frame(TEXT, b'{"type": "ping"}')
        assert raw.receive_json("pong")["type"] == "pong"
        raw.send_frame(CLOSE, struct.pack("!H", 1000))
        assert raw.close_code() == 1000
    finally:
        raw.close()


def test_the_limit_is_for_client_messages_only(daphne: SimpleNamespace) -> None:
    """A `welcome` with 50 long messages is far over 64 KiB: it still reaches the client
    (autobahn applied the limit to what the server sends too, and the join failed)."""
    raw = joined_socket(daphne, LONG_SLUG)
    try:
        raw.send_frame(TEXT, b'{"type": "rules.accept"}')
        frame = raw.receive_frame()
        while frame is not None and b'"welcome"' not in frame[1][:40]:
            frame = raw.receive_frame()
        assert frame is not None and len(frame[1]) > 150 * 1024
        welcome = json.loads(frame[1])
        assert welcome["joined"] is True and len(welcome["history"]) == 50
    finally:
        raw.close()


# --- REST errors over the real server ------------------------------------------------------
def test_deeply_nested_json_is_a_json_400(daphne: SimpleNamespace) -> None:
    status, content_type, data = post_json(daphne.port, "/api/v1/identities/anonymous/",
                                           b"[" * 100_000 + b"]" * 100_000)
    assert (status, content_type) == (400, "application/json")
    assert json.loads(data)["code"] == "bad_body"


def test_body_over_the_upload_limit_is_a_json_413(daphne: SimpleNamespace) -> None:
    body = json.dumps({"language": "x" * (3 * 1024 * 1024)}).encode()
    status, content_type, data = post_json(daphne.port, "/api/v1/identities/anonymous/", body)
    assert (status, content_type) == (413, "application/json")
    assert json.loads(data)["code"] == "body_too_large"


def test_unknown_api_address_is_a_json_404(daphne: SimpleNamespace) -> None:
    status, found, data = http_request(daphne.port, "GET", "/api/v1/nothing-here/")
    assert (status, found["content-type"]) == (404, "application/json")
    assert json.loads(data) == {"code": "not_found", "detail": "Not found."}


def test_database_down_is_a_json_503(database_down: SimpleNamespace) -> None:
    for path, cookie in (("/api/v1/resources/", ""), ("/api/v1/rooms/", ""),
                         ("/api/v1/identities/me/", "sessionid=abcdefghijklmnopqrstuvwxyz012345")):
        status, found, data = http_request(database_down.port, "GET", path,
                                           headers={"Cookie": cookie} if cookie else {})
        assert (status, found["content-type"]) == (503, "application/json"), data[:200]
        body = json.loads(data)
        assert body["code"] == "unavailable" and "5432" not in body["detail"]
