from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sms.core"
    label = "core"
    verbose_name = "Records and planned activities"

    def ready(self) -> None:
        from . import panels
        from .api import enums

        panels.register()
        enums.register()
