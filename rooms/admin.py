from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rooms.models import Membership, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "theme", "language", "capacity", "is_open", "retention",
                    "retention_hours")
    list_filter = ("language", "is_open", "retention")
    search_fields = ("title", "slug", "theme", "description")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("facilitators",)
    fieldsets = (
        (None, {"fields": ("title", "slug", "theme", "description", "language", "region")}),
        (_("Taking part"), {"fields": ("house_rules", "capacity", "is_open", "facilitators")}),
        (_("Retention"), {
            "description": _("How long what is said here is kept. Ephemeral: messages are gone "
                             "when the session ends or the last person leaves."),
            "fields": ("retention", "retention_hours"),
        }),
        (_("House rules applied automatically"), {
            "description": _("Each rule is explained in docs/house-rules.md."),
            "fields": (
                "max_message_length", "hide_phone_numbers", "hide_emails", "hide_national_ids",
                "allow_links", "blocked_words_enabled", "blocked_words_action",
                "crisis_detection", "medical_advice_nudge",
                "flood_limit", "flood_burst", "flood_per_minute", "slow_mode_seconds",
            ),
        }),
    )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    # Aliases and roles only: message text is not shown in the admin.
    list_display = ("alias", "room", "role", "rules_accepted_at", "created_at")
    list_filter = ("role", "room")
    search_fields = ("alias",)
    raw_id_fields = ("user",)
    readonly_fields = ("user", "room", "alias", "rules_accepted_at", "created_at")
