"""Crisis language: flagged (never refused or rewritten), in en/fr/ar/Darija/Arabizi."""

from __future__ import annotations

import pytest

from moderation.pipeline import Flag, RuleContext, RuleSettings, run_pipeline
from moderation.rules.crisis import detect_crisis

POSITIVES = [
    # English
    ("I want to kill myself", "suicide"),
    ("i don't want to live anymore", "suicide"),
    ("I just wanna die", "suicide"),
    ("honestly I'm suicidal again", "suicide"),
    ("I've been thinking about ending my life", "suicide"),
    ("everyone would be better off without me", "suicide"),
    ("I can't go on like this", "suicide"),
    ("I've been cutting myself", "self_harm"),
    ("the urge to hurt myself is strong", "self_harm"),
    ("he hits me every night", "violence"),
    ("my husband beats me when he drinks", "violence"),
    ("my dad threatened to kill me", "violence"),
    ("I was raped last year", "abuse"),
    ("he won't let me leave the house", "abuse"),
    ("I tried to overdose last night", "suicide"),
    ("nobody would miss me if I died", "suicide"),
    ("I cut my wrists", "self_harm"),
    # French
    ("je veux mourir", "suicide"),
    ("j'ai envie d'en finir", "suicide"),
    ("J’ai envie d’en finir", "suicide"),  # typographic apostrophes
    ("je n'ai plus envie de vivre", "suicide"),
    ("je pense à me suicider", "suicide"),
    ("je me scarifie depuis des mois", "self_harm"),
    ("mon mari me frappe", "violence"),
    ("il m'a frappée hier soir", "violence"),
    ("j'ai été violée", "abuse"),
    ("je pense au suicide tous les jours", "suicide"),
    # MSA
    ("أريد أن أنتحر", "suicide"),
    ("أفكر في الانتحار كل يوم", "suicide"),
    ("لا أريد أن أعيش", "suicide"),
    ("أؤذي نفسي", "self_harm"),
    ("زوجي يضربني", "violence"),
    ("تحرش بي مديري", "abuse"),
    # Darija, Arabic letters
    ("بغيت نموت", "suicide"),
    ("بغيييت نمووووت", "suicide"),
    ("ما بقيتش باغي نعيش", "suicide"),
    ("غادي نقتل راسي", "suicide"),
    ("عييت من هاد الحياة", "suicide"),
    ("أنا ما قادّش", "suicide"),
    ("كنجرح راسي", "self_harm"),
    ("راجلي كيضربني", "violence"),
    ("بابا كيضربني بزاف", "violence"),
    ("كيتحرش بيا فالخدمة", "abuse"),
    ("ما بقيتش قادة", "suicide"),
    ("خويا كيضربني", "violence"),
    # Arabizi
    ("bghit nmout", "suicide"),
    ("bghit nmouuuut wallah", "suicide"),
    ("ma b9itch baghi n3ich", "suicide"),
    ("ana ma9adch", "suicide"),
    ("ghadi nqtel rasi", "suicide"),
    ("ghadi n9tel rasi", "suicide"),
    ("3yit mn had l7ayat", "suicide"),
    ("kanjre7 rasi", "self_harm"),
    ("rajli kaydrebni", "violence"),
    ("baba kayderbni", "violence"),
    ("mama katdrebni kol nhar", "violence"),
    ("kayt7arrach biya", "abuse"),
    ("3ayit mn had dnya", "suicide"),
    ("khouya kaydrebni", "violence"),
]


@pytest.mark.parametrize(("text", "category"), POSITIVES)
def test_crisis_language_is_flagged_and_delivered(text: str, category: str) -> None:
    out = run_pipeline(text)
    assert not out.refused
    assert out.text == text.strip()
    assert out.rewrites == ()
    assert len(out.flags) == 1
    flag = out.flags[0]
    assert (flag.rule, flag.kind) == ("crisis", "crisis")
    assert category in flag.categories
    assert out.breaches == ()


NEGATIVES = [
    "this traffic is killing me",
    "my feet are killing me",
    "I could kill for a coffee",
    "I killed myself laughing",
    "I'm dying to see you",
    "I'm going to die of boredom",
    "the film was about suicide prevention",
    "she beat me at chess",
    "hit me up later",
    "your words touched me deeply",
    "I don't want to live in Casablanca",
    "I can't go on the trip",
    "mort de rire",
    "je meurs de faim",
    "on va tuer le temps",
    "il me tape sur les nerfs",
    "ce qui me frappe c'est sa gentillesse",
    "je n'en peux plus de ce boulot",
    "كنموت عليك",
    "kanmout 3lik",
    "نموت عليها",
    "ضربني البرد",
    "drebni lberd",
    "drebni b tilifon",
    "ana ma9adch nji ghedda",
    "bghit nmchi l dar",
    "I cut myself shaving",
    "I burned myself cooking",
    "I would never kill myself",
    "I'm not suicidal",
    "ما بغيتش نموت",
    "لا أريد أن أموت",
    "je ne veux pas mourir",
    "My mom is going to kill me if I fail this exam",
    "I just want to disappear for a while",
    "I cut my arm on a nail",
    "my dad beat cancer",
    "kanmout b d7k",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_idioms_and_negations_are_not_flagged(text: str) -> None:
    assert detect_crisis(text) == ()
    assert run_pipeline(text).flags == ()


def test_multiple_categories() -> None:
    out = run_pipeline("he hits me every night and I want to die")
    assert out.flags == (Flag("crisis", "crisis", ("suicide", "violence")),)


def test_crisis_detection_can_be_turned_off() -> None:
    ctx = RuleContext(settings=RuleSettings(crisis_detection=False))
    assert run_pipeline("bghit nmout", ctx).flags == ()


def test_crisis_runs_after_pii_and_keeps_the_rewrites() -> None:
    out = run_pipeline("bghit nmout, 3iyt liya 0612345678")
    assert out.flags and out.flags[0].categories == ("suicide",)
    assert "0612345678" not in out.text
    assert out.breaches == ("pii",)  # hiding the number counts; the crisis never does


def test_too_long_crisis_message_still_carries_the_flag() -> None:
    ctx = RuleContext(settings=RuleSettings(max_length=20))
    out = run_pipeline("I want to kill myself, " + "please " * 10, ctx)
    assert out.refused and out.refusal is not None and out.refusal.code == "too_long"
    assert out.flags and out.flags[0].kind == "crisis"


def test_extra_phrases_can_be_merged_in() -> None:
    from moderation.rules import crisis

    assert detect_crisis("ana mkhnou9 bzaf") == ()
    try:
        crisis.extend_lexicon(
            {"suicide": ["mkhnou9 bzaf"]}, extra_exclusions=["je veux mourir de rire"]
        )
        assert detect_crisis("ANA MKHNOU9   BZAF!") == ("suicide",)
        assert detect_crisis("je veux mourir de rire") == ()
        assert detect_crisis("bghit nmout") == ("suicide",)  # built-ins still there
    finally:
        crisis.extend_lexicon()
    assert detect_crisis("ana mkhnou9 bzaf") == ()
