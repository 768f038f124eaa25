"""Prepare a throw-away Halqa database for bench/run.py: circles, identities, signed-in sessions.

    DJANGO_SETTINGS_MODULE=server.settings HALQA_VAR_DIR=... DATABASE_URL=... \\
        .venv/bin/python bench/prepare.py --workload 50x20 --workload 10x50 --out plan.json

Run with the server's own settings (the same environment the server will get) against the same
database, before the server starts. It

1. applies the migrations;
2. creates, per workload CxM, C open circles `bench-CxM-<i>` with a seat for everyone and the
   flood limit raised far above what the bench sends (it stays on, so each message still pays for
   its check), no slow mode, no waiting room;
3. creates max(C*M) pseudonymous identities through `accounts.services.identity_create_anonymous`
   (what `POST /api/v1/identities/anonymous/` calls) and signs each one in with a database session,
   as `django.contrib.auth.login` would: the sockets then send the `sessionid` cookie, like a
   browser after the REST call. (Faster than the REST round trip, and not subject to whatever
   rate limit that call gets.)

Writes {"sessions": [...], "workloads": {"50x20": [slugs...]}} to --out. The house rules are
accepted over the socket, by the generator, as a browser does. Touches no other database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAPACITY = 30000  # a PositiveSmallIntegerField: at most 32767
FLOOD = {"flood_limit": True, "flood_burst": 30000, "flood_per_minute": 30000,
         "slow_mode_seconds": 0}


def workload_slugs(name: str, circles: int) -> list[str]:
    return [f"bench-{name}-{i}" for i in range(circles)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", action="append", required=True, metavar="CxM")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    workloads = {}
    for spec in args.workload:
        circles, members = (int(part) for part in spec.lower().split("x"))
        workloads[f"{circles}x{members}"] = (circles, members)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    began = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)

    from accounts.services import identity_create_anonymous
    from rooms.models import Room

    fields = {f.name for f in Room._meta.get_fields()}
    wanted = {"title": "", "language": "en", "house_rules": "Be kind. Keep what is said here.",
              "capacity": CAPACITY, "is_open": True, "access": "open", "is_locked": False,
              "is_paused": False, "retention": "timed", "retention_hours": 1, **FLOOD}
    plan: dict = {"workloads": {}}
    for name, (circles, _members) in workloads.items():
        slugs = workload_slugs(name, circles)
        for i, slug in enumerate(slugs):
            values = {k: v for k, v in wanted.items() if k in fields}
            values["title"] = f"Bench {name} #{i}"
            Room.objects.update_or_create(slug=slug, defaults=values)
        plan["workloads"][name] = slugs

    sessions = []
    for _ in range(max(c * m for c, m in workloads.values())):
        user = identity_create_anonymous(language="en")
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    plan["sessions"] = sessions
    args.out.write_text(json.dumps(plan))
    print(f"prepared {len(plan['workloads'])} workloads, {len(sessions)} identities in "
          f"{time.monotonic() - began:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
