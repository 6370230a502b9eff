"""A per-tenant cache of the incident set-up that every incident write reads: the priority
matrix, the priority targets, which calendar each service's targets run in, the default
calendar and the major incident rule.

Logging an incident would otherwise read five set-up tables on every request; they change
rarely. The set-up is loaded once per process and tenant and kept with a *generation*: a
random token per tenant in the shared (Redis) cache. Each transaction checks the token
once (one cache round trip instead of five queries); any change to a set-up row replaces
the token when its transaction commits, so every process reloads at its next request.

Rules that keep it correct:

- The token is read before the set-up is loaded, and replaced only after the change is
  committed: a process that loaded old rows keeps them under the old token, which no
  longer matches.
- A transaction that has changed the set-up itself reads the tables directly until it
  ends and caches nothing: it sees its own changes, and nothing uncommitted reaches the
  cache. A rollback drops the pending invalidation (nothing changed).
- Keys hold the database name and the tenant id: tenants never share an entry.
- Without a shared cache (no Redis: a process-local cache cannot reach other processes)
  or when it fails, the tables are read once per transaction.
- Within one transaction the checked set-up is reused (as if read at its start).

Callers go through the lookups in ``services`` (``matrix``, ``targets``, ``calendar_for``)
and ``services_major.auto_declare``; this module knows nothing of how they use it.
"""

from __future__ import annotations

import copy
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_delete, post_save

from sms.tenancy import context

from . import working_time as wt

log = logging.getLogger(__name__)

KEY = "resolution-config:{db}:{tenant}"
SHARED_BACKENDS = ("RedisCache",)


@dataclass(frozen=True)
class Setup:
    """What incident creation reads, as plain values (never handed out to be changed)."""

    matrix: dict[tuple[int, int], int] = field(default_factory=dict)
    targets: dict[int, tuple[int, int]] = field(default_factory=dict)
    service_calendars: dict[int, wt.WorkingCalendar] = field(default_factory=dict)
    default_calendar: wt.WorkingCalendar | None = None
    has_settings: bool = False
    major_rule: object | None = None  # a MajorIncidentDefinition, copied on the way out

    def rule(self):
        return copy.copy(self.major_rule) if self.major_rule is not None else None


# {(database, tenant id): (generation, Setup)}, for this process.
_loaded: dict[tuple[str, int], tuple[str, Setup]] = {}


def load() -> Setup:
    """The current tenant's set-up, read from the tables (five queries)."""
    from .models import (
        MajorIncidentDefinition,
        PriorityLevel,
        PriorityMatrixCell,
        ResolutionSettings,
        ServiceHours,
    )

    calendars: dict[int, wt.WorkingCalendar] = {}

    def working(calendar) -> wt.WorkingCalendar:
        if calendar.pk not in calendars:
            calendars[calendar.pk] = calendar.working_calendar()
        return calendars[calendar.pk]

    settings_row = ResolutionSettings.objects.select_related("default_calendar").first()
    return Setup(
        matrix={(c.impact, c.urgency): c.priority for c in PriorityMatrixCell.objects.all()},
        targets={
            row.level: (row.response_minutes, row.resolution_minutes) for row in PriorityLevel.objects.all()
        },
        service_calendars={
            link.service_id: working(link.calendar) for link in ServiceHours.objects.select_related("calendar")
        },
        default_calendar=(
            working(settings_row.default_calendar)
            if settings_row is not None and settings_row.default_calendar is not None
            else None
        ),
        has_settings=settings_row is not None,
        major_rule=MajorIncidentDefinition.objects.first(),
    )


def _shared() -> bool:
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1] in SHARED_BACKENDS


def _key(tenant_id: int, alias: str = DEFAULT_DB_ALIAS) -> str:
    return KEY.format(db=connections[alias].settings_dict["NAME"], tenant=tenant_id)


