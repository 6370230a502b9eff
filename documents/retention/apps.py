from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """Retention and disposal of controlled records (clause 4.3.3).

    A sub-app of ``documents`` (same layer) so that it can migrate on its own.
    """

    name = "documents.retention"
    label = "retention"
    verbose_name = "Record retention and disposal (4.3.3)"

    def ready(self) -> None:
        from sms.core import demo
        from sms.core.registry import ActivityKind, NavEntry, activity_kinds, kinds, shell
        from sms.tenancy.roles import Role, grant

        from . import services
        from .choices import DISPOSAL_STATE_COLOURS
        from .models import DisposalRun

        kinds.register(
            code="disposal",
            model=DisposalRun,
            prefix="DSP",
            process="Documentation management",
            clause="4.3.3",
            api_path="disposal-runs",
            url_namespace="disposals",
            state_colours=DISPOSAL_STATE_COLOURS,
        )
        activity_kinds.register(
            ActivityKind(
                "records_disposal_review",
                "Review of records due for disposal",
                "4.3.3",
                "Lists the closed records whose retention period has ended as a disposal run for approval.",
                handler=services.scheduled_proposal,
                default_interval_months=1,
            )
        )
        grant(Role.ADMIN, "retention.manage", "legalhold.manage", "disposal.approve", "disposal.execute")
        grant(Role.PROCESS_OWNER, "disposal.approve")
        shell.add_nav(NavEntry("Management system", "Retention and disposal", "retention", "retention.view", order=95))
        demo.register(services.seed_demo)
