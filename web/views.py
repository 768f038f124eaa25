"""Pages of the browser client. They render what services return; the live part is room.js."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from moderation import care
from moderation.selectors import resources_directory
from rooms import applications, protocol, selectors
from rooms.errors import NotFound
from rooms.models import Room


@ensure_csrf_cookie
def room_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/room_list.html", {"rooms": selectors.room_list()})


def _room_or_404(slug: str) -> Room:
    try:
        return selectors.room_get(slug=slug)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _facilitates(request: HttpRequest, room: Room) -> bool:
    return request.user.is_authenticated and selectors.is_facilitator(user=request.user,
                                                                      room=room)


def _door(request: HttpRequest, room: Room, *, facilitates: bool) -> str:
    """"application" when this visitor can only come in by applying (a circle by application,
    no valid invitation yet): the page leads to its sessions and the form, not to a chat."""
    if room.access != Room.Access.APPLICATION or facilitates:
        return ""
    if request.user.is_authenticated and selectors.invitation_holds(user=request.user,
                                                                    room=room):
        return ""
    return "application"


@ensure_csrf_cookie
def room_page(request: HttpRequest, slug: str) -> HttpResponse:
    room = _room_or_404(slug)
    facilitates = _facilitates(request, room)
    door = _door(request, room, facilitates=facilitates)
    upcoming = applications.schedule_upcoming(room=room)[:4] if door == "application" else []
    return render(request, "web/room.html",
                  {"room": room, "is_facilitator": facilitates, "door": door,
                   "upcoming": upcoming,
                   # The report form's reasons: the protocol's, as /protocol.js has them.
                   "report_reasons": protocol.vocabulary()["report_reasons"]})


@ensure_csrf_cookie
def room_console(request: HttpRequest, slug: str) -> HttpResponse:
    """The facilitators' console of one circle. The page is a shell: every action goes over
    the circle's websocket, where the server authorises it again, frame by frame."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    room = _room_or_404(slug)
    if not _facilitates(request, room):
        raise PermissionDenied("Only this circle's facilitators can open its console.")
    pending = (len(applications.applications_pending(actor=request.user, room=room))
               if room.access == Room.Access.APPLICATION else 0)
    return render(request, "web/console.html", {"room": room, "pending_applications": pending,
                                                "limits": protocol.LIMITS})


@ensure_csrf_cookie
def duty_desk(request: HttpRequest) -> HttpResponse:
    """The duty desk: a shell; the queue, alerts and private conversations come over its own
    websocket (/ws/duty/, moderation.consumers), where the server authorises every request."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    if not care.is_staff_user(request.user):
        raise PermissionDenied("Only facilitators can open the duty desk.")
    return render(request, "web/duty.html", {})


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
            "hours": selectors.room_retention_hours(room=room),
        }
        for room in selectors.room_list().only("title", "language", "retention",
                                               "retention_hours")
    ]
    return render(request, "web/privacy.html", {"figures": figures, "circles": circles})


def help_directory(request: HttpRequest) -> HttpResponse:
    """Where to find help now: the help resources by kind, filtered by region and language
    (a plain GET form, so it works without JavaScript), with the quick exit explained."""
    directory = resources_directory(language=request.GET.get("language", ""),
                                    region=request.GET.get("region", ""))
    return render(request, "web/help.html", {
        "directory": directory, "quick_exit_url": settings.HALQA["QUICK_EXIT_URL"]})
