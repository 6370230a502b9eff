"""Wiring of release and deployment management (clause 9.3), called from the control
app's ``ready()``: the record kind (references REL-n), navigation and demo data."""

from __future__ import annotations

import datetime as dt

PANEL_ROWS = 8
PANEL_DAYS = 14


def upcoming_releases(request) -> dict:
    """Home panel: releases still to come in the next two weeks (service desk, change
    assessment), in three queries."""
    from django.urls import reverse
    from django.utils import timezone

    from .release_choices import RELEASE_UPCOMING_STATES
    from .services_releases import calendar

    today = timezone.localdate()
    qs = calendar(today, today + dt.timedelta(days=PANEL_DAYS)).filter(state__in=RELEASE_UPCOMING_STATES)
    return {
        "rows": list(qs[:PANEL_ROWS]),
        "total": qs.count(),
        "days": PANEL_DAYS,
        "calendar_url": reverse("releases:calendar", kwargs={"tenant_slug": request.tenant.slug}),
    }


def register() -> None:
    from sms.core import demo
    from sms.core.registry import HomePanel, NavEntry, kinds, shell
    from sms.tenancy.roles import Role

    from .demo_releases import seed_releases
    from .models import Release
    from .release_choices import RELEASE_FINISHED_STATES, RELEASE_STATE_COLOURS

    kinds.register(
        code="release",
        model=Release,
        prefix="REL",
        process="Release and deployment management",
        clause="9.3",
        api_path="releases",
        url_namespace="releases",
        state_colours=RELEASE_STATE_COLOURS,
        closed_states=tuple(str(s) for s in RELEASE_FINISHED_STATES),
    )
    # release.view/create/update/transition come from the role matrix's wildcards
    # (sms/tenancy/roles.py); release.approve is named there for process owners and the
    # change advisory board. The release policy is process owners' and administrators'
    # through their releasepolicy.* wildcards; everyone reads it.
    shell.add_nav(NavEntry("Control", "Releases", "releases:list", "release.view", order=20))
    shell.add_nav(NavEntry("Control", "Release calendar", "releases:calendar", "release.view", order=21))
    shell.add_nav(NavEntry("Control", "Release policy", "release-policy", "releasepolicy.view", order=22))
    shell.add_panel(
        HomePanel(
            code="upcoming_releases",
            title="Releases in the next two weeks",
            template="panels/upcoming_releases.html",
            roles=(Role.AGENT, Role.PROCESS_OWNER, Role.CHANGE_APPROVER),
            capability="release.view",
            context=upcoming_releases,
            order=8,
        )
    )
    demo.register(seed_releases)
