"""The websocket protocol's vocabulary (rooms.protocol.vocabulary) is its only copy.

The browser reads it from /protocol.js; the REST serializers take their choices from rooms.protocol;
and every code the Python code raises or sends is listed in it. These tests fail as soon as a value
is copied again at an edge: a close code written into the JavaScript, a code or frame type the
JavaScript compares with that the server does not know, a serializer with its own list of choices,
or a new error code raised without being added to the protocol.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.test import Client
from django.urls import reverse
from django.utils import translation
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from moderation.models import Action, Report
from rooms import protocol
from rooms.models import Room
from tests.conftest import room_create

ROOT = Path(__file__).resolve().parents[1]
JS_FILES = sorted((ROOT / "web" / "static" / "halqa").glob("*.js"))
PACKAGES = ("rooms", "moderation", "accounts", "server", "web")
ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def vocabulary() -> dict[str, Any]:
    with translation.override("en"):
        return protocol.vocabulary()


def js_sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in JS_FILES}


def strings_in(text: str) -> list[str]:
    return re.findall(r'"([^"\\]*)"', text)


def block_after(source: str, opening: re.Match[str]) -> str:
    """The text between the `{` that ends `opening` and the brace that closes it."""
    depth, start = 0, opening.end() - 1
    for index in range(start, len(source)):
        if source[index] == "{":
            depth += 1
        elif source[index] == "}":
            depth -= 1
            if depth == 0:
                return source[start + 1:index]
    raise AssertionError(f"unbalanced braces after {opening.group(0)!r}")


def test_the_scans_read_the_browser_code():
    assert {"common.js", "room.js", "console.js"} <= set(js_sources())


# --- (a) close codes ------------------------------------------------------------------------------
def test_close_codes_are_application_codes_and_distinct(vocabulary):
    codes = vocabulary["close_codes"]
    assert codes["NOT_AUTHENTICATED"] == protocol.CLOSE_NOT_AUTHENTICATED
    assert all(4000 <= code <= 4999 for code in codes.values()), codes
    assert len(set(codes.values())) == len(codes), codes


@pytest.mark.parametrize("path", JS_FILES, ids=lambda path: path.name)
def test_the_browser_code_writes_no_close_code(path):
    """Close codes come from PROTOCOL.close_codes (common.js `CLOSE`), never as numbers."""
    found = re.findall(r"(?<![\w.$])4\d{3}(?![\w.])", path.read_text())
    assert not found, f"{path.name}: {found}: use CLOSE.<NAME> (rooms/protocol.py)"


def test_every_close_name_the_browser_uses_exists(vocabulary):
    used = {name for source in js_sources().values()
            for name in re.findall(r"\bCLOSE\.([A-Z_]+)", source)}
    assert {"NOT_AUTHENTICATED", "SESSION_ENDED", "FLOODING"} <= used
    assert used <= set(vocabulary["close_codes"]), used - set(vocabulary["close_codes"])


# --- (b) codes, frame types, actions and tables the browser compares with -------------------------
def compared(source: str, attribute: str) -> set[str]:
    """Strings compared with `<something>.<attribute>`: ===, !==, [..].includes(x.attr) and the
    cases of a `switch (x.attr)`."""
    name = re.escape(attribute)
    found = set(re.findall(rf'\.{name}\s*[!=]==?\s*"([^"]*)"', source))
    found |= set(re.findall(rf'"([^"]*)"\s*[!=]==?\s*[\w.?]*\.{name}\b', source))
    for listed in re.findall(rf'\[([^\]]*)\]\.includes\(\s*[\w.?]+\.{name}\s*\)', source):
        found |= set(strings_in(listed))
    for opening in re.finditer(rf"switch\s*\(\s*[\w.?]+\.{name}\s*\)\s*\{{", source):
        found |= set(re.findall(r'\bcase\s+"([^"]*)"\s*:', block_after(source, opening)))
    return found


def test_every_switch_in_the_browser_code_is_checked():
    """A `switch` on anything but a code or a type would escape the checks below."""
    for name, source in js_sources().items():
        for subject in re.findall(r"switch\s*\(([^)]*)\)", source):
            assert re.fullmatch(r"\s*[\w.?]+\.(code|type)\s*|\s*code\s*", subject), (name, subject)


def test_every_code_the_browser_compares_with_is_a_protocol_code(vocabulary):
    known = set(vocabulary["error_codes"]) | set(vocabulary["notice_codes"])
    used = set().union(*(compared(source, "code") for source in js_sources().values()))
    assert {"muted", "warned", "room_full", "banned"} <= used, "the scan found too little"
    assert used <= known, f"not in rooms/protocol.py ERROR_CODES or NOTICE_CODES: {used - known}"


def test_every_frame_type_the_browser_handles_or_sends_is_a_protocol_type(vocabulary):
    server = set(vocabulary["frame_types"]["server"])
    client = set(vocabulary["frame_types"]["client"])
    for name, source in js_sources().items():
        received = compared(source, "type")
        handlers = re.search(r"\bconst handlers = \{", source)
        if handlers:
            keys = set(re.findall(r'^  (?:"([\w.]+)"|(\w+))\(', block_after(source, handlers),
                                  re.MULTILINE))
            received |= {quoted or bare for quoted, bare in keys}
            assert {"welcome", "error", "notice"} <= received, name
        assert received <= server, f"{name}: not server frame types: {received - server}"
        sent = set(re.findall(r'\bsend\(\{\s*type:\s*"([^"]+)"', source))
        assert sent <= client, f"{name}: not client frame types: {sent - client}"
    every = "".join(js_sources().values())
    assert {"ping", "join", "message.send", "report", "moderate"} <= set(
        re.findall(r'\bsend\(\{\s*type:\s*"([^"]+)"', every))


def test_every_moderation_action_the_console_asks_for_is_a_protocol_action(vocabulary):
    source = js_sources()["console.js"]
    used = set(re.findall(r'\b(?:moderate|ask)\(\s*"([^"]+)"', source))
    dialogs = re.search(r"\bconst DIALOGS = \{", source)
    assert dialogs
    used |= set(re.findall(r'^  "([\w.]+)": \{', block_after(source, dialogs), re.MULTILINE))
    assert {"member.admit", "member.ban", "session.end", "report.resolve"} <= used
    assert used <= set(vocabulary["moderation_actions"]), used - set(
        vocabulary["moderation_actions"])
    outcomes = set(re.findall(r'\boutcome:\s*"([^"]+)"', source))
    assert outcomes == set(vocabulary["report_outcomes"])


def test_every_value_and_table_the_browser_names_is_in_the_vocabulary(vocabulary):
    every = "".join(js_sources().values())
    tables = set(re.findall(r'\blabelOf\(\s*"(\w+)"', every))
    tables |= set(re.findall(r"\bPROTOCOL\.(\w+)", every))
    assert {"report_reasons", "report_sources", "access_modes", "audit_kinds"} <= tables
    assert tables <= set(vocabulary), tables - set(vocabulary)
    limits = set(re.findall(r"\bPROTOCOL\.limits\.(\w+)", every))
    assert limits <= set(vocabulary["limits"]), limits - set(vocabulary["limits"])
    for attribute, table in (("source", "report_sources"), ("reason", "report_reasons"),
                             ("access", "access_modes"), ("kind", "audit_kinds")):
        used = compared(every, attribute)
        assert used <= set(vocabulary[table]), (attribute, used - set(vocabulary[table]))


def test_the_browser_keeps_no_label_table_of_its_own():
    """The labels of reasons, sources, access modes and audit kinds come with the vocabulary."""
    every = "".join(js_sources().values())
    for copy in ("REASON_LABELS", "SOURCE_LABELS", "AUDIT_LABELS", '"waiting_room"',
                 '"harassment"', '"identifying"'):
        assert copy not in every, copy


# --- (c) the REST serializers' choices ------------------------------------------------------------
SERIALIZER_MODULES = ("rooms.api", "moderation.api", "accounts.api", "rooms.schedule_api")
# Fields whose choices are a protocol concept: the vocabulary's entry they must equal.
PROTOCOL_FIELDS = {"reason": "report_reasons", "source": "report_sources",
                   "outcome": "report_outcomes", "access": "access_modes",
                   "action": "moderation_actions", "kind": "audit_kinds"}
# Choice fields that are not the protocol's (each has its own single source, a model's choices).
NOT_PROTOCOL = {"language", "status", "role"}


def choice_fields(serializer: serializers.Serializer, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, field in serializer.fields.items():
        inner = getattr(field, "child", None)
        if isinstance(field, serializers.BaseSerializer):
            inner_serializer = inner if inner is not None else field
            found += choice_fields(inner_serializer, f"{prefix}{name}.")
        elif isinstance(field, serializers.ChoiceField):
            found.append((f"{prefix}{name}", field))
        elif isinstance(inner, serializers.ChoiceField):
            found.append((f"{prefix}{name}[]", inner))
    return found


def serializer_classes(module: Any) -> list[type[serializers.Serializer]]:
    return [value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, serializers.Serializer)
            and not issubclass(value, PolymorphicProxySerializer)  # a schema device, no fields
            and value.__module__ == module.__name__]


@pytest.mark.parametrize("module_name", SERIALIZER_MODULES)
def test_serializer_choices_that_are_protocol_concepts_are_the_protocols(module_name, vocabulary):
    module = importlib.import_module(module_name)
    for cls in serializer_classes(module):
        for path, field in choice_fields(cls()):
            name = path.rsplit(".", 1)[-1].removesuffix("[]")
            where = f"{module_name}.{cls.__name__}.{path}"
            if name in NOT_PROTOCOL:
                continue
            assert name in PROTOCOL_FIELDS, (
                f"{where}: a choice field the test does not know; if it is a protocol concept "
                f"take its choices from rooms.protocol and map it here, else add it to "
                f"NOT_PROTOCOL")
            assert list(field.choices) == list(vocabulary[PROTOCOL_FIELDS[name]]), where


def test_the_rest_moderation_actions_are_the_protocols(vocabulary):
    api = importlib.import_module("moderation.api")
    assert list(api.ACTIONS) == vocabulary["moderation_actions"]
    assert set(api.PARAMS_BY_ACTION) == set(vocabulary["moderation_actions"])


# --- (d) every code the server raises or sends is listed ------------------------------------------
RAISERS = {"Forbidden", "Invalid", "Conflict", "NotFound", "RateLimited", "ProtocolError",
           "ServiceError"}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def python_files() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
            if "migrations" not in path.parts and "tests" not in path.parts]


def call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def keyword(node: ast.Call, name: str) -> str | None:
    return next((text(kw.value) for kw in node.keywords if kw.arg == name), None)


def codes_in_code() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(error codes, notice codes) written as literals in the server code, each with where."""
    errors: dict[str, set[str]] = {}
    notices: dict[str, set[str]] = {}

    def add(table: dict[str, set[str]], code: str | None, where: str) -> None:
        if code is not None and CODE.match(code):
            table.setdefault(code, set()).add(where)

    for path in python_files():
        tree = ast.parse(path.read_text())
        relative = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name, where = call_name(node), f"{relative}:{node.lineno}"
                first = text(node.args[0]) if node.args else None
                second = text(node.args[1]) if len(node.args) > 1 else None
                if name in RAISERS:
                    add(errors, first, where)
                elif name == "error_frame":
                    add(errors, keyword(node, "code"), where)
                elif name == "Refusal":  # moderation.pipeline: Refusal(rule, code, reason)
                    add(errors, second, where)
                elif name == "Nudge":  # moderation.pipeline: Nudge(rule, code, message)
                    add(notices, second, where)
                elif "notice" in name.lower() or name == "localized_event":
                    add(notices, keyword(node, "code"), where)
                    for argument in node.args:
                        add(notices, text(argument), where)
                add(notices, keyword(node, "notice"), where)  # close_…(code=4403, notice="banned")
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == "_PII_KINDS" for t in targets):
                    # moderation.pipeline: (setting, finder, placeholder, reason, code, message)
                    for kind in getattr(node.value, "elts", []):
                        add(notices, text(kind.elts[4]), f"{relative}:{kind.lineno}")
    return errors, notices


