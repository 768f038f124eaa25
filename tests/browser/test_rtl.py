"""The site in Arabic, in a real Chromium: chosen with the language switcher, laid out right to
left (mirrored, not just translated), mixed-direction messages each in their own direction, and
the message list a polite live region that announces new messages but not the history."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import join, new_context

pytestmark = pytest.mark.browser

CIRCLE = "wahda-wa-uzla"  # an Arabic circle
HISTORY = ["رسالة قديمة أولى", "رسالة قديمة ثانية"]
MIXED = "أنا بخير today والحمد لله، 3 أيام بدون قلق"
ENGLISH = "I feel better today, شكرا for listening"
NEW = "رسالة جديدة بعد الدخول"

# Watches the message list from the first byte of the page: for each message added, whether the
# log was live at that moment, and in which batch of DOM changes (one batch = one task or less).
RECORD_LIVE_REGION = """
window.__live = { batch: 0, added: [], polite: [] };
new MutationObserver((records) => {
  const live = window.__live;
  live.batch += 1;
  const log = document.getElementById("message-log");
  // The value of an attribute when record i happened: the old value of its next change in
  // this batch, or the value it has now.
  const valueAt = (i, name) => {
    for (const later of records.slice(i + 1)) {
      if (later.type === "attributes" && later.attributeName === name && later.target === log) {
        return later.oldValue;
      }
    }
    return log ? log.getAttribute(name) : null;
  };
  records.forEach((record, i) => {
    if (record.type === "attributes" && record.target === log
        && record.attributeName === "aria-live" && valueAt(i, "aria-live") === "polite") {
      live.polite.push(live.batch);
    }
    if (record.type !== "childList" || record.target.id !== "messages") return;
    for (const node of record.addedNodes) {
      if (!(node instanceof Element) || !node.classList.contains("message")) continue;
      live.added.push({ batch: live.batch, text: node.querySelector(".body")?.textContent,
                        live: valueAt(i, "aria-live"), busy: valueAt(i, "aria-busy") });
    }
  });
}).observe(document, { subtree: true, childList: true, attributes: true,
                       attributeFilter: ["aria-live", "aria-busy"], attributeOldValue: true });
