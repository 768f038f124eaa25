from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class HalqaUserAdmin(UserAdmin):
    list_display = ("username", "pseudonym", "role", "is_pseudonymous", "is_staff", "is_active")
    list_filter = ("role", "is_pseudonymous", "is_staff", "is_active")
    search_fields = ("username", "pseudonym")
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Halqa"), {"fields": ("role", "is_pseudonymous", "pseudonym",
                                 "same_alias_everywhere", "language", "last_active_on")}),
    )
    readonly_fields = ("is_pseudonymous", "last_active_on")
