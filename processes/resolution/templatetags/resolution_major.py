"""Template helpers for the major incident and escalation sections of an incident page."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def major_incident_context(incident) -> dict:
    """The incident's escalations, its review and the members who may manage it."""
    from sms.core.api.serializers import tenant_members

    from ..models import Escalation, MajorIncidentReview

    review = MajorIncidentReview.objects.filter(incident=incident).first() if incident.is_major else None
    return {
        "escalations": list(Escalation.objects.filter(incident=incident).order_by("-created_at", "-id")[:50]),
        "review": review,
        "members": list(tenant_members().order_by("username")) if incident.is_major else [],
    }
