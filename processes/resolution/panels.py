"""Navigation and home-page panels of the resolution processes."""

from __future__ import annotations

from django.db.models import Q

from sms.core.registry import HomePanel, NavEntry, shell
from sms.tenancy.roles import Role

from .choices import OPEN_STATES, RUNNING_STATES
from .models import Incident

PANEL_ROWS = 8


def _rows(qs, order: tuple[str, ...]) -> dict:
    return {"rows": list(qs.order_by(*order)[:PANEL_ROWS]), "total": qs.count()}


def my_open_incidents(request) -> dict:
    return _rows(
        Incident.objects.filter(assignee=request.user, state__in=OPEN_STATES),
        ("priority", "resolution_due_at", "number"),
    )


def unassigned_incidents(request) -> dict:
    return _rows(
        Incident.objects.filter(assignee__isnull=True, state__in=OPEN_STATES),
        ("priority", "resolution_due_at", "number"),
    )


def breached_or_at_risk(request) -> dict:
    from .services import resolution_settings

    pct = resolution_settings().at_risk_percent
    qs = (
        Incident.objects.with_clock(pct)
        .filter(state__in=RUNNING_STATES)
        .filter(Q(response_breached=True) | Q(resolution_breached=True) | Q(resolution_overdue=True) | Q(at_risk=True))
    )
    return _rows(qs, ("resolution_due_at", "number"))


def register() -> None:
    shell.add_nav(NavEntry("Resolution", "Service desk", "resolution-desk", "incident.view", order=5))
    shell.add_nav(NavEntry("Resolution", "Support groups", "resolution-support-groups", "groupmember.view", order=6))
    shell.add_nav(NavEntry("Resolution", "Incidents", "incidents:list", "incident.view", order=10))
    shell.add_nav(NavEntry("Resolution", "Priorities and service hours", "resolution-setup", "incident.view", order=15))
    shell.add_panel(
        HomePanel(
            code="my_open_incidents",
            title="My open incidents",
            template="panels/record_rows.html",
            roles=(Role.AGENT,),
            capability="incident.view",
            context=my_open_incidents,
            order=5,
        )
    )
    shell.add_panel(
        HomePanel(
            code="unassigned_incidents",
            title="Unassigned incidents",
            template="panels/record_rows.html",
            roles=(Role.AGENT,),
            capability="incident.view",
            context=unassigned_incidents,
            order=6,
        )
    )
    shell.add_panel(
        HomePanel(
            code="incidents_at_risk",
            title="Incidents breached or at risk",
            template="panels/record_rows.html",
            roles=(Role.PROCESS_OWNER,),
            capability="incident.view",
            context=breached_or_at_risk,
            order=7,
        )
    )
