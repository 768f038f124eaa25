from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rooms import applications
from rooms.errors import ServiceError
from rooms.models import Application, Membership, Room, ScheduledSession


class ScheduledSessionInline(admin.TabularInline):
    model = ScheduledSession
    extra = 0
    fields = ("theme", "first_date", "start_time", "duration_minutes", "repeat", "repeat_until",
              "time_zone", "is_cancelled")


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "theme", "language", "access", "capacity", "is_open",
                    "retention", "retention_hours")
    list_filter = ("language", "access", "is_open", "retention")
    inlines = [ScheduledSessionInline]
    search_fields = ("title", "slug", "theme", "description")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("facilitators",)
    fieldsets = (
        (None, {"fields": ("title", "slug", "theme", "description", "language", "region")}),
        (_("Taking part"), {
            "description": _("Open: anyone drops in. Waiting room: a facilitator admits each "
                             "arrival. By application: people apply to a session on the "
                             "schedule and enter with a personal invitation."),
            "fields": ("house_rules", "access", "capacity", "is_open", "facilitators"),
        }),
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


@admin.register(ScheduledSession)
class ScheduledSessionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "room", "first_date", "start_time", "duration_minutes", "repeat",
                    "repeat_until", "is_cancelled")
    list_filter = ("repeat", "is_cancelled", "room__language", "room")
    search_fields = ("theme", "description", "room__title")
    date_hierarchy = "first_date"
    fieldsets = (
        (None, {"fields": ("room", "theme", "description")}),
        (_("When"), {
            "description": _("Local time in the chosen time zone; a weekly session keeps its "
                             "local time when the clocks change."),
            "fields": ("first_date", "start_time", "duration_minutes", "time_zone", "repeat",
                       "repeat_until", "is_cancelled"),
        }),
    )


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Applications to a session. The contact address is never shown: only whether there is
    one. Approving makes and sends the invitation (rooms.applications)."""

    list_display = ("occurrence_date", "session", "applicant_alias", "status", "by_email",
                    "created_at")
    list_filter = ("status", "session__room")
    search_fields = ("applicant__alias",)
    fields = ("session", "occurrence_date", "applicant_alias", "note", "by_email", "status",
              "decided_by_alias", "created_at")
    readonly_fields = fields
    actions = ["approve", "decline"]

    @admin.display(description=_("alias"))
    def applicant_alias(self, application: Application) -> str:
        return application.applicant.alias

    @admin.display(description=_("by e-mail"), boolean=True)
    def by_email(self, application: Application) -> bool:
        return bool(application.contact_email)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def _decide(self, request, queryset, *, approve: bool) -> None:  # type: ignore[no-untyped-def]
        for application in queryset:
            try:
                applications.application_decide(actor=request.user,
                                                application_id=application.pk, approve=approve)
            except ServiceError as exc:
                self.message_user(request, f"{application}: {exc.detail}", level="error")

    @admin.action(description=_("Approve and send the invitations"))
    def approve(self, request, queryset):  # type: ignore[no-untyped-def]
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Decline"))
    def decline(self, request, queryset):  # type: ignore[no-untyped-def]
        self._decide(request, queryset, approve=False)
