"""Blocked words: normalisation tricks, word boundaries, mask vs refuse."""

from __future__ import annotations

import pytest

from moderation.pipeline import RuleContext, RuleSettings, run_pipeline
from moderation.rules.normalise import normalise_for_matching

WORDS = (
    "fuck",
    "ass",
    "idiot",
    "9a7ba",
    "zamel",
    "fils de pute",
    "كلب",
    "أحمق",
    "قحبة",
    "حمار",
)
MASK = RuleContext(blocked_words=WORDS)
REFUSE = RuleContext(
    settings=RuleSettings(blocked_words_action="refuse"), blocked_words=WORDS
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("9a7ba", "qahba"),
        ("Qa7ba", "qahba"),
        ("FÛÇK", "fuck"),
        ("f.u.c.k", "fuck"),
        ("f u c k", "fuck"),
        ("fuuuuck", "fuck"),
        ("1d10t", "idiot"),
        ("@$$", "ass"),
        ("5ra", "khra"),
        ("أَحْمَق", "احمق"),
        ("إحمق", "احمق"),
        ("آحمق", "احمق"),
        ("ـكـــلـب", "كلب"),
        ("قحبة", "قحبه"),
        ("مستشفى", "مستشفي"),
        ("مسؤول", "مسوول"),
        ("  Fils   de  PUTE ", "fils de pute"),
        ("сlass", "class"),  # Cyrillic "с"
    ],
)
def test_normalise_for_matching(raw: str, canonical: str) -> None:
    assert normalise_for_matching(raw) == canonical


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("fuck you", "**** you"),
        ("FUCK!", "****!"),
        ("Fuck, really", "****, really"),
        ("fuuuuuck this", "******** this"),
        ("f u c k off", "******* off"),
        ("f.u.c.k off", "******* off"),
        ("what an ass", "what an ***"),
        ("what an @$$", "what an ***"),
        ("what an a$$", "what an ***"),
        ("you are an 1d1ooot!", "you are an *******!"),
        ("you IDIOT", "you *****"),
        ("nta 9a7ba", "nta *****"),
        ("nta qahba", "nta *****"),
        ("nta 9ahba", "nta *****"),
        ("nta QA7BA", "nta *****"),
        ("zaaaamel", "********"),
        ("espèce de fils de pute", "espèce de ************"),
        ("fils-de-pute", "************"),
        ("نتا كلب", "نتا ***"),
        ("نتا كَلْب", "نتا *****"),  # tashkeel
        ("نتا كـــلب", "نتا ******"),  # tatweel
        ("الكلب", "*****"),  # article
        ("والكلب", "******"),  # conjunction + article
        ("نتا احمق", "نتا ****"),  # alef variants
        ("نتا إحمق", "نتا ****"),
        ("نتا قحبه", "نتا ****"),  # ta marbuta written as ha
        ("كلب و حمار", "*** و ****"),
    ],
)
def test_blocked_words_are_masked_in_place(text: str, masked: str) -> None:
    out = run_pipeline(text, MASK)
    assert out.text == masked
    assert [r.rule for r in out.rewrites] == ["blocked_words"]
    assert out.breaches == ("blocked_words",)
    assert run_pipeline(out.text, MASK).text == out.text


@pytest.mark.parametrize(
    "text",
    [
        "first class",
        "my assistant",
        "passer le bac",
        "as soon as possible",
        "assez",
        "idiotic",  # a different word: admins list the forms they want
        "كلبة",
        "mass",
        "grass",
        "f uck",
        "القلب",  # "the heart", not "dog"
        "fils de putain de voisin",
    ],
)
def test_innocent_words_are_left_alone(text: str) -> None:
    out = run_pipeline(text, MASK)
    assert out.text == text and out.rewrites == ()


def test_list_word_written_in_latin_matches_arabizi_and_vice_versa() -> None:
    for listed, typed in [("qahba", "9a7ba"), ("9a7ba", "qahba"), ("khra", "5ra"),
                          ("5ra", "khra"), ("chmata", "shmata")]:
        ctx = RuleContext(blocked_words=(listed,))
        assert run_pipeline(f"ya {typed}", ctx).text == "ya " + "*" * len(typed)


@pytest.mark.parametrize("text", ["fuck you", "nta 9a7ba", "كلب", "f.u.c.k"])
def test_refuse_action(text: str) -> None:
    out = run_pipeline(text, REFUSE)
    assert out.refused and out.refusal is not None
    assert out.refusal.code == "blocked_word" and out.refusal.rule == "blocked_words"
    assert out.refusal.reason and out.text == ""
    assert out.breaches == ("blocked_words",)


def test_disabled_blocked_words() -> None:
    ctx = RuleContext(settings=RuleSettings(blocked_words_enabled=False), blocked_words=WORDS)
    assert run_pipeline("fuck", ctx).text == "fuck"


def test_empty_or_silly_word_lists() -> None:
    for words in [(), ("",), ("   ",), ("a",), ("x", "!")]:
        assert run_pipeline("a x fuck", RuleContext(blocked_words=words)).text == "a x fuck"


def test_crisis_words_are_never_refused_or_hidden() -> None:
    ctx = RuleContext(settings=RuleSettings(blocked_words_action="refuse"),
                      blocked_words=("kill", "nmout"))
    for text in ["I want to kill myself", "bghit nmout"]:
        out = run_pipeline(text, ctx)
        assert not out.refused and out.text == text
        assert [f.kind for f in out.flags] == ["crisis"]
        assert out.breaches == ()


def test_crisis_message_with_other_blocked_word_is_masked_not_refused() -> None:
    ctx = RuleContext(settings=RuleSettings(blocked_words_action="refuse"),
                      blocked_words=("fuck",))
    out = run_pipeline("fuck everything, I want to die", ctx)
    assert not out.refused
    assert out.text == "**** everything, I want to die"
    assert out.flags and out.flags[0].categories == ("suicide",)


def test_look_alike_letters() -> None:
    # Cyrillic "с" and "о", Greek "ο"
    assert run_pipeline("fu\u0441k off", MASK).text == "**** off"
    assert run_pipeline("idi\u03bft", MASK).text == "*****"


def test_crisis_exemption_holds_even_when_the_room_does_not_flag() -> None:
    ctx = RuleContext(
        settings=RuleSettings(blocked_words_action="refuse", crisis_detection=False),
        blocked_words=("nmout",),
    )
    out = run_pipeline("bghit nmout", ctx)
    assert not out.refused and out.text == "bghit nmout" and out.flags == ()
