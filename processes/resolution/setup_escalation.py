"""Registration of escalation, major incidents and customer notifications (called from
``ResolutionConfig.ready``): capabilities, navigation, signal receivers, demo data."""

from __future__ import annotations


def register() -> None:
    from sms.core import demo
    from sms.core.registry import NavEntry, shell
    from sms.tenancy.roles import Role, grant

    from . import notifications
    from .demo_escalation import seed_escalation

    # Major incident reviews: written by whoever runs the incident (often a service desk
    # agent as major incident manager), process owners and administrators (wildcards).
    grant(Role.AGENT, "majorincidentreview.create", "majorincidentreview.update")
    shell.add_nav(NavEntry("Resolution", "Major incidents", "resolution-major-incidents", "incident.view", order=11))
    shell.add_nav(NavEntry("Resolution", "Escalation rules", "resolution-escalation-rules", "incident.view", order=16))
    notifications.connect()
    demo.register(seed_escalation)
