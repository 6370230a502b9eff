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
    # state value -> colour name (see static/css/sms.css .badge-<colour>); from the app's choices.py
    state_colours: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # Text fields searched by the global search (sms/core/search.py); index them with
    # ``search_index()`` in the model's Meta so the search can use a GIN index.
    search_fields: tuple[str, ...] = ("title", "description")
    # States in which the record is finished; its retention period runs from then.
    closed_states: tuple[str, ...] = ()

    def colour(self, state: str) -> str:
        return self.state_colours.get(state, "grey")

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
                 api_path: str = "", url_namespace: str = "",
                 state_colours: dict[str, str] | None = None,
                 search_fields: tuple[str, ...] = ("title", "description"),
                 closed_states: tuple[str, ...] = ()) -> RecordKind:
        if code in self._by_code and self._by_code[code].model is not model:
            raise ValueError(f"Record kind {code!r} is already registered")
        if any(k.prefix == prefix and k.code != code for k in self._by_code.values()):
            raise ValueError(f"Reference prefix {prefix!r} is already used")
        kind = RecordKind(code, model, prefix, process, clause, api_path or f"{code}s", url_namespace,
                          dict(state_colours or {}), tuple(search_fields), tuple(closed_states))
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

    def find(self, code: str) -> RecordKind | None:
        return self._by_code.get(code)

    def find_model(self, model: type[models.Model]) -> RecordKind | None:
        """Like ``for_model``, None for a model that is no record kind."""
        try:
            return self.for_model(model)
        except LookupError:
            return None

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
    # Completing an occurrence whose subject has its own notion of "done" (a document
    # review moves the document's next review date): called instead of the generic
    # advance, as ``on_complete(activity, by=user, note=text)``; it must move next_due.
    on_complete: Callable[..., None] | None = None
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


@dataclass(frozen=True)
class NavEntry:
    """A link in the browser's navigation, shown to members holding ``capability``."""

    section: str  # heading it is grouped under, e.g. "Resolution", "Management system"
    label: str
    url_name: str  # resolved with the tenant slug as its only argument
    capability: str
    order: int = 100


@dataclass(frozen=True)
class HomePanel:
    """A box on a member's home page.

    ``roles`` says whose home shows it; ``capability`` must also be held. ``context``
    builds the template's context from the request, in the tenant's context; it must do
    a fixed, small number of queries (the home page is everyone's landing page).
    """

    code: str
    title: str
    template: str
    roles: tuple[str, ...]
    capability: str
    context: Callable[[Any], dict]
    order: int = 100


class ShellRegistry:
    """Navigation entries and home-page panels contributed by the apps."""

    def __init__(self) -> None:
        self.nav: dict[str, NavEntry] = {}
        self.panels: dict[str, HomePanel] = {}

    def add_nav(self, entry: NavEntry) -> NavEntry:
        self.nav[entry.url_name] = entry
        return entry

    def add_panel(self, panel: HomePanel) -> HomePanel:
        self.panels[panel.code] = panel
        return panel

    def nav_for(self, membership) -> list[tuple[str, list[NavEntry]]]:
        sections: dict[str, list[NavEntry]] = {}
        for entry in sorted(self.nav.values(), key=lambda e: (e.order, e.label)):
            if membership is not None and membership.can(entry.capability):
                sections.setdefault(entry.section, []).append(entry)
        return list(sections.items())

    def panels_for(self, membership) -> list[HomePanel]:
        if membership is None:
            return []
        roles = set(membership.roles)
        return [
            p for p in sorted(self.panels.values(), key=lambda p: (p.order, p.code))
            if roles.intersection(p.roles) and (not p.capability or membership.can(p.capability))
        ]


shell = ShellRegistry()
