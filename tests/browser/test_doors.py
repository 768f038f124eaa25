"""Doors that explain themselves, against a server of this module's own (it ends sessions and
removes people): the access mode said truthfully, the application-only circle leading to its
sessions and the form in one step, someone removed told once with the time left and told again
when let back in (audited as "Let back in"), a deleted message's author told in place, ending a
session ending that session only, and a facilitator landing on their own page, shown in circles
under the name they chose."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.own_server import OwnServer, csrf_headers, staff_sign_in
from tests.browser.test_accessibility import join, new_context

pytestmark = pytest.mark.browser

STAFF = """
from accounts.models import User
from rooms.models import Room
user, _ = User.objects.get_or_create(username=%(username)r, defaults={
    "role": %(role)r, "is_staff": True, "is_superuser": %(superuser)r})
user.set_password(%(password)r)
user.save()
for slug in %(slugs)r:
    Room.objects.get(slug=slug).facilitators.add(user)
"""
PASSWORD = "doors-staff-password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    own = OwnServer(tmp_path_factory.mktemp("doors"))
    own.start()
    yield own
    own.stop()


def staff(server: OwnServer, username: str, *, slugs: tuple[str, ...] = (),
          superuser: bool = False) -> str:
    server.shell(STAFF % {"username": username, "password": PASSWORD, "slugs": list(slugs),
                          "role": "admin" if superuser else "facilitator",
                          "superuser": superuser})
    return username


def moderate(context: Any, base: str, slug: str, action: str, **params: Any) -> Any:
    response = context.request.post(f"{base}/api/v1/rooms/{slug}/moderation/{action}/",
                                    data=params, headers=csrf_headers(context, base))
    assert response.ok, (response.status, response.text())
    return response.json()


def facilitator_context(browser: Any, server: OwnServer, username: str) -> Any:
    context = new_context(browser, server.url, "en")
    page = context.new_page()
    staff_sign_in(page, server.url, username=username, password=PASSWORD)
    expect(page.locator("h1")).to_have_text("Your circles")
    page.close()
    return context


def test_the_access_mode_is_said_truthfully_and_applying_is_one_step(browser, server):
    base = server.url
    context = new_context(browser, base, "en")
    try:
        page = context.new_page()
        page.goto(f"{base}/")
        grief = page.locator(".room-card", has_text="Grief and loss")
        expect(grief.locator(".access")).to_contain_text("By application")
        expect(grief).not_to_contain_text("Open")
        drop_in = page.locator(".room-card", has_text="Heard, seen & safe")
        expect(drop_in.locator(".access")).to_contain_text("Open: drop in")

        rooms = context.request.get(f"{base}/api/v1/rooms/").json()
        rooms = rooms.get("results", rooms) if isinstance(rooms, dict) else rooms
        assert {r["slug"]: r["access"] for r in rooms}["grief-and-loss"] == "application"

        # The circle page: no "join" as if it were open, but its sessions and the form.
        page.goto(f"{base}/rooms/grief-and-loss/")
        expect(page.locator(".room-header .access")).to_contain_text("By application")
        expect(page.locator("#join-button")).to_be_hidden()
        expect(page.locator("#chat")).to_be_hidden()
        apply = page.locator("#apply")
        expect(apply.get_by_role("heading")).to_have_text("This circle meets by application")
        first = apply.locator(".session-card").first
        first.locator("summary").click()
        first.locator("textarea").fill("First time here")
        first.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"/schedule/.*#mine$"))
        expect(page.locator("#mine")).to_contain_text("Waiting for a facilitator")
    finally:
        context.close()


def test_someone_removed_is_told_once_and_told_again_when_let_back_in(browser, server):
    base, slug = server.url, "familles-et-separations"
    staff(server, "doors-remover", slugs=(slug,))
    person_context = new_context(browser, base, "en")
    staff_context = facilitator_context(browser, server, "doors-remover")
    frames: list[str] = []
    try:
        person = person_context.new_page()
        person.on("websocket", lambda ws: ws.on(
            "framereceived", lambda payload: frames.append(str(payload))))
        alias = join(person, base, slug)

        # A warning: the reminder, then the reason apart, isolated in its own direction.
        moderate(staff_context, base, slug, "member.warn", alias=alias, reason="رجاءً بلا أسماء")
        warned = person.locator("#messages .note", has_text="reminds you of the house rules")
        expect(warned).to_contain_text("Reason: رجاءً بلا أسماء")
        expect(warned.locator("bdi[dir=auto]")).to_have_text("رجاءً بلا أسماء")

        moderate(staff_context, base, slug, "member.remove", alias=alias, cooldown_minutes=5,
                 reason="Let's take a breath")
        state = person.locator("#composer-state")
        expect(state).to_have_text(re.compile(
            r"^A facilitator asked you to leave this session\. You can come back in 5 minutes\.$"))
        expect(person.locator("#message-input")).to_be_disabled()
        expect(person.get_by_text("Reason: Let's take a breath")).to_have_count(1)
        # One sentence, once: not in the status line, not in the conversation, no button that
        # would fail during the cool-down.
        expect(person.get_by_text(re.compile("asked you to leave"))).to_have_count(1)
        expect(person.locator("#rejoin-button")).to_be_hidden()

        # The page knocks again quietly (refused, but listening)…
        deadline = time.monotonic() + 15
        while not any('"code":"removed"' in f and '"error"' in f for f in frames):
            assert time.monotonic() < deadline, frames[-5:]
            person.wait_for_timeout(200)
        # … so "Let back in now" reaches it, and it is back in at once.
        moderate(staff_context, base, slug, "member.unban", alias=alias)
        expect(person.locator("#messages .note", has_text="let you back in")).to_have_count(1)
        expect(person.locator("#message-input")).to_be_enabled()
        expect(state).to_be_hidden()
        person.locator("#message-input").fill("Thank you, I am back")
        person.locator("#message-input").press("Enter")
        expect(person.locator("#messages .message.mine:not(.pending)",
                              has_text="Thank you, I am back")).to_have_count(1)

        audit = staff_context.request.get(f"{base}/api/v1/rooms/{slug}/audit/").json()
        kinds = [entry["kind"] for entry in audit if entry.get("alias") == alias]
        assert kinds[:2] == ["member_readmit", "member_remove"], audit[:3]
        assert audit[0]["label"] == "Let back in"
    finally:
        person_context.close()
        staff_context.close()


def test_the_author_of_a_deleted_message_is_told_in_place(browser, server):
    base, slug = server.url, "wahda-wa-uzla"
    staff(server, "doors-deleter", slugs=(slug,))
    contexts = [new_context(browser, base, "en") for _ in range(2)]
    staff_context = facilitator_context(browser, server, "doors-deleter")
    try:
        author, other = (context.new_page() for context in contexts)
        join(author, base, slug)
        join(other, base, slug)
        author.locator("#message-input").fill("Something I should not have written")
        author.locator("#message-input").press("Enter")
        mine = author.locator("#messages .message.mine:not(.pending)")
        expect(mine).to_have_count(1)
        seen = other.locator("#messages .message", has_text="should not have written")
        expect(seen).to_have_count(1)
        message_id = int(mine.get_attribute("data-id"))
        moderate(staff_context, base, slug, "message.delete", message_id=message_id)
        expect(author.locator("#messages .message.removed-by-staff")).to_have_text(
            "A facilitator removed this message.")
        expect(author.get_by_text("should not have written")).to_have_count(0)
        expect(seen).to_have_count(0)  # the others simply no longer see it
        expect(other.get_by_text("A facilitator removed this message.")).to_have_count(0)
    finally:
        for context in (*contexts, staff_context):
            context.close()


def test_ending_a_session_ends_that_session_only(browser, server):
    base, slug = server.url, "daghet-w-qalaq"
    staff(server, "doors-ender", slugs=(slug,))
    staff_context = facilitator_context(browser, server, "doors-ender")
    person_context = new_context(browser, base, "en")
    try:
        person = person_context.new_page()
        join(person, base, slug)
        console = staff_context.new_page()
        console.goto(f"{base}/rooms/{slug}/console/")
        console.locator("#rules-accept").click()
        expect(console.locator("#board")).to_be_visible()
        console.locator("#end-button").click()
        dialog = console.locator("dialog[open]")
        expect(dialog).to_contain_text("Ends this session only")
        expect(dialog).to_contain_text("The circle stays open for its next sessions")
        dialog.get_by_role("button", name="End the session now").click()
        expect(person.locator("#composer-state")).to_contain_text("ended this session")
        expect(person.get_by_role("button", name="Try to come back")).to_be_visible()

        # The circle is still open, and its next sessions are still on the schedule.
        detail = person_context.request.get(f"{base}/api/v1/rooms/{slug}/").json()
        assert detail["is_open"] is True, detail
        person.goto(f"{base}/schedule/?week=all")
        expect(person.locator(".session-card", has=person.locator(
            f"a[href='/rooms/{slug}/']"))).not_to_have_count(0)
        person.goto(f"{base}/")
        expect(person.locator(".room-card", has=person.locator(
            f"a[href='/rooms/{slug}/']"))).not_to_contain_text("Closed for now")
    finally:
        person_context.close()
        staff_context.close()


def test_a_facilitator_lands_on_their_page_and_shows_the_name_they_chose(browser, server):
    base, slug = server.url, "heard-seen-safe"
    staff(server, "doors-salma", slugs=(slug,))
    staff(server, "doors-admin", superuser=True)
    context = new_context(browser, base, "en")
    admin_context = new_context(browser, base, "en")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Signing in at /admin/ leads to their own page, not to "no permission".
        staff_sign_in(page, base, username="doors-salma", password=PASSWORD)
        expect(page).to_have_url(f"{base}/facilitator/")
        circle = page.locator(".room-card", has_text="Heard, seen & safe")
        expect(circle.get_by_role("link", name="Facilitators’ console")).to_have_attribute(
            "href", f"/rooms/{slug}/console/")
        expect(page.locator("#display-name")).to_contain_text("made-up alias")

        page.locator("#display-name-input").fill("doors-salma")  # the login name: refused
        page.get_by_role("button", name="Save the name").click()
        expect(page.locator(".flash")).to_contain_text("other than your login name")
        page.locator("#display-name-input").fill("Noura")
        page.get_by_role("button", name="Save the name").click()
        expect(page.locator(".flash")).to_contain_text("Saved")
        expect(page.locator("#display-name strong")).to_have_text("Noura")

        # In the circle, others see "Noura", never the login name.
        page.goto(f"{base}/rooms/{slug}/")
        page.locator("#rules-accept").click()
        expect(page.locator("#my-alias")).to_have_text("Noura")
        person_context = new_context(browser, base, "en")
        try:
            person = person_context.new_page()
            join(person, base, slug)
            person.locator("#members-box summary").click()
            expect(person.locator("#members")).to_contain_text("Noura")
            expect(person.locator("#members")).not_to_contain_text("doors-salma")

            # An admin who chose no name appears under a made-up alias, not "doors-admin".
            admin_page = admin_context.new_page()
            staff_sign_in(admin_page, base, username="doors-admin", password=PASSWORD,
                          next_path=f"/rooms/{slug}/")
            admin_page.locator("#rules-accept").click()
            expect(admin_page.locator("#my-alias")).not_to_be_empty()
            expect(admin_page.locator("#my-alias")).not_to_have_text("doors-admin")
            expect(person.locator("#members li")).to_have_count(3)
            expect(person.locator("#members")).not_to_contain_text("doors-admin")
        finally:
            person_context.close()
    finally:
        context.close()
        admin_context.close()
    assert not errors, errors
