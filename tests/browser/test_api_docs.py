"""The REST API's human page (/api/v1/docs/) in a real Chromium: Swagger UI from our own static
files, under the site's strict Content-Security-Policy, lists every operation of the schema."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def test_api_docs_page_lists_the_operations_without_csp_errors(
    browser: Any, halqa_server: Any
) -> None:
    page = browser.new_page()
    console: list[str] = []
    page_errors: list[str] = []
    origins: set[str] = set()
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.on("request", lambda request: origins.add(
        "{0.scheme}://{0.netloc}".format(urlsplit(request.url))))
    try:
        response = page.goto(f"{halqa_server.url}/api/v1/docs/")
        assert response is not None and response.ok
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-eval" not in csp

        schema = page.request.get(f"{halqa_server.url}/api/v1/schema/?format=json").json()
        operations = sorted(
            (method.upper(), path)
            for path, item in schema["paths"].items()
            for method in item
            if method in METHODS
        )
        assert len(operations) > 10

        blocks = page.locator(".opblock")
        expect(blocks).to_have_count(len(operations), timeout=15_000)
        expect(page.locator(".info .title")).to_contain_text("Halqa API")
        shown = sorted(
            (block.locator(".opblock-summary-method").inner_text().strip().upper(),
             block.locator(".opblock-summary-path").get_attribute("data-path"))
            for block in blocks.all()
        )
        assert shown == operations

        # One operation opens and shows its parameters: the UI is alive, not just painted.
        rooms = page.locator(".opblock-summary-path[data-path='/api/v1/rooms/{slug}/']").first
        rooms.click()
        expect(page.locator(".opblock.is-open .parameters-container")).to_contain_text("slug")
    finally:
        page.close()

    assert origins == {halqa_server.url}, f"the page reached outside: {origins}"
    assert page_errors == []
    blocked = [line for line in console
               if "Content Security Policy" in line or "Refused to" in line]
    assert blocked == []
    assert [line for line in console if line.startswith("error")] == []
