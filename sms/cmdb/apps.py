from django.apps import AppConfig


class CmdbConfig(AppConfig):
    name = "sms.cmdb"
    label = "cmdb"
    verbose_name = "Configuration management (9.1)"
