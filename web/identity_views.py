"""The "Your identity" page: which pseudonym this browser uses, a passphrase to use it on
another device (with the trade-off said plainly), and signing in with one. The forms post to the
identity REST API (accounts.api) from identity.js; this view only draws the page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def identity_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "web/identity.html", {
        "signed_in": user.is_authenticated,
        "pseudonymous": user.is_authenticated and user.is_pseudonymous,
        "has_passphrase": user.is_authenticated and user.has_usable_password(),
        "min_length": _min_length(),
    })


def _min_length() -> int:
    """The shortest passphrase the validators accept (server.settings)."""
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith("MinimumLengthValidator"):
            return int(validator.get("OPTIONS", {}).get("min_length", 8))
    return 8
