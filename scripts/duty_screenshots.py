"""Screenshots of the duty desk and of a participant's private panel, in Arabic and French
(docs/img/duty-desk-{ar,fr}.png, docs/img/private-panel-{ar,fr}.png), for docs/facilitators.md.

Run once when the duty desk or the private panel changes, look at the pictures, commit them:

    .venv/bin/python scripts/duty_screenshots.py [output directory, default docs/img]

It starts a Halqa server of its own (its own port and SQLite file, tests/browser/own_server.py)
and drives Chromium through the real flow: a facilitator on duty, a participant in crisis, the
alert acknowledged and a private conversation opened, a message each way and a help resource
card; a second participant's alert still waiting on the desk.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.conftest import chromium_path  # noqa: E402
from tests.browser.own_server import OwnServer, staff_sign_in  # noqa: E402

PASSWORD = "screenshots-password"
FACILITATOR = """
from accounts.models import User
from rooms.models import Room
user, _ = User.objects.get_or_create(username=%(username)r, defaults={
    "role": User.Role.FACILITATOR, "is_staff": True, "pseudonym": %(name)r})
user.set_password(%(password)r)
user.save()
Room.objects.get(slug=%(slug)r).facilitators.add(user)
"""
# Per interface language: the circle, the facilitator's name and what everyone writes.
SCENES: dict[str, dict[str, str]] = {
    "ar": {"slug": "wahda-wa-uzla", "name": "سلمى",
           "crisis": "لم أعد أريد أن أعيش، أفكر في الانتحار",
           "waiting": "بغيت نقتل راسي", "hello": "أنا هنا معك. هل أنت في أمان الآن؟",
           "reply": "لست بخير، لكنني في البيت"},
    "fr": {"slug": "familles-et-separations", "name": "Salma",
           "crisis": "Je n'en peux plus, j'ai envie de me suicider",
           "waiting": "je veux en finir avec la vie",
           "hello": "Je suis là avec vous. Êtes-vous en sécurité en ce moment ?",
           "reply": "Pas vraiment, mais je suis chez moi"},
}


def context_in(browser: Any, base: str, language: str, **options: Any) -> Any:
    context = browser.new_context(locale="en-US", **options)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    return context


def join(page: Any, base: str, slug: str) -> str:
    page.goto(f"{base}/rooms/{slug}/")
    page.locator("#join-button").click()
    page.locator("#rules-accept").click()
    expect(page.locator("#chat")).to_be_visible()
    return page.locator("#my-alias").inner_text()


def write(page: Any, text: str) -> None:
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")


def scene(browser: Any, server: OwnServer, language: str, out: Path) -> None:
    base, lines = server.url, SCENES[language]
    username = f"screens-{language}"
    server.shell(FACILITATOR % {"username": username, "name": lines["name"],
                                "slug": lines["slug"], "password": PASSWORD})
    desk_context = context_in(browser, base, language, viewport={"width": 1200, "height": 900})
    person_context = context_in(browser, base, language, viewport={"width": 420, "height": 860},
                                device_scale_factor=2, is_mobile=True, has_touch=True)
    other_context = context_in(browser, base, language)
    try:
        desk = desk_context.new_page()
        staff_sign_in(desk, base, username=username, password=PASSWORD, next_path="/duty/")
        expect(desk.locator("#duty-toggle")).to_be_enabled()  # connected, state known
        desk.locator("#duty-toggle").click()
        expect(desk.locator("#duty-toggle")).to_have_attribute("aria-pressed", "true")

        person = person_context.new_page()
        alias = join(person, base, lines["slug"])
        write(person, lines["crisis"])
        item = desk.locator("#queue li.desk-item", has_text=alias)
        expect(item).to_have_count(1)
        item.locator("button").first.click()  # acknowledge
        expect(person.locator("#help-state")).to_have_attribute("data-state", "seen")
        item.locator("button", has_text={"ar": "فتح محادثة خاصة",
                                         "fr": "Ouvrir une conversation privée"}[language]).click()
        conversation = desk.locator("#conversations .support-panel")
        expect(conversation).to_have_count(1)
        conversation.locator("textarea").fill(lines["hello"])
        conversation.locator("textarea").press("Enter")
        expect(person.locator("#support-messages")).to_contain_text(lines["hello"])
        person.locator("#support-input").fill(lines["reply"])
        person.locator("#support-input").press("Enter")
        expect(conversation.locator(".support-messages")).to_contain_text(lines["reply"])
        conversation.locator("select").select_option(index=0)
        conversation.locator(".resource-picker button").click()
        expect(person.locator("#support-messages .support-card")).to_have_count(1)

        # Someone else in crisis, still waiting: the desk shows the clock running.
        other = other_context.new_page()
        join(other, base, lines["slug"])
        write(other, lines["waiting"])
        expect(desk.locator("#queue li.desk-item")).to_have_count(2)
        desk.wait_for_timeout(2500)
        desk.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
        desk.screenshot(path=str(out / f"duty-desk-{language}.png"), full_page=True)

        person.evaluate("() => { document.activeElement.blur(); window.scrollTo(0, 0); }")
        person.screenshot(path=str(out / f"private-panel-{language}.png"), full_page=True)
        desk.locator("#duty-toggle").click()  # off duty: the next scene is another circle's
        expect(desk.locator("#duty-toggle")).to_have_attribute("aria-pressed", "false")
    finally:
        for context in (desk_context, person_context, other_context):
            context.close()


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="halqa-screens-") as var:
        server = OwnServer(Path(var))
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
                for language in SCENES:
                    scene(browser, server, language, out)
                browser.close()
        finally:
            server.stop()
    for language in SCENES:
        print(out / f"duty-desk-{language}.png", out / f"private-panel-{language}.png")


if __name__ == "__main__":
    main()
