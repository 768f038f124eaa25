"""Blocked-words matcher.

Admin-entered words are reduced to their canonical form
(:func:`~moderation.rules.normalise.normalise_for_matching`) and split into "units"
(letters, plus the digraphs kh / gh / sh that Arabizi writes as 5 / 8 / ch).

A message is matched in two steps, both cheap:

1. a *same-length* ``str.translate`` folds every way of writing a letter to its
   canonical letter (case, accents, Arabic letter variants, look-alike Cyrillic and
   Greek letters, ``@ $ ! €``); tashkeel, tatweel and joiners become a neutral
   filler.  Positions do not move, so spans found there are spans in the original.
2. at each word start, a small regex for the words beginning with that letter is
   tried.  Digits keep *both* readings (3 is ع in Arabizi and E in leetspeak), so
   the unit for "a" accepts ``a 2 3 4`` and the unit for "h" accepts ``h 7``.

Tricks covered: diacritics / tashkeel / tatweel between letters, alef and ya / ta
marbuta variants, Arabizi digits, leetspeak, stretched letters ("fuuuck"),
letter-spaced words ("f u c k", "f.u.c.k"), Arabic proclitics (و ف ب ل ك ال).
Matches need word boundaries on both sides, so "class" never hits "ass".
The cost grows with the message, not with the size of the list.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .normalise import CONFUSABLES, MARKS_CLASS, normalise_for_matching

_FILLER = "\u200b"  # what marks become after translation (never in sanitised text)
_NOISE = "[\u200b\u0640]*+"  # filler or tatweel between letters
_DIGRAPHS = {"kh": "kh", "gh": "gh", "sh": "sh", "ch": "sh"}

# Characters with two readings stay as they are in the translated text; each letter's
# class lists the ones that can stand for it.
_READINGS = {
    "0": "o",
    "1": "il",
    "2": "az",
    "3": "ae",
    "4": "a",
    "5": "s",
    "6": "gb",
    "7": "ht",
    "8": "b",
    "9": "qg",
    "|": "il",
    "+": "t",
    "!": "i",
    "@": "a",
    "$": "s",
    "\u20ac": "e",
}
_DIGRAPH_DIGITS = {"kh": "5", "gh": "8"}


def _build_table() -> dict[int, str]:
    ranges = [
        (0x21, 0x7E),  # ASCII
        (0xC0, 0x24F),  # Latin-1 supplement, Latin extended A/B
        (0xFF01, 0xFF5E),  # fullwidth forms
        (0x0620, 0x064A),  # Arabic letters
        (0x0671, 0x06D3),  # extended Arabic letters
        (0xFE80, 0xFEFC),  # Arabic presentation forms B (letters)
    ]
    chars = [chr(c) for a, b in ranges for c in range(a, b + 1)]
    chars += list(CONFUSABLES) + [c.upper() for c in CONFUSABLES] + ["\u20ac"]
    table: dict[int, str] = {}
    for ch in chars:
        if ch in _READINGS:
            continue
        key = normalise_for_matching(ch)
        if len(key) == 1 and key != ch and key.strip():
            table[ord(ch)] = key
    for a, b in re.findall(r"(.)-(.)", MARKS_CLASS):  # ranges of marks and joiners
        for cp in range(ord(a), ord(b) + 1):
            table[cp] = _FILLER
    for ch in MARKS_CLASS:
        if unicodedata.category(ch).startswith("M") or ch in "\u200c\u200d":
            table[ord(ch)] = _FILLER
    table.pop(0x0640, None)  # tatweel is a letter-like filler of its own
    return table


_TABLE = _build_table()


def prepare(text: str) -> str:
    """Same-length canonical copy of ``text`` (see module docstring)."""
    low = text.lower()
    if len(low) != len(text):  # a few letters lower-case to two characters (İ)
        low = text
    return low.translate(_TABLE)


def _unit_alt(unit: str) -> str:
    if unit in _DIGRAPHS.values():
        first = "[sc]" if unit == "sh" else unit[0]
        alt = f"{first}{_NOISE}[h7]"
        if unit in _DIGRAPH_DIGITS:
            alt += "|" + _DIGRAPH_DIGITS[unit]
        return f"(?:{alt})"
    extra = "".join(d for d, letters in _READINGS.items() if unit in letters)
    if not extra:
        return re.escape(unit)
    return "[" + re.escape(unit) + "".join(re.escape(c) for c in extra) + "]"


def _first_keys(unit: str) -> set[str]:
    """Characters (in translated text) a unit can start with."""
    if unit in _DIGRAPHS.values():
        keys = {"s", "c"} if unit == "sh" else {unit[0]}
        if unit in _DIGRAPH_DIGITS:
            keys.add(_DIGRAPH_DIGITS[unit])
        return keys
    return {unit} | {d for d, letters in _READINGS.items() if unit in letters}


def split_units(canonical: str) -> list[tuple[str, int]]:
    """Canonical text -> [(unit, min_repeats)], runs of one unit capped at 2."""
    units: list[str] = []
    i = 0
    while i < len(canonical):
        pair = canonical[i : i + 2]
        if pair in _DIGRAPHS:
            units.append(_DIGRAPHS[pair])
            i += 2
        else:
            units.append(canonical[i])
            i += 1
    runs: list[tuple[str, int]] = []
    for u in units:
        if runs and runs[-1][0] == u:
            runs[-1] = (u, min(runs[-1][1] + 1, 2))
        else:
            runs.append((u, 1))
    return runs


_MAX_STRETCH = 30
_PHRASE_GAP = r"[\W_]{1,3}"
_SPACED_GAP = r"[\s.\-_,\u00b7\u2022/\\~:;]{1,2}"
_ARABIC_RE = re.compile("[\u0621-\u064a]")
_WORD_END = r"(?![^\W_])"
# و/ف (and), ب/ل/ك (with/for/like), ال (the): "والكلب" should still hit "كلب".
_AR_PREFIX_RE = re.compile(
    f"(?:[\u0648\u0641]{_NOISE})?(?:[\u0628\u0644\u0643]{_NOISE})?"
    f"(?:\u0627{_NOISE}\u0644{_NOISE}|\u0644{_NOISE})?"
)
_AR_PREFIX_CHARS = frozenset("\u0648\u0641\u0628\u0644\u0643\u0627")
# Where a word can start: a letter or digit, or a symbol that can stand for one.
_WORD_START_RE = re.compile(r"(?<![^\W_])(?:[^\W_]|[|+!@$\u20ac])")


def _word_pattern(canonical: str) -> tuple[str, str] | None:
    """Regex for one canonical entry, plus its first unit."""
    runs = split_units(canonical)
    if sum(k for u, k in runs if u != " ") < 2:
        return None  # one-letter entries would mask half of every message
    compact = []
    for unit, k in runs:
        if unit == " ":
            compact.append(_PHRASE_GAP)
            continue
        # Possessive and bounded repeat: stretched letters match, no backtracking, and
        # no quadratic scan over "a@a@a@..." (where every "a" starts a word).
        quant = f"{{{k},{_MAX_STRETCH}}}+"
        compact.append(f"(?:{_unit_alt(unit)}{_NOISE}){quant}")
    alternatives = ["".join(compact)]
    seq = [u for u, k in runs for _ in range(k)]
    if " " not in seq and len(seq) >= 3:
        alternatives.append(_SPACED_GAP.join(_unit_alt(u) + _NOISE for u in seq))
    return "(?:" + "|".join(alternatives) + ")", runs[0][0]


class BlockedMatcher:
    """A word list grouped by first letter; each group is one small regex.

    Groups are compiled the first time a message has a word starting with their
    letter: Python's regex compiler is slow, and a long list should not stall the
    first message after an admin edits it.
    """

    def __init__(self, canonicals: list[str]) -> None:
        by_unit: dict[str, list[tuple[str, str]]] = {}
        for canonical in canonicals:
            built = _word_pattern(canonical)
            if built:
                by_unit.setdefault(built[1], []).append((canonical, built[0]))
        self._sources: dict[str, str] = {}
        self._keys: dict[str, tuple[str, ...]] = {}
        for unit, entries in by_unit.items():
            # Longest first, so a phrase wins over a word it contains.
            entries.sort(key=lambda e: len(e[0]), reverse=True)
            self._sources[unit] = "(?:" + "|".join(p for _, p in entries) + ")" + _WORD_END
            for key in _first_keys(unit):
                self._keys[key] = (*self._keys.get(key, ()), unit)
        self._compiled: dict[str, re.Pattern[str]] = {}
        self.has_arabic = any(_ARABIC_RE.match(u) for u in by_unit)

    def __bool__(self) -> bool:
        return bool(self._sources)

    def _match(self, t: str, pos: int) -> int:
        for unit in self._keys.get(t[pos], ()):
            rx = self._compiled.get(unit)
            if rx is None:
                rx = self._compiled[unit] = re.compile(self._sources[unit])
            m = rx.match(t, pos)
            if m:
                return m.end()
        return pos

    def find(self, text: str) -> list[tuple[int, int]]:
        t = prepare(text)
        spans: list[tuple[int, int]] = []
        pos = 0
        while True:
            start = _WORD_START_RE.search(t, pos)
            if start is None:
                return spans
            s = start.start()
            end = self._match(t, s)
            if end == s and self.has_arabic and t[s] in _AR_PREFIX_CHARS:
                end = self._match_after_prefix(t, s)
            if end > s:
                spans.append((s, end))
                pos = end
            else:
                pos = s + 1

    def _match_after_prefix(self, t: str, s: int) -> int:
        # Try every split of a proclitic run ("وبال") followed by a listed word.
        q = s
        while q < len(t) - 1 and q - s < 8 and (t[q] in _AR_PREFIX_CHARS or t[q] in "\u200b\u0640"):
            q += 1
            if _ARABIC_RE.match(t[q]) and _AR_PREFIX_RE.fullmatch(t, s, q):
                end = self._match(t, q)
                if end > q:
                    return end
        return s


@lru_cache(maxsize=64)
def compile_blocked(words: tuple[str, ...]) -> BlockedMatcher | None:
    """Compile a room's word list (cached per tuple; None when nothing to match)."""
    canonicals = dict.fromkeys(
        normalise_for_matching(w) for w in words if isinstance(w, str) and w.strip()
    )
    matcher = BlockedMatcher([c for c in canonicals if c])
    return matcher if matcher else None


def find_blocked(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    matcher = compile_blocked(words)
    return matcher.find(text) if matcher is not None else []


def mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    parts = []
    last = 0
    for s, e in spans:
        parts.append(text[last:s])
        parts.append("*" * (e - s))
        last = e
    parts.append(text[last:])
    return "".join(parts)
