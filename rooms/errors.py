"""Errors raised by services. Each carries a stable `code` for machines and a readable `detail`.

Consumers turn them into `error` frames, REST views into 4xx responses: one definition, two edges.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    kind = "invalid"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.detail = str(detail)
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


class NotFound(ServiceError):
    kind = "not_found"


class Forbidden(ServiceError):
    kind = "forbidden"


class Conflict(ServiceError):
    kind = "conflict"


class Invalid(ServiceError):
    kind = "invalid"


class RateLimited(ServiceError):
    kind = "rate_limited"
