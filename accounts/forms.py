"""The staff sign-in form of /admin/login/: Django's own, through accounts.services."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts import services
from rooms.errors import RateLimited


class StaffLoginForm(AdminAuthenticationForm):
    """Django's admin login, with the sign-in limits of `services.staff_authenticate`: a name
    tried too often waits (the form says how long), and no client address is used."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.staff_authenticate(username=username,
                                                              password=password)
            except RateLimited as exc:
                raise ValidationError(exc.detail, code=exc.code) from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
