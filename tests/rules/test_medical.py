"""Medical-advice nudge: advice to someone else, not people's own treatment."""

from __future__ import annotations

import pytest

from moderation.pipeline import RuleContext, RuleSettings, run_pipeline
from moderation.rules.medical import looks_like_medical_advice

ADVICE = [
    "you should take 50mg of sertraline",
    "take two xanax, it helps",
    "Just take some melatonin",
    "stop taking your meds",
    "you don't need your medication",
    "have you tried lexomil?",
    "I'd recommend zoloft",
    "you could double your dose",
    "tu devrais prendre du lexomil",
    "arrête ton traitement",
    "Prends un doliprane et dors",
    "je te conseille le seroplex",
    "vous devriez arrêter les antidépresseurs",
    "khod chi doliprane",
    "5od 2 dyal l7bob",
    "khassk takhod dwa",
    "7bes dwa dyalek",
    "خود جوج ديال الحبوب",
    "خاصك تاخد الدوا",
    "يجب أن تتناول الدواء",
    "توقف عن تناول الدواء",
]


@pytest.mark.parametrize("text", ADVICE)
def test_medical_advice_gets_a_private_nudge(text: str) -> None:
    out = run_pipeline(text)
    assert out.text == text and not out.refused
    assert [(n.rule, n.code) for n in out.nudges] == [("medical", "medical_advice")]
    assert "doctor" in out.nudges[0].message
    assert out.breaches == ()


OWN_TREATMENT = [
    "I take sertraline",
    "I take 50mg of sertraline every morning",
    "I stopped taking my meds last month",
    "my doctor told me to take two pills a day",
    "did you take your meds today?",
    "don't forget to take your meds",
    "Take care of yourself, the meds helped me",
    "kan5od dwa",
    "kan5od l7bob kol nhar",
    "je prends du lexomil",
    "j'ai arrêté mon traitement",
    "je ne prends plus mes cachets",
    "كناخد الدوا",
    "أتناول الدواء كل يوم",
    "take a deep breath",
    "try to sleep a bit",
    "stop overthinking",
]


@pytest.mark.parametrize("text", OWN_TREATMENT)
def test_own_treatment_and_ordinary_advice_are_not_nudged(text: str) -> None:
    assert not looks_like_medical_advice(text)
    assert run_pipeline(text).nudges == ()


def test_nudge_can_be_turned_off() -> None:
    ctx = RuleContext(settings=RuleSettings(medical_advice_nudge=False))
    assert run_pipeline("take two xanax", ctx).nudges == ()
