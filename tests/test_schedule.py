"""Sessions on a schedule, applications, invitations and calendar feeds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from accounts.models import User
from rooms import applications, schedule, services
from rooms.errors import Conflict, Forbidden, Invalid
from rooms.models import Application, Invitation, Membership, ScheduledSession
from rooms.retention import purge_expired
from tests.conftest import room_create

pytestmark = pytest.mark.django_db


# --- Dates and daylight saving (pure) --------------------------------------------------------
def test_weekly_session_keeps_its_local_time_across_moroccos_ramadan_change():
    """Morocco is UTC+1 but goes back to UTC+0 during Ramadan (2026: mid-February to March)."""
    found = schedule.occurrences_between(
        first_date=date(2026, 2, 10), start_time=time(19, 0), duration_minutes=90,
        time_zone="Africa/Casablanca", weekly=True, repeat_until=date(2026, 3, 31),
        start=datetime(2026, 2, 1, tzinfo=UTC), end=datetime(2026, 4, 1, tzinfo=UTC))
    by_day = {o.date: o.starts_at for o in found}
    assert by_day[date(2026, 2, 10)] == datetime(2026, 2, 10, 18, 0, tzinfo=UTC)  # UTC+1
    assert by_day[date(2026, 2, 24)] == datetime(2026, 2, 24, 19, 0, tzinfo=UTC)  # Ramadan UTC+0
    assert by_day[date(2026, 3, 31)] == datetime(2026, 3, 31, 18, 0, tzinfo=UTC)  # UTC+1 again
    assert len(found) == 8 and all(o.ends_at - o.starts_at == timedelta(minutes=90)
                                   for o in found)


def test_weekly_session_across_a_european_spring_forward():
    found = schedule.occurrences_between(
        first_date=date(2026, 3, 22), start_time=time(18, 30), duration_minutes=60,
        time_zone="Europe/Paris", weekly=True, repeat_until=None,
        start=datetime(2026, 3, 1, tzinfo=UTC), end=datetime(2026, 4, 1, tzinfo=UTC))
    assert [o.starts_at.hour for o in found] == [17, 16]  # 18:30 CET, then 18:30 CEST


def test_a_start_inside_the_spring_forward_gap_moves_forward():
    occurrence = schedule.occurrence_at(day=date(2026, 3, 29), start_time=time(2, 30),
                                        duration_minutes=60, time_zone="Europe/Paris")
    assert occurrence.starts_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_only_the_right_weekdays_are_occurrences():
    kwargs = {"first_date": date(2026, 1, 5), "weekly": True, "repeat_until": date(2026, 2, 2)}
    assert schedule.is_occurrence(day=date(2026, 1, 19), **kwargs)
    assert not schedule.is_occurrence(day=date(2026, 1, 20), **kwargs)
    assert not schedule.is_occurrence(day=date(2026, 2, 9), **kwargs)  # after the end
    assert not schedule.is_occurrence(day=date(2025, 12, 29), **kwargs)  # before the start


def test_a_long_running_weekly_session_starts_from_the_window_not_from_the_beginning():
    found = schedule.occurrences_between(
        first_date=date(2020, 1, 6), start_time=time(10, 0), duration_minutes=60,
        time_zone="Africa/Casablanca", weekly=True, repeat_until=None,
        start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 6, 15, tzinfo=UTC))
    assert [o.date for o in found] == [date(2026, 6, 1), date(2026, 6, 8)]


# --- Applications and invitations ------------------------------------------------------------
def circle_by_application(*, starts_in: timedelta = timedelta(hours=2)):
    room = room_create(access="application")
    local = timezone.localtime(timezone.now() + starts_in)
    session = ScheduledSession.objects.create(
        room=room, theme="Living with anxiety", first_date=local.date(),
        start_time=local.time().replace(second=0, microsecond=0), duration_minutes=90)
    return room, session, local.date()


def facilitator_of(room) -> User:
    user = User.objects.create_user(username=f"f-{room.slug}", password="x",
                                    role=User.Role.FACILITATOR)
    room.facilitators.add(user)
    return user


def english() -> Client:
    """A browser that reads English (the site's own default is Arabic)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def signed_in(user: User) -> Client:
    client = english()
    client.force_login(user)
    return client


def test_schedule_lists_coming_sessions_with_how_to_join(identity):
    _room, _session, _day = circle_by_application()
    drop_in = room_create(title="Listening space")
    local = timezone.localtime(timezone.now() + timedelta(days=1))
    ScheduledSession.objects.create(room=drop_in, first_date=local.date(),
                                    start_time=time(20, 0), repeat="weekly")
    page = english().get("/schedule/").content.decode()
    assert "Living with anxiety" in page and 'name="session_id"' in page
    assert "Listening space" in page and "no need to apply" in page
    only_english = english().get("/schedule/?language=fr").content.decode()
    assert "Living with anxiety" not in only_english


def test_application_to_invitation_end_to_end(identity, settings):
    settings.HALQA = {**settings.HALQA, "SITE_URL": "https://halqa.example.org"}
    room, session, day = circle_by_application(starts_in=timedelta(minutes=5))
    browser = english()
    browser.get("/schedule/")  # a visitor with no identity yet
    answer = browser.post("/schedule/apply/", {
        "session_id": session.pk, "date": day.isoformat(), "note": "first time <b>here</b>",
        "by_email": "1", "contact_email": "amal@example.org"})
    assert answer.status_code == 302
    application = Application.objects.get()
    assert (application.note, application.contact_email) == ("first time here",
                                                             "amal@example.org")
    assert "amal@example.org" not in application.contact_sealed  # sealed at rest
    applicant = application.applicant.user
    assert applicant.is_pseudonymous and not applicant.email  # no address on the identity

    # Not in yet: the circle needs an invitation.
    with pytest.raises(Forbidden) as refused:
        services.entry_check(membership=application.applicant, room=room)
    assert refused.value.code == "invitation_needed"

    # A facilitator approves from their page; the invitation is shown and e-mailed.
    facilitator = facilitator_of(room)
    listing = signed_in(facilitator).get(f"/rooms/{room.slug}/applications/")
    assert "first time here" in listing.content.decode()
    with django_capture_on_commit():
        signed_in(facilitator).post(f"/rooms/{room.slug}/applications/",
                                    {"application_id": application.pk, "decision": "approve"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["amal@example.org"]
    link = re.search(r"https://halqa\.example\.org(/invitations/[^/\s]+/)", mail.outbox[0].body)
    assert link and room.house_rules in mail.outbox[0].body
    shown = browser.get("/schedule/").content.decode()
    assert link.group(1) in shown  # the same link, on the applicant's screen

    # Whoever holds the link (another device here) enters with it, once.
    other_device = english()
    page = other_device.get(link.group(1))
    assert page.status_code == 200 and room.house_rules in page.content.decode()
    entered = other_device.post(link.group(1))
    assert entered.status_code == 302 and entered["Location"] == f"/rooms/{room.slug}/"
    holder = Membership.objects.exclude(pk=application.applicant_id).get(room=room,
                                                                         role="participant")
    assert holder.rules_accepted and holder.admitted_until > timezone.now()
    services.entry_check(membership=holder, room=room)  # in
    again = english().post(link.group(1))
    assert "already used" in again.content.decode()
    assert Invitation.objects.get().token_sealed == ""  # nothing left to show

    # When the session ends, the application, its note and address and the invitation go.
    purge_expired(now=application.ends_at + timedelta(seconds=1))
    assert not Application.objects.exists() and not Invitation.objects.exists()


def django_capture_on_commit():
    """on_commit callbacks run at once inside these tests (they are in a transaction)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_invitation_cannot_be_used_before_the_circle_opens_or_after(identity):
    room, session, day = circle_by_application(starts_in=timedelta(hours=3))
    application = applications.application_submit(user=identity(), session_id=session.pk,
                                                   day=day)
    applications.application_decide(actor=facilitator_of(room), application_id=application.pk,
                                     approve=True)
    token = applications.applications_mine(user=application.applicant.user)[0]["invitation"]
    token = token.rstrip("/").rsplit("/", 1)[1]
    assert applications.invitation_open(token=token)["state"] == "early"
    with pytest.raises(Invalid) as early:
        applications.invitation_accept(user=identity(), token=token)
    assert early.value.code == "too_early"
    assert Invitation.objects.get().used_at is None  # not used up by trying early


def test_only_facilitators_of_the_circle_decide(identity):
    room, session, day = circle_by_application()
    application = applications.application_submit(user=identity(), session_id=session.pk,
                                                   day=day)
    other_room = room_create()
    with pytest.raises(Forbidden):
        applications.application_decide(actor=facilitator_of(other_room),
                                        application_id=application.pk, approve=True)
    with pytest.raises(Forbidden):
        applications.application_decide(actor=identity(), application_id=application.pk,
                                        approve=True)
    facilitator = facilitator_of(room)
    applications.application_decide(actor=facilitator, application_id=application.pk,
                                    approve=False)
    with pytest.raises(Conflict):
        applications.application_decide(actor=facilitator, application_id=application.pk,
                                        approve=True)
    assert not Invitation.objects.exists()


def test_applications_refuse_bad_input_clearly(identity):
    _room, session, day = circle_by_application()
    user = identity()
    with pytest.raises(Invalid) as bad_email:
        applications.application_submit(user=user, session_id=session.pk, day=day,
                                         contact_email="not an address")
    assert bad_email.value.code == "invalid_email"
    with pytest.raises(Invalid) as long_note:
        applications.application_submit(user=user, session_id=session.pk, day=day,
                                        note="x" * 501)
    assert long_note.value.code == "note_too_long"
    with pytest.raises(Exception) as wrong_day:
        applications.application_submit(user=user, session_id=session.pk,
                                        day=day + timedelta(days=1))
    assert wrong_day.value.code == "session_not_found"
    open_room = room_create()
    local = timezone.localtime(timezone.now() + timedelta(hours=1))
    drop_in = ScheduledSession.objects.create(room=open_room, first_date=local.date(),
                                              start_time=local.time())
    with pytest.raises(Invalid) as not_needed:
        applications.application_submit(user=user, session_id=drop_in.pk, day=local.date())
    assert not_needed.value.code == "not_by_application"
    answer = english().post("/schedule/apply/", {"session_id": "x", "date": "soon"})
    assert answer.status_code == 302 and not Application.objects.exists()


def test_calendar_feed_lists_the_coming_dates(identity):
    room = room_create(title="Family and separation")
    ScheduledSession.objects.create(room=room, theme="Talking with children",
                                    first_date=timezone.localdate() + timedelta(days=1),
                                    start_time=time(19, 0), repeat="weekly",
                                    repeat_until=timezone.localdate() + timedelta(days=20))
    response = english().get(f"/rooms/{room.slug}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 3
    assert all(str(event["SUMMARY"]) == "Talking with children" for event in events)
    assert english().get("/rooms/nowhere/calendar.ics").status_code == 404


def test_the_same_flow_over_rest(identity):
    room, session, day = circle_by_application(starts_in=timedelta(minutes=5))
    listed = english().get("/api/v1/sessions/?language=en").json()
    assert [(s["session_id"], s["date"], s["room"]["access"]) for s in listed] == [
        (session.pk, day.isoformat(), "application")]
    assert english().get(f"/api/v1/rooms/{room.slug}/sessions/").json()[0]["theme"] == (
        "Living with anxiety")
    assert english().get("/api/v1/sessions/?days=500").status_code == 400

    person = signed_in(identity())
    anonymous = english().post("/api/v1/applications/", {}, content_type="application/json")
    assert anonymous.status_code == 403
    created = person.post("/api/v1/applications/", {"session_id": session.pk,
                                                    "date": day.isoformat(), "note": "hello"},
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["status"] == "pending"
    bad = person.post("/api/v1/applications/", {"session_id": session.pk, "date": "tomorrow"},
                      content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"]

    facilitator = signed_in(facilitator_of(room))
    assert person.get(f"/api/v1/rooms/{room.slug}/applications/").status_code == 403
    pending = facilitator.get(f"/api/v1/rooms/{room.slug}/applications/").json()
    assert [(p["note"], p["by_email"]) for p in pending] == [("hello", False)]
    refused = person.post(f"/api/v1/applications/{pending[0]['id']}/decision/",
                          {"approve": True}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_facilitator"
    decided = facilitator.post(f"/api/v1/applications/{pending[0]['id']}/decision/",
                               {"approve": True}, content_type="application/json")
    assert decided.json() == {"id": pending[0]["id"], "status": "approved"}

    link = person.get("/api/v1/applications/mine/").json()[0]["invitation"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    accepted = person.post(f"/api/v1/invitations/{token}/accept/")
    assert accepted.status_code == 200 and accepted.json()["room"] == room.slug
    again = person.post(f"/api/v1/invitations/{token}/accept/")
    assert again.status_code == 404 or again.json()["code"] in ("invitation_used",
                                                                "invitation_not_found")
    history = person.get(f"/api/v1/rooms/{room.slug}/messages/")
    assert history.status_code == 200  # admitted: the circle can be read now


def test_resources_over_rest_by_language():
    from moderation.models import Resource

    Resource.objects.create(name="Ambulance", kind="emergency", phone="15",
                            languages="ar,ary,fr,en")
    Resource.objects.create(name="Ligne d'écoute", kind="crisis_line", phone="0800",
                            languages="fr")
    everything = english().get("/api/v1/resources/").json()
    assert {g["kind"] for g in everything} == {"emergency", "crisis_line"}
    in_english = english().get("/api/v1/resources/?language=en").json()
    assert [r["name"] for g in in_english for r in g["resources"]] == ["Ambulance"]


@pytest.mark.parametrize("language", ["ar", "fr", "en"])
def test_admin_sets_up_sessions_and_decides_applications(identity, language):
    admin = User.objects.create_superuser(username="admin", password="x", role="admin")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(admin)
    room, session, day = circle_by_application()
    for page in ("/admin/rooms/scheduledsession/", "/admin/rooms/scheduledsession/add/",
                 f"/admin/rooms/room/{room.pk}/change/", "/admin/rooms/application/",
                 "/admin/moderation/resource/", "/admin/moderation/blockedword/"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert f'lang="{language}"' in response.content.decode()
    assert ('dir="rtl"' in client.get("/admin/").content.decode()) == (language == "ar")
    created = client.post("/admin/rooms/scheduledsession/add/", {
        "room": room.pk, "theme": "Weekly check-in", "description": "",
        "first_date": "2026-02-10", "start_time": "19:00", "duration_minutes": 90,
        "time_zone": "Africa/Casablanca", "repeat": "weekly", "repeat_until": ""})
    assert created.status_code == 302
    assert ScheduledSession.objects.filter(theme="Weekly check-in").exists()
    bad_zone = client.post("/admin/rooms/scheduledsession/add/", {
        "room": room.pk, "first_date": "2026-02-10", "start_time": "19:00",
        "duration_minutes": 90, "time_zone": "Mars/Olympus", "repeat": "once"})
    assert bad_zone.status_code == 200  # the form again, with the error
    application = applications.application_submit(user=identity(), session_id=session.pk,
                                                   day=day, contact_email="x@example.org")
    listing = client.get("/admin/rooms/application/").content.decode()
    assert "x@example.org" not in listing  # only whether there is an address
    with django_capture_on_commit():
        client.post("/admin/rooms/application/", {
            "action": "approve", "_selected_action": [application.pk]})
    application.refresh_from_db()
    assert application.status == "approved" and len(mail.outbox) == 1


def test_the_console_leads_facilitators_to_the_applications(identity):
    room, session, day = circle_by_application()
    applications.application_submit(user=identity(), session_id=session.pk, day=day)
    page = signed_in(facilitator_of(room)).get(f"/rooms/{room.slug}/console/").content.decode()
    assert f'href="/rooms/{room.slug}/applications/">Applications (1)' in page
    schedule_link = english().get("/").content.decode()
    assert 'href="/schedule/"' in schedule_link  # every page leads to the schedule
