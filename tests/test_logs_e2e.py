"""No trace of who was there, end to end: the real server (`manage.py serve`, daphne) at
LOG_LEVEL=DEBUG, a real websocket client from 127.0.0.1 claiming canary addresses in its proxy
headers, and a canary message text. Afterwards the server's whole output holds none of them.

The in-process test in test_confidentiality.py checks Django's and the app's loggers; this one
also covers daphne, Twisted and autobahn, which only speak when a real server runs."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.browser.conftest import ROOT, _free_port, server_env

CANARY_FORWARDED = "203.0.113.99"  # TEST-NET-3: never a real client
CANARY_REAL_IP = "198.51.100.77"  # TEST-NET-2
CLIENT_ADDRESS = "127.0.0.1"  # where the test really connects from
ROOM_SLUG = "log-canary-circle"

CREATE_ROOM = (
    "from rooms.models import Room; "
    f"Room.objects.create(slug={ROOM_SLUG!r}, title='Canary', language='en', "
    "house_rules='Be kind.', retention_hours=1, flood_burst=100)"
)


@pytest.fixture
def debug_server(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """`manage.py serve` on a spare port with its own SQLite file and LOG_LEVEL=DEBUG; every
    byte it writes to stdout and stderr goes to one file."""
    port = _free_port()
    env = server_env(tmp_path, "logs.sqlite3", LOG_LEVEL="DEBUG", ALLOWED_HOSTS="localhost",
                     PYTHONUNBUFFERED="1")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    subprocess.run([*manage, "shell", "-c", CREATE_ROOM], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    output = tmp_path / "server.out"
    with open(output, "wb") as sink:
        server = subprocess.Popen(
            [*manage, "serve", "--host", "127.0.0.1", "--port", str(port), "--purge-every", "1"],
            env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(output.read_text()) from None
                    time.sleep(0.1)
            server_info = SimpleNamespace(port=port, output=output, process=server)
            yield server_info
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()


class Browser:
    """Just enough of a browser: cookies, the proxy headers, the Host the site is served as."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        # The Host is `localhost`, so that "127.0.0.1" in the output can only be an address.
        self.host = f"localhost:{port}"
        self.proxy_headers = {"X-Forwarded-For": CANARY_FORWARDED, "X-Real-IP": CANARY_REAL_IP}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Host": self.host, **self.proxy_headers, "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        data = response.read()
        connection.close()
        return response.status, data


async def talk_in_the_circle(browser: Browser, canary_text: str) -> None:
    from websockets.asyncio.client import connect

    async def receive_type(ws, frame_type: str) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            if frame["type"] == frame_type:
                return frame

    async with connect(
        f"ws://{browser.host}/ws/rooms/{ROOM_SLUG}/",
        host="127.0.0.1", port=browser.port,  # really connect from and to 127.0.0.1
        origin=f"http://{browser.host}",
        additional_headers={**browser.proxy_headers, "Cookie": browser.cookie_header()},
    ) as ws:
        welcome = await receive_type(ws, "welcome")
        assert welcome["rules"]["accepted"] is False
        await ws.send(json.dumps({"type": "rules.accept"}))
        assert (await receive_type(ws, "welcome"))["joined"]
        await ws.send(json.dumps({"type": "message.send", "body": canary_text,
                                  "client_id": "canary-1"}))
        await receive_type(ws, "message.ack")
        # Paths that log: a refused message, a frame that is not JSON.
        await ws.send(json.dumps({"type": "message.send", "body": canary_text + " word" * 2000,
                                  "client_id": "canary-2"}))
        await receive_type(ws, "error")
        await ws.send('{"type": "message.send", "body": "' + canary_text + '"')
        await receive_type(ws, "error")


def startup_lines(port: int) -> list[re.Pattern[str]]:
    """The only lines allowed to name 127.0.0.1: the server's own listening address."""
    return [
        re.compile(rf"Halqa is serving on http://127\.0\.0\.1:{port}/ \(no access log\)"),
        re.compile(rf"\S+ \S+ INFO daphne\.server Listening on TCP address 127\.0\.0\.1:{port}"),
        re.compile(rf"\S+ \S+ INFO daphne\.server Configuring endpoint "
                   rf"tcp:port={port}:interface=127\.0\.0\.1"),
    ]


