"""Every error under /api/ is the JSON error body `{"code", "detail"}` (issue 13, item 6): bodies
nested too deep, too large or not JSON, addresses that match nothing, a database that is down,
an unexpected failure; the site's own pages keep their HTML errors. Through the real middleware
stack, with DEBUG off as in production. (The same over a real daphne: test_daphne_e2e.py.)"""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import translation

from accounts.services import identity_create_anonymous
from rooms import schedule_api
from rooms.models import Message
from tests.conftest import room_create

pytestmark = pytest.mark.django_db

NESTED = "[" * 100_000 + "]" * 100_000
NESTED_OBJECTS = '{"a":' * 50_000 + "1" + "}" * 50_000


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def browser(language: str = "en") -> tuple[Client, str]:
    """A client that sends the CSRF token back, as a browser does."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False,
                    HTTP_ACCEPT_LANGUAGE=language)
    client.get("/")
    return client, client.cookies["csrftoken"].value


def signed_in(language: str = "en") -> tuple[Client, str]:
    client, _token = browser(language)
    client.force_login(identity_create_anonymous(language=language))
    client.get("/")
    return client, client.cookies["csrftoken"].value


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code and isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize("payload", [NESTED, NESTED_OBJECTS], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_bad_body(payload):
    client, token = browser()
    response = client.post("/api/v1/identities/anonymous/", payload,
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    body = assert_api_error(response, 400, "bad_body")
    assert body["detail"] == "The request body is nested too deeply."


def test_deeply_nested_json_everywhere_a_body_is_read():
    """Also where a view reads the body itself (a message, a report, a moderation action)."""
    room = room_create()
    client, token = signed_in()
    assert client.post(f"/api/v1/rooms/{room.slug}/rules/accept/",
                       HTTP_X_CSRFTOKEN=token).status_code == 200
    for path in (f"/api/v1/rooms/{room.slug}/messages/", f"/api/v1/rooms/{room.slug}/reports/",
                 "/api/v1/identities/passphrase/", "/api/v1/applications/"):
        response = client.post(path, NESTED, content_type="application/json",
                               HTTP_X_CSRFTOKEN=token)
        assert_api_error(response, 400, "bad_body")
    assert Message.objects.count() == 0


def test_json_that_does_not_parse_is_a_bad_body():
    client, token = browser()
    response = client.post("/api/v1/identities/anonymous/", '{"language": ',
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert_api_error(response, 400, "bad_body")


def test_body_over_the_upload_limit_is_413(settings):
    client, token = browser()
    payload = json.dumps({"language": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = client.post("/api/v1/identities/anonymous/", payload,
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    body = assert_api_error(response, 413, "body_too_large")
    assert body["detail"] == "The request body is too large."


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_unknown_api_address_is_a_json_404_in_the_callers_language(language):
    client, _token = browser(language)
    for method in ("get", "post", "delete"):
        response = getattr(client, method)("/api/v1/no-such-thing/")
        body = assert_api_error(response, 404, "not_found")
        with translation.override(language):
            assert body["detail"] == str(translation.gettext("Not found."))


def test_unknown_site_address_keeps_the_sites_html_404():
    client, _token = browser()
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_refused_host_under_api_is_a_json_400():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/rooms/", HTTP_HOST="evil.example")
    assert_api_error(response, 400, "bad_request")
    assert client.get("/", HTTP_HOST="evil.example")["Content-Type"].startswith("text/html")


def test_database_down_is_a_json_503(monkeypatch):
    client, _token = browser()

    def down(*args, **kwargs):
        raise OperationalError("connection to server failed: Connection refused")

    monkeypatch.setattr(connection, "ensure_connection", down)
    for path in ("/api/v1/resources/", "/api/v1/rooms/", "/api/v1/sessions/"):
        body = assert_api_error(client.get(path), 503, "unavailable")
        assert "Connection refused" not in body["detail"]


def test_database_down_for_a_signed_in_caller_is_a_json_503(monkeypatch):
    """The session itself cannot be read: still the JSON body, not a server error."""
    client, _token = signed_in()

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(connection, "ensure_connection", down)
    assert_api_error(client.get("/api/v1/identities/me/"), 503, "unavailable")


def test_unexpected_failure_is_a_json_500_and_the_site_keeps_its_page(monkeypatch):
    client, _token = browser()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(schedule_api.ResourcesView, "get", broken)
    body = assert_api_error(client.get("/api/v1/resources/"), 500, "internal")
    assert "bug" not in body["detail"]
    monkeypatch.setattr("web.views._room_or_404", broken)
    page = client.get("/rooms/some-circle/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_service_and_validation_errors_keep_their_codes():
    client, token = browser()
    response = client.post("/api/v1/identities/anonymous/", {"language": "klingon"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert "language" in response.json()["detail"]  # field errors: the serializer's, by field
    assert_api_error(client.get("/api/v1/identities/me/"), 403, "not_authenticated")
