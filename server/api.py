"""Shared REST plumbing: service errors become clear JSON responses with a `code`."""

from __future__ import annotations

import threading
from typing import Any

from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rooms.errors import ServiceError

_STATUS_BY_KIND = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "conflict": status.HTTP_409_CONFLICT,
    "invalid": status.HTTP_400_BAD_REQUEST,
    "rate_limited": status.HTTP_429_TOO_MANY_REQUESTS,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        body = exc.as_dict()
        return Response(body, status=_STATUS_BY_KIND.get(exc.kind, 400))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        detail = response.data.get("detail", response.data)
        code = getattr(detail, "code", None) or "invalid"
        response.data = {"code": str(code), "detail": detail if isinstance(detail, str)
                         else response.data}
    return response


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
