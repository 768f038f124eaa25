"""The public schedule, applications to a session, and the personal invitations that follow.

Web pages, the REST API, the admin and the facilitators' page call these functions. A person
applies to one date of a session (a short note and an e-mail address are optional); a
facilitator approves or declines; an approved person gets a link that works once, for that date,
and lets them in until the session ends. The note, the address and the invitation link are kept
sealed with the master key (rooms.crypto.SEALED_FIELDS) and deleted when the session ends
(rooms.retention).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from moderation import ratelimit
from moderation.console import console_refresh_on_commit
from moderation.models import Action
from moderation.pipeline import sanitise_text
from moderation.services import facilitator_check
from rooms import crypto, events, protocol, schedule
from rooms import services as rooms
from rooms.errors import Conflict, Forbidden, Invalid, NotFound
from rooms.models import Application, Invitation, Membership, Room, ScheduledSession

MAX_NOTE_CHARS = 500
# An invitation opens the circle this long before its session starts.
EARLY_MINUTES = 15


@dataclass(frozen=True)
class Upcoming:
    session: ScheduledSession
    occurrence: schedule.Occurrence

    def as_dict(self) -> dict[str, Any]:
        room = self.session.room
        return {
            "session_id": self.session.pk, "date": self.occurrence.date.isoformat(),
            "starts_at": self.occurrence.starts_at.isoformat(),
            "ends_at": self.occurrence.ends_at.isoformat(),
            "time_zone": self.session.time_zone,
            "theme": self.session.theme or room.theme, "description": self.session.description,
            "weekly": self.session.repeat == ScheduledSession.Repeat.WEEKLY,
            "room": {"slug": room.slug, "title": room.title, "language": room.language,
                     "dir": "rtl" if room.is_rtl else "ltr", "access": room.access},
        }


def _occurrences(session: ScheduledSession, *, start: datetime, end: datetime
                 ) -> list[schedule.Occurrence]:
    return schedule.occurrences_between(
        first_date=session.first_date, start_time=session.start_time,
        duration_minutes=session.duration_minutes, time_zone=session.time_zone,
        weekly=session.repeat == ScheduledSession.Repeat.WEEKLY,
        repeat_until=session.repeat_until, start=start, end=end)


def schedule_upcoming(*, days: int = 31, language: str = "", theme: str = "",
                      room: Room | None = None, now: datetime | None = None) -> list[Upcoming]:
    """Every session date that is not over yet and starts within `days`, soonest first."""
    now = now or timezone.now()
    sessions = (ScheduledSession.objects.select_related("room")
                .filter(is_cancelled=False, room__is_open=True))
    if room is not None:
        sessions = sessions.filter(room=room)
    if language:
        sessions = sessions.filter(room__language=language)
    found = [Upcoming(session=s, occurrence=o) for s in sessions
             for o in _occurrences(s, start=now, end=now + timedelta(days=days))]
    if theme:
        wanted = theme.casefold()
        found = [u for u in found if wanted in (u.session.theme or u.session.room.theme).casefold()]
    return sorted(found, key=lambda u: (u.occurrence.starts_at, u.session.room.title))


def occurrence_get(*, session_id: int, day: date) -> Upcoming:
    """One date of a session that is still to come (or under way)."""
    session = (ScheduledSession.objects.select_related("room")
               .filter(pk=session_id, is_cancelled=False).first())
    if session is None or not schedule.is_occurrence(
            day=day, first_date=session.first_date,
            weekly=session.repeat == ScheduledSession.Repeat.WEEKLY,
            repeat_until=session.repeat_until):
        raise NotFound("session_not_found", _("There is no such session on the schedule."))
    occurrence = schedule.occurrence_at(day=day, start_time=session.start_time,
                                        duration_minutes=session.duration_minutes,
                                        time_zone=session.time_zone)
    if occurrence.ends_at <= timezone.now():
        raise Invalid("session_over", _("This session is over."))
    return Upcoming(session=session, occurrence=occurrence)


# --- Applying ---------------------------------------------------------------------------------
def _sealed(text: str) -> str:
    """Sealed with the master key; nothing given stays empty."""
    return crypto.seal(text) if text else ""


def _contact(address: str) -> str:
    address = (address or "").strip()
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        raise Invalid("invalid_email", _("That e-mail address does not look right.")) from None
    return address


def application_submit(*, user: User, session_id: int, day: date, note: str = "",
                       contact_email: str = "") -> Application:
    """Apply to one date of a session. Applying again updates the note and the address. Each
    identity applies only so often (moderation.ratelimit.APPLICATIONS)."""
    rooms.limit_take(ratelimit.APPLICATIONS, user.pk, code="too_many_applications",
                     detail=_("You have sent many applications just now."))
    upcoming = occurrence_get(session_id=session_id, day=day)
    room = upcoming.session.room
    if room.access != Room.Access.APPLICATION:
        raise Invalid("not_by_application",
                      _("This circle needs no application: join it at the time."))
    text = sanitise_text(note or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise Invalid("note_too_long", _("The note can be at most %(n)d characters.")
                      % {"n": MAX_NOTE_CHARS})
    address = _contact(contact_email)
    membership = rooms.membership_ensure(user=user, room=room)
    if membership.banned_on(timezone.now()):
        raise Forbidden("banned", _("You cannot take part in this circle any more."))
    with transaction.atomic():
        # get_or_create settles two applications sent at once (the unique constraint).
        application, created = Application.objects.get_or_create(
            session=upcoming.session, occurrence_date=day, applicant=membership,
            defaults={"note_sealed": _sealed(text), "contact_sealed": _sealed(address),
                      "ends_at": upcoming.occurrence.ends_at})
        if not created and application.status == Application.Status.PENDING:
            application.note_sealed, application.contact_sealed = _sealed(text), _sealed(address)
            application.save(update_fields=["note_sealed", "contact_sealed"])
        console_refresh_on_commit(room_id=room.pk)
    return application


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_path(token: str) -> str:
    return reverse("invitation-page", kwargs={"token": token})


def _invitation_email(application: Application, token: str) -> None:
    """The invitation by e-mail, in the circle's language, with its house rules."""
    room = application.session.room
    language = "ar" if room.language == "ary" else room.language
    with translation.override(language):
        context = {
            "room": room, "session": application.session,
            "date": application.occurrence_date,
            "link": settings.HALQA["SITE_URL"].rstrip("/") + invitation_path(token),
        }
        subject = _("Your invitation to the circle “%(title)s”") % {"title": room.title}
        body = render_to_string("web/invitation_email.txt", context)
    send_mail(subject, body, None, [application.contact_email])


