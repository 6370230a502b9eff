from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sms.core"
    label = "core"
    verbose_name = "Records and planned activities"

    def ready(self) -> None:
        from sms.tenancy.roles import Role, grant

        from . import panels
        from .api import enums

        # Putting a failed e-mail back in the queue is the tenant administrator's.
        grant(Role.ADMIN, "outbox.retry")

        panels.register()
        enums.register()
