"""The log filter that keeps client addresses out of every log line (see LOGGING in settings)."""

from __future__ import annotations

import ipaddress
import logging
import re

# Loggers that exist to say who connected: never written, at any level.
ACCESS_LOGGERS = ("daphne.access", "django.channels.server", "uvicorn.access", "gunicorn.access",
                  "hypercorn.access")
# daphne's per-connection chatter names the client's address and port in every line ("HTTP b'GET'
# request for ['203.0.113.9', 51234]"); below WARNING it is dropped, above it is scrubbed.
CONNECTION_LOGGERS = ("daphne.http_protocol", "daphne.ws_protocol")


class ClientAddressFilter(logging.Filter):
    """On every handler: drop access-log records, and blank out anything that parses as an IP
    address (v4 or v6) in every other record, its arguments, traceback and stack included. So
    no IP address is ever logged, whatever LOG_LEVEL says and whichever library logs it."""

    _candidate = re.compile(
        r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
        r"(?:\.\d{1,3}){0,3})(?![\w])"
    )

    @classmethod
    def scrub(cls, text: str) -> str:
        def blank(match: re.Match[str]) -> str:
            """Only what really is an address: "10:30:00" stays a time, "3.11.2" a version."""
            candidate = match.group(0)
            for value in (candidate, candidate.rsplit(":", 1)[0]):  # "1.2.3.4:80" too
                try:
                    ipaddress.ip_address(value)
                except ValueError:
                    continue
                return "[address]" + candidate[len(value):]
            return candidate

        return cls._candidate.sub(blank, text)

    def filter(self, record: logging.LogRecord) -> bool:
        name = record.name
        if any(name == logger or name.startswith(logger + ".") for logger in ACCESS_LOGGERS):
            return False
        if name in CONNECTION_LOGGERS and record.levelno < logging.WARNING:
            return False
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template, drop the arguments
            message = str(record.msg)
        record.msg, record.args = self.scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True
