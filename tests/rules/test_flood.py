"""Flood / slow mode: the injected rate check, its refusals and when it is not called."""

from __future__ import annotations

import pytest

from moderation.pipeline import RateDecision, RuleContext, RuleSettings, run_pipeline


class Counter:
    def __init__(self, decision: RateDecision) -> None:
        self.decision = decision
        self.calls = 0

    def __call__(self) -> RateDecision:
        self.calls += 1
        return self.decision


@pytest.mark.parametrize(
    ("decision", "code", "retry"),
    [
        (RateDecision(allowed=False, retry_after=3.5, reason="flood"), "rate_limited", 3.5),
        (RateDecision(allowed=False, retry_after=12, reason="slow_mode"), "slow_mode", 12.0),
        (RateDecision(allowed=False, retry_after=1.0), "rate_limited", 1.0),
    ],
)
def test_denied_rate_check_refuses_with_retry_after(
    decision: RateDecision, code: str, retry: float
) -> None:
    check = Counter(decision)
    out = run_pipeline("salam 3likom", RuleContext(rate_check=check))
    assert check.calls == 1
    assert out.refused and out.refusal is not None
    assert out.refusal.rule == "flood" and out.refusal.code == code
    assert out.refusal.retry_after == retry
    assert "wait" in out.refusal.reason.lower()
    assert out.text == ""


def test_allowed_rate_check_lets_the_message_through() -> None:
    check = Counter(RateDecision(allowed=True))
    out = run_pipeline("hello", RuleContext(rate_check=check))
    assert check.calls == 1 and not out.refused and out.text == "hello"


@pytest.mark.parametrize("text", ["", "   ", "<b></b>", "x" * 3000])
def test_rate_check_not_called_when_an_earlier_rule_refuses(text: str) -> None:
    check = Counter(RateDecision(allowed=False, retry_after=5))
    out = run_pipeline(text, RuleContext(rate_check=check))
    assert out.refused and out.refusal is not None
    assert out.refusal.code in {"empty", "too_long"}
    assert check.calls == 0


def test_flood_limit_off_skips_the_check() -> None:
    check = Counter(RateDecision(allowed=False, retry_after=5))
    ctx = RuleContext(settings=RuleSettings(flood_limit=False), rate_check=check)
    assert not run_pipeline("hi", ctx).refused and check.calls == 0


def test_flooding_is_a_breach_but_slow_mode_is_not() -> None:
    flood = RuleContext(rate_check=lambda: RateDecision(False, 2.0, "flood"))
    slow = RuleContext(rate_check=lambda: RateDecision(False, 2.0, "slow_mode"))
    assert run_pipeline("hi", flood).breaches == ("flood",)
    assert run_pipeline("hi", slow).breaches == ()


def test_crisis_message_is_never_held_back_by_flood_or_slow_mode() -> None:
    check = Counter(RateDecision(allowed=False, retry_after=30, reason="slow_mode"))
    out = run_pipeline("bghit nmout", RuleContext(rate_check=check))
    assert not out.refused and out.text == "bghit nmout"
    assert check.calls == 1  # the token is still consumed
    assert [f.kind for f in out.flags] == ["crisis"]


def test_crisis_exemption_from_flood_holds_even_when_the_room_does_not_flag() -> None:
    ctx = RuleContext(
        settings=RuleSettings(crisis_detection=False),
        rate_check=lambda: RateDecision(False, 5.0, "flood"),
    )
    out = run_pipeline("je veux mourir", ctx)
    assert not out.refused and out.flags == ()
