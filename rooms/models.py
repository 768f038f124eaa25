"""Circles (rooms), who is in them under which alias, and what was said."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from rooms import crypto


class Language(models.TextChoices):
    ARABIC = "ar", _("Arabic")
    DARIJA = "ary", _("Moroccan Darija")
    FRENCH = "fr", _("French")
    ENGLISH = "en", _("English")


RTL_LANGUAGES = frozenset({"ar", "ary"})


class Room(models.Model):
    """A themed support circle."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=120)
    theme = models.CharField(_("theme"), max_length=80, blank=True)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ARABIC
    )
    house_rules = models.TextField(
        _("house rules"),
        help_text=_("Shown before entering; each person accepts them before they can write."),
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=12,
        help_text=_("How many people can be present at once, facilitators included."),
    )
    is_open = models.BooleanField(
        _("open"), default=True, help_text=_("A closed circle accepts no one and no messages."),
    )
    region = models.CharField(
        _("region"), max_length=80, blank=True,
        help_text=_("Used to show local help resources first; empty means nationwide."),
    )

    # --- How people get in, and what facilitators switch live (moderation/services.py) --------
    class Access(models.TextChoices):
        OPEN = "open", _("Open: anyone who accepts the house rules can drop in")
        WAITING_ROOM = "waiting_room", _("Waiting room: a facilitator admits each arrival")
        APPLICATION = "application", _(
            "By application: people apply to a session and enter with a personal invitation")

    access = models.CharField(
        _("access"), max_length=16, choices=Access.choices, default=Access.OPEN,
    )
    is_locked = models.BooleanField(
        _("locked"), default=False,
        help_text=_("No new arrivals; people already in the circle can come back."),
    )
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    is_paused = models.BooleanField(
        _("paused"), default=False,
        help_text=_("Read-only for participants; facilitators can still write."),
    )
    pinned_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("pinned message"),
    )

    # --- Retention: how long what is said here is kept ---------------------------------------
    class Retention(models.TextChoices):
        EPHEMERAL = "ephemeral", _("Ephemeral: gone when the session ends")
        TIMED = "timed", _("Kept for a number of hours")

    retention = models.CharField(
        _("retention"), max_length=12, choices=Retention.choices, default=Retention.TIMED,
    )
    retention_hours = models.PositiveIntegerField(
        _("retention (hours)"), default=72,
        help_text=_("For timed retention: messages are deleted this many hours after they are "
                    "written. The administrator sets the upper limit."),
    )

    # --- House rules applied automatically (moderation/pipeline.py) ---------------------------
    max_message_length = models.PositiveIntegerField(_("longest message (characters)"),
                                                     default=2000)
    hide_phone_numbers = models.BooleanField(_("hide phone numbers"), default=True)
    hide_emails = models.BooleanField(_("hide e-mail addresses"), default=True)
    hide_national_ids = models.BooleanField(_("hide national ID (CIN) numbers"), default=True)
    allow_links = models.BooleanField(_("allow links"), default=False)
    blocked_words_enabled = models.BooleanField(_("filter blocked words"), default=True)
    blocked_words_action = models.CharField(
        _("when a blocked word is used"), max_length=8, default="mask",
        choices=[("mask", _("mask the word")), ("refuse", _("refuse the message"))],
    )
    crisis_detection = models.BooleanField(
        _("spot crisis language"), default=True,
        help_text=_("Offers help resources to the author and alerts the facilitators. "
                    "The message itself is never refused or hidden."),
    )
    medical_advice_nudge = models.BooleanField(_("remind about medical advice"), default=True)
    flood_limit = models.BooleanField(_("limit floods of messages"), default=True)
    flood_burst = models.PositiveSmallIntegerField(
        _("flood limit: messages in a burst"), default=5,
        help_text=_("How many messages one person can send in quick succession."),
    )
    flood_per_minute = models.PositiveSmallIntegerField(
        _("flood limit: sustained messages per minute"), default=20,
    )
    slow_mode_seconds = models.PositiveSmallIntegerField(
        _("slow mode (seconds between two messages of one person)"), default=0,
        help_text=_("0 switches slow mode off. Facilitators can switch it on live."),
    )

    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="facilitated_rooms",
        verbose_name=_("facilitators"),
        help_text=_("Trained volunteers who keep this circle safe. Admins can act everywhere."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("circle")
        verbose_name_plural = _("circles")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    @property
    def is_ephemeral(self) -> bool:
        return self.retention == self.Retention.EPHEMERAL

    def clean(self) -> None:
        limit = settings.HALQA["MAX_RETENTION_HOURS"]
        if self.retention_hours > limit:
            raise ValidationError(
                {"retention_hours": _("At most %(hours)d hours.") % {"hours": limit}}
            )
        if self.retention_hours < 1:
            raise ValidationError({"retention_hours": _("At least one hour.")})


class Session(models.Model):
    """One sitting of a circle. Its key encrypts the messages written during it."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sessions")
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # The session's Fernet key, wrapped by a master key. Emptied = crypto-shredded.
    wrapped_key = models.TextField(blank=True)

    class Meta:
        verbose_name = _("circle session")
        verbose_name_plural = _("circle sessions")
        indexes = [models.Index(fields=["room", "ended_at"], name="rooms_session_room_open")]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.room_id}"


class Membership(models.Model):
    """One identity in one circle: the alias shown there and whether it accepted the rules."""

    class Role(models.TextChoices):
        PARTICIPANT = "participant", _("Participant")
        FACILITATOR = "facilitator", _("Facilitator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    alias = models.CharField(_("alias"), max_length=80)
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.PARTICIPANT
    )
    rules_accepted_at = models.DateTimeField(_("house rules accepted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    # Refreshed on entering, on pings and on leaving: lets a locked circle take back the people
    # who were in it when it was locked.
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    # --- What facilitators decided about this alias (moderation/services.py) ------------------
    class Admission(models.TextChoices):
        NONE = "", _("Not asked")
        PENDING = "pending", _("Waiting to be admitted")
        ADMITTED = "admitted", _("Admitted")
        DECLINED = "declined", _("Declined")

    admission = models.CharField(
        _("admission"), max_length=10, choices=Admission.choices, default=Admission.NONE,
        blank=True,
    )
    muted_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    removed_until = models.DateTimeField(_("removed until"), null=True, blank=True)
    banned_at = models.DateTimeField(_("banned at"), null=True, blank=True)
    banned_until = models.DateTimeField(
        _("banned until"), null=True, blank=True, help_text=_("Empty means no end."),
    )
    ban_reason = models.CharField(_("ban reason"), max_length=300, blank=True)
    warnings = models.PositiveSmallIntegerField(_("warnings"), default=0)
    # Circles by application: an invitation admits its holder until the end of its session.
    admitted_until = models.DateTimeField(_("admitted until"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="rooms_membership_one_per_room"),
            models.UniqueConstraint(fields=["room", "alias"], name="rooms_membership_alias_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.alias} @ {self.room_id}"

    @property
    def rules_accepted(self) -> bool:
        return self.rules_accepted_at is not None

    @property
    def is_facilitator(self) -> bool:
        return self.role == self.Role.FACILITATOR

    def muted_at(self, now: datetime) -> bool:
        return self.muted_until is not None and self.muted_until > now

    def removed_at(self, now: datetime) -> bool:
        return self.removed_until is not None and self.removed_until > now

    def banned_on(self, now: datetime) -> bool:
        return self.banned_at is not None and (self.banned_until is None
                                               or self.banned_until > now)


class AuthorKey(models.Model):
    """The data key one alias writes with in one circle session (rooms.crypto): its messages,
    its private support messages and a report's copy of one of them are encrypted with it.

    Timed circles: the key, wrapped by a master key, is on the row until the session is over
    and nothing it protects is left (rooms.retention). Ephemeral circles: the row holds nothing
    secret (`wrapped_key` empty); the wrapped key is only in the cache, by row id, and goes when
    the session ends. "Forget me" destroys an identity's keys at once. Created with the
    author's first message of the session (rooms.services.author_key_ensure)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="author_keys")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE,
                                   related_name="author_keys")
    wrapped_key = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("author key")
        verbose_name_plural = _("author keys")
        constraints = [
            models.UniqueConstraint(fields=["session", "membership"],
                                    name="rooms_authorkey_one_per_session"),
        ]

    def __str__(self) -> str:  # never the key
        return f"key {self.pk}"


