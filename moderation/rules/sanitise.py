"""Plain-text sanitiser: no markup, no invisible or direction-changing characters.

Chat text is stored and rendered as plain text (``textContent``), so we strip
tags with bleach but give back the ``& < >`` characters bleach escapes.  Doing
that naively could turn ``&lt;script&gt;`` into a real tag, so the markup step is
repeated until the text stops changing, and any ``<`` that still precedes a
tag-opening character gets a space after it.  The result is idempotent:
``sanitise(sanitise(x)) == sanitise(x)``.
"""

from __future__ import annotations

import re
import unicodedata

import bleach

# Characters removed outright (why, by group):
# - C0/C1 controls except \n (\t and the newline family are translated first);
# - soft hyphen, Arabic letter mark, Syriac abbreviation mark, Mongolian vowel sep.;
# - zero-width space, LRM/RLM (U+200E/F), word joiner & invisible operators;
# - every bidi embedding / override / isolate (U+202A-E, U+2066-9) and the
#   deprecated format controls U+206A-F;  BOM / ZWNBSP; interlinear annotations;
# - tag characters (ASCII smuggling) unless they form an emoji flag sequence;
# - lone surrogates and the noncharacters; Hangul fillers used as "blank" text;
# - combining grapheme joiner.
# ZWNJ / ZWJ (U+200C/D) are kept: they are needed by emoji sequences and Persian.
_INVISIBLE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u00ad\u034f\u061c\u070f\u115f\u1160\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb\uffa0\ufdd0-\ufdef\ufffe\uffff"
    "\ud800-\udfff\U000e0001\U000e0020-\U000e007f"
)
_EMOJI_TAG_SEQ = "\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
_INVISIBLE_RE = re.compile(f"({_EMOJI_TAG_SEQ})|[{_INVISIBLE}]+")
_HAS_TAG_CHARS_RE = re.compile("[\U000e0001-\U000e007f]")
_INVISIBLE_ONLY_RE = re.compile(f"[{_INVISIBLE}]+")

_NEWLINES = str.maketrans(
    {
        "\r": "\n",
        "\x85": "\n",
        "\u2028": "\n",
        "\u2029": "\n",
        "\x0b": "\n",
        "\x0c": "\n",
        "\t": " ",
        "\u2800": " ",  # braille blank, used to fake "empty" messages
    }
)
_TRAILING_SPACE_RE = re.compile(r"[^\S\n]+\n")
_MANY_NEWLINES_RE = re.compile(r"\n{3,}")
# "<" followed by something a browser would read as a tag, comment or PI.
TAG_RE = re.compile(r"<(?=[A-Za-z!/?])")
_MAX_MARKUP_PASSES = 10


# What is left after sanitising can still show nothing at all: the characters kept on purpose
# (ZWNJ / ZWJ, variation selectors, emoji tags) and others that only make sense next to a
# visible one.  A text made only of these is "empty".  By Unicode category: controls (Cc),
# format characters (Cf: ZWNJ, ZWJ, U+1BCA0-3 shorthand controls, U+2060-206F...), marks with no
# base (Mn: variation selectors U+FE00-FE0F and U+E0100-E01EF, U+17B4/5, the combining grapheme
# joiner) and spaces (Zs, Zl, Zp); plus letters and symbols that render blank although Unicode
# does not say so: the Hangul fillers, the braille blank, the object replacement character and
# the musical null notehead.
_BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Mn", "Zs", "Zl", "Zp"})
BLANK_CHARACTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0\ufffc\U0001d159")


def renders_blank(text: str) -> bool:
    """True when no character of the text shows anything (the empty text too).  A text with one
    visible character is not blank, so ZWNJ in Persian or Arabic words, or a variation selector
    after an emoji, never makes a message blank."""
    return all(ch in BLANK_CHARACTERS or unicodedata.category(ch) in _BLANK_CATEGORIES
               for ch in text)


def _keep_emoji_tags(m: re.Match[str]) -> str:
    return m.group(1) or ""


def _remove_invisible(t: str) -> str:
    if _HAS_TAG_CHARS_RE.search(t):
        return _INVISIBLE_RE.sub(_keep_emoji_tags, t)
    return _INVISIBLE_ONLY_RE.sub("", t)


def _nfc(t: str) -> str:
    return t if unicodedata.is_normalized("NFC", t) else unicodedata.normalize("NFC", t)


def _unescape(t: str) -> str:
    # Only what bleach itself escapes; other entities stay literal (harmless as text).
    return t.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _markup_pass(t: str) -> str:
    if "<" in t:
        t = bleach.clean(t, tags=[], attributes={}, strip=True, strip_comments=True)
    # Without "<" there is no tag to strip: bleach would only escape bare "&" and ">",
    # which unescape turns back (and mangle malformed "&#" references), so skip it.
    return _nfc(_unescape(t))


def sanitise(text: str) -> str:
    """Return plain, visible, NFC text with no HTML tags (may be empty)."""
    t = text.replace("\r\n", "\n").translate(_NEWLINES)
    t = _remove_invisible(t)
    # NFC before the markup step: NFC can turn e.g. U+212A KELVIN SIGN into "K".
    t = _nfc(t)
    if "<" in t or "&" in t:
        for _ in range(_MAX_MARKUP_PASSES):
            new = _markup_pass(t)
            if new == t:
                break
            t = new
        else:  # pathological nesting: break every remaining entity
            t = t.replace("&", "&\u200c")
        # What bleach leaves as text but a browser could still read as a tag ("a <b"
        # at the very end): a space after "<" makes it inert, and stays stable.
        t = TAG_RE.sub("< ", t)
    t = _TRAILING_SPACE_RE.sub("\n", t)
    t = _MANY_NEWLINES_RE.sub("\n\n", t)
    return t.strip()
