"""Who can care for a person in a circle now, and what the duty desk shows: reads only.

Below rooms.selectors (which asks it for a circle's care status): it imports no selector or
service of the circles, only models and the schedule's date arithmetic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from moderation.models import DutyShift, Report, Resource, ResponseTime, SupportConversation
from rooms import schedule
from rooms.models import Membership, Room, ScheduledSession

# Reports that are someone waiting for a human: the duty desk's queue.
DESK_SOURCES = (Report.Source.CRISIS, Report.Source.HELP, Report.Source.PRIVATE)
DESK_LIMIT = 200
NEXT_SESSION_DAYS = 31


def duty_group(user_id: int) -> str:
    """Every duty-desk socket of one facilitator: alerts reach them wherever they are."""
    return f"duty.{user_id}"


# --- Who is on duty ---------------------------------------------------------------------------
def admins() -> QuerySet[User]:
    return User.objects.filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True), is_active=True)


def is_staff_user(user: Any) -> bool:
    """A facilitator or admin identity (platform-wide), who may go on duty."""
    return bool(getattr(user, "is_authenticated", False) and user.is_facilitator)


def duty_shift_open(*, user_id: int) -> DutyShift | None:
    return DutyShift.objects.filter(user_id=user_id, ended_at__isnull=True).first()


def responders(*, room_id: int) -> QuerySet[User]:
    """Everyone a circle's alerts go to: its facilitators and every admin."""
    return User.objects.filter(Q(facilitated_rooms__pk=room_id) | Q(role=User.Role.ADMIN)
                               | Q(is_superuser=True), is_active=True).distinct()


def on_duty_for(*, room_id: int) -> QuerySet[User]:
    """Who is on duty for this circle now: on duty and facilitating it, or an admin on duty."""
    return responders(room_id=room_id).filter(pk__in=_on_duty_ids())


def _on_duty_ids() -> QuerySet[DutyShift]:
    return DutyShift.objects.filter(ended_at__isnull=True).values("user_id")


def rooms_facilitated(*, user: User) -> QuerySet[Room]:
    """The circles whose alerts this identity answers (admins: all)."""
    if user.is_halqa_admin:
        return Room.objects.all()
    return Room.objects.filter(facilitators=user)


def next_session_start(*, room: Room, now: datetime | None = None) -> datetime | None:
    """When the next scheduled (facilitated) session of this circle starts, if one is planned
    within a month."""
    now = now or timezone.now()
    soonest: datetime | None = None
    for session in ScheduledSession.objects.filter(room=room, is_cancelled=False):
        for occurrence in schedule.occurrences_between(
                first_date=session.first_date, start_time=session.start_time,
                duration_minutes=session.duration_minutes, time_zone=session.time_zone,
                weekly=session.repeat == ScheduledSession.Repeat.WEEKLY,
                repeat_until=session.repeat_until, start=now,
                end=now + timedelta(days=NEXT_SESSION_DAYS)):
            if occurrence.starts_at > now and (soonest is None or occurrence.starts_at < soonest):
                soonest = occurrence.starts_at
                break
    return soonest


CARE_PRESENT, CARE_ON_DUTY, CARE_NONE = "present", "on_duty", "none"


def care_status(*, room: Room, facilitator_present: bool) -> dict[str, Any]:
    """What a participant is told about who can help, true at this moment: a facilitator is in
    the circle, or none is but someone is on duty for it, or nobody (then the next facilitated
    session, if any). `on_duty` lets a client keep the status true as presence changes."""
    on_duty = on_duty_for(room_id=room.pk).exists()
    status = CARE_PRESENT if facilitator_present else CARE_ON_DUTY if on_duty else CARE_NONE
    upcoming = next_session_start(room=room) if status == CARE_NONE else None
    return {"status": status, "on_duty": on_duty,
            "next_session": upcoming.isoformat() if upcoming else None}


# --- Help resources, the person's region and language first -----------------------------------
def resource_payload(resource: Resource, *, for_staff: bool = False) -> dict[str, Any]:
    payload = {"id": resource.pk, "name": resource.name, "kind": resource.kind,
               "kind_label": str(resource.get_kind_display()), "phone": resource.phone,
               "url": resource.url if resource.url.lower().startswith(("https://", "http://"))
               else "", "hours": resource.hours, "description": resource.description,
               "regions": resource.region_list, "languages": resource.language_list}
    if for_staff:
        payload["facilitator_note"] = resource.facilitator_note
    return payload


