"""Stable OpenAPI names for the project's choice sets.

drf-spectacular names an enum after the field (``state``, ``priority``), so two
different choice sets on fields of the same name get hashed names (``State4f1Enum``)
that change whenever the choices do. Every choices class of the project gets
its own name instead: ``ImprovementStateEnum``; where two apps use the same class name,
the app's label is put in front (``GovernancePriorityEnum``).
"""

from __future__ import annotations

from collections import Counter

from django.db import models

PROJECT_PACKAGES = ("sms.", "processes.", "governance.", "documents.", "reporting.")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def project_enum_names() -> dict[str, str]:
    classes, seen = [], set()
    for cls in _subclasses(models.Choices):
        if not cls.__module__.startswith(PROJECT_PACKAGES) or not cls.choices:
            continue
        values = tuple(cls.values)
        if values in seen:  # the same choice set under two class names: one enum
            continue
        seen.add(values)
        classes.append(cls)
    clashes = Counter(c.__name__ for c in classes)
    names = {}
    for cls in classes:
        name = cls.__name__
        if clashes[name] > 1:
            app = cls.__module__.split(".")[-2] if cls.__module__.count(".") else cls.__module__
            name = f"{app.title().replace('_', '')}{name}"
        names[f"{name}Enum"] = f"{cls.__module__}.{cls.__qualname__}"
    return names


def register() -> None:
    """Called from CoreConfig.ready(), once every app's choices are imported."""
    from drf_spectacular.settings import spectacular_settings

    spectacular_settings.ENUM_NAME_OVERRIDES.update(project_enum_names())
