"""Finders for personal details: phone numbers, e-mail addresses, Moroccan CIN
numbers and links.  Each ``find_*`` returns sorted, non-overlapping ``(start, end)``
spans in the text it was given; :func:`replace_spans` swaps them for a placeholder.

Digits in Arabic-Indic (٠-٩), Eastern Arabic-Indic (۰-۹) or any other script are
translated to ASCII for matching only; the spans always point at the original
text (translation is one character for one character).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

Span = tuple[int, int]

# --- digits ----------------------------------------------------------------------------

_ASCII_DIGIT_TABLE = str.maketrans(
    {
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        **{chr(0xFF10 + i): str(i) for i in range(10)},
    }
)
_NON_ASCII_DIGIT_RE = re.compile(r"(?![0-9])\d")
_ANY_DIGIT_RE = re.compile(r"\d")


def ascii_digits(text: str) -> str:
    """Same-length copy of ``text`` with every decimal digit made ASCII."""
    if text.isascii() or not _NON_ASCII_DIGIT_RE.search(text):
        return text
    t = text.translate(_ASCII_DIGIT_TABLE)
    return _NON_ASCII_DIGIT_RE.sub(lambda m: str(unicodedata.decimal(m.group())), t)


# --- phone numbers ---------------------------------------------------------------------

# One separator between digit groups: space, no-break spaces, dot or dash.
# "/" and ":" are deliberately absent so dates and times never look like numbers.
_S = "[ \u00a0\u202f.\\-]"
_PHONE_PATTERNS = (
    # Moroccan national numbers, in the groupings people actually write:
    # 0612345678 | 06 12 34 56 78 | 0 6 12 34 56 78 | 0661 23 45 67 | 0661 234 567
    r"(?<![0-9+])0[5-8][0-9]{8}(?![0-9])",
    rf"(?<![0-9+])0{_S}?[5-8](?:{_S}[0-9]{{2}}){{4}}(?![0-9])",
    rf"(?<![0-9+])0[5-8][0-9]{{2}}(?:{_S}[0-9]{{2}}){{3}}(?![0-9])",
    rf"(?<![0-9+])0[5-8][0-9]{{2}}{_S}[0-9]{{3}}{_S}[0-9]{{3}}(?![0-9])",
    # Moroccan international: +212 6 12 34 56 78 | +212612345678 | 00212... | +212 (0)6...
    rf"(?:\+|(?<![0-9])00){_S}?212{_S}?(?:\(0\){_S}?)?[5-8](?:{_S}?[0-9]){{8}}(?![0-9])",
    r"(?<![0-9+])212[5-8][0-9]{8}(?![0-9])",
    # Bare 9-digit mobile without the leading 0: 612345678
    r"(?<![0-9+])[67][0-9]{8}(?![0-9])",
    # Any international number: +33 6 12 34 56 78 | +1 415 555 2671 | 0044 20 7946 0958
    rf"\+{_S}?[1-9](?:{_S}?\(?[0-9]\)?){{7,14}}(?![0-9])",
    rf"(?<![0-9])00[1-9](?:{_S}?[0-9]){{7,13}}(?![0-9])",
)
_PHONE_RE = re.compile("|".join(f"(?:{p})" for p in _PHONE_PATTERNS))
# Worth asking libphonenumber only when 7+ digits sit close together, joined by what
# phone numbers use (not "/" or ":", so dates and times skip the slow matcher).
_MAYBE_PHONE_RE = re.compile(r"[0-9](?:[ \u00a0\u202f.\-()+]{0,3}[0-9]){6}")
_EDGE_SEP = " \u00a0\u202f.-"


def find_phones(text: str) -> list[Span]:
    t = ascii_digits(text)
    if not _MAYBE_PHONE_RE.search(t):
        return []
    spans: list[Span] = []
    for m in _PHONE_RE.finditer(t):
        s, e = m.span()
        while s < e and t[s] in _EDGE_SEP:  # a leading separator is not part of it
            s += 1
        spans.append((s, e))
    try:
        for pm in PhoneNumberMatcher(t, "MA", leniency=Leniency.VALID):
            spans.append((pm.start, pm.end))
    except phonenumbers.NumberParseException:  # defensive: never fail a message
        pass
    return merge_spans(spans)


# --- e-mail ------------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![\w.+\-])[\w.+\-]{1,64}\s?@\s?[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,24}(?![\w\-])"
)
_AT = r"(?:\s?(?:\[at\]|\(at\)|\{at\}|<at>|@)\s?|\s(?:at|arobase|arobas)\s)"
# A plain "." must touch its neighbours ("we're at work. Me too" is no address).
_DOT = r"(?:\.|\s?(?:\[dot\]|\(dot\)|\{dot\}|\[\.\]|\(\.\))\s?|\s(?:dot|point)\s)"
_MAIL_TLDS = r"(?:com|net|org|fr|ma|co|io|info|edu|gov|me|be|ch|ca|uk|de|es|us)"
# "name at gmail dot com", "name [at] gmail.com", "nom arobase gmail point com".
# Plain " at " only counts when the domain part is spelled with a TLD after a
# dot-word, so "meet me at school" is not an address.
_OBFUSCATED_EMAIL_RE = re.compile(
    rf"(?<![\w.+\-])[\w.+\-]{{2,64}}{_AT}[\w\-]{{2,63}}(?:{_DOT}[\w\-]{{2,63}})*?"
    rf"{_DOT}{_MAIL_TLDS}(?![\w\-])",
    re.IGNORECASE,
)
_EMAIL_HINT_RE = re.compile(r"@|\bat\b|\barobas|\[at\]|\(at\)", re.IGNORECASE)


def find_emails(text: str) -> list[Span]:
    if not _EMAIL_HINT_RE.search(text):
        return []
    spans = [m.span() for m in _EMAIL_RE.finditer(text)]
    spans += [m.span() for m in _OBFUSCATED_EMAIL_RE.finditer(text)]
    return merge_spans(spans)


# --- Moroccan CIN (carte d'identité nationale) ----------------------------------------

# Short words and units that are often followed by a 5-6 digit number.
_CIN_STOP = frozenset(
    """a i o y au de du en et la le ma me mi ne no of on or ou sa se si so ta te to tu un
    up us we by it is in at an as be do go he if my oh ok ya dh mg ml kg km cm mm gb mb
    kb hz cp bp rs tv pc nr vs""".split()
)
# Compact "AB123456", "j123456" (any case) or spaced "BK 654321" (capitals only).
_FIVE_DIGITS_RE = re.compile(r"[0-9]{5}")
_CIN_RE = re.compile(
    r"(?<![\w\-])(?:([A-Za-z]{1,2})([0-9]{5,6})|([A-Z]{1,2})[ \-]([0-9]{5,6}))(?![\w\-])"
)


def find_national_ids(text: str) -> list[Span]:
    t = ascii_digits(text)
    if not _FIVE_DIGITS_RE.search(t):
        return []
    spans = []
    for m in _CIN_RE.finditer(t):
        letters = (m.group(1) or m.group(3)).lower()
        if letters not in _CIN_STOP:
            spans.append(m.span())
    return spans


# --- links -------------------------------------------------------------------------------

_URL_CHARS = r"[^\s<>\"'\[\]{}|\\^`]"
# TLDs that are (almost) never the tail of a typo like "fatigue.me voila".
_STRONG_TLDS = (
    "com|net|org|info|io|app|dev|xyz|online|site|shop|store|biz|gg|ly|link|tk|club|icu|vip"
)
# Country-code TLDs that double as words (ma, me, de, ca, ...): need a path.
_WEAK_TLDS = (
    "ma|fr|me|be|ch|ca|uk|us|de|es|it|ru|nl|eu|co|tv|cc|to|in|at|pt|pl|se|no|dz|tn|eg|sa|ae|qa"
)
_KNOWN_HOSTS = (
    r"t\.me|wa\.me|m\.me|fb\.me|bit\.ly|goo\.gl|tinyurl\.com|cutt\.ly|is\.gd|ow\.ly|"
    r"linktr\.ee|youtu\.be|discord\.gg|chat\.whatsapp\.com"
)
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_LINK_RE = re.compile(
    rf"(?<![a-z0-9])(?:https?|ftp|hxxps?)://{_URL_CHARS}+"
    rf"|(?<![a-z0-9.])www\d?\.{_URL_CHARS}+"
    rf"|(?<![\w.@\-])(?:{_KNOWN_HOSTS})(?:/{_URL_CHARS}*)?(?![\w\-])"
    rf"|(?<![\w.@\-])(?:{_LABEL}\.)+(?:{_STRONG_TLDS})(?![\w\-])(?:[/?#]{_URL_CHARS}*)?"
    rf"|(?<![\w.@\-])(?:{_LABEL}\.)+(?:{_WEAK_TLDS})/{_URL_CHARS}*",
    re.IGNORECASE,
)
_LINK_HINT_RE = re.compile(r"[.:](?=[A-Za-z0-9/])")
_TRAILING_PUNCT = ".,;:!?)'\"»…"


def find_links(text: str) -> list[Span]:
    if not _LINK_HINT_RE.search(text):
        return []
    spans = []
    for m in _LINK_RE.finditer(text):
        s, e = m.span()
        while e > s and text[e - 1] in _TRAILING_PUNCT:
            e -= 1
        if text[s:e].rstrip("/").endswith("://"):
            continue  # a bare "http://" names nothing
        spans.append((s, e))
    return spans


# --- helpers -----------------------------------------------------------------------------


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def replace_spans(text: str, spans: list[Span], placeholder: str) -> str:
    parts = []
    last = 0
    for s, e in spans:
        parts.append(text[last:s])
        parts.append(placeholder)
        last = e
    parts.append(text[last:])
    return "".join(parts)


def has_digit(text: str) -> bool:
    return _ANY_DIGIT_RE.search(text) is not None
