from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation and house rules")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from moderation.house_rules import blocked_words_forget
        from moderation.models import BlockedWord

        def forget(**kwargs: object) -> None:
            blocked_words_forget()

        post_save.connect(forget, sender=BlockedWord, dispatch_uid="blocked-words-forget-save")
        post_delete.connect(forget, sender=BlockedWord, dispatch_uid="blocked-words-forget-del")
