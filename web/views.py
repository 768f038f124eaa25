"""Pages of the browser client. They render what services return; the live part is room.js."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from rooms import services
from rooms.errors import NotFound
from rooms.models import Room


@ensure_csrf_cookie
def room_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/room_list.html", {"rooms": Room.objects.all()})


@ensure_csrf_cookie
def room_page(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        room = services.room_get(slug=slug)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    return render(request, "web/room.html", {"room": room})


@ensure_csrf_cookie
def privacy(request: HttpRequest) -> HttpResponse:
    """What Halqa keeps, for how long, and who sees it: every figure read from the settings and
    the circles as they are now, so the page cannot drift from what the server does."""
    halqa = settings.HALQA
    layer_config = settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
    cookie_age = settings.SESSION_COOKIE_AGE
    figures = {
        "stale_identity_days": halqa["STALE_IDENTITY_DAYS"],
        "audit_days": halqa["AUDIT_RETENTION_DAYS"],
        "max_retention_hours": halqa["MAX_RETENTION_HOURS"],
        "ephemeral_max_hours": halqa["EPHEMERAL_MAX_HOURS"],
        "session_key_hours": halqa["SESSION_KEY_HOURS"],
        "presence_timeout_seconds": halqa["PRESENCE_TIMEOUT"],
        # Whole days when the age is a whole number of days, else hours rounded up.
        "session_cookie_days": cookie_age // 86400 if cookie_age % 86400 == 0 else None,
        "session_cookie_hours": math.ceil(cookie_age / 3600),
        "csrf_cookie_days": (math.ceil(settings.CSRF_COOKIE_AGE / 86400)
                             if settings.CSRF_COOKIE_AGE else None),
        "redis": bool(settings.REDIS_URL),
        # Where ephemeral circles' keys live (rooms.crypto): the cache, never the database.
        "keys_in_redis": "redis" in settings.CACHES["default"]["BACKEND"].lower(),
        "layer_encrypted": bool(layer_config.get("symmetric_encryption_keys")),
        "layer_expiry_seconds": layer_config.get("expiry") if settings.REDIS_URL else None,
    }
    circles = [
        {
            "title": room.title,
            "language": room.language,
            "is_rtl": room.is_rtl,
            "ephemeral": room.is_ephemeral,
            # What services._expiry_for applies: the circle's hours, capped by the setting.
            "hours": min(room.retention_hours, halqa["MAX_RETENTION_HOURS"]),
        }
        for room in Room.objects.only("title", "language", "retention", "retention_hours")
    ]
    return render(request, "web/privacy.html", {"figures": figures, "circles": circles})
