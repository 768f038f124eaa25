"""A message that would show as a blank bubble is refused as `empty` (issue 13): made only of
characters that render nothing, even those the sanitiser keeps on purpose (ZWNJ, ZWJ, variation
selectors). Real text with the same characters in it still passes."""

from __future__ import annotations

import pytest

from moderation.pipeline import run_pipeline
from moderation.rules.sanitise import renders_blank

BLANK = [
    ("zwnj", "\u200c"),
    ("zwnj x3", "\u200c\u200c\u200c"),
    ("zwj", "\u200d\u200d"),
    ("zwnj and zwj", "\u200c\u200d\u200c"),
    ("variation selectors 1-16", "".join(chr(c) for c in range(0xFE00, 0xFE10))),
    ("variation selectors 17-256", "\U000e0100\U000e01ef\U000e0150"),
    ("khmer inherent vowels", "\u17b4\u17b5"),
    ("shorthand format controls", "\U0001bca0\U0001bca1\U0001bca2\U0001bca3"),
    ("object replacement", "\ufffc"),
    ("object replacement x3", "\ufffc\ufffc\ufffc"),
    ("word joiner and invisible operators", "\u2060\u2061\u2062\u2063\u2064"),
    ("deprecated format controls", "\u206a\u206b\u206c\u206d\u206e\u206f"),
    ("hangul filler", "\u3164"),
    ("hangul choseong and jungseong fillers", "\u115f\u1160"),
    ("halfwidth hangul filler", "\uffa0"),
    ("soft hyphen", "\u00ad\u00ad"),
    ("byte order mark", "\ufeff"),
    ("braille blank", "\u2800\u2800"),
    ("combining grapheme joiner", "\u034f"),
    ("mongolian vowel separator", "\u180e"),
    ("musical null notehead", "\U0001d159"),
    ("musical format controls", "\U0001d173\U0001d17a"),
    ("no-break and wide spaces", "\u00a0\u2003\u3000\u202f\u205f"),
    ("lone arabic fatha", "\u064e"),
    ("mixed bag", " \u200c\ufe0f\u17b4 \U0001bca0\ufffc\u3164\u2060\u00ad\n\u200d "),
    ("inside markup", "<b>\u200c\ufe0f</b>"),
]

VISIBLE = [
    ("persian with zwnj", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),  # می‌خواهم
    ("arabic with zwnj", "\u0644\u0627\u200c\u0628\u0623\u0633"),
    ("zwnj then a letter", "\u200c\u200ca"),
    ("a letter then variation selectors", "x\ufe0f\ufe0e"),
    ("emoji with variation selector", "\u2764\ufe0f"),
    ("zwj emoji sequence", "\U0001f469\u200d\U0001f4bb"),
    ("emoji tag flag", "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),
    ("digit", "0"),
    ("question mark", "?"),
    ("arabic word with harakat", "\u0633\u064e\u0644\u064e\u0627\u0645"),
    ("tatweel", "\u0640\u0640"),
    ("latin with khmer inherent vowel", "ok\u17b4"),
    ("object replacement beside a word", "see \ufffc"),
]


@pytest.mark.parametrize(("name", "text"), BLANK, ids=[name for name, _ in BLANK])
def test_blank_only_body_is_refused_as_empty(name: str, text: str) -> None:
    out = run_pipeline(text)
    assert out.refused and out.refusal is not None
    assert out.refusal.code == "empty" and out.refusal.rule == "sanitise"
    assert out.breaches == ()


@pytest.mark.parametrize(("name", "text"), VISIBLE, ids=[name for name, _ in VISIBLE])
def test_text_with_something_visible_passes(name: str, text: str) -> None:
    out = run_pipeline(text)
    assert not out.refused, out.refusal
    assert not renders_blank(out.text)


def test_renders_blank_is_a_plain_predicate() -> None:
    assert renders_blank("") and renders_blank("\u200c") and renders_blank(" \n")
    assert not renders_blank("\u200ca") and not renders_blank("\u0628")
