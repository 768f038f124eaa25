""""Forget me" in a real Chromium: afterwards the browser keeps neither the language cookie nor
what Halqa put in its local storage (which circles, whom the person hid)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import join_circle

pytestmark = pytest.mark.browser

CIRCLE = "heard-seen-safe"
HIDDEN_KEY = f"halqa.hidden.{CIRCLE}"


def _without_clear_site_data(route: Any) -> None:
    response = route.fetch()
    headers = {name: value for name, value in response.headers.items()
               if name.lower() != "clear-site-data"}
    route.fulfill(response=response, headers=headers)


def _forget_me(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/privacy/")
    page.get_by_role("button", name="Forget me").click()
    page.get_by_role("button", name="Yes, erase everything").click()
    # The page reloads signed out: the button gives way to the note for visitors.
    expect(page.get_by_text("Once you have joined a circle")).to_be_visible()


def _keys(page: Any) -> list[str]:
    return sorted(page.evaluate("Object.keys(localStorage)"))


@pytest.mark.parametrize("clear_site_data", [False, True], ids=["script", "header"])
def test_forget_me_leaves_no_halqa_storage_and_no_language_cookie(browser, halqa_server,
                                                                  clear_site_data):
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        join_circle(page, halqa_server.url, CIRCLE)
        page.evaluate("""key => {
            localStorage.setItem(key, JSON.stringify(["Someone"]));
            localStorage.setItem("not-ours", "1");
        }""", HIDDEN_KEY)
        context.add_cookies([{"name": "django_language", "value": "en",
                              "url": halqa_server.url}])
        if not clear_site_data:  # the page's script alone, as over plain HTTP
            page.route("**/api/v1/identities/me/", _without_clear_site_data)

        _forget_me(page, halqa_server.url)

        keys = _keys(page)
        assert not [key for key in keys if key.startswith("halqa.")]
        # The script takes only Halqa's keys; the header empties the site's storage.
        assert keys == ([] if clear_site_data else ["not-ours"])
        cookies = {cookie["name"] for cookie in context.cookies()}
        assert "django_language" not in cookies and "sessionid" not in cookies
    finally:
        context.close()
