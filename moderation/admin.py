from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from moderation.models import BlockedWord, Resource, RuleBreach

CHECK_BEFORE_LIVE = _(
    "Check every resource before going live: call each number, confirm the hours and the "
    "languages. People in crisis will be shown these. The demo lists only Morocco's national "
    "emergency numbers (police 19, Gendarmerie Royale 177, ambulance and fire 15)."
)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "phone", "hours", "languages", "region", "is_active",
                    "verified_on")
    list_filter = ("kind", "is_active", "region")
    search_fields = ("name", "description", "phone")
    list_editable = ("is_active",)
    fieldsets = (
        (None, {"description": CHECK_BEFORE_LIVE,
                "fields": ("name", "kind", "phone", "url", "hours", "description")}),
        (_("Who it is for"), {"fields": ("languages", "region")}),
        (_("Upkeep"), {"fields": ("is_active", "verified_on", "order")}),
    )

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        from django.contrib import messages

        messages.warning(request, CHECK_BEFORE_LIVE)
        return super().changelist_view(request, extra_context)


@admin.register(BlockedWord)
class BlockedWordAdmin(admin.ModelAdmin):
    list_display = ("word", "language", "is_active")
    list_filter = ("language", "is_active")
    search_fields = ("word",)


@admin.register(RuleBreach)
class RuleBreachAdmin(admin.ModelAdmin):
    list_display = ("membership", "rule", "count", "last_at")
    list_filter = ("rule",)
    search_fields = ("membership__alias",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
