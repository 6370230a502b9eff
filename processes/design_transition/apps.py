from django.apps import AppConfig


class DesignTransitionConfig(AppConfig):
    name = "processes.design_transition"
    label = "design_transition"
    verbose_name = "Design and transition of new or changed services (5)"
