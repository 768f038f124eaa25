"""Phones first: on a 390×844 screen, in Arabic and in French, Quick exit stays one tap away
after scrolling a long conversation (and a long page), the conversation fills the screen with
the composer at its foot, who is present folds away, and each message's actions wait behind one
small control that the keyboard reaches. On a 1280×900 screen the composer is in view without
scrolling the page."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import join

pytestmark = pytest.mark.browser

CIRCLE = "nisa-aman"  # no other browser test writes here
NEUTRAL = "https://www.google.com/search?q=weather"
# Sixty messages (the page shows the last 50) from someone else, written beside the flood
# limit, straight into the database.
LONG_CONVERSATION = """
from datetime import timedelta
from django.utils import timezone
from accounts.services import identity_create_anonymous
from rooms import crypto, selectors, services
from rooms.models import Message, Room
room = Room.objects.get(slug=%(slug)r)
if Message.objects.filter(room=room).count() < 60:
    member = services.membership_ensure(user=identity_create_anonymous(language="ar"), room=room)
    services.rules_accept(membership=member)
    session = services.session_current(room=room)
    key = selectors.session_wrapped_key(session)
    for n in range(60):
        Message.objects.create(
            room=room, session=session, author=member, client_id=f"long-{n}",
            expires_at=timezone.now() + timedelta(hours=2),
            body_encrypted=crypto.encrypt(wrapped_key=key,
                                          text=f"رسالة {n}: كلام طويل شوية باش الصفحة تطول"))
"""


@pytest.fixture(scope="module")
def long_conversation(halqa_server: Any) -> None:
    subprocess.run([*halqa_server.manage, "shell", "-c", LONG_CONVERSATION % {"slug": CIRCLE}],
                   env=halqa_server.env, check=True, capture_output=True)


def phone(browser: Any, base: str, language: str) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                                  has_touch=True, is_mobile=True, device_scale_factor=2)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    context.route("https://www.google.com/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<title>Weather</title><p>Sunny</p>"))
    return context


def in_view_and_on_top(page: Any, selector: str) -> bool:
    """The element is inside the viewport and nothing covers its middle."""
    return page.evaluate("""(selector) => {
        const node = document.querySelector(selector);
        const box = node.getBoundingClientRect();
        if (box.top < 0 || box.left < 0 || box.bottom > innerHeight || box.right > innerWidth) {
            return false;
        }
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return hit === node || node.contains(hit);
    }""", selector)


def scroll_everything(page: Any) -> None:
    """Scroll the conversation to its oldest message and the page as far as it goes, as a
    thumb would."""
    page.locator("#messages").hover()
    page.mouse.wheel(0, 20000)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.mouse.wheel(0, -20000)
    page.evaluate("document.getElementById('messages').scrollTop = 0")


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_quick_exit_stays_one_tap_away_on_a_phone(browser, halqa_server, long_conversation,
                                                  language):
    base = halqa_server.url
    context = phone(browser, base, language)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        join(page, base, CIRCLE)
        expect(page.locator("#messages .message").nth(49)).to_be_attached()
        expect(page.locator("html")).to_have_attribute("lang", language)

        # The conversation fills the screen: the page itself does not scroll, the message
        # list does, and the composer sits at the foot of the screen.
        sizes = page.evaluate("""() => ({ page: document.documentElement.scrollHeight,
            view: innerHeight, list: document.getElementById('messages').scrollHeight,
            listView: document.getElementById('messages').clientHeight })""")
        assert sizes["page"] <= sizes["view"] + 1, sizes
        assert sizes["list"] > sizes["listView"] * 3, sizes
        composer = page.locator("#message-input").bounding_box()
        assert composer and 844 - 160 < composer["y"] + composer["height"] <= 844, composer
        # Who is present is folded away, one line, and opens with a tap.
        expect(page.locator("#members-box")).not_to_have_attribute("open", "")
        expect(page.locator("#members")).to_be_hidden()
        page.locator("#members-box summary").tap()
        expect(page.locator("#members")).to_be_visible()
        page.locator("#members-box summary").tap()

        # Each message's actions: one small control, reached and opened with the keyboard.
        menu = page.locator("#messages .message .msg-menu").last
        expect(menu.locator(".msg-actions button")).to_have_count(2)  # Report, Hide
        expect(menu.locator(".msg-actions button").first).to_be_hidden()
        menu.locator("summary").focus()
        page.keyboard.press("Enter")
        report = menu.locator(".msg-actions button").first
        expect(report).to_be_visible()
        page.keyboard.press("Tab")
        expect(report).to_be_focused()
        page.keyboard.press("Escape")
        expect(report).to_be_hidden()

        # After scrolling back through the whole conversation, Quick exit is on screen and on
        # top of everything, and one tap leaves.
        scroll_everything(page)
        expect(page.locator("#messages .message").first).to_be_in_viewport()
        assert in_view_and_on_top(page, "#quick-exit")
        page.locator("#quick-exit").tap()
        expect(page).to_have_url(NEUTRAL)

        # A long page that is not a conversation: the same, at its very bottom.
        page = context.new_page()
        page.goto(f"{base}/privacy/")
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        expect(page.locator(".site-footer")).to_be_in_viewport()
        assert in_view_and_on_top(page, "#quick-exit")
        page.locator("#quick-exit").tap()
        expect(page).to_have_url(NEUTRAL)
    finally:
        context.close()
    assert not errors, errors


def test_the_composer_is_in_view_on_a_laptop_without_scrolling(browser, halqa_server,
                                                               long_conversation):
    base = halqa_server.url
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    try:
        page = context.new_page()
        join(page, base, CIRCLE)
        expect(page.locator("#messages .message").nth(49)).to_be_attached()
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight + 1")
        for selector in ("#message-input", "#send-button", "#quick-exit"):
            expect(page.locator(selector)).to_be_in_viewport(ratio=1)
        # Who is present sits open beside the conversation on a wide screen.
        expect(page.locator("#members")).to_be_visible()
        box = page.locator("#message-input").bounding_box()
        assert box and box["y"] + box["height"] <= 900
    finally:
        context.close()
