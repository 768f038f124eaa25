from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import StaffLoginForm
from accounts.models import User

# /admin/login/ signs in through accounts.services.staff_authenticate (its limits).
admin.site.login_form = StaffLoginForm


@admin.register(User)
class HalqaUserAdmin(UserAdmin):
    list_display = ("username", "pseudonym", "role", "is_pseudonymous", "is_staff", "is_active")
    list_filter = ("role", "is_pseudonymous", "is_staff", "is_active")
    search_fields = ("username", "pseudonym")
    # `role` is fine to edit here: it is the identity's kind of account. An admin acts in every
    # circle; a facilitator's rights in a circle come from Room.facilitators, which the circle's
    # page sets through moderation.services.room_facilitators_set (audit entry, sockets follow).
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Halqa"), {"fields": ("role", "is_pseudonymous", "pseudonym",
                                 "same_alias_everywhere", "language", "last_active_on")}),
    )
    readonly_fields = ("is_pseudonymous", "last_active_on")
