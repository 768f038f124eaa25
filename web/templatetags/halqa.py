"""Template tags every page needs, read from the settings (base.html)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def quick_exit_url() -> str:
    """The neutral page the quick-exit button leaves for (HALQA["QUICK_EXIT_URL"])."""
    return settings.HALQA["QUICK_EXIT_URL"]
