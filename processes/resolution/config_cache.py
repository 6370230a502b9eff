"""A per-tenant cache of the incident set-up that every incident write reads: the priority
matrix, the priority targets, which calendar each service's targets run in, the default
calendar and the major incident rule.

Logging an incident would otherwise read five set-up tables on every request; they change
rarely. The set-up is loaded once per process and tenant and kept with the tenant's
*settings version* (``Tenant.settings_version``), which any change to a set-up row raises
in the changing transaction itself. A request reads its tenant row when it authenticates,
so checking the version costs nothing more; elsewhere (tasks, commands) it is one query.

Rules that keep it correct:

- The version moves in the same transaction as the change: once the change is visible,
  so is the new version, and every process reloads at its next transaction. A process
  that read the version before the change committed may load the new rows under the old
  version; that costs one reload later, never a stale set-up.
- A transaction that has changed the set-up itself reads the tables directly until it
  ends and caches nothing: it sees its own changes, and nothing uncommitted reaches the
  cache. A rollback takes the version back with the change.
- Entries are keyed by database name and tenant id: tenants never share an entry.
- Within one transaction the checked set-up is reused (as if read at its start).

Callers go through the lookups in ``services`` (``matrix``, ``targets``, ``calendar_for``)
and ``services_major.auto_declare``; this module knows nothing of how they use it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_delete, post_save

from sms.tenancy import context

from . import working_time as wt


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


# {(database, tenant id): (settings version, Setup)}, for this process.
_loaded: dict[tuple[str, int], tuple[int, Setup]] = {}


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


class _Forget:
    """The on-commit callback of a set-up change: this process drops its copy at once
    (the others see the new version)."""

    def __init__(self, tenant_id: int, alias: str):
        self.tenant_id, self.alias = tenant_id, alias

    def __call__(self) -> None:
        _loaded.pop((connections[self.alias].settings_dict["NAME"], self.tenant_id), None)


def _changed_here(conn, tenant_id: int) -> bool:
    """Has the running transaction changed this tenant's set-up? The mark lasts until the
    transaction ends (the backend's ``transaction_serial`` moves on); a rolled-back
    savepoint leaves it in place, which only costs reads from the tables."""
    mark = getattr(conn, "_resolution_changed", None)
    return mark is not None and mark[0] == conn.transaction_serial and tenant_id in mark[1]


def invalidate(tenant_id: int, alias: str = DEFAULT_DB_ALIAS) -> None:
    """A set-up row of ``tenant_id`` changed: every process reloads once this commits."""
    from sms.tenancy.models import Tenant

    conn = connections[alias]
    if conn.in_atomic_block:
        conn._resolution_changes = getattr(conn, "_resolution_changes", 0) + 1  # stales the in-transaction read
        if _changed_here(conn, tenant_id):
            return
        mark = getattr(conn, "_resolution_changed", None)
        tenants = mark[1] if mark is not None and mark[0] == conn.transaction_serial else frozenset()
        conn._resolution_changed = (conn.transaction_serial, tenants | {tenant_id})
    Tenant.bump_settings_version(tenant_id, using=alias)
    transaction.on_commit(_Forget(tenant_id, alias), using=alias)


def current() -> Setup:
    """The current tenant's set-up: checked against the tenant's settings version once per
    transaction, loaded from the tables when it changed."""
    tenant = context.require_tenant()
    tenant_id = tenant.pk
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.in_atomic_block and _changed_here(conn, tenant_id):
        return _read_in_transaction(conn, tenant_id)
    serial = conn.transaction_serial
    memo = getattr(conn, "_resolution_setup", None)
    if conn.in_atomic_block and memo and memo[0] == (serial, tenant_id):
        return memo[1]
    key = (conn.settings_dict["NAME"], tenant_id)
    version = tenant.version_now(DEFAULT_DB_ALIAS)
    entry = _loaded.get(key)
    if entry is not None and entry[0] == version:
        setup = entry[1]
    else:
        setup = load()
        _loaded[key] = (version, setup)
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
    """Raise the tenant's settings version whenever a row of the cached set-up is saved or
    deleted."""
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
