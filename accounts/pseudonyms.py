"""Friendly generated names, in Arabic, French and English.

coolname does the combinatorics (and avoids repeats within a generator); we give it gentle,
nature-themed word lists so nobody is called something unkind in a support circle. Arabic uses an
idafa ("breeze of the morning"), which needs no gender agreement; French pairs nouns and adjectives
of the same gender.
"""

from __future__ import annotations

import secrets

from coolname import RandomGenerator

_AR_FIRST = [
    "نسمة", "نجمة", "غيمة", "زهرة", "ورقة", "موجة", "شجرة", "حمامة", "قطرة", "شمعة", "نخلة",
    "سنبلة", "فراشة", "وردة", "ريشة", "صدفة", "قمر", "نور", "ظل", "غصن", "نهر", "طائر",
    "نبع", "ضوء", "صوت", "درب", "بستان", "ندى", "سحاب", "أرز",
]
_AR_SECOND = [
    "الصباح", "المساء", "البحر", "الجبل", "الواحة", "الربيع", "الخريف", "الفجر", "الغروب",
    "الأطلس", "الصحراء", "النعناع", "الزيتون", "الليمون", "الياسمين", "الرمان", "السماء",
    "المطر", "الوادي", "الحديقة", "الهدوء", "السلام", "الأمل", "الضياء", "النسيم", "القمر",
    "الشاطئ", "الريف", "النخيل", "الأرز",
]
_FR_NOUN_M = [
    "Nuage", "Cèdre", "Olivier", "Ruisseau", "Phare", "Jasmin", "Rivage", "Matin", "Soir",
    "Chêne", "Palmier", "Roseau", "Colibri", "Moineau", "Galet", "Sentier", "Vent", "Zéphyr",
]
_ADJ_M = [
    "Calme", "Doux", "Serein", "Clair", "Léger", "Tranquille", "Paisible", "Lumineux", "Tendre",
    "Discret", "Patient", "Fidèle", "Sage", "Vif",
]
_FR_NOUN_F = [
    "Étoile", "Rivière", "Lune", "Colombe", "Plume", "Vague", "Aube", "Brise", "Source", "Fleur",
    "Oasis", "Montagne", "Prairie", "Luciole", "Hirondelle", "Clairière", "Perle", "Flamme",
]
_ADJ_F = [
    "Calme", "Douce", "Sereine", "Claire", "Légère", "Tranquille", "Paisible", "Lumineuse",
    "Tendre", "Discrète", "Patiente", "Fidèle", "Sage", "Vive",
]
_EN_ADJ = [
    "Calm", "Gentle", "Quiet", "Bright", "Kind", "Patient", "Steady", "Warm", "Brave", "Hopeful",
    "Soft", "Clear", "Golden", "Silver", "Wise", "Tender", "Serene", "Mellow", "Humble", "Cheerful",
]
_EN_NOUN = [
    "Cedar", "Olive", "River", "Harbor", "Meadow", "Sparrow", "Dove", "Willow", "Lantern", "Breeze",
    "Pebble", "Fern", "Jasmine", "Oasis", "Comet", "Dune", "Heron", "Maple", "Palm", "Tide",
]


def _words(words: list[str]) -> dict:
    return {"type": "words", "words": words}


_GENERATORS = {
    "ar": RandomGenerator(
        {
            "all": {"type": "cartesian", "lists": ["first", "second"]},
            "first": _words(_AR_FIRST),
            "second": _words(_AR_SECOND),
        }
    ),
    "fr": RandomGenerator(
        {
            "all": {"type": "nested", "lists": ["masc", "fem"]},
            "masc": {"type": "cartesian", "lists": ["noun_m", "adj_m"]},
            "fem": {"type": "cartesian", "lists": ["noun_f", "adj_f"]},
            "noun_m": _words(_FR_NOUN_M),
            "adj_m": _words(_ADJ_M),
            "noun_f": _words(_FR_NOUN_F),
            "adj_f": _words(_ADJ_F),
        }
    ),
    "en": RandomGenerator(
        {
            "all": {"type": "cartesian", "lists": ["adj", "noun"]},
            "adj": _words(_EN_ADJ),
            "noun": _words(_EN_NOUN),
        }
    ),
}
# Darija rooms get Arabic-script names: the room is written in Arabic letters.
_LANGUAGE_ALIASES = {"ary": "ar"}


def pseudonym_generate(*, language: str = "en", suffix: bool = False) -> str:
    """A new friendly name. `suffix` adds a small number, used when the plain name is taken."""
    lang = _LANGUAGE_ALIASES.get(language, language)
    generator = _GENERATORS.get(lang) or _GENERATORS["en"]
    name = " ".join(generator.generate())
    if suffix:
        name = f"{name} {secrets.randbelow(900) + 100}"
    return name