class _Invalidate:
    """The on-commit callback of a set-up change."""

    def __init__(self, tenant_id: int, alias: str):
        self.tenant_id, self.alias = tenant_id, alias

    def __call__(self) -> None:
        _loaded.pop((connections[self.alias].settings_dict["NAME"], self.tenant_id), None)
        try:
            cache.set(_key(self.tenant_id, self.alias), uuid.uuid4().hex, timeout=None)
        except Exception:  # a cache that is down serves nothing: cache.get fails as well
            log.warning("Could not renew the set-up generation of tenant %s", self.tenant_id, exc_info=True)


def _changed_here(conn, tenant_id: int) -> bool:
    """Has the running transaction changed this tenant's set-up? The mark lasts until the
    transaction ends (the backend's ``transaction_serial`` moves on); a rolled-back
    savepoint leaves it in place, which only costs reads from the tables."""
    mark = getattr(conn, "_resolution_changed", None)
    return mark is not None and mark[0] == conn.transaction_serial and tenant_id in mark[1]


def invalidate(tenant_id: int, alias: str = DEFAULT_DB_ALIAS) -> None:
    """A set-up row of ``tenant_id`` changed: every process reloads once this commits."""
    conn = connections[alias]
    if conn.in_atomic_block:
        conn._resolution_changes = getattr(conn, "_resolution_changes", 0) + 1  # stales the in-transaction read
        if _changed_here(conn, tenant_id):
            return
        mark = getattr(conn, "_resolution_changed", None)
        tenants = mark[1] if mark is not None and mark[0] == conn.transaction_serial else frozenset()
        conn._resolution_changed = (conn.transaction_serial, tenants | {tenant_id})
    transaction.on_commit(_Invalidate(tenant_id, alias), using=alias)


def current() -> Setup:
    """The current tenant's set-up: checked against the shared generation once per
    transaction, loaded from the tables when it changed (or cannot be cached)."""
    tenant_id = context.require_tenant().pk
    conn = connections[DEFAULT_DB_ALIAS]
    if not _shared() or (conn.in_atomic_block and _changed_here(conn, tenant_id)):
        return _read_in_transaction(conn, tenant_id)
    serial = conn.transaction_serial
    memo = getattr(conn, "_resolution_setup", None)
    if conn.in_atomic_block and memo and memo[0] == (serial, tenant_id):
        return memo[1]
    db = conn.settings_dict["NAME"]
    key = _key(tenant_id)
    try:
        generation = cache.get(key)
        if generation is None:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            generation = cache.get(key)
    except Exception:
        log.warning("Set-up cache unavailable; reading the tables", exc_info=True)
        return load()
    entry = _loaded.get((db, tenant_id))
    if entry is not None and generation is not None and entry[0] == generation:
        setup = entry[1]
    else:
        setup = load()
        if generation is not None:
            _loaded[(db, tenant_id)] = (generation, setup)
    if conn.in_atomic_block:
        conn._resolution_setup = ((serial, tenant_id), setup)
    return setup


def _read_in_transaction(conn, tenant_id: int) -> Setup:
    """The tables as this transaction sees them, read again after each set-up change or
    rolled-back savepoint in it; outside a transaction, every time."""
    if not conn.in_atomic_block:
        return load()
    key = (conn.transaction_serial, conn.savepoint_rollbacks, getattr(conn, "_resolution_changes", 0), tenant_id)
    memo = getattr(conn, "_resolution_local", None)
    if memo is None or memo[0] != key:
        memo = (key, load())
        conn._resolution_local = memo
    return memo[1]


def _on_change(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    if getattr(instance, "tenant_id", None) is not None:
        invalidate(instance.tenant_id, using)


def connect() -> None:
    """Renew the generation whenever a row of the cached set-up is saved or deleted."""
    from .models import (
        MajorIncidentDefinition,
        PriorityLevel,
        PriorityMatrixCell,
        ResolutionSettings,
        ServiceCalendar,
        ServiceHours,
    )

    for model in (
        PriorityLevel,
        PriorityMatrixCell,
        ResolutionSettings,
        ServiceCalendar,
        ServiceHours,
        MajorIncidentDefinition,
    ):
        label = model._meta.label_lower
        post_save.connect(_on_change, sender=model, dispatch_uid=f"config-cache-save-{label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"config-cache-delete-{label}")
