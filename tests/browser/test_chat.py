"""Two people in two separate browsers join one circle anonymously and talk."""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import join_circle

pytestmark = pytest.mark.browser

CIRCLE = "heard-seen-safe"
XSS = "<img src=x onerror=alert(1)>"
RAW_INSERT = """
from datetime import timedelta
from django.utils import timezone
from rooms import crypto, selectors, services
from rooms.models import Membership, Message
member = Membership.objects.filter(room__slug=%(slug)r).latest("id")
session = services.session_current(room=member.room)
Message.objects.create(
    room=member.room, session=session, author=member, client_id="raw-xss",
    expires_at=timezone.now() + timedelta(hours=1),
    body_encrypted=crypto.encrypt(wrapped_key=selectors.session_wrapped_key(session),
                                  text=%(body)r))
"""


def test_two_browsers_chat_and_markup_stays_text(browser, halqa_server):
    live_server_url = halqa_server.url
    dialogs: list[str] = []
    contexts = [browser.new_context(locale="en-US") for _ in range(2)]
    amina, youssef = (context.new_page() for context in contexts)
    for page in (amina, youssef):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        alias_a = join_circle(amina, live_server_url, CIRCLE)
        alias_y = join_circle(youssef, live_server_url, CIRCLE)
        assert alias_a != alias_y  # two identities, two pseudonyms
        expect(amina.locator("#members")).to_contain_text(alias_y)

        amina.locator("#message-input").fill("Salam, I am glad to be here")
        amina.locator("#message-input").press("Enter")
        expect(youssef.locator("#messages .message .body").last).to_have_text(
            "Salam, I am glad to be here")
        expect(youssef.locator("#messages .message .alias").last).to_have_text(alias_a)

        # Markup typed by someone: the text shown is the sanitiser's output, never HTML.
        amina.locator("#message-input").fill(f"look {XSS} here & <b>bold</b>")
        amina.locator("#composer button[type=submit]").click()
        last = youssef.locator("#messages .message .body").last
        expect(last).to_have_text("look  here & bold")
        assert youssef.locator("#messages img").count() == 0
        assert youssef.locator("#messages b").count() == 0

        # A literal angle-bracket text typed by someone is shown as text, not parsed.
        amina.locator("#message-input").fill("a < b and c > d")
        amina.locator("#message-input").press("Enter")
        expect(youssef.locator("#messages .message .body").last).to_have_text("a < b and c > d")
        youssef.wait_for_timeout(300)
        assert dialogs == []
        assert youssef.evaluate("() => window.__xss === undefined")
    finally:
        for context in contexts:
            context.close()


def test_markup_that_reached_the_database_is_still_shown_as_text(browser, halqa_server):
    """Defence in depth: even a stored body with markup (a swapped sanitiser, an old row) is
    drawn with textContent, so it shows as the literal characters and runs nothing."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        join_circle(page, halqa_server.url, CIRCLE)
        # Written beside the sanitiser, straight through the ORM of the server's own database.
        subprocess.run([*halqa_server.manage, "shell", "-c", RAW_INSERT % {"slug": CIRCLE,
                        "body": XSS}], env=halqa_server.env, check=True, capture_output=True)
        page.reload()
        expect(page.locator("#messages .message .body").last).to_have_text(XSS)
        assert page.locator("#messages img").count() == 0
        page.wait_for_timeout(300)
        assert dialogs == []
    finally:
        context.close()
