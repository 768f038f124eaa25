"""Reads for facilitators and for people who need help: reports, the audit trail, the help
directory. Nothing here writes; services and edges of every app may use these."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from moderation.models import Action, Report, Resource
from rooms import crypto, protocol
from rooms import selectors as room_selectors
from rooms.models import Language, Room

REPORT_LIST_LIMIT = 200


# --- Reports ------------------------------------------------------------------------------------
def report_text(report: Report) -> str | None:
    """The report's copy of the reported text, while the message it copies would still be
    kept; None afterwards, or once the message's key is destroyed (its copy dies with it)."""
    if not report.snapshot_encrypted or report.snapshot_key is None:
        return None
    if report.snapshot_expires_at is None or report.snapshot_expires_at <= timezone.now():
        return None
    try:
        return crypto.decrypt(wrapped_key=room_selectors.author_key_wrapped(report.snapshot_key),
                              token=report.snapshot_encrypted)
    except crypto.KeyDestroyed:
        return None


def report_payload(report: Report) -> dict[str, Any]:
    text = report_text(report)
    return {
        "id": report.pk, "source": report.source, "reason": report.reason,
        "message_id": report.message_id, "reporter": report.reporter_alias,
        "alias": report.target_alias, "status": report.status,
        "text": text,
        # It had a copy of the text, which is gone now: the message has expired.
        "expired": bool(report.snapshot_encrypted) and text is None,
        "created_at": protocol.coarse_time(report.created_at),
    }


def report_queue(*, room_id: int, status: str = Report.Status.OPEN) -> list[dict[str, Any]]:
    """A circle's reports with one status (the open queue by default), oldest first."""
    return [report_payload(r) for r in
            Report.objects.select_related("snapshot_key").filter(room_id=room_id, status=status)
            .order_by("created_at", "id")[:REPORT_LIST_LIMIT]]


# --- The audit trail ----------------------------------------------------------------------------
def audit_payload(action: Action) -> dict[str, Any]:
    return {"id": action.pk, "kind": action.kind, "label": str(action.get_kind_display()),
            "by": action.actor_alias, "alias": action.target_alias, "reason": action.reason,
            "detail": action.detail, "created_at": action.created_at.isoformat()}


def audit_recent(*, room_id: int, limit: int) -> list[dict[str, Any]]:
    return [audit_payload(a) for a in Action.objects.filter(room_id=room_id)[:limit]]


def audit_for_export(*, room: Room | None = None, ids: list[int] | None = None
                     ) -> QuerySet[Action]:
    """All of the audit trail, or one circle's, or the chosen entries."""
    actions = Action.objects.select_related("room")
    if room is not None:
        actions = actions.filter(room=room)
    if ids is not None:
        actions = actions.filter(pk__in=ids)
    return actions


# --- Help resources -----------------------------------------------------------------------------
# What someone in a circle is offered (their region and language first) is
# moderation.care.resources_ranked; below, the public directory.

# The order of the sections on the help page: the most urgent first.
DIRECTORY_KINDS = (
    Resource.Kind.EMERGENCY,
    Resource.Kind.CRISIS_LINE,
    Resource.Kind.VIOLENCE_AGAINST_WOMEN,
    Resource.Kind.LEGAL_AID,
    Resource.Kind.HEALTH,
    Resource.Kind.FAMILY_MEDIATION,
    Resource.Kind.YOUTH,
    Resource.Kind.EMPLOYMENT_TRAINING,
)


def resources_directory(*, language: str = "", region: str = "") -> dict[str, Any]:
    """The active help resources grouped by kind, most urgent kind first, for the help page.

    `language` ("" for all) keeps the resources offered in it (Darija also finds Arabic ones);
    `region` ("" for all) keeps the resources serving that region and the nationwide ones. Also
    returns the regions and languages there are to choose from, and the filters as understood
    (an unknown value counts as no filter). Example entries of the demo data are listed, marked
    `is_example`, so that an admin sees what is left to fill in."""
    rows = list(Resource.objects.filter(is_active=True).order_by("is_example", "order", "name"))
    regions = sorted({name for r in rows for name in r.region_list}, key=str.casefold)
    language = language if language in Language.values else ""
    region = next((name for name in regions if name.casefold() == region.strip().casefold()),
                  "")
    wanted = {language, "ar"} if language == "ary" else {language}
    names = dict(Language.choices)
    groups = []
    for kind in DIRECTORY_KINDS:
        found = [
            {"name": r.name, "phone": r.phone, "tel": "".join(c for c in r.phone
                                                             if c.isdigit() or c == "+"),
             # Only a web address is ever a link (rows written around the admin's checks).
             "url": r.url if r.url.lower().startswith(("https://", "http://")) else "",
             "hours": r.hours, "description": r.description,
             "regions": r.region_list, "verified_on": r.verified_on,
             "is_example": r.is_example,
             "languages": [(code, names.get(code, code)) for code in r.language_list]}
            for r in rows
            if r.kind == kind
            and (not region or r.serves_region(region))
            and (not language or wanted & set(r.language_list))
        ]
        if found:
            groups.append({"kind": kind.value, "label": kind.label, "resources": found})
    return {
        "groups": groups,
        "regions": regions,
        "languages": [(code, label) for code, label in Language.choices],
        "language": language,
        "region": region,
    }
