from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sms.core"
    label = "core"
    verbose_name = "Records and planned activities"

    def ready(self) -> None:
        from . import panels

        panels.register()
