"""House-rules pipeline: every chat message goes through these rules, in order.

    sanitise -> size -> flood / slow mode -> hide personal details (phone, e-mail,
    CIN, links) -> blocked words -> crisis language -> medical-advice nudge

Pure Python, no Django: the service layer passes a :class:`RuleContext` (room
settings, the room's blocked words, a rate-limit callback) and gets an
:class:`Outcome` back.  The pipeline stops at the first refusal.

Crisis messages are never refused or hidden by house rules: flood / slow mode and
"refuse" blocked words are waived for them, and masking never removes the words
that show someone is in danger.  (The hard length limit still applies -- the
refused outcome then carries the crisis flag so the service can still reach out.)

All text people read is a plain English source string wrapped in :func:`N_`, a
no-op marker for ``makemessages --keyword=N_``; the caller translates at the edge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from moderation.rules import pii as _pii
from moderation.rules.crisis import detect_crisis
from moderation.rules.medical import looks_like_medical_advice
from moderation.rules.sanitise import renders_blank
from moderation.rules.sanitise import sanitise as _sanitise
from moderation.rules.words import find_blocked, mask_spans


def N_(s: str) -> str:
    return s


# --- contract types ----------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSettings:
    """Per-room settings (edited in the admin); defaults are the product defaults."""

    max_length: int = 2000
    hide_phone_numbers: bool = True
    hide_emails: bool = True
    hide_national_ids: bool = True
    allow_links: bool = False  # when False, links are hidden with a placeholder
    blocked_words_enabled: bool = True
    blocked_words_action: Literal["refuse", "mask"] = "mask"
    crisis_detection: bool = True
    medical_advice_nudge: bool = True
    flood_limit: bool = True


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float = 0.0  # seconds
    reason: Literal["flood", "slow_mode", ""] = ""


@dataclass(frozen=True)
class RuleContext:
    settings: RuleSettings = RuleSettings()
    language: str = "en"  # "ar", "ary" (Darija), "fr", "en"; all languages are always checked
    blocked_words: tuple[str, ...] = ()  # raw admin entries; normalised + compiled (cached)
    rate_check: Callable[[], RateDecision] | None = None  # consumes a token; None = no limit


@dataclass(frozen=True)
class Rewrite:
    """Something in the text was replaced (never carries the original text)."""

    rule: str
    reason: str
    count: int = 1


@dataclass(frozen=True)
class Refusal:
    rule: str
    code: str
    reason: str
    retry_after: float = 0.0


@dataclass(frozen=True)
class Flag:
    rule: str
    kind: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nudge:
    """A private note for the author only."""

    rule: str
    code: str
    message: str


# Refusal codes that are not a breach of the house rules: nothing was sent, or the
# room is merely slowed down.
_NOT_BREACH_CODES = frozenset({"empty", "too_long", "slow_mode"})
_NEVER_BREACH_RULES = frozenset({"crisis", "medical", "sanitise"})


@dataclass(frozen=True)
class Outcome:
    text: str  # the final text to store/broadcast ("" when refused)
    refusal: Refusal | None = None
    rewrites: tuple[Rewrite, ...] = ()
    flags: tuple[Flag, ...] = ()
    nudges: tuple[Nudge, ...] = ()

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    @property
    def breaches(self) -> tuple[str, ...]:
        """Rule names that count as a house-rule breach, in pipeline order.

        Counted: refusals for blocked words and flooding; hidden personal details or
        links ("pii"); masked blocked words.  Never counted: empty / too long / slow
        mode refusals, crisis flags, medical nudges.
        """
        names: list[str] = []
        if self.refusal and self.refusal.code not in _NOT_BREACH_CODES:
            names.append(self.refusal.rule)
        names += [r.rule for r in self.rewrites if r.rule not in _NEVER_BREACH_RULES]
        return tuple(dict.fromkeys(names))


# --- internal verdict ------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What one rule decided.  ``text`` is the rewritten text (None = unchanged)."""

    text: str | None = None
    rewrites: tuple[Rewrite, ...] = ()
    refusal: Refusal | None = None
    flags: tuple[Flag, ...] = ()
    nudges: tuple[Nudge, ...] = ()


ALLOW = Verdict()

Rule = Callable[[str, RuleContext], Verdict]


# --- user-facing strings (the one place) ----------------------------------------------

PHONE_PLACEHOLDER = N_("[phone number hidden]")
EMAIL_PLACEHOLDER = N_("[e-mail hidden]")
ID_PLACEHOLDER = N_("[ID number hidden]")
LINK_PLACEHOLDER = N_("[link hidden]")
PLACEHOLDERS = (PHONE_PLACEHOLDER, EMAIL_PLACEHOLDER, ID_PLACEHOLDER, LINK_PLACEHOLDER)

