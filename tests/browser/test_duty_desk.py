"""No one in crisis is left alone (issue 10), in Chromium against a server of this module's own
(duty is platform-wide state): a participant's crisis reaches the facilitator on duty on the
duty desk, live, with its waiting time; the facilitator opens a private conversation that only
the two of them see, while another participant of the circle gets neither a trace in the page
nor a frame on the socket; every status the participant reads is true when it is shown. With
nobody on duty the card says so and lists the help lines first, and the alert waits on the desk
for whoever comes on duty."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.own_server import OwnServer, staff_sign_in
from tests.browser.test_accessibility import Audit, join, new_context

pytestmark = pytest.mark.browser

CIRCLE, CIRCLE_TITLE = "heard-seen-safe", "Heard, seen & safe: everyday anxiety"
QUIET_CIRCLE = "familles-et-separations"  # nobody on duty for it
PASSWORD = "duty-desk-password"
FACILITATOR = """
from accounts.models import User
from rooms.models import Room
user, _ = User.objects.get_or_create(username=%(username)r, defaults={
    "role": User.Role.FACILITATOR, "is_staff": True, "pseudonym": %(name)r})
user.set_password(%(password)r)
user.save()
Room.objects.get(slug=%(slug)r).facilitators.add(user)
"""
# What only the participant and the facilitator may ever see.
PRIVATE_TEXTS = ("I am here with you", "Not really, but I am at home")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    own = OwnServer(tmp_path_factory.mktemp("duty"))
    own.start()
    yield own
    own.stop()


def facilitator_desk(browser: Any, server: OwnServer, *, username: str, name: str,
                     slug: str) -> tuple[Any, Any]:
    """A facilitator of one circle, signed in through the admin's form, on the duty desk."""
    server.shell(FACILITATOR % {"username": username, "name": name, "slug": slug,
                                "password": PASSWORD})
    context = new_context(browser, server.url, "en")
    page = context.new_page()
    staff_sign_in(page, server.url, username=username, password=PASSWORD, next_path="/duty/")
    expect(page.locator("h1")).to_have_text("Duty desk")
    expect(page.locator("#duty-toggle")).to_have_text("Come on duty")
    return context, page


def write(page: Any, text: str) -> None:
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")


