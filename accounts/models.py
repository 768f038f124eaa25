"""Identities. A participant is a pseudonym, nothing more: no e-mail, no phone, no address."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Role(models.TextChoices):
        PARTICIPANT = "participant", _("Participant")
        FACILITATOR = "facilitator", _("Facilitator")
        ADMIN = "admin", _("Admin")

    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.PARTICIPANT
    )
    # A generated identity: created by "join anonymously", never asked for personal data.
    is_pseudonymous = models.BooleanField(_("pseudonymous identity"), default=False)
    pseudonym = models.CharField(
        _("pseudonym"), max_length=80, blank=True,
        help_text=_("The name this identity signs in with; also its alias where it chooses "
                    "to use the same alias in every circle."),
    )
    same_alias_everywhere = models.BooleanField(
        _("same alias in every circle"), default=False,
        help_text=_("Off by default, so people in two circles cannot link the two aliases."),
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Day-level only: enough for the purge of stale identities, too coarse to trace visits.
    last_active_on = models.DateField(_("last active on"), null=True, blank=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [
            models.UniqueConstraint(
                Lower("pseudonym"), condition=~models.Q(pseudonym=""),
                name="accounts_user_pseudonym_unique_ci",
            )
        ]

    @property
    def is_facilitator(self) -> bool:
        return self.role in (self.Role.FACILITATOR, self.Role.ADMIN) or self.is_superuser

    @property
    def is_halqa_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    @property
    def display_name(self) -> str:
        return self.pseudonym or self.username
