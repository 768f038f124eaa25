"""Accessibility of the main pages, checked by axe-core (from npm, `make npm`) inside the real
pages in Chromium, in English and in Arabic: no violation of impact "serious" or "critical".

axe is run through the devtools protocol (page.evaluate), which the strict CSP does not stop;
a <script> tag with its text inlined (page.add_script_tag) would be refused, as it should be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import facilitator_create

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}

# Circles no other browser test mutes, locks or ends.
CIRCLE = {"en": "heard-seen-safe", "ar": "wahda-wa-uzla"}
CONSOLE_CIRCLE = "daghet-w-qalaq"
USERNAME, PASSWORD = "a11y-facilitator", "a11y-facilitator-pass"


# --- Helpers, also used by test_rtl.py ------------------------------------------------------------
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `make npm` (npm ci) first")
    return AXE.read_text(encoding="utf-8")


def new_context(browser: Any, base_url: str, language: str) -> Any:
    """A fresh browser profile that has chosen `language` (the cookie the language switcher
    sets), so the choice does not rest on Chromium's own Accept-Language."""
    context = browser.new_context(locale="en-US")
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    return context


def join(page: Any, base_url: str, slug: str) -> str:
    """join_circle by element ids, so it works whatever the interface language."""
    page.goto(f"{base_url}/rooms/{slug}/")
    page.locator("#join-button").click()
    page.locator("#rules-accept").click()
    expect(page.locator("#chat")).to_be_visible()
    alias = page.locator("#my-alias")
    expect(alias).not_to_be_empty()
    return alias.inner_text()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in the page as it is now; its violations, every impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate("""async () => {
        const result = await axe.run(document, { resultTypes: ["violations"] });
        return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary,
                                         html: n.html.slice(0, 200) })),
        }));
    }""")


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"\n[{where}] {v['impact']}: {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"][:8]:
                lines.append(f"    at {node['target']}\n      {node['html']}")
                lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


