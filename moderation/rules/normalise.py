"""Text folding shared by the matching rules (blocked words, crisis, medical).

Two levels:

* :func:`fold` -- light and cheap, used on every message by the crisis and
  medical rules: casefold, drop accents/tashkeel/tatweel, unify Arabic letter
  variants and apostrophes, collapse horizontal whitespace, squeeze stretched
  letters.  Arabizi digits are kept as digits (the lexicons spell them out).
* :func:`normalise_for_matching` -- the canonical form of blocked words: on top
  of :func:`fold` it maps leetspeak / Arabizi digits and look-alike letters to
  one Latin scheme and removes separators in letter-spaced words.

Nothing here maps positions back to the original text; the blocked-words rule
matches with a regex built from the canonical form instead (see ``words.py``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Combining marks (Latin accents after NFD, Arabic tashkeel and Quranic marks),
# tatweel, ZWNJ/ZWJ and variation selectors: none of them changes which word it is.
MARKS_CLASS = (
    "\u0300-\u036f\u0483-\u0489\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc"
    "\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u08d3-\u08e1\u08e3-\u08ff\u1ab0-\u1aff"
    "\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0640\u200c\u200d\ufe00-\ufe0f"
)
_MARKS_RE = re.compile(f"[{MARKS_CLASS}]+")

# Letter variants NFD does not take care of (hamza forms decompose on their own).
_FOLD_TABLE = str.maketrans(
    {
        "\u0629": "\u0647",  # ة -> ه
        "\u0649": "\u064a",  # ى -> ي
        "\u0671": "\u0627",  # ٱ -> ا
        "\u06a9": "\u0643",  # ک -> ك
        "\u06cc": "\u064a",  # ی -> ي
        "\u06ad": "\u0643",  # ڭ (Moroccan g) -> ك
        "\u06af": "\u0643",  # گ -> ك
        "\u06be": "\u0647",  # ھ -> ه
        "\u06c0": "\u0647",  # ۀ -> ه
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u060c": ",",  # Arabic comma
        "\u061f": "?",  # Arabic question mark
        "\u061b": ";",  # Arabic semicolon
        "\u2026": "...",
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Eastern Arabic-Indic digits
    }
)

_HSPACE_RE = re.compile(r"[^\S\n]+")
# Stretched writing ("nooooo", "بغيييت", "kiiiilll"): long vowels collapse to one,
# other letters to two, so real doubles ("kill", "lla") survive.
_SQUEEZE_VOWELS_RE = re.compile(r"([aeiouy\u0627\u0648\u064a])\1{2,}")
_SQUEEZE_OTHER_RE = re.compile(r"(.)\1{2,}")


# Small cache: the crisis and medical rules fold the same text one after the other.
@lru_cache(maxsize=64)
def fold(text: str) -> str:
    """Cheap, lossy folding for phrase matching (crisis / medical lexicons)."""
    t = text.casefold()
    if not t.isascii():
        t = unicodedata.normalize("NFD", t)
        t = _MARKS_RE.sub("", t)
        t = t.translate(_FOLD_TABLE)
    t = _HSPACE_RE.sub(" ", t)
    t = _SQUEEZE_VOWELS_RE.sub(r"\1", t)
    return _SQUEEZE_OTHER_RE.sub(r"\1\1", t)


# --- canonical form for blocked words ------------------------------------------------

# One consistent scheme: Arabizi readings win for the digits that are Arabic
# letters (2=ء 3=ع 5=خ 7=ح 8=غ 9=ق, written in Latin as a a kh h gh q), leetspeak
# for the rest.  The message-side matcher accepts *both* readings of each digit.
CANON_DIGITS = {
    "0": "o",
    "1": "i",
    "2": "a",
    "3": "a",
    "4": "a",
    "5": "kh",
    "6": "g",
    "7": "h",
    "8": "gh",
    "9": "q",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "i",
    "\u20ac": "e",  # €
}

# Cyrillic / Greek letters that look Latin, plus a few Latin letters that do not
# decompose under NFD.
CONFUSABLES = {
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c",
    "\u0445": "x", "\u0443": "y", "\u0456": "i", "\u0455": "s", "\u0458": "j",
    "\u043a": "k", "\u043c": "m", "\u0442": "t", "\u043d": "h", "\u0432": "b",
    "\u03b1": "a", "\u03b5": "e", "\u03bf": "o", "\u03c1": "p", "\u03ba": "k",
    "\u03bd": "v", "\u03c4": "t", "\u03b9": "i", "\u03c5": "u", "\u03c7": "x",
    "\u0131": "i", "\u00f8": "o", "\u0142": "l", "\u0111": "d", "\u00df": "ss",
    "\u00e6": "ae", "\u0153": "oe", "\u00fe": "th", "\u0127": "h",
}

_CANON_TABLE = str.maketrans({**CANON_DIGITS, **CONFUSABLES})
# Letters spaced out with single separators: "f u c k", "f.u.c.k", "f-u-c-k".
_SPACED_RE = re.compile(r"(?<![^\W_])(?:[^\W_][ ._\-]){2,}[^\W_](?![^\W_])")
_SEP_RE = re.compile(r"[ ._\-]")


def canon_char(ch: str) -> str:
    """Canonical form of one character ('' when it carries no letter)."""
    return normalise_for_matching(ch) if ch.strip() else ""


def normalise_for_matching(text: str) -> str:
    """Canonical matching form (used for admin-entered blocked words).

    casefold + strip diacritics/tashkeel/tatweel + unify أإآٱ→ا ى→ي ة→ه ؤ→و ئ→ي
    + Arabizi/leet digits → Latin letters + look-alikes → Latin + join
    letter-spaced words + squeeze stretched letters + single spaces.
    """
    t = unicodedata.normalize("NFKC", text)  # fullwidth / presentation forms
    t = fold(t)
    t = t.translate(_CANON_TABLE)
    t = _SPACED_RE.sub(lambda m: _SEP_RE.sub("", m.group()), t)
    t = _SQUEEZE_VOWELS_RE.sub(r"\1", t)
    t = _SQUEEZE_OTHER_RE.sub(r"\1\1", t)
    return " ".join(t.split())