def test_a_crisis_reaches_the_facilitator_on_duty_privately_and_nobody_else_sees_it(
        browser, server):
    base = server.url
    contexts: list[Any] = []
    errors: list[str] = []
    try:
        salma_context, desk = facilitator_desk(browser, server, username="duty-salma",
                                               name="Salma", slug=CIRCLE)
        karim_context, colleague = facilitator_desk(browser, server, username="duty-karim",
                                                    name="Karim", slug=CIRCLE)
        contexts += [salma_context, karim_context]
        for page in (desk, colleague):
            page.get_by_role("button", name="Come on duty").click()
            expect(page.locator("#duty-state")).to_contain_text("You are on duty")
            expect(page.locator("#duty-toggle")).to_have_attribute("aria-pressed", "true")

        # Two participants in the circle; nobody facilitates it from inside.
        contexts += [new_context(browser, base, "en"), new_context(browser, base, "en")]
        person, bystander = contexts[2].new_page(), contexts[3].new_page()
        frames_to_bystander: list[str] = []
        bystander.on("websocket", lambda ws: ws.on(
            "framereceived", lambda payload: frames_to_bystander.append(str(payload))))
        for page in (desk, colleague, person, bystander):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
        alias = join(person, base, CIRCLE)
        join(bystander, base, CIRCLE)
        expect(person.locator("#care-status")).to_have_text(
            "No facilitator is in the circle now, but one is on duty and will see a request "
            "for help.")

        # A writes that they are in danger: a private card, and nothing claimed yet.
        write(person, "Honestly I want to kill myself tonight")
        card = person.locator("#messages .support-card")
        expect(card).to_contain_text("A facilitator has been alerted, but no facilitator has "
                                     "seen this yet")
        expect(card.locator("li").first).to_contain_text("19")
        help_state = person.locator("#help-state")
        expect(help_state).to_have_text("No facilitator has seen this yet.")

        # The facilitator on duty, on another page, gets it live: said once, assertively, in
        # the title's count, with the time the person has been waiting, counting up.
        item = desk.locator("#queue li.desk-item", has_text=alias)
        expect(item).to_have_count(1)
        expect(item).to_contain_text(CIRCLE_TITLE)
        expect(item).to_contain_text("Crisis language spotted")
        announce = desk.locator("#announce")
        expect(announce).to_have_text(f"New alert from {alias} in {CIRCLE_TITLE}")
        expect(announce).to_have_attribute("aria-live", "assertive")
        expect(desk).to_have_title(re.compile(r"^\(1\) Duty desk"))
        clock = item.locator(".waited")
        expect(clock).to_have_text(re.compile(r"^waiting for \d+ s$"))
        shown = clock.inner_text()
        expect(clock).not_to_have_text(shown)  # the clock runs
        # Nobody has acknowledged it: the person is still told exactly that.
        expect(help_state).to_have_text("No facilitator has seen this yet.")

        # Acknowledged: only now is the person told a facilitator has seen it.
        item.get_by_role("button", name="Acknowledge").click()
        expect(help_state).to_have_text("A facilitator has seen your request.")
        expect(item).to_contain_text("Seen by")

        # Taken by one facilitator; the other sees who, and cannot take it too.
        item.get_by_role("button", name="Take it").click()
        expect(item).to_contain_text("Taken by Salma")
        theirs = colleague.locator("#queue li.desk-item", has_text=alias)
        expect(theirs).to_contain_text("Taken by Salma")
        expect(theirs.get_by_role("button", name="Take it")).to_have_count(0)
        theirs.get_by_role("button", name="Open a private conversation").click()
        expect(colleague.locator("#status")).to_have_text("Salma has already taken this alert.")

        # The one who took it opens a private conversation; the person sees it, marked private,
        # with the facilitator's name, and is told, truthfully, someone is with them now.
        item.get_by_role("button", name="Open a private conversation").click()
        conversation = desk.locator("#conversations .support-panel")
        expect(conversation).to_have_count(1)
        expect(conversation.get_by_role("heading")).to_contain_text(
            f"Private conversation with {alias}")
        expect(conversation.locator("textarea")).to_be_focused()  # ready to write
        expect(help_state).to_have_text("A facilitator is with you in a private conversation.")
        panel = person.locator("#support-panel")
        expect(panel).to_be_visible()
        expect(panel.get_by_role("heading", name="Private conversation")).to_be_visible()
        expect(person.locator("#support-with")).to_have_text("With Salma, facilitator")

        # They talk.
        conversation.locator("textarea").fill("I am here with you. Are you safe right now?")
        conversation.locator("textarea").press("Enter")
        expect(conversation.locator("textarea")).to_have_value("")
        expect(panel.locator("#support-messages")).to_contain_text(
            "I am here with you. Are you safe right now?")
        person.locator("#support-input").fill("Not really, but I am at home")
        person.locator("#support-send").click()
        expect(conversation.locator(".support-messages")).to_contain_text(
            "Not really, but I am at home")
        # Read out to the facilitator once, politely.
        polite = desk.locator("#announce-message")
        expect(polite).to_have_text(f"Private message from {alias}: Not really, but I am at home")
        expect(polite).to_have_attribute("aria-live", "polite")

        # A help resource card, the person's region and language first, with the note for
        # facilitators; the demo's example entries are never offered.
        picker = conversation.get_by_label("Help resource")
        expect(picker.locator("option")).not_to_have_count(0)
        assert "Example" not in picker.inner_text() and "Exemple" not in picker.inner_text()
        police = picker.locator("option", has_text="Police").get_attribute("value")
        picker.select_option(value=police)
        expect(conversation.locator(".resource-note")).to_contain_text("Note for facilitators")
        conversation.get_by_role("button", name="Send this help resource").click()
        resource_card = panel.locator("#support-messages .support-card")
        expect(resource_card).to_contain_text("Police")
        expect(resource_card.locator("a[href='tel:19']")).to_have_text("19")

        # Both sides, as they are now, pass axe (serious and critical).
        audit = Audit("en")
        audit.check(desk, "duty desk with a private conversation")
        audit.check(person, "circle with a private conversation")
        audit.assert_clean()

        # Nobody else sees any of it: not the other participant (page or socket), not the
        # other facilitator on duty.
        expect(bystander.locator("#messages")).to_contain_text("I want to kill myself")  # live
        expect(bystander.locator("#support-panel")).to_be_hidden()
        expect(bystander.locator("#help-state")).to_be_hidden()
        expect(bystander.locator(".support-card")).to_have_count(0)
        expect(colleague.locator("#conversations .support-panel")).to_have_count(0)
        for page in (bystander, colleague):
            html = page.content()
            assert not [text for text in PRIVATE_TEXTS if text in html]
        received = [json.loads(frame) for frame in frames_to_bystander]
        assert any(f["type"] == "message.new" and f["message"]["alias"] == alias
                   for f in received)  # the socket was listening all along
        leaked = [f for f in received
                  if f["type"] in ("support.opened", "support.message", "support.ended",
                                   "duty.alert", "duty.update", "crisis.alert", "help.alert")
                  or (f["type"] == "support.state" and f["conversations"])
                  or (f["type"] == "duty.ack" and f["result"].get("conversations"))
                  or f.get("code") in ("crisis_support", "support_requested", "help_seen",
                                       "help_with_you", "help_handed_over")
                  or any(text in json.dumps(f, ensure_ascii=False)
                         for text in (*PRIVATE_TEXTS, "Salma"))]
        assert leaked == []

        # The person can end it; the facilitator's page says so by taking it away.
        person.get_by_role("button", name="End the private conversation").click()
        expect(panel.locator("#support-messages")).to_contain_text(
            "The private conversation has ended.")
        expect(conversation).to_have_count(0)
        expect(desk.locator("#conversations-empty")).to_be_visible()
        assert errors == []
    finally:
        for context in contexts:
            context.close()


