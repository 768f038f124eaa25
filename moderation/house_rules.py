"""House rules applied to a circle's messages: the pipeline with each circle's settings, the flood
limits, breach counts, help resources for someone in crisis and the alert to facilitators."""

from __future__ import annotations

import math
from typing import Any

from django.core.cache import cache
from django.db.models import F
from django.utils.translation import gettext as _

from moderation import ratelimit
from moderation.models import BlockedWord, Report, Resource, RuleBreach
from moderation.pipeline import Outcome, RateDecision, RuleContext, RuleSettings, run_pipeline
from rooms import events, protocol
from rooms.errors import Invalid, RateLimited

BLOCKED_WORDS_CACHE_KEY = "moderation:blocked-words"
BLOCKED_WORDS_CACHE_SECONDS = 300


def room_rule_settings(*, room: Any) -> RuleSettings:
    return RuleSettings(
        max_length=room.max_message_length,
        hide_phone_numbers=room.hide_phone_numbers,
        hide_emails=room.hide_emails,
        hide_national_ids=room.hide_national_ids,
        allow_links=room.allow_links,
        blocked_words_enabled=room.blocked_words_enabled,
        blocked_words_action=room.blocked_words_action,
        crisis_detection=room.crisis_detection,
        medical_advice_nudge=room.medical_advice_nudge,
        flood_limit=room.flood_limit,
    )


def blocked_words_active() -> tuple[str, ...]:
    """The admin's list, cached; saving a word clears the cache (moderation.signals)."""
    words = cache.get(BLOCKED_WORDS_CACHE_KEY)
    if words is None:
        words = tuple(BlockedWord.objects.filter(is_active=True).values_list("word", flat=True))
        cache.set(BLOCKED_WORDS_CACHE_KEY, words, BLOCKED_WORDS_CACHE_SECONDS)
    return words


def blocked_words_forget() -> None:
    cache.delete(BLOCKED_WORDS_CACHE_KEY)


def _rate_check(*, user_id: int, room: Any):  # type: ignore[no-untyped-def]
    """The flood and slow-mode check the pipeline calls once, when it reaches that rule."""

    def check() -> RateDecision:
        if room.slow_mode_seconds:
            slow = ratelimit.slow_mode_take(user_id=user_id, room_id=room.pk,
                                            seconds=room.slow_mode_seconds)
            if not slow.allowed:
                return RateDecision(allowed=False, retry_after=slow.retry_after,
                                    reason="slow_mode")
        bucket = ratelimit.flood_take(user_id=user_id, room_id=room.pk, burst=room.flood_burst,
                                      per_minute=room.flood_per_minute)
        if not bucket.allowed:
            return RateDecision(allowed=False, retry_after=bucket.retry_after, reason="flood")
        return RateDecision(allowed=True)

    return check


def breaches_record(*, membership_id: int, rules: tuple[str, ...]) -> None:
    """Count rule breaches per alias per circle (counts only, never the text)."""
    for rule in set(rules):
        updated = RuleBreach.objects.filter(membership_id=membership_id, rule=rule).update(
            count=F("count") + 1
        )
        if not updated:
            RuleBreach.objects.get_or_create(membership_id=membership_id, rule=rule,
                                             defaults={"count": 1})


def _console_refresh_on_commit(room_id: int) -> None:
    from django.db import transaction

    from rooms.services import console_send  # rooms builds on the house rules

    transaction.on_commit(lambda: console_send(room_id=room_id))


def house_rules_apply(*, membership: Any, body: str) -> Outcome:
    """Run the circle's house rules over one message, or raise the refusal for its author."""
    room = membership.room
    outcome = run_pipeline(body, RuleContext(
        settings=room_rule_settings(room=room),
        language=room.language,
        blocked_words=blocked_words_active() if room.blocked_words_enabled else (),
        rate_check=_rate_check(user_id=membership.user_id, room=room),
    ))
    if outcome.breaches:
        breaches_record(membership_id=membership.pk, rules=outcome.breaches)
        _console_refresh_on_commit(room.pk)  # facilitators see the new count
    refusal = outcome.refusal
    if refusal is None:
        return outcome
    # The text bounced, but someone who wrote that they are in danger still gets help at once
    # and the facilitators still hear of it.
    extra: dict[str, Any] = {}
    crisis = [c for flag in outcome.flags if flag.kind == "crisis" for c in flag.categories]
    if crisis:
        crisis_alert_on_commit(room_id=room.pk, alias=membership.alias, message_id=None,
                               categories=tuple(crisis))
        extra["notices"] = [crisis_support_notice(
            room=room, language=membership.user.language or room.language)]
    if not refusal.retry_after:
        raise Invalid(refusal.code, _(refusal.reason), **extra)
    seconds = max(1, math.ceil(refusal.retry_after))
    detail = _(refusal.reason) + " " + _("You can write again in %(seconds)d s.") % {
        "seconds": seconds}
    disconnect = refusal.code == "rate_limited" and ratelimit.flood_strike(
        user_id=membership.user_id, room_id=room.pk) >= ratelimit.STRIKES_TO_DISCONNECT
    raise RateLimited(refusal.code, detail, retry_after=seconds,
                      **({"disconnect": True} if disconnect else {}), **extra)


