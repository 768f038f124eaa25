"""The OpenAPI schema of REST API v1: drf-spectacular builds it without a warning or an error, it
is a valid OpenAPI 3 document (openapi-spec-validator), and every endpoint of server/api_urls.py,
with each of its HTTP methods, is in it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from openapi_spec_validator import validate as validate_openapi

API_PREFIX = "/api/v1/"
HTTP_METHODS = ("get", "put", "patch", "post", "delete", "head", "options", "trace")


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, Any], list[str]]:
    """The schema as `manage.py spectacular --fail-on-warn` builds it, and what it complained of."""
    GENERATOR_STATS.reset()
    GENERATOR_STATS.enable_trace_lineno()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._error_cache, *GENERATOR_STATS._warn_cache]
    GENERATOR_STATS.reset()
    # Through the renderer, as it is served: lazy translations and the like become plain JSON.
    return json.loads(OpenApiJsonRenderer().render(schema, renderer_context={})), problems


@pytest.fixture(scope="module")
def schema(generated: tuple[dict[str, Any], list[str]]) -> dict[str, Any]:
    return generated[0]


def test_schema_builds_without_warnings_or_errors(
    generated: tuple[dict[str, Any], list[str]],
) -> None:
    problems = generated[1]
    assert problems == [], "drf-spectacular:\n" + "\n".join(problems)


def test_schema_is_valid_openapi(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    validate_openapi(schema)  # openapi-spec-validator: raises on any error
    validate_schema(schema)  # and drf-spectacular's own JSON-schema check


def test_operation_ids_are_unique_and_every_operation_has_responses(
    schema: dict[str, Any],
) -> None:
    ids: list[str] = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                ids.append(operation["operationId"])
                assert operation.get("responses"), f"{method.upper()} {path} has no responses"
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _openapi_path(route: str) -> str:
    # Django's "<slug:slug>" and "<action>" are OpenAPI's "{slug}" and "{action}".
    return API_PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_every_api_v1_url_is_in_the_schema_with_each_of_its_methods(
    schema: dict[str, Any],
) -> None:
    from server import api_urls

    routes = list(_routes(api_urls.urlpatterns))
    assert len(routes) > 10
    missing: list[str] = []
    for route, callback in routes:
        path = _openapi_path(route)
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        methods = [m for m in HTTP_METHODS if m not in ("head", "options", "trace")
                   and view is not None and hasattr(view, m)]
        if path not in schema["paths"]:
            missing.append(f"{path} (all of it)")
            continue
        missing += [f"{m.upper()} {path}" for m in methods if m not in schema["paths"][path]]
    assert missing == [], "not in the OpenAPI schema: " + ", ".join(missing)


@pytest.mark.django_db
def test_the_served_schema_is_the_generated_one(schema: dict[str, Any]) -> None:
    response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    served = json.loads(response.content)
    validate_openapi(served)
    assert sorted(served["paths"]) == sorted(schema["paths"])
    assert all(path.startswith(API_PREFIX) for path in served["paths"])


@pytest.mark.django_db
def test_the_api_page_is_served_from_our_own_static_files() -> None:
    client = Client()
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "https://" not in html and "http://" not in html
    # No inline script: every <script> has a src, and Swagger UI's start-up code is a file.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in src for src in sources)
    script = next(src for src in sources if "script" in src.split("?", 1)[-1])
    init = client.get(script.replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in init.content.decode()
    assert "Content-Security-Policy" in page.headers


RACE = """
import threading
import django
django.setup()
from django.test import RequestFactory
from django.urls import resolve
view = resolve("/api/v1/schema/").func
codes, barrier = [], threading.Barrier(8)
def hit():
    request = RequestFactory().get("/api/v1/schema/", {"format": "json"})
    barrier.wait()
    try:
        codes.append(view(request).status_code)
    except Exception as exc:
        codes.append(repr(exc))
threads = [threading.Thread(target=hit) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(codes)
"""


def test_first_schema_requests_at_once_all_succeed() -> None:
    """Under daphne each request has a thread of its own; in a fresh process, eight first
    requests for the schema at once once crashed most of them (drf-spectacular loads its
    extensions lazily, without a lock): server.api.SchemaView builds one at a time."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "server.settings"}
    done = subprocess.run([sys.executable, "-c", RACE], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str([200] * 8)
