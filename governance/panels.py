"""Home-page panels and navigation of the management system."""

from __future__ import annotations

from sms.core.registry import HomePanel, NavEntry, shell
from sms.tenancy.roles import Role

from .choices import ImprovementState as S
from .models import Improvement

PANEL_ROWS = 8
OPEN_STATES = (S.PROPOSED, S.APPROVED, S.IN_PROGRESS, S.IMPLEMENTED)


def to_decide(request) -> dict:
    # Someone else's proposals only: nobody decides on their own (segregation of duties).
    qs = Improvement.objects.filter(state=S.PROPOSED).exclude(created_by=request.user)
    return {"rows": list(qs.select_related("owner").order_by("priority", "number")[:PANEL_ROWS]), "total": qs.count()}


def my_improvements(request) -> dict:
    qs = Improvement.objects.filter(owner=request.user, state__in=OPEN_STATES)
    return {"rows": list(qs.select_related("owner").order_by("due_date", "number")[:PANEL_ROWS]), "total": qs.count()}


def register() -> None:
    shell.add_nav(NavEntry("Management system", "Improvements", "improvements:list", "improvement.view", order=80))
    shell.add_panel(
        HomePanel(
            code="improvements_to_decide",
            title="Improvements waiting for a decision",
            template="panels/record_rows.html",
            roles=(Role.PROCESS_OWNER, Role.TOP_MANAGEMENT),
            capability="improvement.approve",
            context=to_decide,
            order=20,
        )
    )
    shell.add_panel(
        HomePanel(
            code="my_improvements",
            title="Improvements you own",
            template="panels/record_rows.html",
            roles=tuple(r for r in Role.values if r != Role.AUDITOR),
            capability="improvement.view",
            context=my_improvements,
            order=30,
        )
    )
