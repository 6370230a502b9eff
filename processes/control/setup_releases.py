"""Wiring of release and deployment management (clause 9.3), called from the control
app's ``ready()``: the record kind (references REL-n), navigation and demo data."""

from __future__ import annotations


def register() -> None:
    from sms.core import demo
    from sms.core.registry import NavEntry, kinds, shell

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
    demo.register(seed_releases)
