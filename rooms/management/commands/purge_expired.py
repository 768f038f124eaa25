"""Delete what has outlived its retention. `--every 60` keeps doing it (the worker)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from rooms.retention import purge_expired


class Command(BaseCommand):
    help = ("Purge expired messages, reports past their grace period, spent keys, stale "
            "identities and old audit entries.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--every", type=int, default=0, metavar="SECONDS",
                            help="Repeat every SECONDS until stopped (the worker).")

    def handle(self, *args: Any, every: int = 0, **options: Any) -> None:
        while True:
            report = purge_expired()
            self.stdout.write(f"purge_expired: {report}")
            if not every:
                return
            time.sleep(every)
            # Between rounds of the worker only, like a request boundary: drop a connection the
            # database closed or that outlived CONN_MAX_AGE. Never on a single run, which may be
            # inside a caller's transaction (a test's, or call_command in a shell).
            close_old_connections()
