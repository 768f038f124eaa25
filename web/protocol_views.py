"""/protocol.js: the websocket protocol's vocabulary (rooms.protocol.vocabulary) for the browser.

It is the browser's only copy of close codes, error and notice codes, frame types, report reasons,
access modes and the limits the pages show: common.js, room.js and console.js read it from
`window.HALQA_PROTOCOL`. A plain same-origin script, so the site's CSP (script-src 'self') lets it
run; base.html loads it before the page's modules.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from rooms import protocol

GLOBAL_NAME = "HALQA_PROTOCOL"
MAX_AGE_SECONDS = 60  # as the static files (servestatic's default for unhashed names)


@cache
def _script(language: str) -> tuple[bytes, str]:
    """The script and its ETag, built once per language and process (the labels depend on the
    language only; the rest is fixed while the process runs)."""
    payload = json.dumps(protocol.vocabulary(), ensure_ascii=False, separators=(",", ":"))
    text = (f"// Halqa protocol vocabulary ({language}), from rooms/protocol.py. Generated.\n"
            f"window.{GLOBAL_NAME} = {payload};\n")
    body = text.encode()
    return body, quote_etag(hashlib.sha256(body).hexdigest()[:32])


@require_safe
def protocol_js(request: HttpRequest) -> HttpResponse:
    body, etag = _script(get_language())
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["ETag"] = etag
    # The labels follow the language: the cookie set by the language menu, else Accept-Language.
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    patch_cache_control(response, max_age=MAX_AGE_SECONDS)
    return response