REASON_EMPTY = N_("Your message is empty.")
REASON_TOO_LONG = N_("Your message is too long. Please shorten it or split it into parts.")
REASON_FLOOD = N_("You are sending messages very quickly. Please wait a moment before sending.")
REASON_SLOW_MODE = N_(
    "This circle is in slow mode. Please wait a little before sending another message."
)
REASON_BLOCKED = N_("Your message contains words this circle does not allow. Please rephrase it.")
REWRITE_BLOCKED = N_("Words this circle does not allow were masked.")

# (finder, placeholder, rewrite reason, nudge code, nudge message), in matching order:
# e-mails before links (an address contains a domain), links before phone numbers
# (wa.me/212... is one link).
_PII_KINDS: tuple[tuple[str, Callable[[str], list[tuple[int, int]]], str, str, str, str], ...] = (
    (
        "hide_emails",
        _pii.find_emails,
        EMAIL_PLACEHOLDER,
        N_("An e-mail address was hidden."),
        "email_hidden",
        N_(
            "We hid an e-mail address in your message. To keep everyone here anonymous "
            "and safe, please don't share contact details in the circle."
        ),
    ),
    (
        "allow_links",
        _pii.find_links,
        LINK_PLACEHOLDER,
        N_("A link was hidden (links are off in this circle)."),
        "link_hidden",
        N_(
            "We hid a link in your message. Links are turned off in this circle to protect "
            "everyone's anonymity and safety."
        ),
    ),
    (
        "hide_phone_numbers",
        _pii.find_phones,
        PHONE_PLACEHOLDER,
        N_("A phone number was hidden."),
        "phone_hidden",
        N_(
            "We hid a phone number in your message. To protect your anonymity and everyone "
            "else's, please don't share phone numbers in the circle."
        ),
    ),
    (
        "hide_national_ids",
        _pii.find_national_ids,
        ID_PLACEHOLDER,
        N_("An ID card number was hidden."),
        "id_hidden",
        N_(
            "We hid what looks like an ID card number. Please never share identity "
            "numbers here: it could identify you."
        ),
    ),
)

MEDICAL_NUDGE = N_(
    "A gentle reminder of our house rules: share your own experience, not medical advice. "
    "Questions about medication or doses are best taken to a doctor or pharmacist."
)


# --- rules --------------------------------------------------------------------------------


def sanitise_text(text: str) -> str:
    """The one swappable sanitiser: plain NFC text, no tags, no invisible characters."""
    return _sanitise(text)


def _hard_cap(settings: RuleSettings) -> int:
    # Refuse absurd payloads before paying for sanitising them (bleach costs ~10 µs
    # per "<"); nobody pastes more than twice the limit by accident.
    return max(settings.max_length * 2 + 1000, 4000)


def rule_sanitise(text: str, ctx: RuleContext) -> Verdict:
    if not isinstance(text, str):
        text = ""
    if len(text) > _hard_cap(ctx.settings):
        return Verdict(refusal=Refusal("size", "too_long", REASON_TOO_LONG))
    clean = sanitise_text(text)
    if renders_blank(clean):  # nothing left, or only characters that show nothing
        return Verdict(refusal=Refusal("sanitise", "empty", REASON_EMPTY))
    return ALLOW if clean == text else Verdict(text=clean)


def _counted_length(text: str) -> int:
    # Placeholders we inserted do not count, so re-running on our own output
    # never turns an accepted message into a too-long one.
    n = len(text)
    if "[" in text:
        n -= sum(text.count(p) * len(p) for p in PLACEHOLDERS)
    return n


def _crisis_flags(text: str, ctx: RuleContext) -> tuple[Flag, ...]:
    if not ctx.settings.crisis_detection:
        return ()
    cats = detect_crisis(text)
    return (Flag("crisis", "crisis", cats),) if cats else ()


def rule_size(text: str, ctx: RuleContext) -> Verdict:
    if len(text) <= ctx.settings.max_length or _counted_length(text) <= ctx.settings.max_length:
        return ALLOW
    return Verdict(refusal=Refusal("size", "too_long", REASON_TOO_LONG))


def rule_flood(text: str, ctx: RuleContext) -> Verdict:
    if not ctx.settings.flood_limit or ctx.rate_check is None:
        return ALLOW
    decision = ctx.rate_check()
    if decision.allowed:
        return ALLOW
    if detect_crisis(text):
        return ALLOW  # never hold back someone in danger (whether or not rooms flag it)
    retry = max(float(decision.retry_after), 0.0)
    if decision.reason == "slow_mode":
        return Verdict(refusal=Refusal("flood", "slow_mode", REASON_SLOW_MODE, retry))
    return Verdict(refusal=Refusal("flood", "rate_limited", REASON_FLOOD, retry))


