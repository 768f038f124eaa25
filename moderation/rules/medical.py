"""Medical-advice detector: dosing / medication advice given to *someone else*.

Needs both an advice form (second person, or an imperative opening a clause) and
a medication or dose word later in the same clause, so people describing their own
treatment ("I take sertraline", "kan5od dwa") are left alone.
"""

from __future__ import annotations

import re

from .crisis import expand
from .lexicons import MEDICAL_ADVICE, MEDICATION_TERMS
from .normalise import fold

_MEDS = "(?<!\\w)(?:" + "|".join(MEDICATION_TERMS) + ")(?!\\w)"
# Gate: only try the ~150 names where a word starts.
_MEDS_RE = re.compile("\\b(?=\\w)" + _MEDS)
_ADVICE = "(?:" + "|".join(expand(p) for p in MEDICAL_ADVICE) + ")"
# Same clause: no sentence punctuation or comma between the advice and the drug.
_ADVICE_RE = re.compile(_ADVICE + r"[^.!?\n;,]{0,50}?" + _MEDS)


def looks_like_medical_advice(text: str) -> bool:
    folded = fold(text)
    if not _MEDS_RE.search(folded):  # cheap gate: most messages name no medication
        return False
    return _ADVICE_RE.search(folded) is not None
