"""The site's own error pages (404, 403, 500): in the site's layout, in the visitor's language,
with Quick exit and a way back. server.api's handlers call these outside /api/."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

log = logging.getLogger(__name__)


def _page(request: HttpRequest, *, status: int, title: str, text: str) -> HttpResponse:
    html = render_to_string("web/error.html", {"status": status, "title": title, "text": text},
                            request=request)
    return HttpResponse(html, status=status)


def page_not_found(request: HttpRequest) -> HttpResponse:
    return _page(request, status=404, title=_("This page does not exist"),
                 text=_("The address may be mistyped, or the page was moved or removed."))


def permission_denied(request: HttpRequest) -> HttpResponse:
    return _page(request, status=403, title=_("This page is not for you"),
                 text=_("You cannot open this page with the identity you are using now."))


def server_error(request: HttpRequest) -> HttpResponse:
    """Drawn with as little as possible (no database), and never failing: Django's bare page
    is the last resort."""
    try:
        return _page(request, status=500, title=_("Something went wrong on our side"),
                     text=_("Please try again in a moment. If it keeps happening, come back a "
                            "little later."))
    except Exception:  # the error page must never be an error itself
        log.exception("the 500 page could not be drawn")
        response = defaults.server_error(request)
        return response if response.status_code == 500 else HttpResponseServerError()
