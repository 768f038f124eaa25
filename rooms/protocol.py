"""The websocket protocol of a circle, defined once. Documented frame by frame in docs/protocol.md.

Every frame is a JSON object with a `type`. Client frames are parsed and validated here into small
dataclasses; server frames are built here by one function each and encoded once per event (not
once per recipient).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

# --- Close codes (application range 4000-4999) ------------------------------------------------
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_ROOM_NOT_FOUND = 4404
CLOSE_IDENTITY_ERASED = 4410
CLOSE_FLOODING = 4429

MAX_FRAME_CHARS = 16_384  # a frame larger than this is refused before parsing
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# --- Client → server --------------------------------------------------------------------------
RULES_ACCEPT = "rules.accept"
MESSAGE_SEND = "message.send"
TYPING = "typing"
PING = "ping"
JOIN = "join"

# --- Server → client --------------------------------------------------------------------------
WELCOME = "welcome"
MESSAGE_NEW = "message.new"
MESSAGE_ACK = "message.ack"
MESSAGE_DELETED = "message.deleted"
PRESENCE = "presence"
NOTICE = "notice"
ERROR = "error"
PONG = "pong"
CRISIS_ALERT = "crisis.alert"  # to the circle's facilitators only


class ProtocolError(Exception):
    """A frame the server cannot act on. The socket stays open; the client gets an error frame."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ClientFrame:
    type: str


@dataclass(frozen=True, slots=True)
class MessageSend(ClientFrame):
    body: str
    client_id: str


def _parse_message_send(data: dict[str, Any]) -> MessageSend:
    body, client_id = data.get("body"), data.get("client_id")
    if not isinstance(body, str):
        raise ProtocolError("invalid_field", _("“body” must be a text string."))
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ProtocolError(
            "invalid_field",
            _("“client_id” must be 1 to 64 letters, digits, “-” or “_”."),
        )
    return MessageSend(type=MESSAGE_SEND, body=body, client_id=client_id)


_PARSERS = {
    RULES_ACCEPT: lambda data: ClientFrame(type=RULES_ACCEPT),
    MESSAGE_SEND: _parse_message_send,
    TYPING: lambda data: ClientFrame(type=TYPING),
    PING: lambda data: ClientFrame(type=PING),
    JOIN: lambda data: ClientFrame(type=JOIN),
}
CLIENT_TYPES = tuple(_PARSERS)


def parse_client_frame(text: str | None) -> ClientFrame:
    """Validate one incoming text frame, or raise ProtocolError with a readable detail."""
    if text is None:
        raise ProtocolError("bad_frame", _("Frames must be JSON text, not binary."))
    if len(text) > MAX_FRAME_CHARS:
        raise ProtocolError("frame_too_large", _("That frame is too large."))
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_json", _("That frame is not valid JSON.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("bad_frame", _("A frame must be a JSON object with a “type”."))
    parser = _PARSERS.get(data["type"])
    if parser is None:
        raise ProtocolError(
            "unknown_type",
            _("Unknown frame type. Known types: %(types)s.") % {"types": ", ".join(CLIENT_TYPES)},
        )
    return parser(data)


# --- Server frames ----------------------------------------------------------------------------
def encode(frame: dict[str, Any]) -> str:
    """The one place frames become text; called once per event."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def coarse_time(value: datetime) -> str:
    """Times shown to others are rounded down to the minute: enough to follow, not to trace."""
    return value.replace(second=0, microsecond=0).isoformat()


def message_payload(*, id: int, alias: str, role: str, body: str, created_at: datetime
                    ) -> dict[str, Any]:
    return {"id": id, "alias": alias, "role": role, "body": body,
            "created_at": coarse_time(created_at)}


def member_payload(*, alias: str, role: str) -> dict[str, str]:
    return {"alias": alias, "role": role}


def welcome_frame(*, you: dict[str, str], room: dict[str, Any], rules: str, rules_accepted: bool,
                  joined: bool, members: list[dict[str, str]], history: list[dict[str, Any]],
                  history_truncated: bool = False) -> dict[str, Any]:
    return {
        "type": WELCOME, "you": you, "room": room,
        "rules": {"text": rules, "accepted": rules_accepted},
        "joined": joined, "members": members, "history": history,
        "history_truncated": history_truncated,
    }


def message_new_frame(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": MESSAGE_NEW, "message": message}


def messages_deleted_frame(ids: list[int]) -> dict[str, Any]:
    """Messages gone for good (expired, erased, removed): clients take them off the screen."""
    return {"type": MESSAGE_DELETED, "ids": ids}


def message_ack_frame(*, client_id: str, id: int, duplicate: bool) -> dict[str, Any]:
    return {"type": MESSAGE_ACK, "client_id": client_id, "id": id, "duplicate": duplicate}


def presence_frame(members: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": PRESENCE, "members": members, "count": len(members)}


def typing_frame(*, alias: str) -> dict[str, Any]:
    return {"type": TYPING, "alias": alias}


def notice_frame(*, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": NOTICE, "code": code, "detail": detail, **extra}


def error_frame(*, code: str, detail: str, ref: str | None = None, **extra: Any
                ) -> dict[str, Any]:
    frame = {"type": ERROR, "code": code, "detail": detail, **extra}
    if ref is not None:
        frame["ref"] = ref
    return frame


def crisis_alert_frame(*, alias: str, message_id: int, categories: list[str]) -> dict[str, Any]:
    return {"type": CRISIS_ALERT, "alias": alias, "message_id": message_id,
            "categories": categories}


def pong_frame() -> dict[str, Any]:
    return {"type": PONG}
