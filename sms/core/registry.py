"""Registries filled in ``AppConfig.ready()``: record kinds and planned-activity kinds.

The record-kind registry drives numbering (prefix), the generic API actions
(transitions, journal, attachments, links, watchers), global search, evidence packs
and the conformity engine. The planned-activity registry says what the one-minute
dispatcher does when an activity of a kind falls due.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class RecordKind:
    code: str  # capability area and API path segment root, e.g. "incident"
    model: type[models.Model]
    prefix: str  # reference prefix, e.g. "INC"
    process: str  # the SMS process, e.g. "Incident and service request management"
    clause: str  # ISO/IEC 20000-1:2011 clause, e.g. "8.1"
    api_path: str = ""  # plural path under /api/v1/, e.g. "incidents"
    url_namespace: str = ""  # browser URL namespace, e.g. "improvements"

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def label_plural(self) -> str:
        return str(self.model._meta.verbose_name_plural)


class KindRegistry:
    def __init__(self) -> None:
        self._by_code: dict[str, RecordKind] = {}
        self._by_model: dict[type, RecordKind] = {}

    def register(self, code: str, model: type[models.Model], prefix: str, process: str, clause: str,
                 api_path: str = "", url_namespace: str = "") -> RecordKind:
        if code in self._by_code and self._by_code[code].model is not model:
            raise ValueError(f"Record kind {code!r} is already registered")
        if any(k.prefix == prefix and k.code != code for k in self._by_code.values()):
            raise ValueError(f"Reference prefix {prefix!r} is already used")
        kind = RecordKind(code, model, prefix, process, clause, api_path or f"{code}s", url_namespace)
        self._by_code[code] = kind
        self._by_model[model] = kind
        return kind

    def get(self, code: str) -> RecordKind:
        return self._by_code[code]

    def for_model(self, model: type[models.Model]) -> RecordKind:
        for klass in model.__mro__:
            if klass in self._by_model:
                return self._by_model[klass]
        raise LookupError(f"{model.__name__} is not a registered record kind")

    def __iter__(self) -> Iterator[RecordKind]:
        return iter(sorted(self._by_code.values(), key=lambda k: k.code))

    def __len__(self) -> int:
        return len(self._by_code)


kinds = KindRegistry()


@dataclass(frozen=True)
class ActivityKind:
    code: str
    label: str
    clause: str
    description: str = ""
    # Runs in the tenant's context when an occurrence falls due. Returns True when the
    # handler completed the occurrence itself (automatic work such as a service report);
    # False when a person must complete it (a review is held, an audit is done).
    handler: Callable[[Any], bool] | None = None
    default_interval_months: int = 12
    tags: tuple[str, ...] = field(default_factory=tuple)


class ActivityKindRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, ActivityKind] = {}

    def register(self, kind: ActivityKind) -> ActivityKind:
        self._kinds[kind.code] = kind
        return kind

    def get(self, code: str) -> ActivityKind | None:
        return self._kinds.get(code)

    def choices(self) -> list[tuple[str, str]]:
        return [(k.code, f"{k.label} ({k.clause})") for k in sorted(self._kinds.values(), key=lambda k: k.label)]

    def __iter__(self) -> Iterator[ActivityKind]:
        return iter(self._kinds.values())


activity_kinds = ActivityKindRegistry()
