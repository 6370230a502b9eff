from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "sms.parties"
    label = "parties"
    verbose_name = "Parties"