class Audit:
    """Collects every page's violations and fails once, with all of them listed."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.blocking: dict[str, list[dict[str, Any]]] = {}
        self.minor: dict[str, list[dict[str, Any]]] = {}

    def check(self, page: Any, name: str) -> None:
        violations = axe_violations(page)
        where = f"{self.language} {name}"
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        minor = [v for v in violations if v["impact"] not in BLOCKING]
        if blocking:
            self.blocking[where] = blocking
        if minor:
            self.minor[where] = minor

    def assert_clean(self) -> None:
        if self.minor:
            print("axe, moderate and minor (not failing):", describe(self.minor))
        assert not self.blocking, "axe found serious or critical violations:" + describe(
            self.blocking)


@pytest.fixture(scope="module")
def facilitator_account(halqa_server: Any) -> tuple[str, str]:
    facilitator_create(halqa_server, username=USERNAME, password=PASSWORD,
                       slug=CONSOLE_CIRCLE)
    return USERNAME, PASSWORD


# --- The test ------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "ar"])
def test_main_pages_have_no_serious_accessibility_violation(browser, halqa_server,
                                                           facilitator_account, language):
    base = halqa_server.url
    audit = Audit(language)
    person_context = new_context(browser, base, language)
    other_context = new_context(browser, base, language)
    staff_context = new_context(browser, base, language)
    errors: list[str] = []
    try:
        person = person_context.new_page()
        person.on("pageerror", lambda exc: errors.append(str(exc)))

        person.goto(f"{base}/")
        expect(person.locator("html")).to_have_attribute("lang", language)
        audit.check(person, "circle list")

        person.goto(f"{base}/help/")
        audit.check(person, "help directory")

        person.goto(f"{base}/schedule/")
        expect(person.locator(".session-card").first).to_be_visible()
        person.locator(".session-card details summary").first.click()  # the application form
        audit.check(person, "schedule, with an application form open")

        person.goto(f"{base}/rooms/{CIRCLE[language]}/")
        expect(person.locator("#join")).to_be_visible()
        audit.check(person, "circle, before joining")

        person.goto(f"{base}/rooms/grief-and-loss/")
        expect(person.locator("#apply")).to_be_visible()
        person.locator("#apply .session-card summary").first.click()
        audit.check(person, "circle by application, its sessions and form")

        response = person.goto(f"{base}/no/such/page/")
        assert response.status == 404
        audit.check(person, "page not found")

        person.goto(f"{base}/identity/")
        audit.check(person, "your identity, before joining")

        # In the circle, with messages of one's own and of someone else (with their buttons).
        join(person, base, CIRCLE[language])
        other = other_context.new_page()
        join(other, base, CIRCLE[language])
        other.locator("#message-input").fill("Hello everyone, مرحبا 123")
        other.locator("#message-input").press("Enter")
        person.locator("#message-input").fill("Thank you for being here")
        person.locator("#message-input").press("Enter")
        expect(person.locator("#messages .message .msg-menu").first).to_be_visible()
        expect(person.locator("#messages .message.pending")).to_have_count(0)
        audit.check(person, "circle, joined")
        person.locator("#messages .message .msg-menu summary").first.click()  # Report, Hide
        person.locator("#message-input").fill("x" * 1900)  # the counter near the limit
        audit.check(person, "circle, a message's actions open, the counter shown")

        person.goto(f"{base}/privacy/")
        audit.check(person, "privacy, signed in")

        person.goto(f"{base}/identity/")
        expect(person.locator("#passphrase")).to_be_visible()
        audit.check(person, "your identity, signed in")

        # The console, as a facilitator of the circle.
        staff = staff_context.new_page()
        staff.on("pageerror", lambda exc: errors.append(str(exc)))
        staff.goto(f"{base}/rooms/{CONSOLE_CIRCLE}/console/")
        staff.locator("#id_username").fill(facilitator_account[0])
        staff.locator("#id_password").fill(facilitator_account[1])
        staff.locator("input[type=submit]").click()
        expect(staff).to_have_url(f"{base}/rooms/{CONSOLE_CIRCLE}/console/")
        rules_accept = staff.locator("#rules-accept")
        board = staff.locator("#board")
        expect(staff.locator("#rules-accept:visible, #board:visible")).to_have_count(1)
        if rules_accept.is_visible():  # the house rules, once per facilitator
            rules_accept.click()
        expect(board).to_be_visible()
        expect(staff.locator("#people li").first).to_be_visible()
        audit.check(staff, "facilitators' console")

        staff.goto(f"{base}/facilitator/")
        expect(staff.locator("#display-name")).to_be_visible()
        audit.check(staff, "facilitators' own page")
    finally:
        for context in (person_context, other_context, staff_context):
            context.close()
    assert not errors, errors
    audit.assert_clean()


def test_axe_is_the_npm_one_and_runs_in_spite_of_the_csp(browser, halqa_server):
    """The check is real: axe from node_modules runs in the page and does report a violation
    when there is one (an image without text alternative put in by the test)."""
    version = json.loads((AXE.parent / "package.json").read_text())["version"]
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{halqa_server.url}/help/")
        assert page.evaluate(axe_source() + ";axe.version") == version
        page.evaluate("""() => { const img = document.createElement("img");
                                 img.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
                                 document.querySelector("main").append(img); }""")
        assert "image-alt" in {v["id"] for v in axe_violations(page)}
    finally:
        context.close()


def test_header_and_help_filters_work_with_the_keyboard(browser, halqa_server):
    """From the top of any page: skip link, the brand, "Get help now", the quick exit, the two
    site links, then the language; the help filters submit with the keyboard alone."""
    base = halqa_server.url
    context = new_context(browser, base, "en")
    try:
        page = context.new_page()
        page.goto(f"{base}/privacy/")
        order = []
        for _ in range(8):
            page.keyboard.press("Tab")
            order.append(page.evaluate("""() => { const a = document.activeElement;
                return a.id || a.className || a.tagName; }"""))
        assert order == ["skip-link", "brand", "get-help", "quick-exit", "A", "A",
                         "language-select", "BUTTON"], order
        # "Get help now" with Enter.
        page.locator(".get-help").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/help/")
        expect(page.locator(".get-help")).to_have_attribute("aria-current", "page")
        page.locator("#filter-language").focus()
        page.keyboard.press("ArrowDown")  # "Arabic", the first language
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.type") == "submit"
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/help/?region=&language=ar")
        expect(page.locator("#filter-language")).to_have_value("ar")
    finally:
        context.close()
