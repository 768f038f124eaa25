from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from moderation import services as moderation
from rooms import applications
from rooms.errors import ServiceError
from rooms.models import Application, Membership, Room, ScheduledSession


class ScheduledSessionInline(admin.TabularInline):
    model = ScheduledSession
    extra = 0
    fields = ("theme", "first_date", "start_time", "duration_minutes", "repeat", "repeat_until",
              "time_zone", "is_cancelled")


def _service_call(model_admin: admin.ModelAdmin, request: HttpRequest,
                  service: Callable[..., Any], **params: Any) -> bool:
    """One service, acting as the signed-in admin; a refusal becomes an error message."""
    try:
        service(actor=request.user, **params)
    except ServiceError as exc:
        model_admin.message_user(request, exc.detail, level=messages.ERROR)
        return False
    return True


# What the facilitators' console switches live. Changed here, they go through the same services,
# so the audit entry and the live events happen whichever door was used.
ROOM_LIVE_FIELDS: dict[str, tuple[Callable[..., Any], str]] = {
    "is_open": (moderation.room_open, "on"),
    "is_locked": (moderation.room_lock, "on"),
    "is_paused": (moderation.room_pause, "on"),
    "slow_mode_seconds": (moderation.room_slow_mode, "seconds"),
}


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    """A new circle is saved as it is (nobody is inside yet). On an existing one, the live
    switches (ROOM_LIVE_FIELDS) and the facilitators go through moderation.services."""

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
            "fields": ("house_rules", "access", "capacity", "is_open", "is_locked", "is_paused",
                       "facilitators"),
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

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            super().save_model(request, obj, form, change)
            return
        live = {name: getattr(obj, name) for name in ROOM_LIVE_FIELDS
                if name in form.changed_data}
        for name in live:  # the other fields are saved as they are; these by their service
            setattr(obj, name, form.initial[name])
        super().save_model(request, obj, form, change)
        for name, value in live.items():
            service, param = ROOM_LIVE_FIELDS[name]
            _service_call(self, request, service, room=obj, **{param: value})

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        chosen = None
        if change and "facilitators" in form.changed_data:
            chosen = [user.pk for user in form.cleaned_data.pop("facilitators")]
        super().save_related(request, form, formsets, change)
        if chosen is not None:
            _service_call(self, request, moderation.room_facilitators_set, room=form.instance,
                          user_ids=chosen)


def _when(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """One alias in one circle. Every field with a rule behind it is read-only: a ban, a removal
    or a mute is an action of the list, through moderation.services, so the audit entry, the
    person's notice and the closing of their sockets happen as from the console. The role
    follows Room.facilitators (and the identity's admin role)."""

    # Aliases and roles only: message text is not shown in the admin.
    list_display = ("alias", "room", "role", "state", "rules_accepted_at", "created_at")
    list_filter = ("role", "room")
    list_select_related = ("room",)
    search_fields = ("alias",)
    fields = ("user", "room", "alias", "role", "state", "rules_accepted_at", "created_at",
              "last_seen_at", "admission", "admitted_until", "warnings", "muted_until",
              "removed_until", "banned_at", "banned_until", "ban_reason")
    readonly_fields = fields
    actions = ["ban", "unban", "remove", "mute", "unmute"]

    @admin.display(description=_("state"))
    def state(self, membership: Membership) -> str | None:
        now = timezone.now()
        parts = []
        if membership.banned_on(now) and membership.banned_until is None:
            parts.append(gettext("banned, no end"))
        elif membership.banned_on(now):
            parts.append(gettext("banned until %(time)s")
                         % {"time": _when(membership.banned_until)})
        if membership.removed_at(now):
            parts.append(gettext("removed until %(time)s")
                         % {"time": _when(membership.removed_until)})
        if membership.muted_at(now):
            parts.append(gettext("muted until %(time)s") % {"time": _when(membership.muted_until)})
        return "; ".join(parts) or None

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # a membership is made by entering a circle

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        extra_context = {**(extra_context or {}), "show_save": False,
                         "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        pass  # nothing here is written directly: see the actions

    def _act(self, request: HttpRequest, queryset: Any, service: Callable[..., Any],
             **params: Any) -> None:
        done = sum(_service_call(self, request, service, room=membership.room,
                                 alias=membership.alias, **params)
                   for membership in queryset.select_related("room"))
        if done:
            self.message_user(request, ngettext("Done for %(count)d alias.",
                                                "Done for %(count)d aliases.", done)
                              % {"count": done}, level=messages.SUCCESS)

    @admin.action(description=_("Ban from this circle (no end)"), permissions=["change"])
    def ban(self, request, queryset):  # type: ignore[no-untyped-def]
        self._act(request, queryset, moderation.member_ban, reason=gettext("Set in the admin"),
                  minutes=None)

    @admin.action(description=_("Lift the ban"), permissions=["change"])
    def unban(self, request, queryset):  # type: ignore[no-untyped-def]
        self._act(request, queryset, moderation.member_unban)

    @admin.action(description=_("Remove from the session for 30 minutes"),
                  permissions=["change"])
    def remove(self, request, queryset):  # type: ignore[no-untyped-def]
        self._act(request, queryset, moderation.member_remove, cooldown_minutes=30,
                  reason=gettext("Set in the admin"))

    @admin.action(description=_("Mute for 30 minutes"), permissions=["change"])
    def mute(self, request, queryset):  # type: ignore[no-untyped-def]
        self._act(request, queryset, moderation.member_mute, minutes=30,
                  reason=gettext("Set in the admin"))

    @admin.action(description=_("Lift the mute"), permissions=["change"])
    def unmute(self, request, queryset):  # type: ignore[no-untyped-def]
        self._act(request, queryset, moderation.member_unmute)


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
    fields = ("session", "occurrence_date", "applicant_alias", "applicant_note", "by_email",
              "status", "decided_by_alias", "created_at")
    readonly_fields = fields
    actions = ["approve", "decline"]

    @admin.display(description=_("alias"))
    def applicant_alias(self, application: Application) -> str:
        return application.applicant.alias

    @admin.display(description=_("note"))
    def applicant_note(self, application: Application) -> str:
        return application.note  # unsealed for display; the sealed column is never listed

    @admin.display(description=_("by e-mail"), boolean=True)
    def by_email(self, application: Application) -> bool:
        return bool(application.contact_sealed)

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
