from django.apps import AppConfig


class RelationshipConfig(AppConfig):
    name = "processes.relationship"
    label = "relationship"
    verbose_name = "Relationship processes (7)"