def application_decide(*, actor: User, application_id: int, approve: bool) -> Application:
    """A facilitator of the circle approves (an invitation is made, shown to the person and
    e-mailed if they left an address) or declines an application."""
    with transaction.atomic():
        application = (Application.objects.select_for_update()
                       .select_related("session__room", "applicant").filter(pk=application_id)
                       .first())
        if application is None:
            raise NotFound("application_not_found", _("There is no such application."))
        room = application.session.room
        me = facilitator_check(actor=actor, room=room)
        if application.status != Application.Status.PENDING:
            raise Conflict("application_decided", _("Someone already decided on this one."))
        application.status = (Application.Status.APPROVED if approve
                              else Application.Status.DECLINED)
        application.decided_by_alias = me.alias
        application.save(update_fields=["status", "decided_by_alias"])
        Action.objects.create(
            room=room, actor=actor, actor_alias=me.alias,
            target_alias=application.applicant.alias,
            kind=Action.Kind.APPLICATION_APPROVE if approve else Action.Kind.APPLICATION_DECLINE,
            detail=application.occurrence_date.isoformat())
        code, detail = (("application_approved",
                         _("A facilitator approved your application. Your invitation is on the "
                           "schedule page.")) if approve else
                        ("application_declined",
                         _("A facilitator could not take your application this time.")))
        if approve:
            token = secrets.token_urlsafe(24)
            Invitation.objects.create(application=application, token_hash=_token_hash(token),
                                      token_sealed=crypto.seal(token))
            if application.contact_sealed:
                transaction.on_commit(lambda: _invitation_email(application, token))
        events.broadcast_on_commit(events.member_group(application.applicant_id),
                                   protocol.notice_frame(code=code, detail=detail))
        console_refresh_on_commit(room_id=room.pk)
    return application


