"""The purge: what has outlived its retention is deleted for real, in small batches.

Run by `manage.py purge_expired` (once, or `--every 60` as the worker), and in the background of
`make run`. Each step is its own short transaction so a live circle never waits on it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session as BrowserSession
from django.db import DatabaseError, connection, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.services import identity_erase
from moderation.models import (
    Action,
    DutyShift,
    Report,
    ResponseTime,
    RuleBreach,
    SupportConversation,
    SupportMessage,
)
from rooms import crypto, services
from rooms.models import (
    Application,
    AuthorKey,
    Invitation,
    Membership,
    Message,
    Presence,
    Room,
    Session,
)

log = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    messages: int = 0
    support_messages: int = 0
    sessions_ended: int = 0
    author_keys: int = 0
    keys_destroyed: int = 0
    identities: int = 0
    sockets: int = 0
    browser_sessions: int = 0
    reports: int = 0
    applications: int = 0
    audit_entries: int = 0
    response_times: int = 0
    admin_log_entries: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name}={count}" for name, count in asdict(self).items())


def _expired_messages(*, now: datetime, batch: int) -> int:
    total = 0
    while True:
        rows = list(Message.objects.filter(expires_at__lte=now)
                    .order_by("id").values_list("id", "room_id")[:batch])
        if not rows:
            return total
        by_room: dict[int, list[int]] = {}
        for message_id, room_id in rows:
            by_room.setdefault(room_id, []).append(message_id)
        with transaction.atomic():
            for room_id, ids in by_room.items():
                total += services.message_delete_many(room_id=room_id, ids=ids)


def _expired_support(*, now: datetime, batch: int) -> int:
    """Private conversations keep their circle's retention: each message goes when it
    expires, and the conversation row (who talked to whom) when its last message would."""
    total = _in_batches(SupportMessage.objects.filter(expires_at__lte=now), batch=batch)
    return total + _in_batches(SupportConversation.objects.filter(expires_at__lte=now),
                               batch=batch)


def _idle_ephemeral_sessions(*, now: datetime) -> int:
    """Ephemeral sessions nobody is in any more (a server died before the last goodbye)."""
    cutoff = now - timedelta(seconds=settings.HALQA["PRESENCE_TIMEOUT"])
    ended = 0
    for session in Session.objects.select_related("room").filter(
            room__retention="ephemeral", ended_at__isnull=True):
        if not Presence.objects.filter(room_id=session.room_id, seen_at__gte=cutoff).exists():
            services.session_end(session=session)
            ended += 1
    return ended


def _spent_author_keys(*, now: datetime, batch: int) -> int:
    """Destroy every author key that protects nothing any more: no message and no private
    message of it left, and no report still showing its copy of one (until the message it
    copies would have expired). Open sessions included: an author who writes again gets a new
    key (rooms.services.author_key_ensure). A message written with such a key at the very
    moment it is destroyed fails at its commit, and its client retries under the new key."""
    spent = (AuthorKey.objects.filter(messages__isnull=True, support_messages__isnull=True)
             .exclude(report_snapshots__snapshot_expires_at__gt=now))
    total = 0
    while True:
        ids = list(spent.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        with transaction.atomic():
            total += services.author_keys_destroy(keys=AuthorKey.objects.filter(pk__in=ids))


def _spent_keys(*, now: datetime) -> int:
    """Destroy the key of every ended session whose messages and author keys are all gone,
    then the row."""
    key_age = timedelta(hours=settings.HALQA["SESSION_KEY_HOURS"])
    # A timed circle's open session that is past its key age ends here too.
    Session.objects.filter(ended_at__isnull=True, room__retention="timed",
                           started_at__lt=now - key_age).update(ended_at=now)
    spent = list(Session.objects.filter(ended_at__isnull=False, messages__isnull=True,
                                        support_messages__isnull=True,
                                        author_keys__isnull=True)
                 .values_list("id", "wrapped_key"))
    if spent:
        Session.objects.filter(pk__in=[session_id for session_id, _key in spent]).delete()
        for _session_id, wrapped in spent:
            crypto.forget(wrapped)
    return len(spent)


def _stale_identities(*, now: datetime) -> int:
    cutoff = timezone.localdate(now) - timedelta(days=settings.HALQA["STALE_IDENTITY_DAYS"])
    stale = User.objects.filter(is_pseudonymous=True, last_active_on__lt=cutoff)
    count = 0
    for user in stale.iterator():
        identity_erase(user=user, kind=Action.Kind.IDENTITY_EXPIRED, compact=False)
        count += 1
    return count


def _in_batches(queryset: QuerySet, *, batch: int) -> int:
    """Delete the rows of a queryset, `batch` at a time, each batch its own transaction."""
    total = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        with transaction.atomic():
            deleted, _ = queryset.model.objects.filter(pk__in=ids).delete()
        total += deleted


def _old_reports(*, now: datetime, batch: int) -> int:
    """Reports hold a sealed copy of the reported text and two aliases. A resolved report goes
    `REPORT_GRACE_HOURS` after it was resolved; one nobody resolved goes when it is as old as the
    longest a message may be kept, so its snapshot never outlives the message it copies."""
    grace = now - timedelta(hours=settings.HALQA["REPORT_GRACE_HOURS"])
    oldest = now - timedelta(hours=settings.HALQA["MAX_RETENTION_HOURS"])
    # Without a resolution time a report counts as open, whatever its status says.
    stale = Report.objects.filter(Q(resolved_at__lte=grace)
                                  | Q(resolved_at__isnull=True, created_at__lte=oldest))
    return _in_batches(stale, batch=batch)


def _past_applications(*, now: datetime, batch: int) -> int:
    """An application (its note, its contact address) and its invitation go when the session it
    was for ends."""
    return _in_batches(Application.objects.filter(ends_at__lte=now), batch=batch)


def _old_audit_entries(*, now: datetime, batch: int) -> int:
    cutoff = now - timedelta(days=settings.HALQA["AUDIT_RETENTION_DAYS"])
    return _in_batches(Action.objects.filter(created_at__lt=cutoff), batch=batch)


def _old_response_times(*, now: datetime, batch: int) -> int:
    """Response times and duty shifts (numbers and times, no text) go with the audit trail."""
    cutoff = now - timedelta(days=settings.HALQA["AUDIT_RETENTION_DAYS"])
    total = _in_batches(ResponseTime.objects.filter(raised_at__lt=cutoff), batch=batch)
    return total + _in_batches(DutyShift.objects.filter(ended_at__lt=cutoff), batch=batch)


def _old_admin_log_entries(*, now: datetime, batch: int) -> int:
    """Django admin's change history names objects (an identity's username, an alias): it is
    kept no longer than the audit trail."""
    cutoff = now - timedelta(days=settings.HALQA["AUDIT_RETENTION_DAYS"])
    return _in_batches(LogEntry.objects.filter(action_time__lt=cutoff), batch=batch)


# The tables each step of the purge deletes rows from (an erased identity takes rows from many).
_TABLES_BY_STEP: dict[str, tuple[type[Model], ...]] = {
    "messages": (Message,),
    "support_messages": (SupportMessage, SupportConversation),
    "sessions_ended": (Message, Session, AuthorKey),
    "author_keys": (AuthorKey,),
    "keys_destroyed": (Session,),
    "identities": (User, Membership, Room.facilitators.through, Message, Presence, RuleBreach,
                   Report, Action, SupportMessage, SupportConversation, DutyShift, AuthorKey),
    "sockets": (Presence,),
    "browser_sessions": (BrowserSession,),
    "reports": (Report,),
    "applications": (Application, Invitation),
    "audit_entries": (Action,),
    "response_times": (ResponseTime, DutyShift),
    "admin_log_entries": (LogEntry,),
}


def _storage_compact(*, report: PurgeReport) -> None:
    """Best effort: get the deleted rows' bytes out of the database's files too.

    SQLite (every run, so it also covers "Forget me" since the last purge): checkpoint the WAL
    into the main file, where `secure_delete` has zeroed the freed space, and truncate the WAL to
    nothing. PostgreSQL: `VACUUM` the tables this run deleted rows from, which frees their dead
    tuples for reuse but does not overwrite them; crypto-shredding, not this, is the guarantee.
    Crypto-shredding needs the destroyed keys gone from the files, though: the author keys'
    table is rewritten (`services.key_storage_compact`, VACUUM FULL) whenever this run destroyed
    keys or it has dead row versions left (a key rotation, a "Forget me" whose own compaction
    did not get its lock). Neither can run inside a transaction (tests run in one): skipped
    there."""
    if connection.in_atomic_block or not connection.get_autocommit():
        log.debug("purge: in a transaction, database files not compacted")
        return
    try:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # PASSIVE first copies the WAL into the database file beside the writers;
                # TRUNCATE, which holds them off until it is done, then has only the last
                # frames to copy (alone, it stalled every message for ~150 ms once a minute).
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.fetchone()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
            if busy:
                log.debug("purge: a reader kept the WAL checkpoint from finishing")
        elif connection.vendor == "postgresql":
            touched = {model for step, models in _TABLES_BY_STEP.items()
                       if getattr(report, step) for model in models}
            tables = sorted(model._meta.db_table for model in touched - {AuthorKey})
            if tables:
                # Autocommit (checked above): VACUUM runs outside any transaction block.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM " + ", ".join(map(connection.ops.quote_name, tables)))
            if AuthorKey in touched or _dead_key_rows():
                services.key_storage_compact()
    except DatabaseError:
        log.warning("purge: compacting the database files failed", exc_info=True)


def _dead_key_rows() -> bool:
    """Whether PostgreSQL counts dead row versions in the author keys' table (its statistics,
    which lag a little: the next run sees what this one misses)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = %s::regclass",
                       [AuthorKey._meta.db_table])
        row = cursor.fetchone()
    return bool(row and row[0])


