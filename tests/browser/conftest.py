"""A real Halqa server for browser tests: its own daphne on a spare port, its own SQLite file.

It never touches the server a developer may be running on 8000.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium_path() -> str:
    for candidate in (os.environ.get("HALQA_CHROMIUM", ""), "/usr/bin/chromium",
                      "/usr/bin/chromium-browser", shutil.which("chromium") or ""):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError("Chromium is missing: `make test` installs it (scripts/ensure-chromium.sh)")


@pytest.fixture(scope="session")
def halqa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    var = tmp_path_factory.mktemp("halqa-var")
    port = _free_port()
    env = server_env(var, "browser.sqlite3")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(var / "server.log", "wb")
    server = subprocess.Popen([*manage, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError((var / "server.log").read_text()) from None
            time.sleep(0.2)
    else:
        server.kill()
        raise RuntimeError("the test server did not start")
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", env=env, manage=manage)
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests. Package scope, not session: Playwright's sync API
    keeps an event loop running in the main thread while it is open, which would break every
    later test that runs async code from sync code (async_to_sync, asyncio.run)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()


def join_circle(page: Any, base_url: str, slug: str) -> str:
    """Open a circle, join anonymously, accept the house rules; returns the alias shown."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/rooms/{slug}/")
    page.get_by_role("button", name="Join anonymously").click()
    page.get_by_role("button", name="I accept the house rules").click()
    expect(page.locator("#chat")).to_be_visible()
    alias = page.locator("#my-alias")
    expect(alias).not_to_be_empty()
    return alias.inner_text()


def server_env(var: Path, database: str, **extra: str) -> dict[str, str]:
    """The environment of a test's own server: its own var/ and SQLite file, no Redis."""
    return {
        **os.environ,
        "HALQA_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / database}",
        "REDIS_URL": "",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "server.settings",
        **extra,
    }


MAKE_FACILITATOR = """
from accounts.models import User
from rooms.models import Room
user, created = User.objects.get_or_create(
    username=%(username)r, defaults={"role": User.Role.FACILITATOR, "is_staff": True})
user.set_password(%(password)r)
user.save()
Room.objects.get(slug=%(slug)r).facilitators.add(user)
"""


def facilitator_create(server: SimpleNamespace, *, username: str, password: str,
                       slug: str) -> None:
    """A facilitator account of one circle, made in the test server's own database."""
    script = MAKE_FACILITATOR % {"username": username, "password": password, "slug": slug}
    subprocess.run([*server.manage, "shell", "-c", script], env=server.env, check=True,
                   capture_output=True)
