"""Nothing typed is lost: the circle's limit shows as the person types and a message over it is
refused before sending, with the text kept in the box; a message the server refuses comes back
to the box; a message sent while the server was away waits in the outbox, with a visible retry,
and is stored exactly once when the server is back."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.own_server import OwnServer
from tests.browser.test_accessibility import join, new_context

pytestmark = pytest.mark.browser

CIRCLE = "heard-seen-safe"  # 2,000 characters at most, like every demo circle
SET_LIMIT = """
from rooms.models import Room
Room.objects.filter(slug=%(slug)r).update(max_message_length=%(limit)d)
"""
# How many stored messages of the circle say exactly this (decrypted: bodies are sealed).
COUNT_STORED = """
from rooms import selectors
from rooms.models import Message
print(sum(selectors.message_text(m) == %(text)r
          for m in Message.objects.filter(room__slug=%(slug)r).select_related("session")))
"""


def test_the_limit_shows_and_a_long_message_stays_in_the_box(browser, halqa_server):
    base = halqa_server.url
    context = new_context(browser, base, "en")
    try:
        page = context.new_page()
        join(page, base, CIRCLE)
        box, counter = page.locator("#message-input"), page.locator("#counter")
        box.fill("a" * 100)
        expect(counter).to_have_text("")  # far from the limit: nothing to say
        box.fill("a" * 1700)
        expect(counter).to_have_text("1700 of 2000 characters")
        assert box.get_attribute("aria-describedby") == "counter"

        # Over the limit: the counter says by how much, and sending is refused here, before
        # anything leaves the page; the text stays whole in the box.
        long_text = "I need to say this. " * 124 + "And that is all."  # 2,496 characters
        box.fill(long_text)
        expect(counter).to_have_text("496 characters too many: the limit here is 2000.")
        expect(box).to_have_attribute("aria-invalid", "true")
        sent: list[str] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
        box.press("Enter")
        expect(page.locator("#status")).to_contain_text("too long for this circle")
        expect(box).to_have_value(long_text)
        expect(page.locator("#messages .message.pending")).to_have_count(0)
        assert not [f for f in sent if "message.send" in str(f)]

        # Refused by the server after sending (its limit changed under the page): the text
        # comes back to the box, and the bubble says why.
        subprocess.run([*halqa_server.manage, "shell", "-c",
                        SET_LIMIT % {"slug": CIRCLE, "limit": 50}],
                       env=halqa_server.env, check=True, capture_output=True)
        refused = "This one is longer than fifty characters, and the server says no."
        box.fill(refused)
        box.press("Enter")
        failed = page.locator("#messages .message.failed", has_text=refused)
        expect(failed).to_contain_text("Your text is back in the box.")
        expect(box).to_have_value(refused)
    finally:
        subprocess.run([*halqa_server.manage, "shell", "-c",
                        SET_LIMIT % {"slug": CIRCLE, "limit": 2000}],
                       env=halqa_server.env, check=True, capture_output=True)
        context.close()


@pytest.fixture
def own_server(tmp_path: Any) -> Any:
    server = OwnServer(tmp_path)
    server.start()
    yield server
    server.stop()


def stored(server: OwnServer, text: str) -> int:
    return int(server.shell(COUNT_STORED % {"slug": CIRCLE, "text": text}).split()[-1])


def test_a_message_sent_while_the_server_is_away_is_sent_once_when_it_is_back(browser,
                                                                             own_server):
    base = own_server.url
    contexts = [new_context(browser, base, "en") for _ in range(2)]
    errors: list[str] = []
    try:
        writer, reader = (context.new_page() for context in contexts)
        for page in (writer, reader):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            join(page, base, CIRCLE)

        own_server.stop()
        expect(writer.locator("#status")).to_contain_text("Connection lost")
        text = "Written while the server was away"
        writer.locator("#message-input").fill(text)
        writer.locator("#message-input").press("Enter")
        waiting = writer.locator("#messages .message.mine", has_text=text)
        expect(waiting).to_have_class(re.compile(r"\bpending\b"))
        expect(waiting).to_contain_text(
            "Not sent yet: it will be sent when the connection is back.")
        expect(writer.locator("#message-input")).to_have_value("")  # it is in the outbox
        retry = waiting.get_by_role("button", name="Send again now")
        expect(retry).to_be_visible()
        retry.click()  # still away: the page says so and keeps it
        expect(waiting).to_contain_text("Not connected yet")
        expect(waiting).to_have_count(1)

        own_server.start()  # the same port, the same database
        expect(waiting).not_to_have_class(re.compile(r"\bpending\b"), timeout=45000)
        expect(waiting).not_to_contain_text("Not sent yet")
        expect(reader.locator("#messages .message", has_text=text)).to_have_count(
            1, timeout=45000)
        # Stored once, whatever was sent again (the retry, the reconnection's resend).
        writer.wait_for_timeout(1000)
        assert stored(own_server, text) == 1
        writer.reload()
        expect(writer.locator("#messages .message", has_text=text)).to_have_count(1)
        expect(writer.locator("#messages .message", has_text=text)).not_to_have_class(
            re.compile(r"\bpending\b"))
    finally:
        for context in contexts:
            context.close()
    assert not errors, errors


def test_a_message_refused_with_internal_is_sent_again_by_itself(browser, own_server):
    """The database is locked (as if down) when the message arrives: the server answers
    `internal`, the page keeps it in the outbox and sends it again, with the same client_id,
    once the database answers; it is stored once."""
    base = own_server.url
    context = new_context(browser, base, "en")
    errors: list[str] = []
    database = sqlite3.connect(own_server.var / "own.sqlite3", timeout=30,
                               isolation_level=None)
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        join(page, base, CIRCLE)
        database.execute("BEGIN EXCLUSIVE")  # every write waits, then fails (20 s timeout)
        text = "Written while the database was down"
        page.locator("#message-input").fill(text)
        page.locator("#message-input").press("Enter")
        mine = page.locator("#messages .message.mine", has_text=text)
        expect(mine).to_contain_text("something went wrong on our side", timeout=40000)
        expect(mine).to_have_class(re.compile(r"\bpending\b"))
        expect(mine.get_by_role("button", name="Send again now")).to_be_visible()
        expect(page.locator("#message-input")).to_have_value("")  # kept in the outbox, not lost
        database.execute("ROLLBACK")
        expect(mine).not_to_have_class(re.compile(r"\bpending\b"), timeout=30000)
        expect(mine).not_to_contain_text("something went wrong")
        assert stored(own_server, text) == 1
    finally:
        if database.in_transaction:
            database.execute("ROLLBACK")
        database.close()
        context.close()
    assert not errors, errors
