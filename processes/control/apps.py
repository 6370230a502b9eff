from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "processes.control"
    label = "control"
    verbose_name = "Control processes (9)"
