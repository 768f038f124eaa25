"""Translations: every catalog entry is translated (no empty msgstr, no fuzzy entry) with the
placeholders of its msgid; the compiled .mo says the same as its .po, with the right plural rule;
every string the code marks (including what makemessages cannot see) is in the catalogs; and
the pages a visitor meets show no English sentence in Arabic or French, in the right direction."""

from __future__ import annotations

import ast
import gettext
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from django.conf import settings
from django.conf.locale import LANG_INFO
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.conftest import room_create

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
DOMAINS = ("django", "djangojs")
# Every interface language but English, the language of the msgids.
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES if code != "en")
CATALOGS = [(language, domain) for language in LANGUAGES for domain in DOMAINS]
IDS = [f"{language}/{domain}" for language, domain in CATALOGS]


def arabic_plural(n: int) -> int:
    """The Arabic rule, written out: zero, one, two, few (3-10), many (11-99), other."""
    if n == 0:
        return 0
    if n == 1:
        return 1
    if n == 2:
        return 2
    if 3 <= n % 100 <= 10:
        return 3
    if 11 <= n % 100:
        return 4
    return 5


PLURAL_RULES = {"ar": (6, arabic_plural), "fr": (2, lambda n: int(n > 1))}
SAMPLE_NUMBERS = (*range(0, 230), 1000, 1001, 1002, 1003, 1011, 1100)


