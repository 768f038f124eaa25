"""Re-wrap every session key and author key (rooms.AuthorKey) and re-seal every sealed field
(rooms.crypto.SEALED_FIELDS) with the newest master key. Messages are not touched.

Rotation: put a new key first in HALQA_MASTER_KEYS (keep the old ones after it), restart, run
this command, then remove the old keys from HALQA_MASTER_KEYS.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rooms import crypto


class Command(BaseCommand):
    help = ("Move session keys, author keys and sealed fields onto the first key of "
            "HALQA_MASTER_KEYS.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = crypto.master_key_rotate()
        for name, count in counts.items():
            self.stdout.write(f"rotate_master_key: {name}: {count}")
        if counts[crypto.UNREADABLE]:
            self.stderr.write(f"rotate_master_key: {counts[crypto.UNREADABLE]} value(s) no "
                              "configured master key opens were left as they are")
