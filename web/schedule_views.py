"""Pages of the schedule: upcoming sessions, applying, invitations, the facilitators' list of
applications, and each circle's calendar feed. They render what rooms.applications returns."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from accounts.models import User
from accounts.services import identity_create_anonymous
from moderation.ratelimit import request_source
from rooms import applications, schedule, selectors
from rooms.errors import NotFound, ServiceError
from rooms.models import Language


def _identity(request: HttpRequest) -> User:
    """The visitor's identity, made on the spot (anonymous, nothing asked) if they have none."""
    if request.user.is_authenticated:
        return request.user
    user = identity_create_anonymous(language=translation.get_language() or "ar",
                                     source=request_source(request.META))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def _room(slug: str):  # type: ignore[no-untyped-def]
    try:
        return selectors.room_get(slug=slug)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _week_choice(value: str) -> int | None:
    """?week=: 0 (this week, the default), 1…3, or "all" (None)."""
    if value == "all":
        return None
    try:
        week = int(value)
    except ValueError:
        return 0
    return week if 0 <= week < schedule.WEEKS_AHEAD else 0


@ensure_csrf_cookie
def schedule_page(request: HttpRequest) -> HttpResponse:
    """Coming sessions a week at a time (this week first), each week by day."""
    language = request.GET.get("language", "")
    if language not in Language.values:
        language = ""
    theme = request.GET.get("theme", "")[:80]
    week = _week_choice(request.GET.get("week", "0"))
    today = timezone.localdate()
    shown = range(schedule.WEEKS_AHEAD) if week is None else [week]
    upcoming = applications.schedule_upcoming(language=language, theme=theme,
                                              days=7 * schedule.WEEKS_AHEAD)
    weeks = []
    for number in shown:
        first, end = schedule.week_window(today=today, week=number)
        inside = [u for u in upcoming
                  if first <= timezone.localtime(u.occurrence.starts_at).date() < end]
        days = [(day, list(items)) for day, items in groupby(
            inside, key=lambda u: timezone.localtime(u.occurrence.starts_at).date())]
        weeks.append({"number": number, "first": first, "last": end - timedelta(days=1),
                      "days": days})
    return render(request, "web/schedule.html", {
        "weeks": weeks, "week": "all" if week is None else week,
        "week_choices": [(0, _("This week")), (1, _("Next week")), (2, _("In two weeks")),
                         (3, _("In three weeks")), ("all", _("The next four weeks"))],
        "next_week": week + 1 if week is not None and week + 1 < schedule.WEEKS_AHEAD else None,
        "circle_languages": Language.choices, "language": language, "theme": theme,
        "mine": applications.applications_mine(user=request.user),
    })


@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    try:
        session_id = int(request.POST.get("session_id", ""))
        day = date.fromisoformat(request.POST.get("date", ""))
    except ValueError:
        messages.error(request, _("That session could not be found. Please try again."))
        return redirect("schedule-page")
    email = request.POST.get("contact_email", "") if request.POST.get("by_email") else ""
    try:
        applications.application_submit(
            user=_identity(request), session_id=session_id, day=day,
            note=request.POST.get("note", ""), contact_email=email)
    except ServiceError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Thank you. A facilitator will look at your application; "
                                    "its answer will appear here."))
    return redirect(reverse("schedule-page") + "#mine")


@ensure_csrf_cookie
def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        opened = applications.invitation_open(token=token)
    except NotFound as exc:
        return render(request, "web/invitation.html", {"error": exc.detail}, status=404)
    if request.method == "POST":
        try:
            membership = applications.invitation_accept(user=_identity(request), token=token)
        except ServiceError as exc:
            messages.error(request, exc.detail)
        else:
            return redirect("room-page", slug=membership.room.slug)
        opened = applications.invitation_open(token=token)
    return render(request, "web/invitation.html", {**opened, "token": token})


def applications_page(request: HttpRequest, slug: str) -> HttpResponse:
    """For the circle's facilitators: applications to approve or decline."""
    room = _room(slug)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not selectors.is_facilitator(user=request.user, room=room):
        raise PermissionDenied
    if request.method == "POST":
        try:
            applications.application_decide(
                actor=request.user, application_id=int(request.POST.get("application_id", 0)),
                approve=request.POST.get("decision") == "approve")
        except (ServiceError, ValueError) as exc:
            messages.error(request, getattr(exc, "detail", _("Please try again.")))
        return redirect("applications-page", slug=slug)
    pending = applications.applications_pending(actor=request.user, room=room)
    return render(request, "web/applications.html", {"room": room, "pending": pending})


def calendar_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """An iCalendar feed of a circle's coming sessions (the next 90 days), for calendar apps."""
    room = _room(slug)
    calendar = Calendar()
    calendar.add("prodid", "-//Halqa//circles//")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", room.title)
    page = request.build_absolute_uri(f"/rooms/{room.slug}/")
    for upcoming in applications.schedule_upcoming(room=room, days=90):
        event = Event()
        event.add("uid", f"{upcoming.session.pk}-{upcoming.occurrence.date}@halqa")
        event.add("summary", upcoming.session.theme or room.theme or room.title)
        event.add("description", upcoming.session.description or room.description)
        event.add("dtstart", upcoming.occurrence.starts_at)
        event.add("dtend", upcoming.occurrence.ends_at)
        event.add("dtstamp", upcoming.session.created_at)
        event.add("url", page)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{room.slug}.ics"'
    return response
