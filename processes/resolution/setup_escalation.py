"""Registration of escalation, major incidents and customer notifications (called from
``ResolutionConfig.ready``): capabilities, navigation, signal receivers, demo data."""

from __future__ import annotations


def open_major_incidents(request) -> dict:
    from .choices import OPEN_STATES
    from .models import Incident

    qs = Incident.objects.filter(is_major=True, state__in=OPEN_STATES)
    return {"rows": list(qs.order_by("-major_declared_at", "-number")[:8]), "total": qs.count()}


def register() -> None:
    from sms.core import demo
    from sms.core.registry import HomePanel, NavEntry, shell
    from sms.tenancy.roles import Role, grant

    from . import notifications
    from .demo_escalation import seed_escalation

    # Major incident reviews: written by whoever runs the incident (often a service desk
    # agent as major incident manager), process owners and administrators (wildcards).
    grant(Role.AGENT, "majorincidentreview.create", "majorincidentreview.update")
    shell.add_nav(NavEntry("Resolution", "Major incidents", "resolution-major-incidents", "incident.view", order=11))
    shell.add_nav(NavEntry("Resolution", "Escalation rules", "resolution-escalation-rules", "incident.view", order=16))
    shell.add_panel(
        HomePanel(
            code="open_major_incidents",
            title="Open major incidents",
            template="panels/record_rows.html",
            roles=(Role.TOP_MANAGEMENT, Role.PROCESS_OWNER),
            capability="incident.view",
            context=open_major_incidents,
            order=4,
        )
    )
    notifications.connect()
    demo.register(seed_escalation)
