"""The privacy page: rendered from the settings and the circles as they are, so it cannot drift
from what the server does; in every language, with the right direction; "Forget me" only for a
signed-in identity."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import room_create

pytestmark = pytest.mark.django_db

TEMPLATE = Path(__file__).resolve().parents[1] / "web" / "templates" / "web" / "privacy.html"


def page(client: Client | None = None, language: str = "en") -> str:
    response = (client or Client()).get(reverse("privacy"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    """The page as words, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def row_for(html: str, title: str) -> str:
    rows = [row for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if title in row]
    assert len(rows) == 1, f"one table row for {title!r}"
    return text(rows[0])


def with_halqa(settings: Any, **values: Any) -> None:
    # A new dict: the settings fixture restores attributes, not a dict changed in place.
    settings.HALQA = {**settings.HALQA, **values}


# --- Languages --------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fr", "ltr"), ("ar", "rtl")])
def test_page_renders_in_each_language_with_its_direction(language, direction):
    html = page(language=language)
    assert f'<html lang="{language}" dir="{direction}">' in html


def test_footer_links_to_the_privacy_page():
    html = Client().get(reverse("room-list-page"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="{reverse("privacy")}"' in html


def test_every_sentence_of_the_template_goes_through_translation():
    source = TEMPLATE.read_text()
    source = re.sub(r"{%\s*blocktranslate.*?%}.*?{%\s*endblocktranslate\s*%}", " ", source,
                    flags=re.S)
    source = re.sub(r"{%.*?%}|{{.*?}}|<[^>]*>", " ", source, flags=re.S)
    left = re.sub(r"[\s—–·:()\"'“”,.]+", "", source)
    assert left == "", f"text outside {{% translate %}}: {left[:200]!r}"


def test_no_inline_script_for_the_content_security_policy(identity):
    client = Client()
    client.force_login(identity())
    html = page(client)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag
    assert re.search(r"<script[^>]*>\s*[^<\s]", html) is None


# --- The figures come from the settings -------------------------------------------------------
def test_defaults_are_the_settings_in_force(settings):
    halqa = settings.HALQA
    words = text(page())
    assert f"{halqa['STALE_IDENTITY_DAYS']} days is deleted" in words
    assert f"Audit entries are deleted after {halqa['AUDIT_RETENTION_DAYS']} days" in words
    assert f"expires {settings.SESSION_COOKIE_AGE // 86400} days after you join" in words
    assert f"longer than {halqa['MAX_RETENTION_HOURS']} hours" in words
    assert f"after {halqa['EPHEMERAL_MAX_HOURS']} hours at the latest" in words
    assert f"new key every {halqa['SESSION_KEY_HOURS']} hours" in words
    assert f"present {halqa['PRESENCE_TIMEOUT']} seconds after" in words


def test_changing_the_settings_changes_the_page(settings):
    with_halqa(settings, STALE_IDENTITY_DAYS=37, AUDIT_RETENTION_DAYS=211,
               MAX_RETENTION_HOURS=97, EPHEMERAL_MAX_HOURS=5, SESSION_KEY_HOURS=7,
               PRESENCE_TIMEOUT=41)
    settings.SESSION_COOKIE_AGE = 3 * 86400
    words = text(page())
    assert "for 37 days is deleted" in words
    assert "Audit entries are deleted after 211 days" in words
    assert "expires 3 days after you join" in words
    assert "longer than 97 hours" in words
    assert "after 5 hours at the latest" in words
    assert "new key every 7 hours" in words
    assert "present 41 seconds after" in words
    assert "90 days" not in words and "180 days" not in words and "30 days" not in words


def test_singular_and_a_cookie_age_that_is_not_whole_days(settings):
    with_halqa(settings, STALE_IDENTITY_DAYS=1)
    settings.SESSION_COOKIE_AGE = 36 * 3600 + 1
    words = text(page())
    assert "for 1 day is deleted" in words
    assert "expires at most 37 hours after you join" in words


def test_figures_are_computed_in_the_view(settings):
    with_halqa(settings, AUDIT_RETENTION_DAYS=12)
    figures = Client().get(reverse("privacy")).context["figures"]
    assert figures["audit_days"] == 12
    assert figures["session_cookie_days"] == settings.SESSION_COOKIE_AGE // 86400


def test_without_redis_live_messages_stay_in_memory():
    words = text(page())
    assert "in the server's memory only" in words
    assert "Redis" not in words


def test_with_redis_the_layer_encryption_and_expiry_are_read_from_its_config(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [settings.REDIS_URL], "expiry": 17,
                   "symmetric_encryption_keys": ["not-a-real-key"]},
    }}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.REDIS_URL}}
    words = text(page())
    assert "through Redis, encrypted" in words
    assert "dropped from Redis after 17 seconds" in words
    assert "Their key is kept only in Redis, never in the database" in words

    settings.CHANNEL_LAYERS["default"]["CONFIG"].pop("symmetric_encryption_keys")
    assert "through Redis, without encryption" in text(page())


# --- Circles ------------------------------------------------------------------------------------
def test_each_circle_shows_its_own_retention():
    room_create(title="Quiet ephemeral circle", retention="ephemeral")
    room_create(title="Two-day circle", retention_hours=48)
    room_create(title="One-hour circle", retention_hours=1)
    html = page()
    assert "Until the session ends (ephemeral)" in row_for(html, "Quiet ephemeral circle")
    assert row_for(html, "Two-day circle").endswith("48 hours")
    assert row_for(html, "One-hour circle").endswith("1 hour")


def test_a_circle_above_the_limit_shows_the_limit_it_is_held_to(settings):
    with_halqa(settings, MAX_RETENTION_HOURS=24)
    room_create(title="Over the limit", retention_hours=100)
    assert row_for(page(), "Over the limit").endswith("24 hours")


def test_a_circle_title_is_escaped():
    room_create(title="<b>bold</b> circle")
    html = page()
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; circle" in html


def test_rtl_circle_title_has_its_own_direction():
    room_create(title="حلقة", language="ary")
    assert 'lang="ary" dir="rtl">حلقة<' in page()


# --- Forget me ------------------------------------------------------------------------------------
def test_forget_me_is_not_offered_to_a_visitor_without_identity():
    html = page()
    assert 'id="forget-me"' not in html
    assert "privacy.js" not in html


def test_forget_me_is_offered_to_a_signed_in_identity_with_its_csrf_token(identity):
    client = Client()
    client.force_login(identity())
    html = page(client)
    assert 'id="forget-me"' in html
    assert 'id="forget-confirm" hidden' in html  # the confirmation step comes first
    assert 'name="csrfmiddlewaretoken"' in html
    assert re.search(r'<script type="module" src="[^"]*halqa/privacy\.js">', html)


def test_the_endpoint_the_button_calls_erases_the_identity(identity):
    from accounts.models import User

    user = identity()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page(client)
    token = client.cookies["csrftoken"].value
    response = client.delete("/api/v1/identities/me/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert 'id="forget-me"' not in page(client)
