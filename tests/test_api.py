"""Identities and circles over HTTP (DRF), through the same services as the websocket."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from rooms import services
from rooms.models import Message
from tests.conftest import room_create

pytestmark = pytest.mark.django_db


def csrf_client() -> tuple[Client, str]:
    """A browser-like client: it GETs the home page first and sends the CSRF token back."""
    client = Client(enforce_csrf_checks=True)
    response = client.get("/")
    assert response.status_code == 200
    return client, client.cookies["csrftoken"].value


def test_join_anonymously_creates_an_identity_with_no_personal_data():
    client, token = csrf_client()
    response = client.post("/api/v1/identities/anonymous/", {}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    body = response.json()
    assert body["pseudonym"] and body["is_pseudonymous"] is True
    assert body["has_passphrase"] is False
    user = User.objects.get(pseudonym=body["pseudonym"])
    assert user.email == "" and user.first_name == "" and user.last_name == ""
    assert not user.has_usable_password()
    # the session is signed in
    me = client.get("/api/v1/identities/me/")
    assert me.status_code == 200 and me.json()["pseudonym"] == body["pseudonym"]


def test_join_anonymously_without_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/identities/anonymous/", {}, content_type="application/json")
    assert response.status_code == 403
    assert User.objects.count() == 0


@pytest.mark.parametrize("language", ["ar", "ary", "fr", "en"])
def test_pseudonyms_come_in_the_persons_language(language):
    client, token = csrf_client()
    response = client.post("/api/v1/identities/anonymous/", {"language": language},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    pseudonym = response.json()["pseudonym"]
    has_arabic = any("\u0600" <= ch <= "\u06ff" for ch in pseudonym)
    assert has_arabic == (language in ("ar", "ary"))


def test_bad_language_gets_a_clear_error():
    client, token = csrf_client()
    response = client.post("/api/v1/identities/anonymous/", {"language": "klingon"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_passphrase_lets_the_identity_sign_in_on_another_device():
    phone, token = csrf_client()
    pseudonym = phone.post("/api/v1/identities/anonymous/", {}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token).json()["pseudonym"]
    token = phone.cookies["csrftoken"].value
    weak = phone.post("/api/v1/identities/passphrase/", {"passphrase": "123"},
                      content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert weak.status_code == 400 and weak.json()["code"] == "weak_passphrase"
    ok = phone.post("/api/v1/identities/passphrase/",
                    {"passphrase": "olive trees by the sea"},
                    content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 204

    laptop, token = csrf_client()
    wrong = laptop.post("/api/v1/identities/login/",
                        {"pseudonym": pseudonym, "passphrase": "not it at all"},
                        content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert wrong.status_code == 400 and wrong.json()["code"] == "bad_credentials"
    right = laptop.post("/api/v1/identities/login/",
                        {"pseudonym": pseudonym.upper(), "passphrase": "olive trees by the sea"},
                        content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert right.status_code == 200 and right.json()["pseudonym"] == pseudonym
    assert laptop.get("/api/v1/identities/me/").json()["pseudonym"] == pseudonym


def test_sign_in_attempts_are_throttled_per_pseudonym():
    client, token = csrf_client()
    for _ in range(10):
        client.post("/api/v1/identities/login/", {"pseudonym": "Calm Cedar", "passphrase": "x"},
                    content_type="application/json", HTTP_X_CSRFTOKEN=token)
    response = client.post("/api/v1/identities/login/",
                           {"pseudonym": "calm cedar", "passphrase": "x"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 429 and response.json()["code"] == "too_many_attempts"


def test_room_list_shows_circles_with_slugs():
    room_create(slug="b-circle", title="B")
    room_create(slug="a-circle", title="A", language="ary")
    response = Client().get("/api/v1/rooms/")
    assert response.status_code == 200
    rooms = response.json()
    assert [r["slug"] for r in rooms] == ["a-circle", "b-circle"]
    assert rooms[0]["dir"] == "rtl" and rooms[1]["dir"] == "ltr"


def test_unknown_room_is_a_clear_404():
    response = Client().get("/api/v1/rooms/nope/")
    assert response.status_code == 404
    assert response.json()["code"] == "room_not_found"


def test_posting_over_rest_uses_the_same_rules_and_is_idempotent(identity):
    room = room_create()
    user = identity()
    client = Client()
    client.force_login(user)
    url = f"/api/v1/rooms/{room.slug}/messages/"
    refused = client.post(url, {"body": "hi", "client_id": "r1"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "rules_not_accepted"
    assert client.post(f"/api/v1/rooms/{room.slug}/rules/accept/").json()["rules_accepted"]
    created = client.post(url, {"body": "<i>hello</i>", "client_id": "r1"},
                          content_type="application/json")
    assert created.status_code == 201
    assert created.json()["message"]["body"] == "hello"
    again = client.post(url, {"body": "<i>hello</i>", "client_id": "r1"},
                        content_type="application/json")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Message.objects.count() == 1
    empty = client.post(url, {"body": "   ", "client_id": "r2"}, content_type="application/json")
    assert empty.status_code == 400 and empty.json()["code"] == "empty"
    listing = client.get(url + "?after=0").json()
    assert [m["body"] for m in listing["messages"]] == ["hello"]
    bad_after = client.get(url + "?after=minus-one")
    assert bad_after.status_code == 400


def test_each_circle_gets_its_own_alias_unless_the_person_chooses_otherwise(identity):
    first, second = room_create(), room_create()
    user = identity()
    alias_1 = services.membership_ensure(user=user, room=first).alias
    alias_2 = services.membership_ensure(user=user, room=second).alias
    assert alias_1 != alias_2 and user.pseudonym not in (alias_1, alias_2)
    assert services.membership_ensure(user=user, room=first).alias == alias_1  # stable

    same = identity()
    same.same_alias_everywhere = True
    same.save()
    assert services.membership_ensure(user=same, room=first).alias == same.pseudonym
    assert services.membership_ensure(user=same, room=second).alias == same.pseudonym


def test_pages_render_in_every_language_with_the_right_direction(identity):
    room = room_create(language="ary")
    for language, direction in (("ar", "rtl"), ("fr", "ltr"), ("en", "ltr")):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        for url in ("/", f"/rooms/{room.slug}/"):
            html = client.get(url).content.decode()
            assert f'<html lang="{language}" dir="{direction}">' in html
    assert Client().get("/rooms/nope/").status_code == 404


def test_pages_send_a_strict_content_security_policy():
    response = Client().get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_openapi_schema_is_served():
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/identities/anonymous/" in response.content
