"""What the house rules need to remember: help resources, blocked words, breach counts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Resource(models.Model):
    """A help line or referral service, offered to anyone who may be in crisis."""

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency services")
        CRISIS_LINE = "crisis_line", _("Mental health and listening line")
        VIOLENCE_AGAINST_WOMEN = "violence_women", _("Violence against women")
        LEGAL_AID = "legal_aid", _("Legal aid")
        HEALTH = "health", _("Health")
        FAMILY_MEDIATION = "family_mediation", _("Family mediation")
        EMPLOYMENT_TRAINING = "employment_training", _("Employment and training orientation")
        YOUTH = "youth", _("Youth")

    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    url = models.URLField(_("web address"), blank=True)
    hours = models.CharField(_("hours"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    languages = models.CharField(
        _("languages"), max_length=40, default="ar,ary,fr,en",
        help_text=_("Comma-separated codes: ar, ary (Darija), fr, en."),
    )
    regions = models.CharField(
        _("regions"), max_length=400, blank=True,
        help_text=_("Comma-separated region names, spelt as in the circles (Oriental, "
                    "Fès-Meknès). Empty means nationwide."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_example = models.BooleanField(
        _("example entry"), default=False,
        help_text=_("An example from the demo data, with no verified number: never shown to "
                    "someone in crisis or offered on the duty desk. Fill it in, check it, then "
                    "untick this."),
    )
    verified_on = models.DateField(
        _("checked on"), null=True, blank=True,
        help_text=_("When someone in your organisation last called or checked this resource."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    facilitator_note = models.TextField(
        _("note for facilitators"), blank=True,
        help_text=_("Shown on the duty desk only: when to refer, what to say, what to expect."),
    )

    class Meta:
        verbose_name = _("help resource")
        verbose_name_plural = _("help resources")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def language_list(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    @property
    def region_list(self) -> list[str]:
        """The regions it serves; empty: nationwide."""
        return [name.strip() for name in self.regions.split(",") if name.strip()]

    def serves_region(self, region: str) -> bool:
        """Whether it serves this region (a nationwide resource serves every region)."""
        wanted = region.strip().casefold()
        return not self.region_list or any(name.casefold() == wanted
                                           for name in self.region_list)


class BlockedWord(models.Model):
    """A word or phrase the circles do not accept; matched through spelling tricks."""

    word = models.CharField(_("word or phrase"), max_length=120)
    language = models.CharField(
        _("language"), max_length=8, blank=True,
        help_text=_("For the admin's overview only: every list applies in every circle."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("blocked word")
        verbose_name_plural = _("blocked words")
        ordering = ["language", "word"]
        constraints = [
            models.UniqueConstraint(fields=["word", "language"], name="moderation_word_once"),
        ]

    def __str__(self) -> str:
        return self.word


class RuleBreach(models.Model):
    """How often one alias broke one automatic house rule in one circle. Counts, never text."""

    membership = models.ForeignKey(
        "rooms.Membership", on_delete=models.CASCADE, related_name="breaches"
    )
    rule = models.CharField(_("rule"), max_length=32)
    count = models.PositiveIntegerField(_("count"), default=0)
    last_at = models.DateTimeField(_("last time"), auto_now=True)

    class Meta:
        verbose_name = _("rule breach count")
        verbose_name_plural = _("rule breach counts")
        constraints = [
            models.UniqueConstraint(fields=["membership", "rule"], name="moderation_breach_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} × {self.count}"


class Report(models.Model):
    """Something a facilitator should look at: a reported message, a crisis the house rules
    spotted, or someone who pressed "I need help now". Waits in the queue until resolved."""

    class Source(models.TextChoices):
        PARTICIPANT = "participant", _("Reported by a participant")
        CRISIS = "crisis", _("Crisis language spotted")
        HELP = "help", _("Asked for help now")
        PRIVATE = "private", _("Asked to talk privately")

    class Reason(models.TextChoices):
        HARASSMENT = "harassment", _("Harassment or unkindness")
        IDENTIFYING = "identifying", _("It identifies someone")
        CRISIS = "crisis", _("Someone may be in danger")
        SPAM = "spam", _("Spam or advertising")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting")
        ACTIONED = "actioned", _("Action taken")
        DISMISSED = "dismissed", _("Dismissed")

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="reports")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    # The message concerned, by id only: deleting the message leaves the report in the queue.
    message_id = models.BigIntegerField(_("message"), null=True, blank=True)
    # Who reported, and about whom, as aliases in this circle; never the identity behind them.
    reporter_alias = models.CharField(_("reported by"), max_length=80, blank=True)
    target_alias = models.CharField(_("about"), max_length=80, blank=True)
    # The reported text as it was, so a facilitator can judge it after the message is deleted:
    # encrypted with the message's own key (its author's for its session, rooms.AuthorKey), so
    # it dies with that key (session end, "Forget me", purge), and shown only until the message
    # itself would have expired (`snapshot_expires_at`); "message expired" afterwards.
    snapshot_encrypted = models.TextField(blank=True)
    snapshot_key = models.ForeignKey("rooms.AuthorKey", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="report_snapshots")
    snapshot_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.OPEN)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, db_index=True)
    resolved_by_alias = models.CharField(_("resolved by"), max_length=80, blank=True)
    # The duty desk (moderation.duty): who has seen it, and who took it so nobody answers twice.
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by_alias = models.CharField(_("acknowledged by"), max_length=80, blank=True)
    taken_by = models.ForeignKey("rooms.Membership", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="reports_taken")
    taken_by_alias = models.CharField(_("taken by"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["room", "status"], name="moderation_report_queue")]

    def __str__(self) -> str:  # never the snapshot
        return f"report {self.pk} ({self.source})"


class Action(models.Model):
    """The audit trail: who did what to which alias, when and why. Never any message text."""

    class Kind(models.TextChoices):
        IDENTITY_ERASED = "identity_erased", _("An identity was erased at its owner's request")
        IDENTITY_EXPIRED = "identity_expired", _("An unused identity was deleted")
        MESSAGE_DELETE = "message_delete", _("Message deleted")
        MEMBER_WARN = "member_warn", _("Warned")
        MEMBER_MUTE = "member_mute", _("Muted")
        MEMBER_UNMUTE = "member_unmute", _("Unmuted")
        MEMBER_REMOVE = "member_remove", _("Removed from the session")
        MEMBER_BAN = "member_ban", _("Banned")
        MEMBER_UNBAN = "member_unban", _("Ban lifted")
        MEMBER_READMIT = "member_readmit", _("Let back in")
        MEMBER_ADMIT = "member_admit", _("Admitted from the waiting room")
        MEMBER_DECLINE = "member_decline", _("Declined at the waiting room")
        ROOM_LOCK = "room_lock", _("Circle locked")
        ROOM_UNLOCK = "room_unlock", _("Circle unlocked")
        ROOM_PAUSE = "room_pause", _("Chat paused")
        ROOM_RESUME = "room_resume", _("Chat resumed")
        ROOM_OPEN = "room_open", _("Circle opened")
        ROOM_CLOSE = "room_close", _("Circle closed")
        ROOM_SLOW_MODE = "room_slow_mode", _("Slow mode changed")
        MESSAGE_PIN = "message_pin", _("Message pinned")
        MESSAGE_UNPIN = "message_unpin", _("Message unpinned")
        SESSION_END = "session_end", _("Session ended")
        REPORT_RESOLVE = "report_resolve", _("Report resolved")
        APPLICATION_APPROVE = "application_approve", _("Application approved")
        APPLICATION_DECLINE = "application_decline", _("Application declined")
        FACILITATOR_ADD = "facilitator_add", _("Made facilitator")
        FACILITATOR_REMOVE = "facilitator_remove", _("No longer facilitator")
        DUTY_START = "duty_start", _("Came on duty")
        DUTY_END = "duty_end", _("Went off duty")
        REPORT_ACKNOWLEDGE = "report_acknowledge", _("Alert acknowledged")
        REPORT_TAKE = "report_take", _("Alert taken")
        REPORT_HANDOVER = "report_handover", _("Alert handed over")
        SUPPORT_OPEN = "support_open", _("Private conversation opened")
        SUPPORT_ANSWER = "support_answer", _("First private answer")
        SUPPORT_END = "support_end", _("Private conversation ended")

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="actions")
    actor = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="actions_taken")
    actor_alias = models.CharField(_("by"), max_length=80, blank=True)
    target_alias = models.CharField(_("alias"), max_length=80, blank=True)
    kind = models.CharField(_("action"), max_length=32, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The action's setting in words a person reads: "30 min", "until 2026-12-01", "10 s".
    detail = models.CharField(_("detail"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


# --- Duty, private support, response times (issue 10) -----------------------------------------
class DutyShift(models.Model):
    """A facilitator (or admin) on duty, platform-wide, for the circles they facilitate: alerts
    reach them wherever they are, and participants are told someone is on duty."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE,
                             related_name="duty_shifts")
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(ended_at__isnull=True),
                                    name="moderation_one_open_shift"),
        ]

    def __str__(self) -> str:
        return f"duty shift {self.pk}"


