"""A Halqa server a browser test owns: started, stopped and started again on the same port and
the same SQLite file (what a restart, or a server that went away, looks like to a page). Tests
that stop a server use one of these, never the shared `halqa_server`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.browser.conftest import ROOT, _free_port, server_env


class OwnServer:
    def __init__(self, var: Path, *, seed_args: tuple[str, ...] = ()) -> None:
        self.var = var
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_env(var, "own.sqlite3")
        self.manage = [sys.executable, str(ROOT / "manage.py")]
        self.process: subprocess.Popen[bytes] | None = None
        self.log = var / "server.log"
        self._run("migrate", "--noinput")
        self._run("seed_demo", *seed_args)

    def _run(self, *args: str) -> str:
        done = subprocess.run([*self.manage, *args], env=self.env, cwd=ROOT, check=True,
                              capture_output=True, text=True)
        return done.stdout

    def shell(self, script: str) -> str:
        """Run Python in this server's own database (manage.py shell -c); its stdout."""
        return self._run("shell", "-c", script)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.manage, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.log.read_text()) from None
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the test server did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def csrf_headers(context: Any, base_url: str) -> dict[str, str]:
    """What a same-site script sends with an unsafe request: the CSRF cookie's value."""
    token = next(c["value"] for c in context.cookies(base_url) if c["name"] == "csrftoken")
    return {"X-CSRFToken": token, "Content-Type": "application/json"}


def staff_sign_in(page: Any, base_url: str, *, username: str, password: str,
                  next_path: str = "/admin/") -> None:
    """Sign in through the admin's real login form (CSRF and all)."""
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("input[type=submit]").click()
