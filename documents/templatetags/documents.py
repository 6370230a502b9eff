"""Template helpers of the document pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from ..choices import VERSION_STATE_COLOURS

register = template.Library()


@register.simple_tag
def version_badge(version) -> str:
    if version is None:
        return ""
    colour = VERSION_STATE_COLOURS.get(version.state, "grey")
    return format_html('<span class="badge badge-{}">{}</span>', colour, version.get_state_display())
