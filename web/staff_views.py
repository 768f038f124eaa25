"""Staff pages: where a facilitator lands after signing in, with their circles and the name they
show in them. They render what selectors and services return; the admin stays for admins."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.services import staff_display_name_set
from rooms import applications, selectors
from rooms.errors import ServiceError
from rooms.models import Room


def admin_home(request: HttpRequest) -> HttpResponse:
    """The admin's index, except for staff with nothing to do in the admin (a facilitator):
    they land on their own page instead of "You don't have permission to view or edit
    anything"."""
    user = request.user
    if (user.is_active and user.is_staff and getattr(user, "is_facilitator", False)
            and not admin.site.get_app_list(request)):
        return redirect("facilitator-home")
    return admin.site.admin_view(admin.site.index)(request)


@ensure_csrf_cookie
def facilitator_home(request: HttpRequest) -> HttpResponse:
    """A facilitator's own page: their circles with the console (and applications) of each, and
    the display name they show in circles."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    user = request.user
    if not getattr(user, "is_facilitator", False):
        raise PermissionDenied(_("This page is for facilitators."))
    if request.method == "POST":
        try:
            staff_display_name_set(user=user, name=request.POST.get("display_name", ""))
        except ServiceError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Saved. Circles show you under this name from now on."))
        return redirect("facilitator-home")
    circles = []
    for room in selectors.rooms_facilitated(user=user).order_by("title"):
        pending = (len(applications.applications_pending(actor=user, room=room))
                   if room.access == Room.Access.APPLICATION else None)
        circles.append({"room": room, "pending": pending})
    return render(request, "web/facilitator.html", {
        "circles": circles, "display_name": user.pseudonym,
        "has_admin": user.is_staff and bool(admin.site.get_app_list(request)),
    })