# --- Crisis support ----------------------------------------------------------------------------
def resources_for(*, language: str, region: str = "") -> list[dict[str, Any]]:
    """Active help resources for this language and region, nationwide ones included."""
    wanted = {language, "ar" if language == "ary" else language}
    rows = Resource.objects.filter(is_active=True).order_by("order", "name")
    return [
        {"name": r.name, "kind": r.kind, "kind_label": str(r.get_kind_display()),
         "phone": r.phone, "url": r.url, "hours": r.hours, "description": r.description}
        for r in rows
        if (not r.region or r.region == region) and wanted & set(r.language_list)
    ]


def crisis_support_notice(*, room: Any, language: str) -> dict[str, Any]:
    """The caring card the author of a message in crisis receives, privately."""
    return protocol.notice_frame(
        code="crisis_support",
        detail=_(
            "Thank you for telling us. You are not alone. If you are in danger right now, call "
            "15 (ambulance) or 19 (police). A facilitator of this circle has been told and may "
            "reach out to you privately. These services can help too:"
        ),
        resources=resources_for(language=language, region=room.region),
    )


def crisis_alert_on_commit(*, room_id: int, alias: str, message_id: int | None,
                           categories: tuple[str, ...]) -> None:
    """Tell the circle's facilitators, and only them, that someone may need them now. The alert
    also waits in the console's queue until a facilitator resolves it, so one who arrives later
    still sees it."""
    report = Report.objects.create(
        room_id=room_id, source=Report.Source.CRISIS, reason=Report.Reason.CRISIS,
        message_id=message_id, target_alias=alias,
    )
    events.broadcast_on_commit(
        events.staff_group(room_id),
        protocol.crisis_alert_frame(alias=alias, message_id=message_id,
                                    categories=list(categories), report_id=report.pk),
    )


# --- Help directory (web page /help/) ----------------------------------------------------------
# The order of the sections on the page: the most urgent first.
DIRECTORY_KINDS = (
    Resource.Kind.EMERGENCY,
    Resource.Kind.CRISIS_LINE,
    Resource.Kind.VIOLENCE_AGAINST_WOMEN,
    Resource.Kind.LEGAL_AID,
    Resource.Kind.HEALTH,
    Resource.Kind.FAMILY_MEDIATION,
    Resource.Kind.EMPLOYMENT_TRAINING,
)


def resources_directory(*, language: str = "", region: str = "") -> dict[str, Any]:
    """The active help resources grouped by kind, most urgent kind first, for the help page.

    `language` ("" for all) keeps the resources offered in it (Darija also finds Arabic ones);
    `region` ("" for all) keeps that region's resources and the nationwide ones. Also returns
    the regions and languages there are to choose from, and the filters as understood (an
    unknown value counts as no filter)."""
    from rooms.models import Language  # rooms builds on the house rules

    rows = list(Resource.objects.filter(is_active=True).order_by("order", "name"))
    regions = sorted({r.region for r in rows if r.region}, key=str.casefold)
    language = language if language in Language.values else ""
    region = region if region in regions else ""
    wanted = {language, "ar"} if language == "ary" else {language}
    names = dict(Language.choices)
    groups = []
    for kind in DIRECTORY_KINDS:
        found = [
            {"name": r.name, "phone": r.phone, "tel": "".join(c for c in r.phone
                                                             if c.isdigit() or c == "+"),
             # Only a web address is ever a link (rows written around the admin's checks).
             "url": r.url if r.url.lower().startswith(("https://", "http://")) else "",
             "hours": r.hours, "description": r.description,
             "region": r.region, "verified_on": r.verified_on,
             "languages": [(code, names.get(code, code)) for code in r.language_list]}
            for r in rows
            if r.kind == kind
            and (not region or not r.region or r.region == region)
            and (not language or wanted & set(r.language_list))
        ]
        if found:
            groups.append({"kind": kind.value, "label": kind.label, "resources": found})
    return {
        "groups": groups,
        "regions": regions,
        "languages": [(code, label) for code, label in Language.choices],
        "language": language,
        "region": region,
    }
