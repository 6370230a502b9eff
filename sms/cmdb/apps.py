from django.apps import AppConfig


class CmdbConfig(AppConfig):
    name = "sms.cmdb"
    label = "cmdb"
    verbose_name = "Configuration management (9.1)"

    def ready(self) -> None:
        from sms.core import demo
        from sms.core.registry import kinds
        from sms.tenancy.roles import Role, grant

        from .choices import CI_STATE_COLOURS, SERVICE_STATE_COLOURS
        from .demo import seed_cmdb
        from .models import ConfigurationItem, Service

        kinds.register(
            code="ci",
            model=ConfigurationItem,
            prefix="CI",
            process="Configuration management",
            clause="9.1",
            api_path="cis",
            url_namespace="cis",
            state_colours=CI_STATE_COLOURS,
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
        )
        # CI types are the documented definition the whole CMDB is validated against:
        # only tenant administrators change them, so "citype.manage" is granted by name
        # and matches none of the process owner's wildcards (*.create, *.update).
        grant(Role.ADMIN, "citype.manage")
        demo.register(seed_cmdb)

        from . import panels

        panels.register()
