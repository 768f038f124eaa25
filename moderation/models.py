"""What the house rules need to remember: help resources, blocked words, breach counts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Resource(models.Model):
    """A help line or referral service, offered to anyone who may be in crisis."""

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency services")
        CRISIS_LINE = "crisis_line", _("Crisis and listening line")
        VIOLENCE_AGAINST_WOMEN = "violence_women", _("Violence against women")
        LEGAL_AID = "legal_aid", _("Legal aid")
        HEALTH = "health", _("Health")
        FAMILY_MEDIATION = "family_mediation", _("Family mediation")
        EMPLOYMENT_TRAINING = "employment_training", _("Employment and training orientation")

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
    region = models.CharField(
        _("region"), max_length=80, blank=True, help_text=_("Empty means nationwide."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    verified_on = models.DateField(
        _("checked on"), null=True, blank=True,
        help_text=_("When someone in your organisation last called or checked this resource."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("help resource")
        verbose_name_plural = _("help resources")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def language_list(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]


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


class Action(models.Model):
    """The audit trail: who did what to which alias, when and why. Never any message text."""

    class Kind(models.TextChoices):
        IDENTITY_ERASED = "identity_erased", _("An identity was erased at its owner's request")
        IDENTITY_EXPIRED = "identity_expired", _("An unused identity was deleted")

    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="actions")
    actor = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="actions_taken")
    actor_alias = models.CharField(_("by"), max_length=80, blank=True)
    target_alias = models.CharField(_("alias"), max_length=80, blank=True)
    kind = models.CharField(_("action"), max_length=32)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"
