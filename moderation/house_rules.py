"""House rules applied to a circle's messages: the pure pipeline (moderation.pipeline) with each
circle's settings, the flood and slow-mode limits, and breach counts. What follows a crisis lives
in moderation.crisis; the help directory in moderation.selectors."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import F
from django.utils.translation import gettext as _

from moderation import ratelimit
from moderation.console import console_refresh_on_commit
from moderation.models import BlockedWord, RuleBreach
from moderation.pipeline import Outcome, RateDecision, RuleContext, RuleSettings, run_pipeline
from rooms import protocol
from rooms.errors import Invalid, RateLimited, ServiceError

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


def _rate_check(*, user_id: int, room: Any, newcomer: bool):  # type: ignore[no-untyped-def]
    """The flood and slow-mode check the pipeline calls once, when it reaches that rule (a
    newcomer's messages also take a token from the circle's newcomers' bucket)."""

    def check() -> RateDecision:
        if room.slow_mode_seconds:
            slow = ratelimit.slow_mode_take(user_id=user_id, room_id=room.pk,
                                            seconds=room.slow_mode_seconds)
            if not slow.allowed:
                return RateDecision(allowed=False, retry_after=slow.retry_after,
                                    reason="slow_mode")
        bucket = ratelimit.flood_take(user_id=user_id, room_id=room.pk, burst=room.flood_burst,
                                      per_minute=room.flood_per_minute)
        if bucket.allowed and newcomer:
            bucket = ratelimit.newcomer_take(room_id=room.pk, burst=room.flood_burst,
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


@dataclass(frozen=True)
class Verdict:
    """What the house rules made of one message."""

    outcome: Outcome  # the text to store, and what was hidden
    error: ServiceError | None  # the refusal for its author, if it bounced
    crisis: tuple[str, ...]  # crisis categories spotted (the message may still bounce)
    notices: list[dict[str, Any]]  # private notes for the author: what was hidden, reminders


def house_rules_apply(*, membership: Any, body: str, newcomer: bool = False) -> Verdict:
    """Run the circle's house rules over one message. Breaches are counted (the facilitators'
    console refreshes on commit); nothing else is written here. `newcomer`: the author's
    identity is minutes old (rooms.services), so the circle's newcomers' bucket applies too."""
    room = membership.room
    outcome = run_pipeline(body, RuleContext(
        settings=room_rule_settings(room=room),
        language=room.language,
        blocked_words=blocked_words_active() if room.blocked_words_enabled else (),
        rate_check=_rate_check(user_id=membership.user_id, room=room, newcomer=newcomer),
    ))
    if outcome.breaches:
        breaches_record(membership_id=membership.pk, rules=outcome.breaches)
        console_refresh_on_commit(room_id=room.pk)  # facilitators see the new count
    crisis = tuple(c for flag in outcome.flags if flag.kind == "crisis" for c in flag.categories)
    notices = [protocol.notice_frame(code=nudge.code, detail=_(nudge.message))
               for nudge in outcome.nudges]
    return Verdict(outcome=outcome, error=_refusal_error(outcome, membership=membership),
                   crisis=crisis, notices=notices)


def _refusal_error(outcome: Outcome, *, membership: Any) -> ServiceError | None:
    refusal = outcome.refusal
    if refusal is None:
        return None
    if not refusal.retry_after:
        return Invalid(refusal.code, _(refusal.reason))
    seconds = max(1, math.ceil(refusal.retry_after))
    detail = _(refusal.reason) + " " + _("You can write again in %(seconds)d s.") % {
        "seconds": seconds}
    disconnect = refusal.code == "rate_limited" and ratelimit.flood_strike(
        user_id=membership.user_id, room_id=membership.room_id) >= ratelimit.STRIKES_TO_DISCONNECT
    return RateLimited(refusal.code, detail, retry_after=seconds,
                       **({"disconnect": True} if disconnect else {}))