"""


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found, f"{locator} is not displayed"
    return found


def say(page: Any, text: str) -> None:
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")
    expect(page.locator("#messages .message:not(.pending)", has_text=text)).to_have_count(1)


def test_language_switcher_turns_the_site_arabic_and_right_to_left(browser, halqa_server):
    base = halqa_server.url
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{base}/help/")
        html = page.locator("html")
        expect(html).to_have_attribute("dir", "ltr")
        expect(html).to_have_attribute("lang", "en")
        page.locator("#language-select").select_option("ar")
        page.locator(".language-switcher button[type=submit]").click()
        expect(html).to_have_attribute("lang", "ar")
        expect(html).to_have_attribute("dir", "rtl")
        assert page.url == f"{base}/help/"  # back where the switch was made
        assert any(c["name"] == "django_language" and c["value"] == "ar"
                   for c in context.cookies())

        # Mirrored: the brand at the right of the header, the help links to its left; phone
        # numbers still read left to right.
        header = box(page.locator(".site-header"))
        brand = box(page.locator(".brand"))
        help_link = box(page.locator(".get-help"))
        assert brand["x"] + brand["width"] > header["x"] + header["width"] - 40
        assert help_link["x"] < brand["x"]
        phone = page.locator("a.phone[href='tel:19']").first
        assert phone.evaluate("a => getComputedStyle(a).direction") == "ltr"

        # The choice stays for the next page.
        page.goto(f"{base}/")
        expect(html).to_have_attribute("dir", "rtl")
    finally:
        context.close()


def test_arabic_circle_is_mirrored_and_its_log_announces_only_new_messages(browser,
                                                                           halqa_server):
    base = halqa_server.url
    writer_context = new_context(browser, base, "ar")
    reader_context = new_context(browser, base, "ar")
    errors: list[str] = []
    try:
        # Someone has already spoken: that is the history the reader will find.
        writer = writer_context.new_page()
        writer.on("pageerror", lambda exc: errors.append(str(exc)))
        join(writer, base, CIRCLE)
        for text in HISTORY:
            say(writer, text)

        reader_context.add_init_script(RECORD_LIVE_REGION)
        reader = reader_context.new_page()
        reader.on("pageerror", lambda exc: errors.append(str(exc)))
        join(reader, base, CIRCLE)
        expect(reader.locator("html")).to_have_attribute("dir", "rtl")
        log = reader.locator("#message-log")
        for text in HISTORY:
            expect(reader.locator("#messages .message", has_text=text)).to_have_count(1)
        expect(log).to_have_attribute("aria-live", "polite")
        expect(log).to_have_attribute("aria-busy", "false")
        expect(log).to_have_attribute("role", "log")
        expect(log).to_have_attribute("aria-relevant", "additions")

        # The history went in while the log was silent, and it became live only afterwards,
        # in a later batch of changes: nothing of the history is read out.
        live = reader.evaluate("window.__live")
        history = [a for a in live["added"] if a["text"] in HISTORY]
        assert sorted(a["text"] for a in history) == sorted(HISTORY), live
        assert all(a["live"] == "off" and a["busy"] == "true" for a in history), live
        assert live["polite"] and min(live["polite"]) > max(a["batch"] for a in history), live

        # A message from someone else, now: added once, inside the live region while it is live.
        say(writer, NEW)
        new = reader.locator('#message-log[aria-live="polite"] #messages .message', has_text=NEW)
        expect(new).to_have_count(1)
        live = reader.evaluate("window.__live")
        arrivals = [a for a in live["added"] if a["text"] == NEW]
        assert arrivals and all(a["live"] == "polite" and a["busy"] == "false"
                                for a in arrivals), live
        assert len([a for a in live["added"] if a["text"] in HISTORY]) == len(HISTORY), (
            "the history was drawn again", live)

        # Mixed directions: each message in the direction of its first strong letter.
        say(writer, MIXED)
        say(writer, ENGLISH)
        direction = "p => [p.getAttribute('dir'), getComputedStyle(p).direction]"
        mixed = reader.locator("#messages .message", has_text=MIXED).locator(".body")
        english = reader.locator("#messages .message", has_text="I feel better").locator(".body")
        assert mixed.evaluate(direction) == ["auto", "rtl"]
        assert english.evaluate(direction) == ["auto", "ltr"]
        # The English message starts at the left of its bubble, the Arabic one at the right.
        english_text = english.evaluate("""p => { const r = document.createRange();
            r.selectNodeContents(p); const t = r.getClientRects()[0];
            const b = p.getBoundingClientRect(); return [t.left - b.left, b.right - t.right]; }""")
        assert english_text[0] < english_text[1], english_text

        # Mirrored layout: the send button left of the text box, others' messages on the right,
        # one's own on the left.
        send = box(reader.locator("#send-button"))
        textarea = box(reader.locator("#message-input"))
        assert send["x"] + send["width"] <= textarea["x"] + 1, (send, textarea)
        say(reader, "رسالتي")
        messages = box(reader.locator("#messages"))
        theirs = box(reader.locator("#messages .message", has_text=NEW))
        mine = box(reader.locator("#messages .message.mine", has_text="رسالتي"))
        assert theirs["x"] + theirs["width"] > messages["x"] + messages["width"] - 30
        assert mine["x"] < messages["x"] + 30
        brand = box(reader.locator(".brand"))
        header = box(reader.locator(".site-header"))
        assert brand["x"] + brand["width"] > header["x"] + header["width"] - 40
    finally:
        writer_context.close()
        reader_context.close()
    assert not errors, errors


def test_quick_exit_leaves_without_a_way_back(browser, halqa_server):
    """The quick exit replaces the page (Back does not return to it) and blanks it at once;
    three presses of Escape do the same. The neutral page is stood in for by a local route."""
    base = halqa_server.url
    context = new_context(browser, base, "ar")
    neutral = "https://www.google.com/search?q=weather"
    try:
        context.route("https://www.google.com/**", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<title>Weather</title><p>Sunny</p>"))
        page = context.new_page()
        page.goto(f"{base}/")
        page.goto(f"{base}/help/")
        expect(page.locator("#quick-exit")).to_have_attribute("href", neutral)
        # What the page still shows as it goes: noted where the test can read it afterwards.
        page.evaluate("""() => addEventListener("pagehide", () => localStorage.setItem(
            "quick-exit-test", document.title + "|" + document.body.childElementCount))""")
        page.locator("#quick-exit").click()
        expect(page).to_have_url(neutral)
        page.go_back()
        # The help page was replaced: Back goes to the page before it, not to the help page.
        expect(page).to_have_url(f"{base}/")
        # Blanked before leaving: no title, nothing in the body.
        assert page.evaluate("localStorage.getItem('quick-exit-test')") == "|0"

        # The keyboard way, from a circle page: Escape three times quickly.
        page.goto(f"{base}/rooms/{CIRCLE}/")
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        expect(page).to_have_url(neutral)
        page.go_back()
        expect(page).to_have_url(f"{base}/")

        # Two presses, or three slow ones, do nothing.
        page.goto(f"{base}/help/")
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        page.wait_for_timeout(1700)
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        expect(page).to_have_url(f"{base}/help/")
    finally:
        context.close()