def test_the_real_server_at_debug_level_logs_no_address_and_no_text(debug_server):
    canary_text = f"CANARY-TEXT-{uuid.uuid4().hex}"
    browser = Browser(debug_server.port)
    status, _ = browser.request("GET", "/")
    assert status == 200 and "csrftoken" in browser.cookies
    status, body = browser.request("POST", "/api/v1/identities/anonymous/", {"language": "en"})
    assert status == 201, body
    # The two cookies the privacy page names, and no other.
    assert set(browser.cookies) == {"csrftoken", "sessionid"}

    asyncio.run(talk_in_the_circle(browser, canary_text))

    # More that logs over HTTP: a missing page, a rejected body, the history read back.
    assert browser.request("GET", f"/no-such-page/?q={canary_text}")[0] == 404
    assert browser.request("POST", f"/api/v1/rooms/{ROOM_SLUG}/messages/", b"{not json")[0] == 400
    status, body = browser.request("GET", f"/api/v1/rooms/{ROOM_SLUG}/messages/?after=0")
    assert status == 200 and canary_text.encode() in body  # it really went through the server

    time.sleep(1.5)  # one round of the in-process purge
    debug_server.process.terminate()
    debug_server.process.wait(timeout=10)
    output = debug_server.output.read_text(errors="replace")
    lines = output.splitlines()
    # The run did log, at DEBUG level, daphne included: there was something to check.
    assert any(" DEBUG " in line for line in lines), output
    assert any(" daphne." in line for line in lines), output

    # Nor is any address stored: not a byte of the database (with its WAL) holds one.
    stored = b"".join(path.read_bytes() for path in debug_server.output.parent.iterdir()
                      if path.name.startswith("logs.sqlite3"))
    assert canary_text.encode() not in stored  # encrypted at rest
    for address in (CANARY_FORWARDED, CANARY_REAL_IP, CLIENT_ADDRESS):
        assert address.encode() not in stored, f"{address} is stored in the database"

    allowed = startup_lines(debug_server.port)
    leaks = []
    for line in lines:
        for secret in (canary_text, CANARY_FORWARDED, CANARY_REAL_IP):
            if secret in line:
                leaks.append(line)
        if CLIENT_ADDRESS in line and not any(pattern.fullmatch(line) for pattern in allowed):
            leaks.append(line)
    assert leaks == [], "the server's output holds a client address or message text:\n" + (
        "\n".join(leaks[:20]))


def test_the_log_filter_drops_access_lines_and_blanks_addresses_at_every_level():
    import logging

    from server.logfilter import ClientAddressFilter

    def record(name: str, level: int, msg: str, *args: object, exc: bool = False):
        exc_info = None
        if exc:
            try:
                raise ConnectionError(f"peer {CANARY_FORWARDED} went away")
            except ConnectionError:
                exc_info = sys.exc_info()
        return logging.LogRecord(name, level, __file__, 1, msg, args, exc_info)

    keep = ClientAddressFilter().filter
    assert not keep(record("daphne.access", logging.CRITICAL, "%s GET /", CANARY_REAL_IP))
    assert not keep(record("uvicorn.access", logging.INFO, "%s GET /", CANARY_REAL_IP))
    assert not keep(record("daphne.ws_protocol", logging.DEBUG, "WebSocket %s open",
                           [CANARY_REAL_IP, 4000]))
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
        line = record("some.library", level, "client %s and [%s]:443 at 10:30:00 (v3.11.2)",
                      CANARY_REAL_IP, "2001:db8::7", exc=True)
        assert keep(line)
        text = logging.Formatter("%(message)s").format(line)
        assert CANARY_REAL_IP not in text and "2001:db8::7" not in text
        assert CANARY_FORWARDED not in text  # the traceback too
        assert "client [address] and [[address]]:443 at 10:30:00 (v3.11.2)" in text
    error = record("daphne.http_protocol", logging.ERROR, "Traceback for %s", CANARY_REAL_IP)
    assert keep(error) and CANARY_REAL_IP not in error.getMessage()