def po_path(language: str, domain: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


def load(language: str, domain: str) -> Catalog:
    with po_path(language, domain).open("rb") as file:
        return read_po(file)


def entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def forms(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


# --- Placeholders ------------------------------------------------------------------------------
PLACEHOLDER = re.compile(
    r"%%"                                    # a literal percent sign
    r"|%\((?P<name>\w+)\)[-#0 +]*\d*(?:\.\d+)?(?P<named>[sdifr])"   # %(name)s
    r"|%(?P<positional>[sdif])"              # %s (JavaScript interpolate, Python)
    r"|\{(?P<brace>\w*)\}"                   # {name}, {}
)


def placeholders(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for match in PLACEHOLDER.finditer(text):
        if match["name"]:
            found[f"%({match['name']}){match['named']}"] += 1
        elif match["positional"]:
            found["%" + match["positional"].replace("i", "d")] += 1
        elif match["brace"] is not None:
            found["{" + match["brace"] + "}"] += 1
    return found


def placeholder_problems(message: Message, language: str) -> list[str]:
    if not message.pluralizable:
        expected, got = placeholders(message.id), placeholders(message.string)
        return [] if expected == got else [f"{dict(expected)} ≠ {dict(got)}"]
    singular, plural = (placeholders(text) for text in message.id)
    expected = singular | plural
    _nplurals, rule = PLURAL_RULES[language]
    problems = []
    for index, text in enumerate(message.string):
        got = placeholders(text)
        if got - expected:
            problems.append(f"form {index} adds {dict(got - expected)}")
        # A form used for one number only ("ساعة واحدة", "ساعتان") may leave the number out.
        single_number = len([n for n in SAMPLE_NUMBERS if rule(n) == index]) == 1
        if expected - got and not single_number:
            problems.append(f"form {index} lacks {dict(expected - got)}")
    return problems


# --- Catalogs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "domain"), CATALOGS, ids=IDS)
def test_catalog_exists_with_its_language_and_plural_rule(language, domain):
    assert po_path(language, domain).is_file(), f"run makemessages for {language}/{domain}"
    catalog = load(language, domain)
    assert not catalog.fuzzy, "the header is still marked fuzzy: pybabel would skip the catalog"
    # Without a Language header, Babel writes a .mo without Plural-Forms: every plural would
    # then follow the English rule.
    assert str(catalog.locale) == language
    nplurals, rule = PLURAL_RULES[language]
    assert catalog.num_plurals == nplurals
    header_rule = gettext.c2py(catalog.plural_expr)
    assert [header_rule(n) for n in SAMPLE_NUMBERS] == [rule(n) for n in SAMPLE_NUMBERS]


@pytest.mark.parametrize(("language", "domain"), CATALOGS, ids=IDS)
def test_every_entry_is_translated_and_none_is_fuzzy(language, domain):
    catalog = load(language, domain)
    assert entries(catalog)
    fuzzy = [message.id for message in entries(catalog) if message.fuzzy]
    empty = [message.id for message in entries(catalog) if not all(forms(message))]
    assert not fuzzy, f"fuzzy entries (check them, then drop the flag): {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
    for message in entries(catalog):
        if message.pluralizable:
            assert len(message.string) == catalog.num_plurals, message.id


@pytest.mark.parametrize(("language", "domain"), CATALOGS, ids=IDS)
def test_translations_keep_the_placeholders_of_their_msgid(language, domain):
    problems = {
        message.id if isinstance(message.id, str) else message.id[0]: found
        for message in entries(load(language, domain))
        if (found := placeholder_problems(message, language))
    }
    assert not problems, problems


@pytest.mark.parametrize(("language", "domain"), CATALOGS, ids=IDS)
def test_babel_finds_nothing_to_refuse(language, domain):
    """The same checks as `pybabel compile`, which stops the build on any of them."""
    errors = {message.id if isinstance(message.id, str) else message.id[0]: [str(e) for e in errs]
              for message, errs in load(language, domain).check()}
    assert not errors, errors


@pytest.mark.parametrize(("language", "domain"), CATALOGS, ids=IDS)
def test_the_compiled_catalog_is_the_po(language, domain):
    """The .mo Django reads (compiled by `make messages`, not kept in git) says what the .po
    says, and carries the plural rule of the language."""
    mo = po_path(language, domain).with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing: run `make messages`"
    with mo.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    nplurals, rule = PLURAL_RULES[language]
    assert [compiled.plural(n) for n in SAMPLE_NUMBERS] == [rule(n) for n in SAMPLE_NUMBERS]
    stale = []
    for message in entries(load(language, domain)):
        prefix = f"{message.context}\x04" if message.context else ""
        if message.pluralizable:
            got = tuple(compiled._catalog.get((prefix + message.id[0], i)) for i in range(nplurals))
        else:
            got = compiled._catalog.get(prefix + message.id)
        if got != (tuple(message.string) if message.pluralizable else message.string):
            stale.append(message.id)
    assert not stale, f"{mo} is older than its .po (run `make messages`): {stale[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_django_reads_the_catalog_with_its_plural_rule(language):
    catalog = load(language, "django")
    plural = next(message for message in entries(catalog) if message.pluralizable)
    single = next(message for message in entries(catalog)
                  if not message.pluralizable and not message.context
                  and message.string != message.id)
    _nplurals, rule = PLURAL_RULES[language]
    with translation.override(language):
        assert translation.gettext(single.id) == single.string
        for n in (0, 1, 2, 3, 10, 11, 99, 100, 101, 102, 103, 111):
            assert translation.ngettext(*plural.id, n) == plural.string[rule(n)], n


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_javascript_catalog_serves_the_translations_and_plural_rule(language):
    response = Client().get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    body = response.content.decode()
    catalog = load(language, "djangojs")
    expression = re.search(r"const v = (.*?);\n", body)
    assert expression, "no plural rule in the JavaScript catalog"
    js_rule = gettext.c2py(expression.group(1).replace("&&", " && ").replace("||", " || "))
    _nplurals, rule = PLURAL_RULES[language]
    assert [int(js_rule(n)) for n in SAMPLE_NUMBERS] == [rule(n) for n in SAMPLE_NUMBERS]
    missing = [message.id for message in entries(catalog)
               if any(json.dumps(text) not in body for text in forms(message))]
    assert not missing, missing


ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
PROPER_NOUNS = {"Halqa"}


@pytest.mark.parametrize("domain", DOMAINS)
def test_arabic_translations_are_written_in_arabic(domain):
    """An English msgstr copied into the Arabic catalog would pass as "translated"."""
    if "ar" not in LANGUAGES:
        pytest.fail("Arabic is the default language and must stay in settings.LANGUAGES")
    not_arabic = [message.id for message in entries(load("ar", domain))
                  if message.id not in PROPER_NOUNS
                  and not all(ARABIC_LETTER.search(text) for text in forms(message))]
    assert not not_arabic, not_arabic


# --- What makemessages cannot see --------------------------------------------------------------
JS_STRING = r"""("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
JS_CALL = re.compile(rf"""\b(t|gettext|ngettext)\(\s*{JS_STRING}(?:\s*,\s*{JS_STRING})?""")


def js_literal(token: str) -> str:
    if token.startswith("'"):
        token = '"' + token[1:-1].replace('\\"', '"').replace('"', '\\"') + '"'
    return json.loads(token)


def js_msgids() -> set[str | tuple[str, str]]:
    """String literals the browser code passes to t() (common.js: window.gettext), gettext()
    or ngettext(). makemessages only knows gettext/ngettext, not t()."""
    found: set[str | tuple[str, str]] = set()
    for path in sorted((ROOT / "web" / "static").rglob("*.js")):
        if "node_modules" in path.parts:
            continue
        for function, first, second in JS_CALL.findall(path.read_text()):
            if function == "ngettext":
                if second:
                    found.add((js_literal(first), js_literal(second)))
            else:
                found.add(js_literal(first))
    return found


def python_noop_msgids() -> set[str]:
    """Strings marked with a no-op (moderation.pipeline.N_, gettext_noop) and translated at run
    time with gettext(variable). makemessages does not know N_."""
    found = set()
    for package in ("accounts", "rooms", "moderation", "server", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in {"N_", "gettext_noop"} and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    found.add(node.args[0].value)
    return found


def msgids(catalog: Catalog) -> set[str | tuple[str, str]]:
    return {message.id if isinstance(message.id, str) else tuple(message.id)
            for message in entries(catalog)}


def test_the_scans_find_the_strings():
    assert "Connecting…" in js_msgids()
    assert ("%s minute", "%s minutes") in js_msgids()
    assert "Your message is empty." in python_noop_msgids()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_of_the_browser_code_is_in_the_catalog(language):
    missing = js_msgids() - msgids(load(language, "djangojs"))
    assert not missing, f"not in {language}/djangojs.po (see the extraction note): {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_marked_for_later_translation_is_in_the_catalog(language):
    missing = python_noop_msgids() - msgids(load(language, "django"))
    assert not missing, f"not in {language}/django.po: {missing}"


# --- The pages ----------------------------------------------------------------------------------
TEXT_ATTRIBUTES = {"placeholder", "aria-label", "title", "alt", "label"}
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


class VisibleText(HTMLParser):
    """Text nodes and the attributes people read or hear (placeholder, aria-label…), with
    whitespace collapsed. data-* attributes count when they hold a sentence (data-busy…)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def add(self, text: str | None) -> None:
        text = " ".join((text or "").split())
        if text:
            self.texts.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES or (name.startswith("data-") and value and " " in value):
                self.add(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.add(data)


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


@pytest.fixture
def pages(db: Any) -> tuple[list[tuple[str, Client, str]], set[str]]:
    """The pages a visitor and a facilitator meet, and the content they show as it was entered
    (circle and help-service texts stay in the language they were written in)."""
    import datetime

    from accounts.models import User
    from moderation.models import Resource

    resource = Resource.objects.create(
        name="Listening line", kind=Resource.Kind.values[0], phone="0800 000 000",
        hours="Every day, 9:00-21:00", description="Free and confidential listening.",
        languages="ar,fr", verified_on=datetime.date(2026, 1, 15))
    room = room_create(title="Evening circle", theme="Grief and loss",
                       description="A quiet place to talk about someone you lost.",
                       house_rules="Be kind. Keep it confidential.")
    visitor = Client()
    member = Client()
    member.force_login(User.objects.create_user(username="translations-member"))
    facilitator = Client()
    user = User.objects.create_user(username="translations-facilitator",
                                    role=User.Role.FACILITATOR)
    room.facilitators.add(user)
    facilitator.force_login(user)
    found = [
        (reverse("room-list-page"), visitor, "room list"),
        (reverse("room-page", args=[room.slug]), visitor, "room, visitor"),
        (reverse("room-page", args=[room.slug]), facilitator, "room, facilitator"),
        (reverse("room-console", args=[room.slug]), facilitator, "console"),
        (reverse("privacy"), visitor, "privacy, visitor"),
        (reverse("privacy"), member, "privacy, signed in"),
        (reverse("help"), visitor, "help directory"),
        (reverse("schedule-page"), visitor, "schedule"),
        (reverse("applications-page", args=[room.slug]), facilitator, "applications"),
    ]
    user_content = {room.title, room.theme, room.description, room.house_rules,
                    resource.name, resource.hours, resource.description, resource.phone}
    return found, user_content


def get(client: Client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def kept_as_is(language: str) -> set[str]:
    """What may read the same in English: entries the catalog translates by themselves
    ("Halqa", "Messages" in French), and each language's own name in the language menu."""
    same = {message.id for message in entries(load(language, "django"))
            if not message.pluralizable and message.string == message.id}
    return same | {LANG_INFO[code]["name_local"] for code, _name in settings.LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_sentence_is_left_on_the_pages(language, pages):
    found, user_content = pages
    allowed = kept_as_is(language)
    left = {}
    for url, client, name in found:
        english = visible_texts(get(client, url, "en"))
        translated = set(visible_texts(get(client, url, language)))
        for text in english:
            rest = text
            for content in sorted(user_content | allowed, key=len, reverse=True):
                rest = rest.replace(content, " ")
            if text in translated and ENGLISH_WORD.search(rest):
                left.setdefault(name, []).append(text)
    assert not left, f"English left on the {language} pages: {left}"


def test_the_pages_are_right_to_left_in_arabic(pages):
    found, _user_content = pages
    for url, client, _name in found:
        html = get(client, url, "ar")
        assert re.search(r'<html lang="ar" dir="rtl">', html), url
    for url, client, _name in found:
        assert '<html lang="fr" dir="ltr">' in get(client, url, "fr"), url