def rule_pii(text: str, ctx: RuleContext) -> Verdict:
    s = ctx.settings
    counts = dict.fromkeys(range(len(_PII_KINDS)), 0)
    # A second pass only runs when the first changed something; it catches anything
    # a replacement exposed, which keeps the pipeline idempotent.
    for _ in range(3):
        changed = False
        for i, (setting, finder, placeholder, *_rest) in enumerate(_PII_KINDS):
            enabled = not s.allow_links if setting == "allow_links" else getattr(s, setting)
            if not enabled:
                continue
            spans = finder(text)
            if spans:
                text = _pii.replace_spans(text, spans, placeholder)
                counts[i] += len(spans)
                changed = True
        if not changed:
            break
    if not any(counts.values()):
        return ALLOW
    rewrites, nudges = [], []
    for i, n in counts.items():
        if n:
            _s, _f, _p, reason, code, message = _PII_KINDS[i]
            rewrites.append(Rewrite("pii", reason, n))
            nudges.append(Nudge("pii", code, message))
    return Verdict(text=text, rewrites=tuple(rewrites), nudges=tuple(nudges))


def rule_blocked_words(text: str, ctx: RuleContext) -> Verdict:
    s = ctx.settings
    if not s.blocked_words_enabled or not ctx.blocked_words:
        return ALLOW
    spans = find_blocked(text, ctx.blocked_words)
    if not spans:
        return ALLOW
    # Checked whatever the room's flagging setting: never refuse or hide someone in danger.
    crisis_before = detect_crisis(text)
    if s.blocked_words_action == "refuse" and not crisis_before:
        return Verdict(refusal=Refusal("blocked_words", "blocked_word", REASON_BLOCKED))
    masked, count = text, 0
    for _ in range(3):  # until nothing matches any more (idempotence)
        count += len(spans)
        masked = mask_spans(masked, spans)
        spans = find_blocked(masked, ctx.blocked_words)
        if not spans:
            break
    if crisis_before and detect_crisis(masked) != crisis_before:
        return ALLOW  # masking would hide that someone is in danger: leave it readable
    return Verdict(text=masked, rewrites=(Rewrite("blocked_words", REWRITE_BLOCKED, count),))


def rule_crisis(text: str, ctx: RuleContext) -> Verdict:
    flags = _crisis_flags(text, ctx)
    return Verdict(flags=flags) if flags else ALLOW


def rule_medical(text: str, ctx: RuleContext) -> Verdict:
    if not ctx.settings.medical_advice_nudge or not looks_like_medical_advice(text):
        return ALLOW
    return Verdict(nudges=(Nudge("medical", "medical_advice", MEDICAL_NUDGE),))


RULES: tuple[tuple[str, Rule], ...] = (
    ("sanitise", rule_sanitise),
    ("size", rule_size),
    ("flood", rule_flood),
    ("pii", rule_pii),
    ("blocked_words", rule_blocked_words),
    ("crisis", rule_crisis),
    ("medical", rule_medical),
)

_DEFAULT_CONTEXT = RuleContext()


def run_pipeline(text: str, ctx: RuleContext = _DEFAULT_CONTEXT) -> Outcome:
    """Run every rule in order; stop at the first refusal.

    A refused outcome has ``text == ""`` and keeps only the refusal and the crisis
    flag, looked for even when the refusing rule comes before the crisis rule: a person in
    danger is offered help whatever happens to the text (rewrites and nudges about a
    message that was not sent would mislead).
    """
    rewrites: list[Rewrite] = []
    flags: list[Flag] = []
    nudges: list[Nudge] = []
    current = text
    for _name, rule in RULES:
        verdict = rule(current, ctx)
        if verdict is ALLOW:
            continue
        if verdict.refusal is not None:
            crisis = tuple(f for f in flags if f.kind == "crisis") or _crisis_flags(current, ctx)
            return Outcome(text="", refusal=verdict.refusal, flags=crisis)
        if verdict.text is not None:
            current = verdict.text
        rewrites += verdict.rewrites
        flags += verdict.flags
        nudges += verdict.nudges
    return Outcome(current, None, tuple(rewrites), tuple(flags), tuple(nudges))


__all__ = [
    "ALLOW",
    "N_",
    "PLACEHOLDERS",
    "RULES",
    "Flag",
    "Nudge",
    "Outcome",
    "RateDecision",
    "Refusal",
    "Rewrite",
    "Rule",
    "RuleContext",
    "RuleSettings",
    "Verdict",
    "run_pipeline",
    "sanitise_text",
]