def test_with_nobody_on_duty_the_card_says_so_and_the_alert_waits_for_the_desk(browser, server):
    base = server.url
    contexts: list[Any] = []
    try:
        contexts.append(new_context(browser, base, "en"))
        person = contexts[0].new_page()
        alias = join(person, base, QUIET_CIRCLE)
        expect(person.locator("#care-status")).to_contain_text(
            "No facilitator is here or on duty right now.")

        write(person, "I want to kill myself")
        card = person.locator("#messages .support-card")
        expect(card).to_contain_text("No facilitator is on duty right now, so nobody may see "
                                     "this soon.")
        expect(card).not_to_contain_text("has been alerted")
        # The help lines, the emergency numbers first, right there in the card.
        lines = card.locator("li")
        expect(lines.first).to_contain_text("Police")
        expect(lines.first.locator("a[href='tel:19']")).to_have_text("19")
        expect(card.locator("a[href='tel:15']")).to_have_text("15")
        expect(person.locator("#help-state")).to_have_text("No facilitator has seen this yet.")

        # A facilitator of the circle comes on duty later: the alert is waiting on the desk.
        context, desk = facilitator_desk(browser, server, username="duty-nadia", name="Nadia",
                                         slug=QUIET_CIRCLE)
        contexts.append(context)
        desk.get_by_role("button", name="Come on duty").click()
        item = desk.locator("#queue li.desk-item", has_text=alias)
        expect(item).to_have_count(1)
        expect(item.locator(".waited")).to_have_text(re.compile(r"^waiting for \d+ s$"))
        expect(desk.locator("#queue-count")).to_have_text("1")
        # The person's page now says, truthfully, that someone is on duty; and still that
        # nobody has seen the request.
        expect(person.locator("#care-status")).to_have_text(
            "No facilitator is in the circle now, but one is on duty and will see a request "
            "for help.")
        expect(person.locator("#help-state")).to_have_text("No facilitator has seen this yet.")
    finally:
        for context in contexts:
            context.close()


def test_a_facilitator_opens_a_private_conversation_from_a_person_s_card_in_the_console(
        browser, server):
    base, slug = server.url, "wahda-wa-uzla"
    server.shell(FACILITATOR % {"username": "duty-amal", "name": "Amal", "slug": slug,
                                "password": PASSWORD})
    contexts = [new_context(browser, base, "en"), new_context(browser, base, "en")]
    try:
        person, console = (context.new_page() for context in contexts)
        alias = join(person, base, slug)
        staff_sign_in(console, base, username="duty-amal", password=PASSWORD,
                      next_path=f"/rooms/{slug}/console/")
        console.locator("#rules-accept").click()
        expect(console.locator("#board")).to_be_visible()
        expect(console.locator("#private-empty")).to_be_visible()
        row = console.locator("#people li.person").filter(
            has=console.locator(".alias", has_text=alias))
        row.get_by_role("button", name=f"Private conversation with {alias}").click()

        conversation = console.locator("#private-conversations .support-panel")
        expect(conversation).to_have_count(1)
        expect(conversation.locator("textarea")).to_be_focused()
        expect(console.locator("#private-empty")).to_be_hidden()
        expect(person.locator("#support-panel")).to_be_visible()
        expect(person.locator("#support-with")).to_have_text("With Amal, facilitator")
        expect(person.locator("#help-state")).to_have_text(
            "A facilitator is with you in a private conversation.")

        conversation.locator("textarea").fill("How are you holding up this week?")
        conversation.get_by_role("button", name="Send", exact=True).click()
        expect(person.locator("#support-messages")).to_contain_text("How are you holding up")
        person.locator("#support-input").fill("Better since Monday")
        person.locator("#support-input").press("Enter")
        expect(conversation.locator(".support-messages")).to_contain_text("Better since Monday")
        expect(console.locator("#private-announce")).to_have_text(
            f"Private message from {alias}: Better since Monday")
        expect(console.locator("#messages")).not_to_contain_text("Better since Monday")
        audit = Audit("en")
        audit.check(console, "console with a private conversation")
        audit.assert_clean()

        # Opening it again goes back to the same conversation; a reload brings it back whole.
        row.get_by_role("button", name=f"Private conversation with {alias}").click()
        expect(conversation).to_have_count(1)
        expect(conversation.locator("textarea")).to_be_focused()
        console.reload()
        expect(console.locator("#private-conversations .support-panel .support-messages")
               ).to_contain_text("Better since Monday")
    finally:
        for context in contexts:
            context.close()