def resources_ranked(*, language: str, region: str = "", for_staff: bool = False,
                     limit: int = 30) -> list[dict[str, Any]]:
    """Active resources (never the demo's example entries) for someone in a circle of this
    region, speaking this language (Darija also finds Arabic ones): emergency numbers first,
    then those offered in the language, then, among them, those of the region before nationwide
    ones before other regions' (a line elsewhere may still take the call).

    A person in crisis is shown only the resources offered in their language; facilitators
    (`for_staff`) get every resource, the fitting ones first and marked `fits`, with the note
    for facilitators."""
    wanted = {language, "ar"} if language == "ary" else {language}

    def speaks(r: Resource) -> bool:
        return bool(wanted & set(r.language_list))

    def rank(r: Resource) -> tuple[int, int, int, int, str]:
        place = (1 if not r.region_list else 0 if region and r.serves_region(region) else 2)
        return (0 if r.kind == Resource.Kind.EMERGENCY else 1, 0 if speaks(r) else 1, place,
                r.order, r.name)

    rows = sorted((r for r in Resource.objects.filter(is_active=True, is_example=False)
                   if for_staff or speaks(r)), key=rank)
    out = []
    for r in rows[:limit]:
        payload = resource_payload(r, for_staff=for_staff)
        if for_staff:
            payload["fits"] = speaks(r) and r.serves_region(region)
        out.append(payload)
    return out


# --- The duty desk ------------------------------------------------------------------------------
def desk_item(report: Report) -> dict[str, Any]:
    """One waiting person as the duty desk shows them: never any message text."""
    room = report.room
    conversation = (SupportConversation.objects.filter(report=report, ended_at__isnull=True)
                    .values_list("pk", flat=True).first())
    return {
        "id": report.pk, "source": report.source, "status": report.status,
        "alias": report.target_alias, "message_id": report.message_id,
        "room": {"slug": room.slug, "title": room.title, "language": room.language,
                 "region": room.region, "dir": "rtl" if room.is_rtl else "ltr"},
        # Exact, for the waiting time the desk counts up; facilitators only.
        "created_at": report.created_at.isoformat(),
        "acknowledged_at": (report.acknowledged_at.isoformat()
                            if report.acknowledged_at else None),
        "acknowledged_by": report.acknowledged_by_alias,
        "taken_by": report.taken_by_alias,
        "taken_by_user": report.taken_by.user_id if report.taken_by_id else None,
        "conversation_id": conversation,
    }


def desk_queue(*, user: User) -> list[dict[str, Any]]:
    """Every open alert and help request of the circles this identity answers, oldest first."""
    reports = (Report.objects.select_related("room", "taken_by")
               .filter(status=Report.Status.OPEN, source__in=DESK_SOURCES,
                       room__in=rooms_facilitated(user=user))
               .order_by("created_at", "id")[:DESK_LIMIT])
    return [desk_item(report) for report in reports]


def colleagues_on_duty(*, exclude_user_id: int) -> list[dict[str, Any]]:
    """Who else is on duty, to hand over to (by display name: facilitators are named)."""
    users = (User.objects.filter(pk__in=_on_duty_ids(), is_active=True)
             .exclude(pk=exclude_user_id).order_by("pk"))
    return [{"id": u.pk, "name": u.display_name} for u in users if u.is_facilitator]


def membership_of(*, room_id: int, alias: str) -> Membership | None:
    return Membership.objects.filter(room_id=room_id, alias=alias).first()


# --- Response times (admins) --------------------------------------------------------------------
def _median(values: list[int]) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) // 2


def response_times_by_week(*, weeks: int = 12) -> list[dict[str, Any]]:
    """How long people who asked for help waited, per ISO week and circle: how many alerts,
    how many acknowledged and answered privately, and the median and longest waits in
    seconds. Numbers only (moderation.ResponseTime)."""
    from_when = timezone.now() - timedelta(weeks=weeks)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in (ResponseTime.objects.select_related("room").filter(raised_at__gte=from_when)
                .order_by("-raised_at")):
        year, week, _day = row.raised_at.isocalendar()
        key = (f"{year}-W{week:02d}", row.room.title)
        group = groups.setdefault(key, {"week": key[0], "circle": key[1], "alerts": 0,
                                        "ack": [], "answer": []})
        group["alerts"] += 1
        if row.ack_seconds is not None:
            group["ack"].append(row.ack_seconds)
        if row.answer_seconds is not None:
            group["answer"].append(row.answer_seconds)
    return [{"week": g["week"], "circle": g["circle"], "alerts": g["alerts"],
             "acknowledged": len(g["ack"]), "ack_median": _median(g["ack"]),
             "ack_max": max(g["ack"], default=None), "answered": len(g["answer"]),
             "answer_median": _median(g["answer"]), "answer_max": max(g["answer"], default=None)}
            for g in groups.values()]
