from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    label = "governance"
    verbose_name = "Management system (4)"

    def ready(self) -> None:
        from sms.core.registry import ActivityKind, activity_kinds, kinds

        from .choices import IMPROVEMENT_STATE_COLOURS
        from .models import Improvement

        kinds.register(
            code="improvement", model=Improvement, prefix="IMP",
            process="Improvement", clause="4.5.5", api_path="improvements", url_namespace="improvements",
            state_colours=IMPROVEMENT_STATE_COLOURS,
            closed_states=("closed", "rejected", "cancelled"),
        )
        for code, label, clause, months, description in (
            ("management_review", "Management review", "4.5.4.3", 6,
             "Top management reviews the SMS and the services."),
            ("internal_audit", "Internal audit", "4.5.4.2", 12,
             "Audit of the SMS against this standard and the provider's own requirements."),
            ("objectives_review", "Review of service management objectives", "4.1.2", 12,
             "Check that the objectives are still right and are being met."),
            ("risk_assessment", "Risk assessment", "6.6.2", 12,
             "Assess the risks to the SMS and the services."),
        ):
            activity_kinds.register(ActivityKind(code, label, clause, description, default_interval_months=months))

        from . import panels

        panels.register()
