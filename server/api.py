"""Shared REST plumbing: every error under /api/ is the JSON body `{"code", "detail", …}`.

Inside a DRF view, `exception_handler` turns service errors, DRF's own errors and the failures
that come from the request itself (a body nested too deep for the parser, a body over
`DATA_UPLOAD_MAX_MEMORY_SIZE`) or from a database that is down into that body. Outside one (an
address that matches no view, a host refused by ALLOWED_HOSTS, an unexpected server error),
Django's error handlers `error_400`/`error_403`/`error_404`/`error_500` (server/urls.py) answer
the same way under /api/ and render the site's own pages (web/errors.py) everywhere else.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rooms.errors import ServiceError
from web import errors

API_PREFIX = "/api/"

_STATUS_BY_KIND = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "conflict": status.HTTP_409_CONFLICT,
    "invalid": status.HTTP_400_BAD_REQUEST,
    "rate_limited": status.HTTP_429_TOO_MANY_REQUESTS,
}


def _request_error(exc: Exception) -> tuple[int, str, str] | None:
    """(status, code, detail) for a failure that is not the server's fault, or a database that
    is down; None for anything else (a real bug: 500)."""
    if isinstance(exc, RecursionError):
        # Only input makes an API view recurse that deep: 100 000 nested JSON arrays reach the
        # parser's limit (json raises RecursionError, not ValueError, which DRF would catch).
        return 400, "bad_body", _("The request body is nested too deeply.")
    if isinstance(exc, RequestDataTooBig):
        return 413, "body_too_large", _("The request body is too large.")
    if isinstance(exc, (OperationalError, InterfaceError)):
        return 503, "unavailable", _("The service is briefly unavailable. Please retry soon.")
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        body = exc.as_dict()
        response = Response(body, status=_STATUS_BY_KIND.get(exc.kind, 400))
        if body.get("retry_after"):  # HTTP clients and proxies read the header, not the body
            response["Retry-After"] = str(int(body["retry_after"]))
        return response
    known = _request_error(exc)
    if known is not None:
        status_code, code, detail = known
        return Response({"code": code, "detail": detail}, status=status_code)
    if isinstance(exc, exceptions.ParseError):  # JSON that does not parse: the same code
        return Response({"code": "bad_body", "detail": str(exc.detail)},
                        status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        detail = response.data.get("detail", response.data)
        code = getattr(detail, "code", None) or "invalid"
        response.data = {"code": str(code), "detail": detail if isinstance(detail, str)
                         else response.data}
    return response


# --- Django's error handlers (server/urls.py) ---------------------------------------------------
def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _json_error(status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status_code,
                        json_dumps_params={"ensure_ascii": False})


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    known = _request_error(exception) if exception is not None else None
    if known is not None:
        return _json_error(*known)
    return _json_error(400, "bad_request", str(exceptions.ParseError.default_detail))


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return errors.permission_denied(request)
    return _json_error(403, "forbidden", str(exceptions.PermissionDenied.default_detail))


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not _is_api(request):
        return errors.page_not_found(request)
    return _json_error(404, "not_found", str(exceptions.NotFound.default_detail))


def error_500(request: HttpRequest) -> HttpResponse:
    if not _is_api(request):
        return errors.server_error(request)
    return _json_error(500, "internal", _("Something went wrong on our side. Please retry."))


_SCHEMA_LOCK = threading.Lock()


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, built by one request at a time.

    drf-spectacular's generation is not thread-safe: its extensions load their target classes
    lazily, on first use, through class attributes. Under daphne each request runs in a thread
    of its own, and two first requests at once (the API page and a client, say) crashed one of
    them with a 500 (AttributeError in OpenApiSerializerExtension._load_class)."""

    def _get_schema_response(self, request: Any) -> Response:
        with _SCHEMA_LOCK:
            return super()._get_schema_response(request)


# --- /api/v1/ itself -----------------------------------------------------------------------------
def api_index(request: HttpRequest) -> JsonResponse:
    """A small map of the API instead of a bare 404: where the documentation and the schema are,
    and the main collections. Everything else is in the schema."""
    return JsonResponse({
        "name": "Halqa",
        "version": "v1",
        "documentation": reverse("api-docs"),
        "schema": reverse("api-schema"),
        "websocket": "/ws/rooms/<slug>/",
        "endpoints": {
            "rooms": reverse("room-list"),
            "sessions": reverse("sessions"),
            "resources": reverse("resources"),
            "identity": reverse("identity-me"),
            "anonymous_identity": reverse("identity-anonymous"),
        },
    }, json_dumps_params={"ensure_ascii": False})
