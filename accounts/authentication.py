"""REST edge: the session sign-in of the API, where using it counts as using the identity."""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from accounts.services import identity_touch


class ActiveSessionAuthentication(SessionAuthentication):
    """DRF's session authentication, and a signed-in API request keeps the identity from being
    purged as unused, like opening a circle's live connection does (at most one write a day)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None:
            identity_touch(user=result[0])
        return result


class ActiveSessionScheme(SessionScheme):
    """The same cookie scheme in the OpenAPI schema as DRF's own session authentication."""

    target_class = "accounts.authentication.ActiveSessionAuthentication"
