"""Re-wrap every stored session key (and re-seal report snapshots) with the newest master key.
Messages are not touched.

Rotation: put a new key first in HALQA_MASTER_KEYS (keep the old ones after it), restart, run
this command, then remove the old keys from HALQA_MASTER_KEYS.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from rooms import crypto
from rooms.models import Session


class Command(BaseCommand):
    help = "Re-wrap session keys with the first key of HALQA_MASTER_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        rewrapped = 0
        with transaction.atomic():
            for session in Session.objects.select_for_update().exclude(wrapped_key=""):
                session.wrapped_key = crypto.session_key_rewrap(session.wrapped_key)
                session.save(update_fields=["wrapped_key"])
                rewrapped += 1
        for session_id in Session.objects.filter(wrapped_key="", ended_at__isnull=True
                                                 ).values_list("id", flat=True):
            wrapped = crypto.ephemeral_key_get(session_id=session_id)
            if wrapped:
                crypto.ephemeral_key_put(
                    session_id=session_id, wrapped_key=crypto.session_key_rewrap(wrapped),
                    seconds=settings.HALQA["EPHEMERAL_MAX_HOURS"] * 3600)
                rewrapped += 1
        from moderation.models import Report

        resealed = 0
        with transaction.atomic():
            for report in Report.objects.select_for_update().exclude(snapshot_sealed=""):
                report.snapshot_sealed = crypto.reseal(report.snapshot_sealed)
                report.save(update_fields=["snapshot_sealed"])
                resealed += 1
        self.stdout.write(f"rotate_master_key: {rewrapped} session key(s) re-wrapped, "
                          f"{resealed} report snapshot(s) re-sealed")
