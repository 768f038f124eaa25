"""Crisis-language detector (suicide, self-harm, violence or abuse being suffered).

It only ever *flags*: the message is delivered unchanged and the service alerts the
room's facilitators / shows the author support resources.  Phrase patterns live in
:mod:`moderation.rules.lexicons`; this module compiles them once and matches them
against folded text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from .lexicons import CRISIS, CRISIS_EXCLUSIONS, MACROS
from .normalise import fold

CATEGORIES = ("suicide", "self_harm", "violence", "abuse")
_MACRO_RE = re.compile("|".join(re.escape(k) for k in MACROS))


def expand(piece: str) -> str:
    """Replace the ``<Q>``-style macros of a lexicon piece by their regex."""
    return _MACRO_RE.sub(lambda m: MACROS[m.group()], piece)


def _strip_word_start(piece: str) -> str:
    if not piece.startswith("\\b"):
        raise ValueError(f"crisis phrases must start at a word boundary (\\b): {piece!r}")
    return piece[2:]


def compile_lexicon(
    positives: Mapping[str, Mapping[str, tuple[str, ...]]] = CRISIS,
    exclusions: Mapping[str, tuple[str, ...]] = CRISIS_EXCLUSIONS,
) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """Compile {category: {language: pieces}} into one regex with a group per category.

    Kept public so an admin-managed list can be merged into the built-in one.
    """
    groups = []
    for cat in CATEGORIES:
        pieces = [expand(p) for lang in positives.get(cat, {}).values() for p in lang]
        if pieces:
            groups.append(f"(?P<{cat}>{'|'.join(_strip_word_start(p) for p in pieces)})")
    # One word-start check in front instead of one per phrase: the engine then only
    # tries the ~100 phrases where a word begins, which is most of the speed.
    positive = re.compile(r"\b(?=\w)(?:" + "|".join(groups) + ")")
    excl = [expand(p) for lang in exclusions.values() for p in lang]
    return positive, (re.compile("|".join(excl)) if excl else None)


_POSITIVE_RE, _EXCLUSION_RE = compile_lexicon()


def _phrase_piece(phrase: str) -> str:
    # Plain admin text -> a whole-phrase regex piece over folded text.
    words = fold(phrase).split()
    return r"\b" + r"\s".join(re.escape(w) for w in words) + r"(?!\w)"


def extend_lexicon(
    extra: Mapping[str, list[str] | tuple[str, ...]] | None = None,
    extra_exclusions: list[str] | tuple[str, ...] = (),
) -> None:
    """Merge plain-text phrases (e.g. an admin-managed list) into the built-in lexicon.

    ``extra`` maps a category from :data:`CATEGORIES` to phrases as people write them;
    ``extra_exclusions`` are idioms that must not be flagged.  Calling it again
    replaces the previous extra list.
    """
    global _POSITIVE_RE, _EXCLUSION_RE
    positives: dict[str, dict[str, tuple[str, ...]]] = {c: dict(v) for c, v in CRISIS.items()}
    for cat, phrases in (extra or {}).items():
        if cat not in CATEGORIES:
            raise ValueError(f"unknown crisis category: {cat!r}")
        pieces = tuple(_phrase_piece(p) for p in phrases if p.strip())
        positives.setdefault(cat, {})["extra"] = pieces
    exclusions = dict(CRISIS_EXCLUSIONS)
    exclusions["extra"] = tuple(_phrase_piece(p) for p in extra_exclusions if p.strip())
    _POSITIVE_RE, _EXCLUSION_RE = compile_lexicon(positives, exclusions)
    detect_crisis.cache_clear()


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    s, e = span
    return any(s < oe and os < e for os, oe in others)


# Cached: within one pipeline run the flood / blocked-words / size rules may ask again.
@lru_cache(maxsize=256)
def detect_crisis(text: str) -> tuple[str, ...]:
    """Crisis categories found in ``text`` (canonical order, no duplicates)."""
    folded = fold(text)
    hits = [(m.lastgroup, m.span()) for m in _POSITIVE_RE.finditer(folded)]
    if not hits:
        return ()
    excluded = [m.span() for m in _EXCLUSION_RE.finditer(folded)] if _EXCLUSION_RE else []
    found = {cat for cat, span in hits if not _overlaps(span, excluded)}
    return tuple(c for c in CATEGORIES if c in found)
