from django.apps import AppConfig


class ResolutionConfig(AppConfig):
    name = "processes.resolution"
    label = "resolution"
    verbose_name = "Resolution processes (8)"
