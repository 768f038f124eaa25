"""The passphrase the privacy page promises, set from the "Your identity" page and used on
another device; leaving a circle; the error pages in the site's layout, translated, with Quick
exit and a way back; the favicon, the API's index and the link to its documentation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import join, new_context

pytestmark = pytest.mark.browser

CIRCLE = "heard-seen-safe"


def test_a_passphrase_carries_the_identity_to_another_device(browser, halqa_server):
    base = halqa_server.url
    phone, laptop = new_context(browser, base, "en"), new_context(browser, base, "fr")
    try:
        page = phone.new_page()
        page.goto(f"{base}/privacy/")
        page.get_by_role("link", name=re.compile("Set a passphrase, or sign in")).click()
        expect(page).to_have_url(f"{base}/identity/")
        expect(page.locator("#passphrase")).to_have_count(0)  # no identity yet: nothing to set

        join(page, base, CIRCLE)
        page.goto(f"{base}/identity/")
        pseudonym = page.locator("#my-pseudonym").inner_text()
        assert pseudonym
        expect(page.locator("#why")).to_contain_text("The trade-off")
        page.locator("#passphrase-new").fill("olive trees by the sea")
        page.locator("#passphrase-again").fill("olive trees by the see")
        page.get_by_role("button", name="Save the passphrase").click()
        expect(page.locator("#passphrase-status")).to_have_text(
            "The two passphrases are not the same.")
        page.locator("#passphrase-new").fill("short")
        page.locator("#passphrase-again").fill("short")
        page.get_by_role("button", name="Save the passphrase").click()
        expect(page.locator("#passphrase-status")).to_contain_text("too short")
        page.locator("#passphrase-new").fill("olive trees by the sea")
        page.locator("#passphrase-again").fill("olive trees by the sea")
        page.get_by_role("button", name="Save the passphrase").click()
        expect(page.locator("#passphrase-status")).to_contain_text("Saved")

        # Another device (in French): signed in as the same identity, the same alias in the circle.
        other = laptop.new_page()
        other.goto(f"{base}/identity/")
        expect(other.get_by_role("heading", level=1)).to_have_text("Votre identité")
        other.locator("#sign-in-pseudonym").fill(pseudonym)
        other.locator("#sign-in-passphrase").fill("wrong passphrase here")
        other.locator("#sign-in-form button").click()
        expect(other.locator("#sign-in-status")).not_to_be_empty()
        other.locator("#sign-in-passphrase").fill("olive trees by the sea")
        other.locator("#sign-in-form button").click()
        expect(other.locator("#my-pseudonym")).to_have_text(pseudonym)
    finally:
        phone.close()
        laptop.close()


def test_leaving_a_circle_closes_the_connection_and_goes_home(browser, halqa_server):
    base = halqa_server.url
    contexts = [new_context(browser, base, "en") for _ in range(2)]
    try:
        leaver, stayer = (context.new_page() for context in contexts)
        join(leaver, base, CIRCLE)
        alias = leaver.locator("#my-alias").inner_text()
        join(stayer, base, CIRCLE)
        expect(stayer.locator("#members-box")).to_have_attribute("open", "")  # a wide screen
        expect(stayer.locator("#members")).to_contain_text(alias)
        leaver.get_by_role("button", name="Leave this circle").click()
        expect(leaver).to_have_url(f"{base}/")
        expect(stayer.locator("#members")).not_to_contain_text(alias)
    finally:
        for context in contexts:
            context.close()


@pytest.mark.parametrize(("language", "title", "back"), [
    ("en", "This page does not exist", "Back to the support circles"),
    ("ar", "هذه الصفحة غير موجودة", "العودة إلى حلقات الدعم"),
    ("fr", "Cette page n’existe pas", "Retour aux cercles de soutien"),
])
def test_error_pages_are_in_the_site_layout_and_language(browser, halqa_server, language,
                                                         title, back):
    base = halqa_server.url
    context = new_context(browser, base, language)
    try:
        page = context.new_page()
        response = page.goto(f"{base}/no/such/page/")
        assert response.status == 404
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("h1")).to_have_text(title)
        expect(page.locator("#quick-exit")).to_be_visible()
        page.get_by_role("link", name=back).click()
        expect(page).to_have_url(f"{base}/")

        # A participant at a facilitators' console: the 403 page, in the same layout.
        join(page, base, CIRCLE)
        response = page.goto(f"{base}/rooms/{CIRCLE}/console/")
        assert response.status == 403
        expect(page.locator("#quick-exit")).to_be_visible()
        expect(page.locator(".error-page")).to_be_visible()
        # The API keeps its JSON errors.
        api = context.request.get(f"{base}/api/v1/no-such-thing/")
        assert api.status == 404 and api.json()["code"] == "not_found"
    finally:
        context.close()


def test_favicon_api_index_and_documentation_link(browser, halqa_server):
    base = halqa_server.url
    context = new_context(browser, base, "en")
    try:
        page = context.new_page()
        page.goto(f"{base}/")
        icon = page.locator("link[rel=icon]")
        expect(icon).to_have_attribute("type", "image/svg+xml")
        svg = context.request.get(base + icon.get_attribute("href"))
        assert svg.ok and "<svg" in svg.text()
        assert context.request.get(f"{base}/favicon.ico").ok  # for the pages outside the layout
        index = context.request.get(f"{base}/api/v1/")
        assert index.ok
        body = index.json()
        assert body["documentation"] == "/api/v1/docs/" and body["schema"] == "/api/v1/schema/"
        assert body["endpoints"]["rooms"] == "/api/v1/rooms/"
        page.locator(".site-footer").get_by_role("link", name="API documentation").click()
        expect(page).to_have_url(f"{base}/api/v1/docs/")
    finally:
        context.close()
