"""The websocket protocol of a circle, defined once. Documented frame by frame in docs/protocol.md.

Every frame is a JSON object with a `type`. Client frames are parsed and validated here into small
dataclasses; server frames are built here by one function each and encoded once per event (not
once per recipient).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moderation import models as moderation_models
from rooms.models import Room

# --- Close codes (application range 4000-4999) ------------------------------------------------
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_ROOM_NOT_FOUND = 4404
CLOSE_BANNED = 4403
CLOSE_REMOVED = 4408
CLOSE_DECLINED = 4409
CLOSE_IDENTITY_ERASED = 4410
CLOSE_SESSION_ENDED = 4411
CLOSE_ROLE_CHANGED = 4412  # made or unmade a facilitator of this circle: reconnect
CLOSE_NOT_FACILITATOR = 4413  # the duty desk's socket is for facilitators and admins only
CLOSE_TOO_FAR_BEHIND = 4414  # reads too slowly to keep up with the circle: resume with ?after=
CLOSE_FLOODING = 4429

MAX_FRAME_CHARS = 16_384  # a frame larger than this is refused before parsing
# \A and \Z, not ^ and $: "$" also matches before a final newline, and the pattern is used by
# RegexField (search) as well as here (fullmatch).
CLIENT_ID_RE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")

# --- Client → server --------------------------------------------------------------------------
RULES_ACCEPT = "rules.accept"
MESSAGE_SEND = "message.send"
TYPING = "typing"
PING = "ping"
JOIN = "join"
MODERATE = "moderate"  # facilitators only: one of MODERATION_ACTIONS
REPORT = "report"
HELP_REQUEST = "help.request"
STAFF_SAY = "staff.say"  # facilitators' side channel
# Private one-to-one support (moderation.support), on a circle's socket and on the duty desk's.
SUPPORT_REQUEST = "support.request"  # a participant asks to talk to a facilitator privately
SUPPORT_SYNC = "support.sync"  # the conversations this socket's identity is a party to
SUPPORT_OPEN = "support.open"  # facilitators: open one with an alias or from an alert
SUPPORT_SEND = "support.send"
SUPPORT_END = "support.end"
SUPPORT_RESOURCE = "support.resource"  # facilitators: send a help resource card
# The duty desk's socket only (/ws/duty/, moderation.consumers).
DUTY_START = "duty.start"
DUTY_END = "duty.end"
DESK_ACKNOWLEDGE = "desk.acknowledge"
DESK_TAKE = "desk.take"
DESK_HANDOVER = "desk.handover"
DESK_RESOLVE = "desk.resolve"

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
ROOM_STATE = "room.state"  # locked, paused, slow mode, pinned message
YOU = "you"  # your own state changed: muted, warned, admitted
SESSION_ENDED = "session.ended"
CONSOLE = "console"  # facilitators only: participants, arrivals, reports, audit
REPORT_NEW = "report.new"  # facilitators only
HELP_ALERT = "help.alert"  # facilitators only
STAFF_MESSAGE = "staff.message"  # facilitators only
MODERATE_ACK = "moderate.ack"
SUPPORT_STATE = "support.state"  # the two parties only: their conversations, with messages
SUPPORT_OPENED = "support.opened"
SUPPORT_MESSAGE = "support.message"
SUPPORT_ENDED = "support.ended"
DUTY_STATE = "duty.state"  # the duty desk: on duty or not, the queue, colleagues on duty
DUTY_ALERT = "duty.alert"  # a new alert in a circle this facilitator answers
DUTY_UPDATE = "duty.update"  # an alert was acknowledged, taken, handed over or resolved
DUTY_ACK = "duty.ack"  # the answer to a duty desk or support request (`ref` echoed)


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
    if not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
        raise ProtocolError(
            "invalid_field",
            _("“client_id” must be 1 to 64 letters, digits, “-” or “_”."),
        )
    return MessageSend(type=MESSAGE_SEND, body=body, client_id=client_id)


# --- Moderation: one frame type, one action name, the same parameters over REST ---------------
MAX_REASON_CHARS = 300
MAX_MINUTES = 60 * 24 * 365  # a year: longer bans have no end instead
MAX_SLOW_MODE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Moderate(ClientFrame):
    action: str
    params: dict[str, Any]
    ref: str | None = None


def _no_nul(name: str, value: str) -> str:
    """A NUL character has no business in a name or a reason (and PostgreSQL refuses it)."""
    if "\x00" in value:
        raise ProtocolError("invalid_field",
                            _("“%(name)s” must not contain a NUL character.") % {"name": name})
    return value


def _alias(data: dict[str, Any]) -> str:
    alias = data.get("alias")
    if isinstance(alias, str):
        _no_nul("alias", alias)
    if not isinstance(alias, str) or not 0 < len(alias) <= 80:
        raise ProtocolError("invalid_field", _("“alias” must name someone in this circle."))
    return alias


def _reason(data: dict[str, Any]) -> str:
    reason = data.get("reason", "")
    if reason is None:
        return ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ProtocolError("invalid_field", _("“reason” must be a text of at most %(n)d "
                                               "characters.") % {"n": MAX_REASON_CHARS})
    return _no_nul("reason", reason).strip()


def _whole(data: dict[str, Any], name: str, *, low: int, high: int, optional: bool = False
           ) -> int | None:
    value = data.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError("invalid_field", _("“%(name)s” must be a whole number from "
                                               "%(low)d to %(high)d.")
                            % {"name": name, "low": low, "high": high})
    return value


def _switch(data: dict[str, Any]) -> bool:
    value = data.get("on")
    if not isinstance(value, bool):
        raise ProtocolError("invalid_field", _("“on” must be true or false."))
    return value


def _message_id(data: dict[str, Any], *, optional: bool = False) -> int | None:
    return _whole(data, "message_id", low=1, high=2**62, optional=optional)


def _announcement(data: dict[str, Any]) -> str:
    body = data.get("body")
    if not isinstance(body, str):
        raise ProtocolError("invalid_field", _("“body” must be a text string."))
    return body


def _choice(data: dict[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = data.get(name)
    if value not in choices:
        raise ProtocolError("invalid_field", _("“%(name)s” must be one of: %(choices)s.")
                            % {"name": name, "choices": ", ".join(choices)})
    return value


# How a facilitator closes a report (moderation.models.Report.Status, less "open").
REPORT_OUTCOMES = (moderation_models.Report.Status.ACTIONED.value,
                   moderation_models.Report.Status.DISMISSED.value)

# Each action: the parameters it takes, validated into keyword arguments of its service
# (moderation/services.py). The console and the REST API send exactly these.
MODERATION_ACTIONS: dict[str, Any] = {
    "message.delete": lambda d: {"message_id": _message_id(d), "reason": _reason(d)},
    "member.warn": lambda d: {"alias": _alias(d), "reason": _reason(d)},
    "member.mute": lambda d: {"alias": _alias(d), "reason": _reason(d),
                              "minutes": _whole(d, "minutes", low=1, high=MAX_MINUTES)},
    "member.unmute": lambda d: {"alias": _alias(d)},
    "member.remove": lambda d: {"alias": _alias(d), "reason": _reason(d),
                                "cooldown_minutes": _whole(d, "cooldown_minutes", low=0,
                                                           high=MAX_MINUTES)},
    "member.ban": lambda d: {"alias": _alias(d), "reason": _reason(d),
                             "minutes": _whole(d, "minutes", low=1, high=MAX_MINUTES,
                                               optional=True)},
    "member.unban": lambda d: {"alias": _alias(d)},
    "member.admit": lambda d: {"alias": _alias(d)},
    "member.decline": lambda d: {"alias": _alias(d), "reason": _reason(d)},
    "room.open": lambda d: {"on": _switch(d)},
    "room.lock": lambda d: {"on": _switch(d)},
    "room.pause": lambda d: {"on": _switch(d)},
    "room.slow_mode": lambda d: {"seconds": _whole(d, "seconds", low=0,
                                                  high=MAX_SLOW_MODE_SECONDS)},
    "message.pin": lambda d: {"message_id": _message_id(d, optional=True)},
    "announce": lambda d: {"body": _announcement(d)},
    "session.end": lambda d: {"reason": _reason(d)},
    "report.resolve": lambda d: {
        "report_id": _whole(d, "report_id", low=1, high=2**62),
        "outcome": _choice(d, "outcome", REPORT_OUTCOMES),
    },
}


def parse_moderation(data: dict[str, Any]) -> Moderate:
    """A moderation request, from a websocket frame or a REST body, checked the same way."""
    action = data.get("action")
    parser = MODERATION_ACTIONS.get(action) if isinstance(action, str) else None
    if parser is None:
        raise ProtocolError(
            "unknown_action",
            _("Unknown action. Known actions: %(actions)s.")
            % {"actions": ", ".join(MODERATION_ACTIONS)},
        )
    ref = data.get("ref")
    if ref is not None and (not isinstance(ref, str) or not CLIENT_ID_RE.fullmatch(ref)):
        raise ProtocolError("invalid_field", _("“ref” must be 1 to 64 letters, digits, “-” "
                                               "or “_”."))
    return Moderate(type=MODERATE, action=action, params=parser(data), ref=ref)


@dataclass(frozen=True, slots=True)
class Report(ClientFrame):
    message_id: int
    reason: str


REPORT_REASONS = tuple(moderation_models.Report.Reason.values)  # labels: vocabulary()


def parse_report(data: dict[str, Any]) -> Report:
    return Report(type=REPORT, message_id=_message_id(data),
                  reason=_choice(data, "reason", REPORT_REASONS))


@dataclass(frozen=True, slots=True)
class StaffSay(ClientFrame):
    body: str


def _parse_staff_say(data: dict[str, Any]) -> StaffSay:
    return StaffSay(type=STAFF_SAY, body=_announcement(data))


# --- Private support and the duty desk -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Request(ClientFrame):
    """A support or duty-desk request: its parameters, checked into keyword arguments of the
    service it names, and a `ref` echoed in the answer."""

    params: dict[str, Any]
    ref: str | None = None


def _id(data: dict[str, Any], name: str) -> int:
    return _whole(data, name, low=1, high=2**62)


def _client_id(data: dict[str, Any]) -> str:
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
        raise ProtocolError("invalid_field",
                            _("“client_id” must be 1 to 64 letters, digits, “-” or “_”."))
    return client_id


def _support_open(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("report_id") is not None:
        return {"report_id": _id(data, "report_id")}
    return {"alias": _alias(data)}


# Each request: the parameters it takes. The same checks serve the REST mirrors.
SUPPORT_REQUESTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    SUPPORT_REQUEST: lambda d: {},
    SUPPORT_SYNC: lambda d: {},
    SUPPORT_OPEN: _support_open,
    SUPPORT_SEND: lambda d: {"conversation_id": _id(d, "conversation_id"),
                             "body": _announcement(d), "client_id": _client_id(d)},
    SUPPORT_END: lambda d: {"conversation_id": _id(d, "conversation_id")},
    SUPPORT_RESOURCE: lambda d: {"conversation_id": _id(d, "conversation_id"),
                                 "resource_id": _id(d, "resource_id")},
}
DESK_REQUESTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    DUTY_START: lambda d: {},
    DUTY_END: lambda d: {},
    DESK_ACKNOWLEDGE: lambda d: {"report_id": _id(d, "report_id")},
    DESK_TAKE: lambda d: {"report_id": _id(d, "report_id")},
    DESK_HANDOVER: lambda d: {"report_id": _id(d, "report_id"), "to_user_id": _id(d, "to")},
    DESK_RESOLVE: lambda d: {"report_id": _id(d, "report_id"),
                             "outcome": _choice(d, "outcome", REPORT_OUTCOMES)},
}


def _request_parser(frame_type: str, table: dict[str, Callable[[dict[str, Any]],
                                                              dict[str, Any]]]
                    ) -> Callable[[dict[str, Any]], Request]:
    def parse(data: dict[str, Any]) -> Request:
        ref = data.get("ref")
        if ref is not None and (not isinstance(ref, str) or not CLIENT_ID_RE.fullmatch(ref)):
            raise ProtocolError("invalid_field", _("“ref” must be 1 to 64 letters, digits, "
                                                   "“-” or “_”."))
        return Request(type=frame_type, params=table[frame_type](data), ref=ref)

    return parse


_SUPPORT_PARSERS = {name: _request_parser(name, SUPPORT_REQUESTS) for name in SUPPORT_REQUESTS}
# The duty desk's socket: its own requests, the support ones (but asking for help), and ping.
DUTY_PARSERS: dict[str, Callable[[dict[str, Any]], ClientFrame]] = {
    PING: lambda data: ClientFrame(type=PING),
    **{name: _request_parser(name, DESK_REQUESTS) for name in DESK_REQUESTS},
    **{name: parser for name, parser in _SUPPORT_PARSERS.items() if name != SUPPORT_REQUEST},
}

_PARSERS = {
    RULES_ACCEPT: lambda data: ClientFrame(type=RULES_ACCEPT),
    MESSAGE_SEND: _parse_message_send,
    TYPING: lambda data: ClientFrame(type=TYPING),
    PING: lambda data: ClientFrame(type=PING),
    JOIN: lambda data: ClientFrame(type=JOIN),
    MODERATE: parse_moderation,
    REPORT: parse_report,
    HELP_REQUEST: lambda data: ClientFrame(type=HELP_REQUEST),
    STAFF_SAY: _parse_staff_say,
    **_SUPPORT_PARSERS,
}
CLIENT_TYPES = tuple(_PARSERS) + tuple(name for name in DUTY_PARSERS if name not in _PARSERS)


def parse_client_frame(text: str | None, *,
                       parsers: dict[str, Callable[[dict[str, Any]], ClientFrame]] | None = None
                       ) -> ClientFrame:
    """Validate one incoming text frame, or raise ProtocolError with a readable detail. A
    circle's socket by default; the duty desk's passes `DUTY_PARSERS`."""
    known = _PARSERS if parsers is None else parsers
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
    parser = known.get(data["type"])
    if parser is None:
        raise ProtocolError(
            "unknown_type",
            _("Unknown frame type. Known types: %(types)s.") % {"types": ", ".join(known)},
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


def time_or_none(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def welcome_frame(*, you: dict[str, Any], room: dict[str, Any], rules: str, rules_accepted: bool,
                  joined: bool, members: list[dict[str, str]], history: list[dict[str, Any]],
                  history_truncated: bool = False, waiting: bool = False) -> dict[str, Any]:
    return {
        "type": WELCOME, "you": you, "room": room,
        "rules": {"text": rules, "accepted": rules_accepted},
        "joined": joined, "waiting": waiting, "members": members, "history": history,
        "history_truncated": history_truncated,
    }


def you_frame(you: dict[str, Any]) -> dict[str, Any]:
    """Your own state (muted until, admission) changed; sent to your sockets only."""
    return {"type": YOU, "you": you}


def room_state_frame(room: dict[str, Any]) -> dict[str, Any]:
    return {"type": ROOM_STATE, "room": room}


def session_ended_frame(*, detail: str) -> dict[str, Any]:
    return {"type": SESSION_ENDED, "detail": detail}


def console_frame(console: dict[str, Any]) -> dict[str, Any]:
    return {"type": CONSOLE, **console}


def report_new_frame(report: dict[str, Any]) -> dict[str, Any]:
    return {"type": REPORT_NEW, "report": report}


def help_alert_frame(*, alias: str, report_id: int) -> dict[str, Any]:
    return {"type": HELP_ALERT, "alias": alias, "report_id": report_id}


def staff_message_frame(*, alias: str, body: str, created_at: datetime) -> dict[str, Any]:
    return {"type": STAFF_MESSAGE, "alias": alias, "body": body,
            "created_at": coarse_time(created_at)}


def moderate_ack_frame(*, action: str, ref: str | None, result: dict[str, Any]
                       ) -> dict[str, Any]:
    return {"type": MODERATE_ACK, "action": action, "ref": ref, "result": result}


def message_new_frame(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": MESSAGE_NEW, "message": message}


def messages_deleted_frame(ids: list[int], *, by: str = "") -> dict[str, Any]:
    """Messages gone for good (expired, erased, removed): clients take them off the screen.
    `by` is "facilitator" when a facilitator deleted them (their author is told so)."""
    frame: dict[str, Any] = {"type": MESSAGE_DELETED, "ids": ids}
    if by:
        frame["by"] = by
    return frame


def message_ack_frame(*, client_id: str, id: int, duplicate: bool) -> dict[str, Any]:
    return {"type": MESSAGE_ACK, "client_id": client_id, "id": id, "duplicate": duplicate}


def presence_frame(members: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": PRESENCE, "members": members, "count": len(members)}


def typing_frame(*, alias: str) -> dict[str, Any]:
    return {"type": TYPING, "alias": alias}


def notice_frame(*, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": NOTICE, "code": code, "detail": detail, **extra}


# --- Notices rendered in each reader's language -----------------------------------------------
# A notice about a facilitator's decision reaches other people's sockets as a code and its
# parameters; each socket renders it in its own language (rooms.consumers), so a French
# participant reads French whatever language the facilitator's console is in.
NOTICE_TEXTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "warned": lambda p: _("A facilitator reminds you of the house rules."),
    "muted": lambda p: ngettext(
        "A facilitator muted you for %(minutes)d minute. You can still read.",
        "A facilitator muted you for %(minutes)d minutes. You can still read.",
        p["minutes"]) % {"minutes": p["minutes"]},
    "unmuted": lambda p: _("You can write again."),
    "removed": lambda p: ngettext(
        "A facilitator asked you to leave this session. You can come back in %(minutes)d "
        "minute.",
        "A facilitator asked you to leave this session. You can come back in %(minutes)d "
        "minutes.", p["minutes"]) % {"minutes": p["minutes"]},
    "let_back_in": lambda p: _("A facilitator let you back in: you can take part again."),
    "banned": lambda p: _("You cannot take part in this circle any more."),
    "declined": lambda p: _("A facilitator did not admit you to this session."),
    "session_ended": lambda p: _("The facilitators ended this session. Thank you for being "
                                 "here."),
    "identity_erased": lambda p: _("Your identity and messages are erased."),
    "help_seen": lambda p: _("A facilitator has seen your request."),
    "help_with_you": lambda p: _("A facilitator is with you in a private conversation."),
    "help_handed_over": lambda p: _("Another facilitator is now with you in your private "
                                    "conversation."),
}


def localized_frame(*, frame_type: str, code: str, params: dict[str, Any]) -> dict[str, Any]:
    """The frame of a localized event, in the active language (the reader's)."""
    detail = NOTICE_TEXTS[code](params)
    if frame_type == SESSION_ENDED:
        return session_ended_frame(detail=detail)
    return notice_frame(code=code, detail=detail, **params)


def error_frame(*, code: str, detail: str, ref: str | None = None, **extra: Any
                ) -> dict[str, Any]:
    frame = {"type": ERROR, "code": code, "detail": detail, **extra}
    if ref is not None:
        frame["ref"] = ref
    return frame


def crisis_alert_frame(*, alias: str, message_id: int | None, categories: list[str],
                       report_id: int | None = None) -> dict[str, Any]:
    return {"type": CRISIS_ALERT, "alias": alias, "message_id": message_id,
            "categories": categories, "report_id": report_id}


def pong_frame() -> dict[str, Any]:
    return {"type": PONG}


def support_state_frame(conversations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": SUPPORT_STATE, "conversations": conversations}


def support_opened_frame(conversation: dict[str, Any]) -> dict[str, Any]:
    return {"type": SUPPORT_OPENED, "conversation": conversation}


def support_message_frame(*, conversation_id: int, message: dict[str, Any]) -> dict[str, Any]:
    return {"type": SUPPORT_MESSAGE, "conversation_id": conversation_id, "message": message}


def support_ended_frame(*, conversation_id: int, by: str) -> dict[str, Any]:
    return {"type": SUPPORT_ENDED, "conversation_id": conversation_id, "by": by}


def duty_state_frame(*, on_duty: bool, queue: list[dict[str, Any]],
                     colleagues: list[dict[str, Any]], conversations: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    return {"type": DUTY_STATE, "on_duty": on_duty, "queue": queue, "colleagues": colleagues,
            "conversations": conversations}


def duty_alert_frame(report: dict[str, Any]) -> dict[str, Any]:
    return {"type": DUTY_ALERT, "report": report}


def duty_update_frame(report: dict[str, Any]) -> dict[str, Any]:
    return {"type": DUTY_UPDATE, "report": report}


def duty_ack_frame(*, request: str, ref: str | None, result: dict[str, Any]) -> dict[str, Any]:
    return {"type": DUTY_ACK, "request": request, "ref": ref, "result": result}


# --- The vocabulary, for the browser ----------------------------------------------------------
# Everything a client needs to name what this module defines, in one object: served as
# /protocol.js (web/protocol_views.py), the browser's only copy. Labels are in the active
# language; the choices they label are the models' own (rooms.models, moderation.models).
SERVER_TYPES = (WELCOME, MESSAGE_NEW, MESSAGE_ACK, MESSAGE_DELETED, PRESENCE, TYPING, NOTICE,
                ERROR, PONG, CRISIS_ALERT, ROOM_STATE, YOU, SESSION_ENDED, CONSOLE, REPORT_NEW,
                HELP_ALERT, STAFF_MESSAGE, MODERATE_ACK, SUPPORT_STATE, SUPPORT_OPENED,
                SUPPORT_MESSAGE, SUPPORT_ENDED, DUTY_STATE, DUTY_ALERT, DUTY_UPDATE, DUTY_ACK)

# Every `code` an error can carry: `error` frames, and REST error bodies (docs/protocol.md,
# "Error codes"). A new code is added here first; tests/test_protocol_vocabulary.py checks.
ERROR_CODES = (
    # the socket and its frames (rooms.consumers, this module)
    "not_authenticated", "room_not_found", "invalid_after", "bad_frame", "frame_too_large",
    "bad_json", "unknown_type", "invalid_field", "unknown_action", "internal",
    # entering and writing (rooms.services)
    "alias_exhausted", "banned", "removed", "room_locked", "declined", "invitation_needed",
    "not_admitted", "muted", "paused", "rules_not_accepted", "room_closed", "room_full",
    "duplicate_client_id",
    # the house rules (moderation.pipeline)
    "empty", "too_long", "blocked_word", "slow_mode", "rate_limited",
    # facilitators (moderation.services)
    "not_facilitator", "not_yourself", "target_is_facilitator", "member_not_found",
    "message_not_found", "report_not_found", "report_resolved", "empty_message", "not_admin",
    "user_not_found",
    # the duty desk and private support (moderation.duty, moderation.support)
    "not_on_duty", "report_taken", "not_taker", "conversation_not_found",
    "conversation_ended", "conversation_open", "resource_not_found",
    # applications and invitations (rooms.applications)
    "session_not_found", "session_over", "too_early", "not_by_application", "note_too_long",
    "invalid_email", "application_not_found", "application_decided", "invitation_not_found",
    "invitation_used",
    # identities and REST bodies (accounts.services, the REST edges)
    "pseudonym_exhausted", "not_pseudonymous", "weak_passphrase", "bad_credentials",
    "too_many_attempts", "bad_body", "invalid_display_name", "display_name_taken",
    # the limits on every door (moderation.ratelimit, docs/security.md): each with retry_after
    "too_many_help_requests", "too_many_reports", "too_many_notes", "too_many_applications",
    "too_many_identities", "too_many_connections",
)

# Every `code` a notice can carry (docs/protocol.md, `notice`).
NOTICE_CODES = (
    # about one's own message (moderation.pipeline, moderation.house_rules)
    "crisis_support", "email_hidden", "link_hidden", "phone_hidden", "id_hidden",
    "medical_advice", "report_received",
    # a facilitator's decision, or the server's
    "warned", "muted", "unmuted", "removed", "let_back_in", "banned", "declined",
    "session_ended", "identity_erased", "application_approved", "application_declined",
    # what became of a request for help, true when said (moderation.duty, moderation.support)
    "help_seen", "help_with_you", "help_handed_over", "support_requested",
)

CLOSE_CODES: dict[str, int] = {
    name.removeprefix("CLOSE_"): value for name, value in globals().items()
    if name.startswith("CLOSE_") and isinstance(value, int)
}
REPORT_SOURCES = tuple(moderation_models.Report.Source.values)
ACCESS_MODES = tuple(Room.Access.values)
AUDIT_KINDS = tuple(moderation_models.Action.Kind.values)
LIMITS = {
    "MAX_FRAME_CHARS": MAX_FRAME_CHARS,
    "MAX_REASON_CHARS": MAX_REASON_CHARS,
    "MAX_MINUTES": MAX_MINUTES,
    "MAX_SLOW_MODE_SECONDS": MAX_SLOW_MODE_SECONDS,
}


def _labels(choices: Any) -> dict[str, str]:
    """A TextChoices class as {value: label}, in its order, labels in the active language."""
    return {value: str(label) for value, label in choices.choices}


def vocabulary() -> dict[str, Any]:
    """What the browser needs to speak this protocol, labels in the active language."""
    return {
        "close_codes": dict(CLOSE_CODES),
        "error_codes": list(ERROR_CODES),
        "notice_codes": list(NOTICE_CODES),
        "frame_types": {"client": list(CLIENT_TYPES), "server": list(SERVER_TYPES)},
        "moderation_actions": list(MODERATION_ACTIONS),
        "report_reasons": _labels(moderation_models.Report.Reason),
        "report_sources": _labels(moderation_models.Report.Source),
        "report_outcomes": list(REPORT_OUTCOMES),
        "access_modes": _labels(Room.Access),
        "audit_kinds": _labels(moderation_models.Action.Kind),
        "limits": dict(LIMITS),
    }
