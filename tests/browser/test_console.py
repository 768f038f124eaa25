"""A facilitator runs a circle from the console while a participant's page follows along, in
two separate Chromium contexts against a real server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import facilitator_create, join_circle

pytestmark = pytest.mark.browser

# Not the circle test_chat.py uses: a mute here must not touch the other tests.
CIRCLE = "familles-et-separations"
USERNAME, PASSWORD = "console-facilitator", "console-facilitator-pass"


def test_facilitator_deletes_and_mutes_from_the_console(browser, halqa_server):
    base = halqa_server.url
    console_url = f"{base}/rooms/{CIRCLE}/console/"
    facilitator_create(halqa_server, username=USERNAME, password=PASSWORD, slug=CIRCLE)
    contexts = [browser.new_context(locale="en-US") for _ in range(2)]
    person, facilitator = (context.new_page() for context in contexts)
    errors: list[str] = []
    for page in (person, facilitator):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # The participant is in the circle and says something.
        alias = join_circle(person, base, CIRCLE)
        expect(person.get_by_role("button", name="I need help now")).to_be_visible()
        expect(person.get_by_role("link", name="Open the facilitators’ console")).to_have_count(0)
        person.locator("#message-input").fill("I had a rough week at home")
        person.locator("#message-input").press("Enter")
        mine = person.locator("#messages .message", has_text="I had a rough week at home")
        expect(mine).to_have_count(1)
        expect(mine).not_to_have_class(re.compile(r"\bpending\b"))

        # No console for a participant: a 403, not the page.
        refused = contexts[0].request.get(console_url)
        assert refused.status == 403
        assert "Facilitators’ console" not in refused.text()

        # Someone not signed in is sent to the sign-in page, and back to the console after it.
        facilitator.goto(console_url)
        expect(facilitator).to_have_url(re.compile(r"/admin/login/\?next=.*console"))
        facilitator.locator("#id_username").fill(USERNAME)
        facilitator.locator("#id_password").fill(PASSWORD)
        facilitator.locator("input[type=submit]").click()  # the real form, CSRF and all
        expect(facilitator).to_have_url(console_url)
        facilitator.get_by_role("button", name="I accept the house rules").click()
        expect(facilitator.locator("#board")).to_be_visible()
        room_page = contexts[1].request.get(f"{base}/rooms/{CIRCLE}/").text()
        assert f'href="/rooms/{CIRCLE}/console/"' in room_page  # the way in, for facilitators

        # The participant is listed, present; their message is in the live conversation.
        row = facilitator.locator("#people li.person").filter(
            has=facilitator.locator(".alias", has_text=alias))
        expect(row).to_contain_text("present")
        said = facilitator.locator("#messages .message", has_text="I had a rough week at home")
        expect(said).to_have_count(1)

        # Delete it, with a reason: it leaves the participant's screen.
        said.get_by_role("button", name=f"Delete the message from {alias}").click()
        dialog = facilitator.locator("#action-dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_label("Reason").fill("off topic")
        dialog.get_by_role("button", name="Delete", exact=True).click()
        expect(dialog).to_be_hidden()
        expect(mine).to_have_count(0)
        expect(said).to_have_count(0)

        # Mute them for 10 minutes, using the keyboard in the dialog.
        row.get_by_role("button", name=f"Mute {alias}").click()
        expect(dialog).to_be_visible()
        dialog.get_by_label("For how long").select_option("10")
        dialog.get_by_label("Reason").fill("let us slow down")
        dialog.get_by_role("button", name="Mute", exact=True).focus()
        facilitator.keyboard.press("Enter")
        expect(dialog).to_be_hidden()

        # The participant reads on, cannot write, and sees why and for how long.
        expect(person.locator("#message-input")).to_be_disabled()
        expect(person.locator("#send-button")).to_be_disabled()
        expect(person.locator("#composer-state")).to_contain_text("muted you")
        expect(person.locator("#composer-state")).to_contain_text("minutes")
        expect(person.locator("#messages .note").last).to_contain_text("let us slow down")

        # The console shows the mute, offers to lift it, and the audit trail has both actions.
        expect(row).to_contain_text("muted until")
        expect(row.get_by_role("button", name=f"Unmute {alias}")).to_be_visible()
        audit = facilitator.locator("#audit")
        expect(audit).to_contain_text("Muted")
        expect(audit).to_contain_text("Message deleted")

        # A reload does not lift it.
        person.reload()
        expect(person.locator("#chat")).to_be_visible()
        expect(person.locator("#message-input")).to_be_disabled()
        expect(person.locator("#composer-state")).to_contain_text("muted you")

        # Lifting it gives the composer back at once.
        row.get_by_role("button", name=f"Unmute {alias}").click()
        expect(person.locator("#message-input")).to_be_enabled()
        expect(person.locator("#composer-state")).to_be_hidden()
        assert errors == []
    finally:
        for context in contexts:
            context.close()
