from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation import care, services
from moderation.models import Action, BlockedWord, Report, Resource, RuleBreach
from rooms.errors import ServiceError

CHECK_BEFORE_LIVE = _(
    "Check every resource before going live: call each number, confirm the hours and the "
    "languages. People in crisis will be shown these. The demo lists Morocco's national "
    "emergency numbers (police 19, Gendarmerie Royale 177, ambulance and fire 15) and, for the "
    "other kinds, example entries with no number: fill them in with services you have checked, "
    "or delete them."
)


class RegionFilter(admin.SimpleListFilter):
    """The regions named by any resource (a resource may serve several), and nationwide."""

    title = _("region")
    parameter_name = "region"
    NATIONWIDE = "-"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = {name for regions in Resource.objects.values_list("regions", flat=True)
                 for name in (part.strip() for part in regions.split(",")) if name}
        return [(self.NATIONWIDE, _("Nationwide")),
                *((name, name) for name in sorted(names, key=str.casefold))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if not value:
            return queryset
        if value == self.NATIONWIDE:
            return queryset.filter(regions="")
        return queryset.filter(pk__in=[r.pk for r in queryset if r.region_list
                                       and r.serves_region(value)])


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    # An address typed without a scheme is taken as https (Django 6's default, asked for now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "kind", "phone", "hours", "languages", "regions_shown",
                    "is_active", "is_example", "verified_on", "facilitator_note_shown")
    list_filter = ("kind", "is_active", "is_example", RegionFilter)
    search_fields = ("name", "description", "phone", "facilitator_note")
    list_editable = ("is_active",)
    fieldsets = (
        (None, {"description": CHECK_BEFORE_LIVE,
                "fields": ("name", "kind", "phone", "url", "hours", "description",
                           "facilitator_note")}),
        (_("Who it is for"), {"fields": ("languages", "regions")}),
        (_("Upkeep"), {"fields": ("is_active", "is_example", "verified_on", "order")}),
    )

    @admin.display(description=_("regions"), ordering="regions")
    def regions_shown(self, obj: Resource) -> str:
        return ", ".join(obj.region_list) or str(_("Nationwide"))

    @admin.display(description=_("note for facilitators"))
    def facilitator_note_shown(self, obj: Resource) -> str:
        note = " ".join(obj.facilitator_note.split())
        return note if len(note) <= 80 else f"{note[:79]}…"

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
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


# --- The audit trail and the report queue: read-only, for admins ------------------------------
class _ReadOnlyForAdmins(admin.ModelAdmin):
    """Visible to Halqa admins (role admin, or superusers) only; nobody adds, edits or deletes
    here: entries are written by moderation.services alone."""

    def _is_admin(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "is_halqa_admin", False))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _csv_response(request: HttpRequest, ids: list[int] | None = None) -> HttpResponse:
    """The CSV of these audit entries (all with no ids), built by the service (which checks
    the admin again)."""
    text = services.audit_csv(actor=request.user, ids=ids)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="halqa-audit-{timezone.now():%Y%m%d-%H%M}.csv"')
    return response


@admin.register(Action)
class ActionAdmin(_ReadOnlyForAdmins):
    list_display = ("created_at", "room", "kind", "actor_alias", "target_alias", "reason",
                    "detail")
    list_filter = ("room", "kind", "created_at")
    search_fields = ("actor_alias", "target_alias")
    date_hierarchy = "created_at"
    list_select_related = ("room",)
    # The identity behind an alias (`actor`) is left out on purpose: aliases are enough here.
    fields = ("created_at", "room", "kind", "actor_alias", "target_alias", "reason", "detail")
    readonly_fields = fields
    actions = ["export_csv"]
    change_list_template = "admin/moderation/action/change_list.html"

    @admin.action(description=_("Export selected as CSV"))
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        try:
            return _csv_response(request, list(queryset.values_list("pk", flat=True)))
        except ServiceError as exc:
            self.message_user(request, exc.detail, level=messages.ERROR)
            return None

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path("export.csv", self.admin_site.admin_view(self.export_all_view),
                 name="{}_{}_export".format(*info)),
            *super().get_urls(),
        ]

    def export_all_view(self, request: HttpRequest) -> HttpResponse:
        """The whole audit trail as CSV (the changelist's "Export all as CSV" button)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            return _csv_response(request)
        except ServiceError as exc:
            raise PermissionDenied(exc.detail) from None


@admin.register(Report)
class ReportAdmin(_ReadOnlyForAdmins):
    # Never the reported text: `snapshot_encrypted` is not listed, shown, searched or filtered.
    list_display = ("created_at", "room", "source", "reason", "status", "reporter_alias",
                    "target_alias", "resolved_by_alias", "resolved_at")
    list_filter = ("status", "source", "reason", "room", "created_at")
    search_fields = ("reporter_alias", "target_alias")
    list_select_related = ("room",)
    fields = ("created_at", "room", "source", "reason", "status", "message_id",
              "reporter_alias", "target_alias", "resolved_by_alias", "resolved_at")
    readonly_fields = fields
    actions = None
    change_list_template = "admin/moderation/report/change_list.html"

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path("response-times/", self.admin_site.admin_view(self.response_times_view),
                 name="{}_{}_response_times".format(*info)),
            *super().get_urls(),
        ]

    def response_times_view(self, request: HttpRequest) -> HttpResponse:
        """How long people in crisis waited for a human, per week and circle: numbers only."""
        if not getattr(request.user, "is_halqa_admin", False):
            raise PermissionDenied
        return TemplateResponse(request, "admin/moderation/report/response_times.html", {
            **self.admin_site.each_context(request), "opts": self.opts,
            "title": _("Response times"), "rows": care.response_times_by_week()})
