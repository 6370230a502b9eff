from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "processes.delivery"
    label = "delivery"
    verbose_name = "Service delivery processes (6)"
