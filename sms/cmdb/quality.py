"""Data-quality checks of the CMDB (clause 9.1: the CMDB is kept reliable and accurate,
and audited at planned intervals).

``run_checks`` computes, for the CIs of a scope, per CI type:

- CIs without an owner (none recorded, or no longer an active member of the tenant);
- orphans: CIs with no relationship in either direction and not a component of any
  service;
- stale CIs: nobody has verified the record for ``stale_after_days`` days (a CI never
  verified counts from the day it was registered);
- duplicate names (same name, ignoring case, within one type: two servers called
  ``web-01``; a database and a VM may share a name) and duplicate serial numbers
  (across types: a serial number identifies one physical item);
- CIs whose attributes fail their type's current schema (the type may have changed
  after the CI was recorded), checked with the same validator as every write.

Disposed CIs are left out. Everything is computed with SQL aggregates in a fixed number
of queries whatever the number of CIs and types; only the schema check reads the
attributes back, in one query, because it reuses the Python validator.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import Coalesce, Lower, Trim, Upper
from django.utils import timezone

from sms.tenancy import context
from sms.tenancy.models import Membership

from .choices import CIState
from .models import CIType, ConfigurationItem, Relationship, ServiceComponent

# Findings listed by reference per rule; the counts are always complete.
MAX_LISTED = 500
CHECKS = ("without_owner", "orphans", "stale", "duplicate_names", "duplicate_serials", "schema_failures")
CHECK_LABELS = {
    "without_owner": "Without an owner",
    "orphans": "Orphans",
    "stale": "Not verified recently",
    "duplicate_names": "Duplicate names",
    "duplicate_serials": "Duplicate serial numbers",
    "schema_failures": "Attributes failing the type",
}


def _ids(values) -> list[int]:
    return sorted({int(v) for v in values or [] if str(v).isdigit()})


def normalise_scope(scope: dict | None) -> dict:
    scope = scope or {}
    result = {}
    for key in ("ci_types", "services"):
        ids = _ids(scope.get(key))
        if ids:
            result[key] = ids
    return result


def scope_filter(scope: dict | None) -> Q:
    """The CIs a scope covers: of the given types or components of the given services
    (either), or the whole CMDB; never disposed ones."""
    scope = normalise_scope(scope)
    live = ~Q(state=CIState.DISPOSED)
    if not scope:
        return live
    covered = Q()
    if scope.get("ci_types"):
        covered |= Q(ci_type_id__in=scope["ci_types"])
    if scope.get("services"):
        covered |= Q(Exists(ServiceComponent.objects.filter(ci=OuterRef("pk"), service_id__in=scope["services"])))
    return live & covered


def area_owner_id(scope: dict | None) -> int | None:
    """The member owning the most CIs in the scope (ties: the earliest account): the
    owner of the audited area, who may not audit it."""
    row = (
        ConfigurationItem.objects.filter(scope_filter(scope), owner__isnull=False)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "owner_id")
        .first()
    )
    return row["owner_id"] if row else None


def _flags(cutoff: dt.datetime) -> dict[str, Any]:
    tenant_id = context.require_tenant().pk
    member = Membership.unscoped.filter(tenant_id=tenant_id, user_id=OuterRef("owner_id"), is_active=True)
    related = Q(Exists(Relationship.objects.filter(source=OuterRef("pk")))) | Q(
        Exists(Relationship.objects.filter(target=OuterRef("pk")))
    )
    in_service = Q(Exists(ServiceComponent.objects.filter(ci=OuterRef("pk"))))
    return {
        "without_owner": Q(owner__isnull=True) | ~Q(Exists(member)),
        "orphans": ~related & ~in_service,
        "stale": Q(verified_since__lt=cutoff),
    }


def run_checks(scope: dict | None = None, *, stale_after_days: int = 365, now: dt.datetime | None = None) -> dict:
    """The data-quality results for the CIs of ``scope`` (see the module docstring), as
    a JSON-ready snapshot: totals, figures per type and the CIs found, by reference."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=stale_after_days)
    scope = normalise_scope(scope)
    base = ConfigurationItem.objects.filter(scope_filter(scope))
    flags = _flags(cutoff)
    flagged = base.annotate(verified_since=Coalesce("last_verified_at", "created_at"))

    # 1. counts per type
    counts = {
        row["ci_type_id"]: row
        for row in flagged.values("ci_type_id").annotate(
            cis=Count("pk"), **{name: Count("pk", filter=q) for name, q in flags.items()}
        )
    }
    # 2. the CIs behind those counts, by reference (first MAX_LISTED of each rule)
    listed: dict[str, list[dict]] = {name: [] for name in flags}
    any_flag = flags["without_owner"] | flags["orphans"] | flags["stale"]
    rows = (
        flagged.filter(any_flag)
        .annotate(**{f"is_{name}": ExpressionWrapper(q, output_field=BooleanField()) for name, q in flags.items()})
        .values("reference", "title", "ci_type_id", *(f"is_{name}" for name in flags))
        .order_by("number")[: MAX_LISTED * len(flags)]
    )
    # 3. duplicate names within a type
    name_groups = list(
        base.annotate(name_key=Lower(Trim("title")))
        .values("ci_type_id", "name_key")
        .annotate(n=Count("pk"), refs=ArrayAgg("reference", order_by="number"))
        .filter(n__gt=1)
        .order_by("ci_type_id", "name_key")
    )
    # 4. duplicate serial numbers across types
    serial_groups = list(
        base.exclude(serial_number="")
        .annotate(serial_key=Upper(Trim("serial_number")))
        .values("serial_key")
        .annotate(n=Count("pk"), refs=ArrayAgg("reference", order_by="number"), types=ArrayAgg("ci_type_id"))
        .filter(n__gt=1)
        .order_by("serial_key")
    )
    # 5-6. attributes against the type's schema
    types = {t.pk: t for t in CIType.objects.all()}
    schema_rows = base.values_list("reference", "title", "ci_type_id", "attributes").order_by("number")

    def brief(reference: str, title: str, type_id: int) -> dict:
        return {"reference": reference, "title": title, "type": types[type_id].name if type_id in types else ""}

    for row in rows:
        for name in flags:
            if row[f"is_{name}"] and len(listed[name]) < MAX_LISTED:
                listed[name].append(brief(row["reference"], row["title"], row["ci_type_id"]))

    per_type: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("cis", *CHECKS), 0))
    for type_id, row in counts.items():
        per_type[type_id].update({k: row[k] for k in ("cis", *flags)})
    duplicate_names = []
    for group in name_groups:
        per_type[group["ci_type_id"]]["duplicate_names"] += group["n"]
        type_name = types[group["ci_type_id"]].name if group["ci_type_id"] in types else ""
        duplicate_names.append({"type": type_name, "name": group["name_key"], "cis": group["refs"]})
    duplicate_serials = []
    for group in serial_groups:
        for type_id in group["types"]:
            per_type[type_id]["duplicate_serials"] += 1
        duplicate_serials.append({"serial_number": group["serial_key"], "cis": group["refs"]})
    schema_failures = []
    for reference, title, type_id, attributes in schema_rows:
        ci_type = types.get(type_id)
        if ci_type is None:
            continue
        _, problems = ci_type.check_attributes(attributes)
        if problems:
            per_type[type_id]["schema_failures"] += 1
            if len(schema_failures) < MAX_LISTED:
                schema_failures.append({**brief(reference, title, type_id), "errors": problems})

    if not scope:  # the whole CMDB: every type in use is listed, even with no CIs yet
        for type_id, ci_type in types.items():
            if ci_type.is_active:
                per_type[type_id]
    by_type = []
    for type_id, figures in per_type.items():
        ci_type = types.get(type_id)
        by_type.append({"id": type_id, "code": getattr(ci_type, "code", ""), "name": str(ci_type or ""), **figures})
    by_type.sort(key=lambda r: r["name"].lower())
    totals = {k: sum(r[k] for r in by_type) for k in ("cis", *CHECKS)}
    return {
        "checked_at": now.isoformat(),
        "stale_after_days": stale_after_days,
        "scope": scope,
        "totals": totals,
        "by_type": by_type,
        "findings": {
            **listed,
            "duplicate_names": duplicate_names[:MAX_LISTED],
            "duplicate_serials": duplicate_serials[:MAX_LISTED],
            "schema_failures": schema_failures,
        },
    }


def health(*, stale_after_days: int = 365) -> dict:
    """The CMDB health figures of the whole CMDB, per CI type, with every type listed
    (types without CIs show zeros)."""
    return run_checks({}, stale_after_days=stale_after_days)
