"""Problem management and the known error database (clause 8.2): their record kinds,
navigation, home-page panel and demo data, registered from ``ResolutionConfig.ready()``."""

from __future__ import annotations


def register() -> None:
    from sms.core import demo
    from sms.core.registry import HomePanel, NavEntry, kinds, shell
    from sms.tenancy.roles import Role

    from . import demo_problems, panels_problems
    from .models import KnownError, Problem
    from .models.problems import KNOWN_ERROR_SEARCH_FIELDS
    from .problem_choices import KNOWN_ERROR_STATE_COLOURS, PROBLEM_STATE_COLOURS

    kinds.register(
        code="problem",
        model=Problem,
        prefix="PRB",
        process="Problem management",
        clause="8.2",
        api_path="problems",
        url_namespace="problems",
        state_colours=PROBLEM_STATE_COLOURS,
        closed_states=("closed", "cancelled"),
    )
    kinds.register(
        code="knownerror",
        model=KnownError,
        prefix="KE",
        process="Problem management",
        clause="8.2",
        api_path="known-errors",
        url_namespace="knownerrors",
        state_colours=KNOWN_ERROR_STATE_COLOURS,
        search_fields=KNOWN_ERROR_SEARCH_FIELDS,
        closed_states=("retired",),
    )
    shell.add_nav(NavEntry("Resolution", "Problems", "problems:list", "problem.view", order=30))
    shell.add_nav(NavEntry("Resolution", "Known errors", "knownerrors:list", "knownerror.view", order=31))
    shell.add_nav(NavEntry("Resolution", "Incident trends", "resolution-trends", "incident.view", order=32))
    shell.add_panel(
        HomePanel(
            code="open_problems",
            title="Open problems",
            template="panels/record_rows.html",
            roles=(Role.PROCESS_OWNER, Role.AGENT),
            capability="problem.view",
            context=panels_problems.open_problems,
            order=20,
        )
    )
    demo.register(demo_problems.seed_demo)
