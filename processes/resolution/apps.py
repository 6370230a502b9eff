from django.apps import AppConfig


class ResolutionConfig(AppConfig):
    """Resolution processes (clause 8): incident management with priorities, service
    calendars and targets."""

    name = "processes.resolution"
    label = "resolution"
    verbose_name = "Resolution processes (8)"

    def ready(self) -> None:
        from sms.core import demo
        from sms.core.registry import kinds
        from sms.tenancy.roles import Role, grant

        from . import panels
        from .choices import INCIDENT_STATE_COLOURS
        from .demo import seed_demo
        from .models import Incident

        kinds.register(
            code="incident",
            model=Incident,
            prefix="INC",
            process="Incident and service request management",
            clause="8.1",
            api_path="incidents",
            url_namespace="incidents",
            state_colours=INCIDENT_STATE_COLOURS,
            closed_states=("closed", "cancelled"),
        )
        # The matrix, targets, calendars and settings are the tenant administrator's.
        grant(Role.ADMIN, "resolution.configure")
        # Support group members: administrators and process owners (who hold no *.delete) keep them.
        grant(Role.PROCESS_OWNER, "groupmember.delete")
        # Their cache (read on every incident write) is renewed when any of them changes.
        from . import config_cache

        config_cache.connect()
        panels.register()
        demo.register(seed_demo)
        from .demo_volume import seed_incident_volume

        demo.register(seed_incident_volume)  # after seed_demo: the calendars and categories exist
        # Escalation, major incidents and keeping the caller informed.
        from . import setup_escalation

        setup_escalation.register()
        # Service requests: their kind, capabilities, navigation, panels and demo data.
        from . import setup_requests

        setup_requests.register()
        # Problems and known errors (8.2): their kinds, navigation, panel and demo data.
        from . import setup_problems

        setup_problems.register()