def test_the_code_scan_finds_the_codes():
    errors, notices = codes_in_code()
    assert {"not_facilitator", "room_full", "bad_json", "slow_mode", "not_authenticated",
            "internal", "weak_passphrase"} <= set(errors)
    assert {"report_received", "identity_erased", "phone_hidden", "medical_advice",
            "warned", "banned"} <= set(notices)


def test_every_error_code_raised_is_in_the_protocol(vocabulary):
    errors, _notices = codes_in_code()
    missing = {code: sorted(where) for code, where in errors.items()
               if code not in vocabulary["error_codes"]}
    assert not missing, f"add these to rooms/protocol.py ERROR_CODES (and docs): {missing}"


def test_every_notice_code_sent_is_in_the_protocol(vocabulary):
    _errors, notices = codes_in_code()
    notices = {code: where for code, where in notices.items()
               if code not in vocabulary["error_codes"] or code in vocabulary["notice_codes"]}
    missing = {code: sorted(where) for code, where in notices.items()
               if code not in vocabulary["notice_codes"]}
    assert not missing, f"add these to rooms/protocol.py NOTICE_CODES (and docs): {missing}"
    assert set(protocol.NOTICE_TEXTS) <= set(vocabulary["notice_codes"])


def test_every_listed_code_is_used_somewhere(vocabulary):
    """No dead entry: each code of the vocabulary is written somewhere else in the server code."""
    literals: set[str] = set()
    for path in python_files():
        tree = ast.parse(path.read_text())
        listed: set[int] = set()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id in {"ERROR_CODES", "NOTICE_CODES"}
                    for t in node.targets)):
                listed |= {id(inner) for inner in ast.walk(node.value)}
        literals |= {node.value for node in ast.walk(tree)
                     if id(node) not in listed and text(node) is not None}
    unused = (set(vocabulary["error_codes"]) | set(vocabulary["notice_codes"])) - literals
    assert not unused, f"listed in rooms/protocol.py but used nowhere: {unused}"


