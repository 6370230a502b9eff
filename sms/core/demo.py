"""Registry of demo-data seeders: each app adds ``seeder(tenant, people)`` in its
AppConfig.ready(); ``manage.py seed_demo`` calls them in the tenant's context."""

from __future__ import annotations

from collections.abc import Callable

_seeders: list[Callable] = []


def register(seeder: Callable) -> Callable:
    if seeder not in _seeders:
        _seeders.append(seeder)
    return seeder


def seeders() -> list[Callable]:
    return list(_seeders)
