from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "sms.parties"
    label = "parties"
    verbose_name = "Parties"

    def ready(self) -> None:
        from sms.core import demo

        from .demo import seed_parties

        demo.register(seed_parties)

        from . import panels

        panels.register()