def test_the_codes_are_listed_once(vocabulary):
    for key in ("error_codes", "notice_codes", "moderation_actions"):
        assert len(set(vocabulary[key])) == len(vocabulary[key]), key


# --- One definition of reasons, sources, access modes ---------------------------------------------
def test_the_choices_and_labels_are_the_models(vocabulary):
    with translation.override("en"):
        assert vocabulary["report_reasons"] == {v: str(label) for v, label in
                                                Report.Reason.choices}
        assert vocabulary["report_sources"] == {v: str(label) for v, label in
                                                Report.Source.choices}
        assert vocabulary["access_modes"] == {v: str(label) for v, label in Room.Access.choices}
        assert vocabulary["audit_kinds"] == {v: str(label) for v, label in Action.Kind.choices}
    assert protocol.REPORT_REASONS == tuple(Report.Reason.values)
    assert set(protocol.REPORT_OUTCOMES) < set(Report.Status.values)
    assert vocabulary["report_reasons"]["identifying"] == "It identifies someone"
    assert len(vocabulary["access_modes"]) == 3


def test_the_report_labels_are_migrated():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    with translation.override(None):  # as makemigrations compares labels: untranslated
        changes = MigrationAutodetector(loader.project_state(),
                                        ProjectState.from_apps(apps)).changes(graph=loader.graph)
    report_changes = [operation for migration in changes.get("moderation", [])
                      for operation in migration.operations
                      if getattr(operation, "model_name", "").lower() == "report"]
    assert not report_changes, report_changes