def applications_pending(*, actor: User, room: Room) -> list[Application]:
    """The applications waiting for this circle's facilitators, soonest session first."""
    facilitator_check(actor=actor, room=room)
    return list(Application.objects.select_related("session", "applicant")
                .filter(session__room=room, status=Application.Status.PENDING,
                        ends_at__gt=timezone.now())
                .order_by("occurrence_date", "created_at"))


def applications_mine(*, user: User) -> list[dict[str, Any]]:
    """A person's own applications, with the invitation link once approved."""
    if not getattr(user, "is_authenticated", False):
        return []
    rows = (Application.objects.select_related("session__room", "invitation")
            .filter(applicant__user=user, ends_at__gt=timezone.now())
            .order_by("occurrence_date"))
    mine = []
    for application in rows:
        invitation = getattr(application, "invitation", None)
        token = crypto.unseal(invitation.token_sealed) if invitation is not None else None
        mine.append({
            "id": application.pk, "session_id": application.session_id,
            "date": application.occurrence_date.isoformat(),
            "room": application.session.room.slug,
            "title": application.session.theme or application.session.room.title,
            "status": application.status,
            "invitation": invitation_path(token) if token else None,
            "invitation_used": bool(invitation and invitation.used_at),
        })
    return mine


# --- Invitations ------------------------------------------------------------------------------
def _invitation(token: str, *, for_update: bool = False) -> Invitation:
    rows = Invitation.objects.select_related("application__session__room")
    if for_update:
        rows = rows.select_for_update()
    invitation = rows.filter(token_hash=_token_hash(token or "")).first()
    if invitation is None:
        raise NotFound("invitation_not_found",
                       _("This invitation link is not valid, or its session is over."))
    return invitation


def invitation_open(*, token: str) -> dict[str, Any]:
    """What an invitation link shows before it is used: the circle, the date, the house rules,
    and whether it can be used now. Reading it does not use it up."""
    return _invitation_state(_invitation(token))


def _invitation_state(invitation: Invitation) -> dict[str, Any]:
    application = invitation.application
    session, room = application.session, application.session.room
    occurrence = schedule.occurrence_at(day=application.occurrence_date,
                                        start_time=session.start_time,
                                        duration_minutes=session.duration_minutes,
                                        time_zone=session.time_zone)
    now = timezone.now()
    state = ("used" if invitation.used_at else "over" if occurrence.ends_at <= now
             else "early" if now < occurrence.starts_at - timedelta(minutes=EARLY_MINUTES)
             else "open")
    return {"room": room, "session": session, "occurrence": occurrence, "state": state,
            "opens_at": occurrence.starts_at - timedelta(minutes=EARLY_MINUTES)}


def invitation_accept(*, user: User, token: str) -> Membership:
    """Use an invitation: whoever holds the link enters that date's session with it, once.
    It also accepts the house rules it showed."""
    with transaction.atomic():
        invitation = _invitation(token, for_update=True)
        opened = _invitation_state(invitation)
        if opened["state"] == "used":
            raise Conflict("invitation_used", _("This invitation was already used."))
        if opened["state"] == "over":
            raise Invalid("session_over", _("This session is over."))
        if opened["state"] == "early":
            raise Invalid("too_early", _("The session has not started yet. Come back at "
                                         "%(time)s.") % {"time": timezone.localtime(
                                             opened["opens_at"]).strftime("%H:%M")})
        room: Room = opened["room"]
        membership = rooms.membership_ensure(user=user, room=room)
        if membership.banned_on(timezone.now()):
            raise Forbidden("banned", _("You cannot take part in this circle any more."))
        invitation.used_at, invitation.token_sealed = timezone.now(), ""
        invitation.save(update_fields=["used_at", "token_sealed"])
        membership.admission = Membership.Admission.ADMITTED
        membership.admitted_until = opened["occurrence"].ends_at
        if membership.rules_accepted_at is None:
            membership.rules_accepted_at = timezone.now()
        membership.save(update_fields=["admission", "admitted_until", "rules_accepted_at"])
    return membership