def purge_expired(*, now: datetime | None = None) -> PurgeReport:
    """Delete everything past its retention. Safe to run at any time, as often as wanted."""
    now = now or timezone.now()
    batch = settings.HALQA["PURGE_BATCH"]
    report = PurgeReport()
    report.messages = _expired_messages(now=now, batch=batch)
    report.support_messages = _expired_support(now=now, batch=batch)
    report.sessions_ended = _idle_ephemeral_sessions(now=now)
    report.author_keys = _spent_author_keys(now=now, batch=batch)
    report.keys_destroyed = _spent_keys(now=now)
    report.identities = _stale_identities(now=now)
    stale_sockets = now - timedelta(seconds=settings.HALQA["PRESENCE_TIMEOUT"] * 2)
    report.sockets, _ = Presence.objects.filter(seen_at__lt=stale_sockets).delete()
    report.browser_sessions, _ = BrowserSession.objects.filter(expire_date__lt=now).delete()
    report.reports = _old_reports(now=now, batch=batch)
    report.applications = _past_applications(now=now, batch=batch)
    report.audit_entries = _old_audit_entries(now=now, batch=batch)
    report.response_times = _old_response_times(now=now, batch=batch)
    report.admin_log_entries = _old_admin_log_entries(now=now, batch=batch)
    _storage_compact(report=report)
    log.info("purge: %s", report)  # counts only
    return report
