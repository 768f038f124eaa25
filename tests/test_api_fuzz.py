"""Property-based fuzz of REST API v1 from its own OpenAPI schema (schemathesis): whatever a
client sends, the API never answers with a server error, and what it documents it keeps.

The schema is loaded from the app itself (WSGI, in process, through the real middleware stack:
sessions, CSRF, CSP, the exception handler). Every operation is tried with valid and invalid
input, by three kinds of caller: a visitor who is not signed in, a signed-in anonymous identity
(a participant), and the facilitator of a circle. Each caller sends a CSRF token as a browser
does, so unsafe methods reach the views instead of stopping at the CSRF check. The database has
demo data (circles of each access mode, a facilitator, a participant, a message, a report, a
scheduled session with applications and an invitation), and the generated slugs, aliases and
ids are mixed with the real ones so that the deeper paths run too. The test database (SQLite)
refuses NUL characters in text as PostgreSQL does in production, and texts with one are sent.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from django.contrib.sessions.models import Session
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import DataError, close_old_connections, connection
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import User
from accounts.services import identity_create_anonymous
from moderation.services import report_create
from rooms import applications, protocol, services
from rooms.models import Room, ScheduledSession
from tests.conftest import room_create

# Random examples per operation and kind of caller (the fuzzing phase; schemathesis adds the
# schema's examples and its boundary values): the whole file runs in a minute or two.
# HALQA_FUZZ_SCALE=10 makes a deeper run by hand, ten times as many.
SCALE = int(os.environ.get("HALQA_FUZZ_SCALE", "1"))
MAX_EXAMPLES = 20 * SCALE
VISITOR_EXAMPLES = 10 * SCALE  # most of what a visitor sends stops at "sign in first"
MODERATION_EXAMPLES = 100 * SCALE
CHECKS = [not_a_server_error, response_schema_conformance]

OPEN, WAITING, APPLICATION, CLOSED = "fuzz-open", "fuzz-waiting", "fuzz-apply", "fuzz-closed"
SLUGS = [OPEN, WAITING, APPLICATION, CLOSED]

# Real values of the demo data, by parameter or body field name, filled by the `demo` fixture
# before any example is generated: the generated value is kept as one more choice.
REAL: dict[str, list[Any]] = {}

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
# The moderation actions once more, for a facilitator, with many more random examples: there are
# seventeen actions behind one operation.
moderation_schema = schemathesis.openapi.from_dict(
    copy.deepcopy(schema.raw_schema),
    config=schemathesis.Config.from_dict({"phases": {"examples": {"enabled": False},
                                                     "coverage": {"enabled": False}}}),
).include(path_regex="/moderation/")
moderation_schema.app = schema.app


def _mixed(values: dict[str, Any], extra: dict[str, list[Any]]) -> Any:
    """Each value: a real one of the demo data when there is one, or the generated one, or now
    and then the same text with a NUL character in it (valid JSON and valid in a URL, but
    PostgreSQL refuses it: see _like_postgresql), which random text almost never contains."""
    choices = {**REAL, **extra}
    options = {}
    for key, value in values.items():
        real = choices.get(key) or []
        texts = [v for v in [*real, value] if isinstance(v, str)]
        nul = [f"{text[:1]}\x00{text[1:]}" for text in texts[:1]]
        if real or nul:
            options[key] = st.sampled_from([*real, value, value, *nul])
    if not options:
        return st.just(values)
    return st.fixed_dictionaries(options).map(lambda chosen: {**values, **chosen})


@moderation_schema.hook
@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    """Mostly a real circle, application or invitation; sometimes what was generated."""
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    return _mixed(path_parameters, {"slug": SLUGS})


@moderation_schema.hook
@schema.hook
def flatmap_query(context: Any, query: Any) -> Any:
    if not isinstance(query, dict):
        return st.just(query)
    return _mixed(query, {"room": SLUGS})


@moderation_schema.hook
@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Aliases, message, report and session ids of the demo data, or what was generated."""
    if not isinstance(body, dict):
        return st.just(body)
    return _mixed(body, {})


@moderation_schema.hook
@schema.hook
def flatmap_case(context: Any, case: Any) -> Any:
    """A moderation body has one of several shapes (anyOf): most of the time, send it to an
    action that takes this body, so that the actions themselves run, not only the parser."""
    action = (case.path_parameters or {}).get("action")
    if action not in protocol.MODERATION_ACTIONS or not isinstance(case.body, dict):
        return st.just(case)
    fitting = [name for name in protocol.MODERATION_ACTIONS if _parses({**case.body,
                                                                         "action": name})]

    def with_action(name: str) -> Any:
        case.path_parameters = {**case.path_parameters, "action": name}
        return case

    return st.sampled_from([*fitting, action]).map(with_action)


def _parses(frame: dict[str, Any]) -> bool:
    try:
        protocol.parse_moderation(frame)
    except protocol.ProtocolError:
        return False
    return True


