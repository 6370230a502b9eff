from django.apps import AppConfig


class CmdbConfig(AppConfig):
    name = "sms.cmdb"
    label = "cmdb"
    verbose_name = "Configuration management (9.1)"

    def ready(self) -> None:
        from sms.core import demo
        from sms.core.registry import ActivityKind, activity_kinds, kinds
        from sms.tenancy.roles import Role, grant

        from .auditing import ACTIVITY_KIND, scheduled_audit
        from .choices import AUDIT_STATE_COLOURS, CI_STATE_COLOURS, SERVICE_STATE_COLOURS
        from .demo import seed_cmdb, seed_cmdb_audits
        from .models import CMDBAudit, ConfigurationItem, Service

        kinds.register(
            code="ci",
            model=ConfigurationItem,
            prefix="CI",
            process="Configuration management",
            clause="9.1",
            api_path="cis",
            url_namespace="cis",
            state_colours=CI_STATE_COLOURS,
            # Records of disposed CIs are kept for their retention period, then disposed of.
            closed_states=("disposed",),
        )
        kinds.register(
            code="service",
            model=Service,
            prefix="SVC",
            process="Service level management",
            clause="6.1",
            api_path="services",
            url_namespace="services",
            state_colours=SERVICE_STATE_COLOURS,
            closed_states=("retired",),
        )
        kinds.register(
            code="cmdbaudit",
            model=CMDBAudit,
            prefix="CMA",
            process="Configuration management",
            clause="9.1",
            api_path="cmdb-audits",
            url_namespace="cmdb-audits",
            state_colours=AUDIT_STATE_COLOURS,
            closed_states=("completed", "cancelled"),
        )
        activity_kinds.register(
            ActivityKind(
                ACTIVITY_KIND,
                "CMDB audit",
                "9.1",
                "Audit the records in the CMDB: automatic data-quality checks, then CIs verified against reality.",
                handler=scheduled_audit,
                default_interval_months=6,
            )
        )
        # Auditors perform CMDB audits (they hold no write access to the CIs themselves);
        # process owners and administrators hold create/update/transition by wildcard.
        grant(Role.AUDITOR, "cmdbaudit.create", "cmdbaudit.update", "cmdbaudit.transition", "cmdbaudit.verify")
        grant(Role.PROCESS_OWNER, "cmdbaudit.verify")
        grant(Role.ADMIN, "cmdbaudit.verify")
        # CI types are the documented definition the whole CMDB is validated against:
        # only tenant administrators change them, so "citype.manage" is granted by name
        # and matches none of the process owner's wildcards (*.create, *.update).
        grant(Role.ADMIN, "citype.manage")
        demo.register(seed_cmdb)
        demo.register(seed_cmdb_audits)

        from . import panels

        panels.register()
