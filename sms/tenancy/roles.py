"""Roles and the capability matrix: the one place that says who may do what.

A capability is ``<area>.<action>`` (``incident.update``, ``change.approve``,
``document.approve``, ``evidence.export``). Record kinds use their kind code as the
area and the actions ``view``, ``create``, ``update``, ``transition`` plus any of
their own (``approve``...). A role holds patterns: ``*.view`` grants ``view`` on every
area. DRF permission classes, browser views and templates all ask ``has_capability``.

Deliberately absent: auditors hold no ``create``/``update``/``transition`` on any
operational record; only the governance areas they work in (findings, audits) and
``evidence.export``. Segregation of duties (no approving your own change, no
auditing your own area) is checked on the record, not here, because it depends on
who the record's author is.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import lru_cache

from django.db import models


class Role(models.TextChoices):
    AGENT = "agent", "Service desk agent"
    PROCESS_OWNER = "process_owner", "Process owner"
    CHANGE_APPROVER = "change_approver", "Change approver (CAB)"
    TOP_MANAGEMENT = "top_management", "Top management"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Tenant administrator"


# Areas worked on by the operational processes (clauses 5 to 9).
OPERATIONAL_AREAS = (
    "incident",
    "request",
    "problem",
    "knownerror",
    "change",
    "release",
    "ci",
    "service",
    "party",
)

_MATRIX: dict[str, set[str]] = {
    Role.AGENT: {
        "*.view",
        "incident.create", "incident.update", "incident.transition",
        "request.create", "request.update", "request.transition",
        "problem.create", "problem.update", "problem.transition",
        "knownerror.create", "knownerror.update", "knownerror.transition",
        "change.create",
        "improvement.create",
        "journal.add", "attachment.add", "link.add", "link.delete", "watch.manage",
    },
    Role.PROCESS_OWNER: {
        "*.view", "*.create", "*.update", "*.transition",
        "change.approve", "release.approve", "document.approve", "improvement.approve",
        "planned.manage", "planned.complete",
        "journal.add", "attachment.add", "link.add", "link.delete", "watch.manage",
    },
    Role.CHANGE_APPROVER: {
        "*.view",
        "change.assess", "change.approve", "change.transition", "release.approve",
        "journal.add", "attachment.add", "watch.manage",
    },
    Role.TOP_MANAGEMENT: {
        "*.view",
        "dashboard.view", "review.create", "review.update", "review.transition",
        "improvement.create", "improvement.approve", "improvement.transition",
        "planned.complete",
        "journal.add", "watch.manage",
    },
    Role.AUDITOR: {
        "*.view",
        "evidence.export",
        "audit.create", "audit.update", "audit.transition",
        "finding.create", "finding.update", "finding.transition",
        "watch.manage",
    },
    Role.ADMIN: {
        "*.view", "*.create", "*.update", "*.transition", "*.delete",
        "tenant.manage", "member.manage", "planned.manage", "planned.complete",
        "evidence.export", "dashboard.view",
        "journal.add", "attachment.add", "link.add", "link.delete", "watch.manage",
    },
}

# Capabilities no role receives through a wildcard: each must be named explicitly.
_EXPLICIT_ONLY = ("*.approve", "*.assess", "evidence.export", "tenant.manage", "member.manage")


def grant(role: str, *capabilities: str) -> None:
    """Let an app add capabilities for its own areas (call from AppConfig.ready())."""
    _MATRIX[Role(role)].update(capabilities)
    _patterns_for.cache_clear()


@lru_cache(maxsize=64)
def _patterns_for(roles: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    explicit: set[str] = set()
    patterns: set[str] = set()
    for role in roles:
        for cap in _MATRIX.get(role, ()):
            (patterns if "*" in cap else explicit).add(cap)
    return frozenset(explicit), frozenset(patterns)


def has_capability(roles: Iterable[str], capability: str) -> bool:
    explicit, patterns = _patterns_for(tuple(sorted(set(roles))))
    if capability in explicit:
        return True
    if any(fnmatchcase(capability, rule) for rule in _EXPLICIT_ONLY):
        return False
    return any(fnmatchcase(capability, pattern) for pattern in patterns)


def capabilities_for(role: str) -> frozenset[str]:
    return frozenset(_MATRIX.get(role, ()))


def matrix() -> dict[str, frozenset[str]]:
    return {role: frozenset(caps) for role, caps in _MATRIX.items()}