@dataclass
class Caller:
    """Who sends the requests: cookies and headers, checked before each example, because an
    example may have signed this identity out or erased it (DELETE /identities/me/); a new
    identity of the same kind then takes its place."""

    kind: str
    user: User | None = None
    csrf: str = field(default_factory=lambda: secrets.token_hex(16))  # a 32-character secret
    session_key: str = ""

    def credentials(self) -> tuple[dict[str, str], dict[str, str]]:
        cookies = {"csrftoken": self.csrf}
        if self.kind != "visitor":
            if self.user is None or not User.objects.filter(pk=self.user.pk).exists():
                self.user, self.session_key = _member(self.kind), ""
            if not self.session_key or not Session.objects.filter(
                    session_key=self.session_key).exists():
                client = Client()
                client.force_login(self.user)
                self.session_key = client.cookies["sessionid"].value
            cookies["sessionid"] = self.session_key
        return cookies, {"X-CSRFToken": self.csrf}


def _member(kind: str) -> User:
    """A new identity in the open circle, house rules accepted; a facilitator of the open and
    the by-application circles if so asked."""
    user = identity_create_anonymous(language="en")
    for slug in (OPEN, APPLICATION):
        room = Room.objects.get(slug=slug)
        if kind == "facilitator":
            room.facilitators.add(user)
    services.rules_accept(membership=services.membership_ensure(
        user=user, room=Room.objects.get(slug=OPEN)))
    return user


def _like_postgresql(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """PostgreSQL refuses a NUL character in any text; SQLite, which the tests use, stores it.
    The fuzz makes SQLite refuse it as PostgreSQL does, so that such an input reaching the
    database is the server error it would be in production."""
    rows = params if many else [params]
    for row in rows or []:
        values = row.values() if isinstance(row, dict) else row or []
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return execute(sql, params, many, context)


@pytest.fixture
def demo(db: Any, settings: Any) -> Iterator[SimpleNamespace]:
    """Circles of every access mode, a scheduled session with applications, a facilitator, a
    participant who wrote, and a report."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # Django's own test client does this too: the WSGI handler would otherwise close the test's
    # connection (and with it the transaction that holds the demo data) at each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        rooms = {
            OPEN: room_create(slug=OPEN, theme="Exams and stress"),
            WAITING: room_create(slug=WAITING, access=Room.Access.WAITING_ROOM),
            APPLICATION: room_create(slug=APPLICATION, access=Room.Access.APPLICATION),
            CLOSED: room_create(slug=CLOSED, is_open=False),
        }
        facilitator, participant = _member("facilitator"), _member("participant")
        member = services.membership_ensure(user=participant, room=rooms[OPEN])
        staff = services.membership_ensure(user=facilitator, room=rooms[OPEN])
        posted = services.message_post(membership_id=member.pk, body="Hello, everyone.",
                                       client_id="fuzz-demo-1")
        report = report_create(user=facilitator, room=rooms[OPEN],
                               message_id=posted.payload["id"], reason="other")

        local = timezone.localtime(timezone.now() + timedelta(hours=2))
        session = ScheduledSession.objects.create(
            room=rooms[APPLICATION], theme="Living with anxiety", first_date=local.date(),
            start_time=local.time().replace(second=0, microsecond=0), duration_minutes=90)
        pending = applications.application_submit(user=participant, session_id=session.pk,
                                                  day=local.date(), note="I would like to.")
        approved = applications.application_submit(
            user=identity_create_anonymous(language="ar"), session_id=session.pk,
            day=local.date())
        applications.application_decide(actor=facilitator, application_id=approved.pk,
                                         approve=True)
        links = [a["invitation"] for a in applications.applications_mine(
            user=approved.applicant.user) if a["invitation"]]
        tokens = [link.rstrip("/").rsplit("/", 1)[-1] for link in links]

        REAL.update({
            "alias": [member.alias, staff.alias],
            "message_id": [posted.payload["id"]],
            "report_id": [report["report_id"]],
            "session_id": [session.pk],
            "date": [local.date().isoformat()],
            "application_id": [pending.pk, approved.pk],
            "token": tokens,
        })
        with connection.execute_wrapper(_like_postgresql):
            yield SimpleNamespace(facilitator=facilitator, participant=participant)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        REAL.clear()


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # One demo database per operation and caller, shared by its examples: on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _exercise(case: Any, caller: Caller) -> None:
    cookies, headers = caller.credentials()
    case.call_and_validate(cookies=cookies, headers=headers, checks=CHECKS)


@schema.parametrize()
@settings(FUZZ_SETTINGS, max_examples=VISITOR_EXAMPLES)
def test_api_as_a_visitor(case: Any, demo: SimpleNamespace) -> None:
    _exercise(case, Caller("visitor"))


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_a_signed_in_identity(case: Any, participant: Caller) -> None:
    _exercise(case, participant)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_a_facilitator(case: Any, facilitator: Caller) -> None:
    _exercise(case, facilitator)


@moderation_schema.parametrize()
@settings(FUZZ_SETTINGS, max_examples=MODERATION_EXAMPLES)
def test_moderation_actions_as_a_facilitator(case: Any, facilitator: Caller) -> None:
    _exercise(case, facilitator)


@pytest.fixture
def participant(demo: SimpleNamespace) -> Caller:
    return Caller("participant", demo.participant)


@pytest.fixture
def facilitator(demo: SimpleNamespace) -> Caller:
    return Caller("facilitator", demo.facilitator)
