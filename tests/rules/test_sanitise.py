"""Sanitiser: plain visible NFC text, no tags, no invisible or bidi characters."""

from __future__ import annotations

import pytest

from moderation.pipeline import RuleContext, RuleSettings, run_pipeline, sanitise_text
from moderation.rules.sanitise import TAG_RE


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<b>hi</b> there", "hi there"),
        ("<script>alert(1)</script>", "alert(1)"),
        ("<a href='javascript:alert(1)'>click</a>", "click"),
        ("hello <i>world</i>", "hello world"),
        ("<svg onload=alert(1)>x", "x"),
        ("a < b > c", "a < b > c"),
        ("1 < 2 && 3 > 2", "1 < 2 && 3 > 2"),
        ("I <3 you", "I <3 you"),
        ("Tom & Jerry", "Tom & Jerry"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "alert(1)"),
        ("&amp;lt;b&amp;gt;x", "x"),
        ("a <b", "a < b"),  # bleach keeps a dangling "<b" as text; it must not stay tag-like
        ("<!-- hidden -->visible", "visible"),
        ("x </ y", "x < / y"),
        ("&#60;script&#62;", "&#60;script&#62;"),  # numeric entities stay literal text
        ("abc\u202edef", "abcdef"),  # right-to-left override
        ("\u202a\u202b\u202c\u202d\u202eok\u2066\u2067\u2068\u2069\u061c", "ok"),
        ("he\u200bll\u2060o\ufeff", "hello"),
        ("soft\u00adhyphen", "softhyphen"),
        ("left\u200emark\u200f", "leftmark"),
        ("e\u0301te\u0301", "\u00e9t\u00e9"),  # NFC composition
        ("\u212a", "K"),  # Kelvin sign -> K under NFC
        ("a\x00b\x07c\x1bd\x7f", "abcd"),
        ("col1\tcol2", "col1 col2"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("a   \n\n  \n\nb", "a\n\nb"),
        ("  padded  ", "padded"),
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),  # ZWJ emoji kept
        ("\u0645\u0631\u062d\u0628\u0627", "\u0645\u0631\u062d\u0628\u0627"),
        ("hi\U000e0041\U000e0042", "hi"),  # invisible tag characters (ASCII smuggling)
        ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
         "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),
    ],
)
def test_sanitise_text(raw: str, clean: str) -> None:
    assert sanitise_text(raw) == clean
    assert sanitise_text(clean) == clean
    assert not TAG_RE.search(clean)


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "\n\n\t", "\u200b\u200b", "<b></b>", "<img src=x onerror=alert(1)>", "\u202e",
     "\u3164", "<!---->", "\x00\x01"],
)
def test_empty_after_sanitising_is_refused(raw: str) -> None:
    out = run_pipeline(raw)
    assert out.refused and out.refusal is not None
    assert out.refusal.code == "empty" and out.refusal.reason
    assert out.text == ""
    assert out.breaches == ()


def test_sanitised_text_is_what_the_pipeline_returns() -> None:
    assert run_pipeline("  <b>salam</b>\u202e  ").text == "salam"


@pytest.mark.parametrize(
    ("text", "max_length", "refused"),
    [
        ("a" * 10, 10, False),
        ("a" * 11, 10, True),
        ("<b>" + "a" * 10 + "</b>", 10, False),  # counted after sanitising
        ("   " + "a" * 10 + "   ", 10, False),
        ("\u0628" * 2000, 2000, False),
        ("\u0628" * 2001, 2000, True),
        ("x" * 100_000, 2000, True),  # absurd payloads are refused before sanitising
    ],
)
def test_size(text: str, max_length: int, refused: bool) -> None:
    out = run_pipeline(text, RuleContext(settings=RuleSettings(max_length=max_length)))
    assert out.refused is refused
    if refused:
        assert out.refusal is not None and out.refusal.code == "too_long"
        assert out.refusal.rule == "size" and out.breaches == ()


def test_placeholders_do_not_make_an_accepted_message_too_long_on_a_second_run() -> None:
    ctx = RuleContext(settings=RuleSettings(max_length=30))
    text = "call 0612345678 now please!!!"  # 29 characters
    first = run_pipeline(text, ctx)
    assert not first.refused and len(first.text) > 30
    assert run_pipeline(first.text, ctx).text == first.text