class SupportConversation(models.Model):
    """A private one-to-one conversation between a participant and a facilitator of one circle.

    Only its two parties read it (a hand-over changes the facilitator). Its messages are
    encrypted with the circle's session keys and expire with the circle's retention."""

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE,
                             related_name="support_conversations")
    report = models.ForeignKey(Report, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="conversations")
    participant = models.ForeignKey("rooms.Membership", on_delete=models.CASCADE,
                                    related_name="support_as_participant")
    facilitator = models.ForeignKey("rooms.Membership", on_delete=models.CASCADE,
                                    related_name="support_as_facilitator")
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    first_answer_at = models.DateTimeField(_("first answer at"), null=True, blank=True)
    handovers = models.PositiveSmallIntegerField(_("hand-overs"), default=0)
    # The conversation row (who talked to whom) goes when its last message would have.
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("private conversation")
        verbose_name_plural = _("private conversations")
        constraints = [
            models.UniqueConstraint(fields=["participant"],
                                    condition=models.Q(ended_at__isnull=True),
                                    name="moderation_one_open_conversation"),
        ]

    def __str__(self) -> str:  # never the aliases or the text
        return f"conversation {self.pk}"


class SupportMessage(models.Model):
    """One message of a private conversation, encrypted at rest like circle messages."""

    conversation = models.ForeignKey(SupportConversation, on_delete=models.CASCADE,
                                     related_name="messages")
    session = models.ForeignKey("rooms.Session", on_delete=models.CASCADE,
                                related_name="support_messages")
    author = models.ForeignKey("rooms.Membership", on_delete=models.CASCADE,
                               related_name="support_messages")
    # The author's key for this session, as for circle messages (empty for a resource card,
    # and for messages written before there were author keys: those use the session's key).
    key = models.ForeignKey("rooms.AuthorKey", on_delete=models.CASCADE, null=True, blank=True,
                            related_name="support_messages")
    body_encrypted = models.TextField(blank=True)
    # A help resource card sent by the facilitator instead of text.
    resource = models.ForeignKey(Resource, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    client_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "client_id"],
                                    name="moderation_support_client_id_once"),
        ]

    def __str__(self) -> str:  # never the text
        return f"private message {self.pk}"


class ResponseTime(models.Model):
    """How long someone who asked for help (or whose crisis was spotted) waited: seconds to the
    first acknowledgement and to the first private answer. Numbers only, kept as long as the
    audit trail."""

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE,
                             related_name="response_times")
    report = models.OneToOneField(Report, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="response_time")
    source = models.CharField(_("source"), max_length=12, choices=Report.Source.choices)
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    ack_seconds = models.PositiveIntegerField(_("seconds to acknowledgement"), null=True,
                                              blank=True)
    answer_seconds = models.PositiveIntegerField(_("seconds to first private answer"),
                                                 null=True, blank=True)

    class Meta:
        verbose_name = _("response time")
        verbose_name_plural = _("response times")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"response time {self.pk}"
