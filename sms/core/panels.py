"""The kernel's home-page panels and navigation entries (registered in CoreConfig.ready())."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sms.core.models import PlannedActivity, Watcher
from sms.core.registry import HomePanel, NavEntry, shell
from sms.tenancy.roles import Role

ALL_ROLES = tuple(Role.values)
PANEL_ROWS = 8


def planned_due(request) -> dict:
    today = timezone.localdate()
    horizon = today + dt.timedelta(days=30)
    rows = list(
        PlannedActivity.objects.active()
        .filter(next_due__lte=horizon)
        .select_related("owner")
        .order_by("next_due", "id")[:PANEL_ROWS]
    )
    return {"rows": rows, "today": today}


def watching(request) -> dict:
    rows = list(
        Watcher.objects.filter(user=request.user).prefetch_related("record").order_by("-created_at")[:PANEL_ROWS]
    )
    return {"rows": [w for w in rows if w.record is not None]}


def register() -> None:
    shell.add_nav(NavEntry("Management system", "Planned activities", "planned", "planned.view", order=90))
    shell.add_nav(NavEntry("Administration", "Members and roles", "members", "member.manage", order=200))
    shell.add_nav(NavEntry("Administration", "E-mail outbox", "outbox", "outbox.retry", order=210))
    shell.add_panel(
        HomePanel(
            code="planned_due",
            title="Planned activities due within 30 days",
            template="panels/planned_due.html",
            roles=(Role.PROCESS_OWNER, Role.TOP_MANAGEMENT, Role.AUDITOR, Role.ADMIN),
            capability="planned.view",
            context=planned_due,
            order=50,
        )
    )
    shell.add_panel(
        HomePanel(
            code="watching",
            title="Records you watch",
            template="panels/watching.html",
            roles=ALL_ROLES,
            capability="",
            context=watching,
            order=10,
        )
    )