# --- (e) /protocol.js -----------------------------------------------------------------------------
def served(client: Client, **headers: Any) -> tuple[Any, dict[str, Any]]:
    response = client.get(reverse("protocol-js"), **headers)
    assert response.status_code == 200
    body = response.content.decode()
    match = re.fullmatch(r"(?://[^\n]*\n)*window\.HALQA_PROTOCOL = (\{.*\});\n", body, re.DOTALL)
    assert match, body[:200]
    return response, json.loads(match.group(1))


def test_protocol_js_is_the_vocabulary_as_a_script(db, vocabulary):
    response, payload = served(Client(), HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"].startswith("application/javascript")
    assert payload == vocabulary
    vary = {part.strip().lower() for part in response["Vary"].split(",")}
    assert {"cookie", "accept-language"} <= vary
    assert "max-age" in response["Cache-Control"]
    # A same-origin script: the site's policy lets it run, and it is served with it.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    again = Client().get(reverse("protocol-js"), HTTP_ACCEPT_LANGUAGE="en",
                         HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_protocol_js_follows_the_language_cookie(db, vocabulary, settings, language):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    _response, payload = served(client, HTTP_ACCEPT_LANGUAGE="en")
    with translation.override(language):
        assert payload == protocol.vocabulary()
    assert set(payload["report_reasons"]) == set(vocabulary["report_reasons"])
    for table in ("report_reasons", "report_sources", "access_modes"):
        for value, label in payload[table].items():
            assert label != vocabulary[table][value], (language, table, value)
            if language == "ar":
                assert ARABIC_LETTER.search(label), (table, value, label)


def test_pages_load_the_vocabulary_before_their_modules_and_build_the_report_form(db, settings):
    room = room_create()
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    html = client.get(reverse("room-page", args=[room.slug]), HTTP_ACCEPT_LANGUAGE="ar"
                      ).content.decode()
    script = html.index(f'<script src="{reverse("protocol-js")}"')
    assert script < html.index('type="module"')
    select = re.search(r'<select id="report-reason"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert select
    options = re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(1))
    with translation.override("ar"):
        assert options == list(protocol.vocabulary()["report_reasons"].items())