class Message(models.Model):
    """A message as stored: already sanitised by the house-rules pipeline."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="messages")
    # The author's key for this session (rooms.crypto); empty only for messages written before
    # there were author keys, which are encrypted with the session's key.
    key = models.ForeignKey(AuthorKey, on_delete=models.CASCADE, null=True, blank=True,
                            related_name="messages")
    # Encrypted with that key; never stored in clear.
    body_encrypted = models.TextField()
    # Chosen by the sending client; makes a retried send idempotent.
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    # Set when written, from the circle's retention; never served after it, purged soon after.
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"], name="rooms_message_client_id_once"
            )
        ]
        indexes = [models.Index(fields=["room", "id"], name="rooms_msg_room_id")]

    def __str__(self) -> str:  # never the text: admin lists and logs must not show it
        return f"message {self.pk}"


class Presence(models.Model):
    """One open socket of one member. Shared by every server process through the database."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="sockets")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="sockets")
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()
    # A socket in a waiting-room circle that a facilitator has not admitted yet: shown to the
    # facilitators as an arrival, not to the circle as present.
    waiting = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["room", "seen_at"], name="rooms_presence_room_seen")]

    def __str__(self) -> str:
        return f"socket of {self.membership_id}"


class ScheduledSession(models.Model):
    """A themed session of a circle on the public schedule: once, or every week at the same local
    time (the wall-clock time holds across daylight-saving changes)."""

    class Repeat(models.TextChoices):
        ONCE = "once", _("Once")
        WEEKLY = "weekly", _("Every week")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="scheduled_sessions",
                             verbose_name=_("circle"))
    theme = models.CharField(
        _("theme of this session"), max_length=120, blank=True,
        help_text=_("Empty: the circle's own theme."),
    )
    description = models.TextField(_("description"), blank=True)
    first_date = models.DateField(_("date (first date if it repeats)"))
    start_time = models.TimeField(_("starts at (local time)"))
    duration_minutes = models.PositiveSmallIntegerField(_("length (minutes)"), default=90)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Africa/Casablanca")
    repeat = models.CharField(_("repeats"), max_length=8, choices=Repeat.choices,
                              default=Repeat.ONCE)
    repeat_until = models.DateField(_("repeats until"), null=True, blank=True,
                                    help_text=_("Empty: every week with no end."))
    is_cancelled = models.BooleanField(_("cancelled"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions on the schedule")
        ordering = ["first_date", "start_time"]

    def __str__(self) -> str:
        return f"{self.theme or self.room.title} ({self.first_date:%Y-%m-%d})"

    def clean(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from None
        if self.repeat_until and self.repeat_until < self.first_date:
            raise ValidationError({"repeat_until": _("The last date comes after the first.")})
        if not 1 <= self.duration_minutes <= 24 * 60:
            raise ValidationError({"duration_minutes": _("Between 1 minute and 24 hours.")})


class Application(models.Model):
    """Someone asks to take part in one date of a scheduled session. A short note and a contact
    address are optional; both are deleted when that session ends."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a facilitator")
        APPROVED = "approved", _("Approved: invitation sent")
        DECLINED = "declined", _("Declined")

    session = models.ForeignKey(ScheduledSession, on_delete=models.CASCADE,
                                related_name="applications", verbose_name=_("session"))
    occurrence_date = models.DateField(_("date"))
    # When that date's session ends: the application, its note, contact address and invitation
    # are deleted then (rooms.retention).
    ends_at = models.DateTimeField(_("session ends at"), db_index=True)
    applicant = models.ForeignKey(Membership, on_delete=models.CASCADE,
                                  related_name="applications", verbose_name=_("applicant"))
    # Both sealed with the master key (rooms.crypto.SEALED_FIELDS); empty when not given. The
    # address is only there when the person asked for the invitation by e-mail.
    note_sealed = models.TextField(blank=True)
    contact_sealed = models.TextField(blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    decided_by_alias = models.CharField(_("decided by"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["occurrence_date", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "occurrence_date", "applicant"],
                                    name="rooms_application_once"),
        ]

    def __str__(self) -> str:  # never the note or the address
        return f"application {self.pk}"

    @property
    def note(self) -> str:
        return crypto.unseal(self.note_sealed) or ""

    @property
    def contact_email(self) -> str:
        return crypto.unseal(self.contact_sealed) or ""


class Invitation(models.Model):
    """A personal link to one date of a session. It works once; the token is kept only as a
    hash (to recognise it) and sealed (to show it again to the person it was made for)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="invitation")
    token_hash = models.CharField(max_length=64, unique=True)
    token_sealed = models.TextField(blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"invitation {self.pk}"
