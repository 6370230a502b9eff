"""CMDB operations shared by the API, the browser, tasks and other process apps.

- ``ensure_default_ci_types``: the documented CI types a tenant starts with;
- ``set_service_links``: customers, components and dependencies of a service, with history;
- ``impact``: what depends on a CI or service and what it depends on (recursive CTE);
- ``take_baseline`` / ``diff_baseline``: configuration baselines and their comparison.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import Prefetch

from sms.tenancy import context

from .choices import RELATIONSHIP_INVERSE_LABELS, CIState, ImpactDirection, RelationshipKind, ServiceState
from .defaults import DEFAULT_CI_TYPES
from .models import (
    Baseline,
    CIType,
    ConfigurationItem,
    Relationship,
    Service,
    ServiceComponent,
    ServiceCustomer,
    ServiceDependency,
)

# --- CI types ------------------------------------------------------------------------------


@transaction.atomic
def ensure_default_ci_types(tenant) -> list[CIType]:
    """Create the default CI types the tenant lacks (matched by code); existing types,
    which the tenant's administrators may have tailored, are left as they are."""
    with context.tenant_context(tenant):
        existing = {t.code: t for t in CIType.objects.all()}
        result = []
        for spec in DEFAULT_CI_TYPES:
            ci_type = existing.get(spec["code"])
            if ci_type is None:
                ci_type = CIType(**spec)
                ci_type.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
                ci_type.save(reason="Default CI type")
            result.append(ci_type)
        return result


# --- service catalogue -----------------------------------------------------------------------


def _acting(instance, by) -> None:
    # simple-history takes ``_history_user`` as given when the attribute exists, even if
    # None; leave it unset without an explicit user so the context's user is recorded.
    if by is not None:
        instance._history_user = by


_SERVICE_LINKS = {
    "customers": (ServiceCustomer, "party"),
    "components": (ServiceComponent, "ci"),
    "depends_on": (ServiceDependency, "depends_on"),
}


@transaction.atomic
def set_service_links(
    service: Service,
    *,
    by=None,
    reason: str = "",
    customers: Iterable | None = None,
    components: Iterable | None = None,
    depends_on: Iterable | None = None,
) -> bool:
    """Make the service's customers, components and dependencies exactly those given
    (``None`` leaves a list as it is). Rows are created and deleted one by one, so each
    addition and removal is in the history with who and why. True if anything changed."""
    changed = False
    for name, wanted in (("customers", customers), ("components", components), ("depends_on", depends_on)):
        if wanted is None:
            continue
        model, fk = _SERVICE_LINKS[name]
        wanted_ids = {getattr(obj, "pk", obj) for obj in wanted}
        current = {getattr(link, f"{fk}_id"): link for link in model.objects.filter(service=service)}
        for pk in sorted(wanted_ids - current.keys()):
            link = model(service=service, **{f"{fk}_id": pk})
            _acting(link, by)
            link.save(reason=reason or f"Added to {service.reference}")
            changed = True
        for pk in sorted(current.keys() - wanted_ids):
            link = current[pk]
            _acting(link, by)
            link._change_reason = reason or f"Removed from {service.reference}"
            link.delete()
            changed = True
    return changed


# --- impact analysis ---------------------------------------------------------------------------

# The walk is a breadth-first search in one recursive query. Each row of the recursive
# CTE is one *level*: the nodes first reached at that depth (as arrays), and every node
# seen so far. A node is expanded once, at its least depth, however many paths lead to
# it: converging paths and cycles cost nothing extra, and the work is bounded by the
# nodes and edges reachable within ``depth`` steps. (A walk that only keeps a node off
# its own path re-enters it at every further depth it can be reached at; on a dense
# CMDB that multiplies the rows by the depth and more.)
#
# Nodes are bigints: a CI by its id, a service by minus its id. Each new node keeps the
# parent it was first reached from and the kind of edge, packed into one bigint
# (parent * 16 + kind code) so that one min() per node picks them together; the path is
# rebuilt from the parents. Every step filters on the tenant (RLS enforces it too) and
# is served by a tenant-first index.
_VIA_CODES = [k.value for k in RelationshipKind] + ["component", "service_dependency"]
_PACK = 16
assert len(_VIA_CODES) < _PACK
# A kind the code does not know (0) is kept as "other" rather than dropping the edge.
_RELATIONSHIP_CODE = "COALESCE(array_position(%(via_codes)s::text[], r.kind::text), 0)"
_COMPONENT_CODE = _VIA_CODES.index("component") + 1
_DEPENDENCY_CODE = _VIA_CODES.index("service_dependency") + 1

# One step from frontier node ``f.id`` to its neighbours: (node, parent, via code).
_STEPS = {
    # Who needs f: what fails when f fails.
    ImpactDirection.DOWN: f"""
        SELECT r.source_id AS node, f.id AS parent, {_RELATIONSHIP_CODE} AS code
          FROM cmdb_relationship r
         WHERE f.id > 0 AND r.tenant_id = %(tenant)s AND r.target_id = f.id AND r.kind <> 'part_of'
        UNION ALL
        SELECT r.target_id, f.id, {_RELATIONSHIP_CODE}
          FROM cmdb_relationship r
         WHERE f.id > 0 AND r.tenant_id = %(tenant)s AND r.source_id = f.id AND r.kind = 'part_of'
        UNION ALL
        SELECT -sc.service_id, f.id, {_COMPONENT_CODE}
          FROM cmdb_servicecomponent sc
         WHERE f.id > 0 AND sc.tenant_id = %(tenant)s AND sc.ci_id = f.id
        UNION ALL
        SELECT -sd.service_id, f.id, {_DEPENDENCY_CODE}
          FROM cmdb_servicedependency sd
         WHERE f.id < 0 AND sd.tenant_id = %(tenant)s AND sd.depends_on_id = -f.id
    """,
    # What f needs: what can make f fail.
    ImpactDirection.UP: f"""
        SELECT r.target_id AS node, f.id AS parent, {_RELATIONSHIP_CODE} AS code
          FROM cmdb_relationship r
         WHERE f.id > 0 AND r.tenant_id = %(tenant)s AND r.source_id = f.id AND r.kind <> 'part_of'
        UNION ALL
        SELECT r.source_id, f.id, {_RELATIONSHIP_CODE}
          FROM cmdb_relationship r
         WHERE f.id > 0 AND r.tenant_id = %(tenant)s AND r.target_id = f.id AND r.kind = 'part_of'
        UNION ALL
        SELECT sc.ci_id, f.id, {_COMPONENT_CODE}
          FROM cmdb_servicecomponent sc
         WHERE f.id < 0 AND sc.tenant_id = %(tenant)s AND sc.service_id = -f.id
        UNION ALL
        SELECT -sd.depends_on_id, f.id, {_DEPENDENCY_CODE}
          FROM cmdb_servicedependency sd
         WHERE f.id < 0 AND sd.tenant_id = %(tenant)s AND sd.service_id = -f.id
    """,
}

# A level's candidates are grouped by node together with every node already seen (one
# hash aggregate, no per-row search of the seen array); a node none of whose rows is
# "seen" is new, and its smallest packed (parent, via) is the edge it is reached by.
# The walk ends at ``depth`` or when a level brings nothing new (its arrays are NULL).
#
# It also ends when it has reached ``budget + 1`` nodes: each level keeps only as many new
# nodes as there is room for (services first, as their ids are negative, then CIs by id),
# so a walk from a hub that reaches most of the estate costs what the budget costs, not
# what the estate costs. Reaching the extra node tells the caller that there was more.
# The result joins each node to its CI (and type) or service, so one query returns
# everything the caller shows; rows RLS hides do not come back.
_WALK_SQL = """
WITH RECURSIVE walk(depth, nodes, links, seen) AS (
    SELECT 0, ARRAY[%(origin)s::bigint], ARRAY[NULL::bigint], ARRAY[%(origin)s::bigint]
    UNION ALL
    SELECT w.depth + 1, n.nodes, n.links, w.seen || n.nodes
      FROM walk w
     CROSS JOIN LATERAL (
        SELECT array_agg(c.node) AS nodes, array_agg(c.link) AS links
          FROM (
            SELECT x.node, min(x.link) AS link
              FROM (
                SELECT s.node, s.parent * {pack} + s.code AS link, false AS seen
                  FROM unnest(w.nodes) AS f(id)
                 CROSS JOIN LATERAL ({steps}) s
                UNION ALL
                SELECT v.id, NULL, true FROM unnest(w.seen) AS v(id)
              ) x
             GROUP BY x.node
            HAVING NOT bool_or(x.seen)
             ORDER BY x.node
             LIMIT %(budget)s + 2 - cardinality(w.seen)
          ) c
     ) n
     WHERE w.depth < %(depth)s AND cardinality(w.nodes) > 0 AND cardinality(w.seen) < %(budget)s + 2
)
SELECT w.depth, t.node, t.link, ci.reference, ci.title, ci.state, ct.name,
       sv.reference, sv.title, sv.state
  FROM walk w
 CROSS JOIN LATERAL unnest(w.nodes, w.links) WITH ORDINALITY AS t(node, link, position)
  LEFT JOIN cmdb_configurationitem ci ON t.node > 0 AND ci.id = t.node AND ci.tenant_id = %(tenant)s
  LEFT JOIN cmdb_citype ct ON ct.id = ci.ci_type_id
  LEFT JOIN cmdb_service sv ON t.node < 0 AND sv.id = -t.node AND sv.tenant_id = %(tenant)s
 WHERE w.depth > 0
 ORDER BY w.depth, t.position
"""

MAX_IMPACT_DEPTH = 30
DEFAULT_IMPACT_DEPTH = 10
# How many nodes an answer holds unless the caller asks for more: the nearest ones, in
# breadth-first order. A walk from a core switch may reach the whole estate; nobody reads
# (or draws) ninety thousand rows, and the answer says when it stopped short.
DEFAULT_IMPACT_LIMIT = 1_000
MAX_IMPACT_LIMIT = 200_000
_VIA_LABELS = {
    **{k.value: k.label for k in RelationshipKind},
    "component": "has component",
    "service_dependency": "depends on",
}
_CI_STATE_LABELS = dict(CIState.choices)
_SERVICE_STATE_LABELS = dict(ServiceState.choices)


@dataclass
class ImpactNode:
    kind: Literal["ci", "service"]
    id: int
    reference: str
    title: str
    type: str
    state: str
    state_label: str
    direction: str
    depth: int
    path: list[str]
    via: str
    via_label: str
    edge: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        # What dataclasses.asdict gives, without its deep copy (which dominates the
        # time of an answer with tens of thousands of nodes).
        return {
            "kind": self.kind,
            "id": self.id,
            "reference": self.reference,
            "title": self.title,
            "type": self.type,
            "state": self.state,
            "state_label": self.state_label,
            "direction": self.direction,
            "depth": self.depth,
            "path": list(self.path),
            "via": self.via,
            "via_label": self.via_label,
            "edge": dict(self.edge),
        }


@dataclass
class ImpactResult:
    origin: dict[str, Any]
    direction: str
    depth: int
    limit: int | None = None
    truncated: bool = False  # more nodes were reachable within ``depth`` than ``limit``
    nodes: list[ImpactNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": dict(self.origin),
            "direction": self.direction,
            "depth": self.depth,
            "limit": self.limit,
            "truncated": self.truncated,
            "count": len(self.nodes),
            "nodes": [n.as_dict() for n in self.nodes],
        }


def _node_key(obj) -> str:
    return f"{'s' if isinstance(obj, Service) else 'c'}:{obj.pk}"


def _key(node: int) -> str:
    return f"c:{node}" if node > 0 else f"s:{-node}"


# Whether the recorded edge runs from the node reached to the node it was reached from
# (True) or the other way round, per direction and kind of step.
def _edge_from_node(direction: str, via: str) -> bool:
    forward = via != RelationshipKind.PART_OF
    return forward if direction == ImpactDirection.DOWN else not forward


@dataclass
class _Reached:
    kind: str  # "c" or "s"
    id: int
    depth: int
    path: list[str]  # node keys from the origin
    via: str
    edge_from: str
    edge_to: str
    reference: str
    title: str
    state: str
    type: str


def _walk(origin, direction: str, depth: int, tenant_id: int, limit: int | None) -> tuple[list[_Reached], bool]:
    """The nodes reachable from ``origin`` within ``depth`` steps, each once, at its least
    depth, with the path it was first reached by and what it is; at most ``limit`` of
    them, the nearest first, and whether there were more."""
    origin_node = -origin.pk if isinstance(origin, Service) else origin.pk
    budget = MAX_IMPACT_LIMIT * 10 if limit is None else limit
    params = {
        "tenant": tenant_id,
        "origin": origin_node,
        "depth": depth,
        "budget": budget,
        "via_codes": _VIA_CODES,
    }
    with connection.cursor() as cursor:
        cursor.execute(_WALK_SQL.format(steps=_STEPS[direction], pack=_PACK), params)
        rows = cursor.fetchall()
    truncated = len(rows) > budget
    if truncated:
        del rows[budget:]
    paths: dict[int, list[str]] = {origin_node: [_key(origin_node)]}
    reached = []
    for level, node, link, ci_ref, ci_title, ci_state, type_name, sv_ref, sv_title, sv_state in rows:
        parent, code = divmod(link, _PACK)
        key = _key(node)
        path = paths[node] = [*paths[parent], key]
        if (ci_ref if node > 0 else sv_ref) is None:
            continue  # not visible in this tenant: RLS and the SQL filter agree, skip it
        via = _VIA_CODES[code - 1] if code else "other"
        ends = (key, _key(parent)) if _edge_from_node(direction, via) else (_key(parent), key)
        if node > 0:
            reached.append(_Reached("c", node, level, path, via, *ends, ci_ref, ci_title, ci_state, type_name))
        else:
            reached.append(_Reached("s", -node, level, path, via, *ends, sv_ref, sv_title, sv_state, "Service"))
    return reached, truncated


def impact(
    node: ConfigurationItem | Service,
    direction: str = ImpactDirection.DOWN,
    depth: int = DEFAULT_IMPACT_DEPTH,
    limit: int | None = DEFAULT_IMPACT_LIMIT,
) -> ImpactResult:
    """Everything downstream of ``node`` (what depends on it: what a failure or change of
    it affects), upstream (what it depends on), or both, up to ``depth`` steps.

    Computed in one recursive query per direction; relationship cycles are safe. Each
    node comes once per direction, at its least depth, with one shortest path from the
    origin (as references) and the edge it was reached through. At most ``limit`` nodes
    per direction come back, the nearest first (``None``: all of them, which from a hub
    of a large CMDB takes seconds); ``truncated`` says whether there were more.
    """
    direction = ImpactDirection(direction)
    if not 1 <= depth <= MAX_IMPACT_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_IMPACT_DEPTH}")
    if limit is not None and not 1 <= limit <= MAX_IMPACT_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_IMPACT_LIMIT}")
    tenant_id = context.require_tenant().pk
    if node.tenant_id != tenant_id:
        raise context.NoTenantError("The node belongs to another tenant.")
    directions = [ImpactDirection.DOWN, ImpactDirection.UP] if direction == ImpactDirection.BOTH else [direction]
    origin_key = _node_key(node)
    result = ImpactResult(origin=_describe(node), direction=direction.value, depth=depth, limit=limit)
    for d in directions:
        reached, truncated = _walk(node, d, depth, tenant_id, limit)
        result.truncated = result.truncated or truncated
        refs = {origin_key: node.reference}
        refs.update((f"{r.kind}:{r.id}", r.reference) for r in reached)
        ref = refs.get
        for r in reached:
            is_ci = r.kind == "c"
            result.nodes.append(
                ImpactNode(
                    kind="ci" if is_ci else "service",
                    id=r.id,
                    reference=r.reference,
                    title=r.title,
                    type=r.type,
                    state=r.state,
                    state_label=(_CI_STATE_LABELS if is_ci else _SERVICE_STATE_LABELS).get(r.state, r.state),
                    direction=d.value,
                    depth=r.depth,
                    path=[ref(k, k) for k in r.path],
                    via=r.via,
                    via_label=_VIA_LABELS.get(r.via, r.via),
                    edge={"from": ref(r.edge_from, r.edge_from), "to": ref(r.edge_to, r.edge_to), "kind": r.via},
                )
            )
    result.nodes.sort(key=lambda n: (n.direction, n.depth, n.kind, n.reference))
    return result


def _describe(obj) -> dict[str, Any]:
    if isinstance(obj, Service):
        return {
            "kind": "service",
            "id": obj.pk,
            "reference": obj.reference,
            "title": obj.title,
            "type": "Service",
            "state": obj.state,
        }
    return {
        "kind": "ci",
        "id": obj.pk,
        "reference": obj.reference,
        "title": obj.title,
        "type": obj.ci_type.name,
        "state": obj.state,
    }


# --- baselines ----------------------------------------------------------------------------------


def resolve_scope(scope: dict) -> list[int]:
    """The ids of the CIs a baseline scope covers, in the current CMDB.

    ``scope`` may name ``cis``, ``services`` (their components and, with
    ``include_dependencies``, everything they depend on), and ``ci_types``. An empty
    scope is the whole CMDB except disposed CIs.
    """
    ids: set[int] = set()
    cis = list(scope.get("cis") or [])
    services = list(scope.get("services") or [])
    types = list(scope.get("ci_types") or [])
    with_deps = bool(scope.get("include_dependencies"))
    live_cis = ConfigurationItem.objects.exclude(state=CIState.DISPOSED)
    if not (cis or services or types):
        return list(live_cis.values_list("pk", flat=True))
    ids.update(ConfigurationItem.objects.filter(pk__in=cis).values_list("pk", flat=True))
    if types:
        ids.update(live_cis.filter(ci_type__in=types).values_list("pk", flat=True))

    def everything_under(node) -> set[int]:
        result = impact(node, ImpactDirection.UP, MAX_IMPACT_DEPTH, limit=None)
        return {n.id for n in result.nodes if n.kind == "ci"}

    for service in Service.objects.filter(pk__in=services):
        if with_deps:
            ids.update(everything_under(service))
        else:
            ids.update(service.component_links.values_list("ci_id", flat=True))
    if with_deps and cis:
        for ci in ConfigurationItem.objects.filter(pk__in=cis).select_related("ci_type"):
            ids.update(everything_under(ci))
    return sorted(ids)


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _date(value) -> str | None:
    return None if value is None else value.isoformat()


def ci_snapshot(ci: ConfigurationItem) -> dict[str, Any]:
    """The recorded state of one CI: its fields, attributes and relationships. Expects
    ``outgoing`` (with targets), ``services``, ``ci_type``, ``owner`` and ``supplier``
    to be loaded, as ``snapshot`` does."""
    return {
        "reference": ci.reference,
        "title": ci.title,
        "description": ci.description,
        "type": ci.ci_type.code,
        "state": ci.state,
        "version": ci.version,
        "location": ci.location,
        "owner": ci.owner.username if ci.owner_id else None,
        "attributes": dict(sorted((ci.attributes or {}).items())),
        "serial_number": ci.serial_number,
        "asset_tag": ci.asset_tag,
        "supplier": ci.supplier.name if ci.supplier_id else None,
        "purchase_cost": _money(ci.purchase_cost),
        "currency": ci.currency,
        "purchase_date": _date(ci.purchase_date),
        "warranty_expires": _date(ci.warranty_expires),
        "cost_centre": ci.cost_centre,
        "master_copy_location": ci.master_copy_location,
        "master_copy_sha256": ci.master_copy_sha256,
        "last_change_reference": ci.last_change_reference,
        "relationships": sorted(f"{r.kind} {r.target.reference}" for r in ci.outgoing.all()),
        "services": sorted(s.reference for s in ci.services.all()),
    }


def snapshot(ci_ids: Iterable[int]) -> dict[str, dict]:
    """Snapshots of the given CIs keyed by reference, in a fixed number of queries."""
    qs = (
        ConfigurationItem.objects.filter(pk__in=list(ci_ids))
        .select_related("ci_type", "owner", "supplier")
        .prefetch_related(
            Prefetch("outgoing", queryset=Relationship.objects.select_related("target")),
            "services",
        )
        .order_by("number")
    )
    return {ci.reference: ci_snapshot(ci) for ci in qs}


def _checksum(items: dict) -> str:
    canonical = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def verify_baseline(baseline: Baseline) -> bool:
    """True if the stored snapshot is still the one whose checksum was recorded."""
    return _checksum(baseline.items) == baseline.sha256


@transaction.atomic
def take_baseline(name: str, *, by=None, description: str = "", scope: dict | None = None) -> Baseline:
    """Record a configuration baseline of the CIs ``scope`` covers (see ``resolve_scope``).

    The release app calls this before a deployment into the live environment (9.1).
    """
    scope = {k: v for k, v in (scope or {}).items() if v}
    items = snapshot(resolve_scope(scope))
    baseline = Baseline(
        name=name.strip(),
        description=description,
        scope=scope,
        items=items,
        item_count=len(items),
        sha256=_checksum(items),
        taken_by=by if by is not None else context.get_current_user(),
    )
    baseline.save()
    return baseline


def _ref_key(reference: str) -> tuple[str, int]:
    prefix, _, number = reference.partition("-")
    return (prefix, int(number) if number.isdigit() else 0)


def _field_changes(old: dict, new: dict) -> list[dict]:
    changes = []
    for name in sorted(set(old) | set(new)):
        if name in ("attributes", "relationships", "services"):
            continue
        if old.get(name) != new.get(name):
            changes.append({"field": name, "old": old.get(name), "new": new.get(name)})
    old_attrs, new_attrs = old.get("attributes") or {}, new.get("attributes") or {}
    for name in sorted(set(old_attrs) | set(new_attrs)):
        if old_attrs.get(name) != new_attrs.get(name):
            changes.append({"field": f"attributes.{name}", "old": old_attrs.get(name), "new": new_attrs.get(name)})
    for name in ("relationships", "services"):
        before, after = set(old.get(name) or []), set(new.get(name) or [])
        for gone in sorted(before - after):
            changes.append({"field": name, "old": gone, "new": None})
        for came in sorted(after - before):
            changes.append({"field": name, "old": None, "new": came})
    return changes


def diff_items(old: dict[str, dict], new: dict[str, dict]) -> dict[str, Any]:
    """Added, removed and changed CIs between two snapshots, with field-level changes."""

    def brief(item: dict) -> dict:
        return {"reference": item["reference"], "title": item["title"], "type": item["type"], "state": item["state"]}

    added = [brief(new[r]) for r in sorted(new.keys() - old.keys(), key=_ref_key)]
    removed = [brief(old[r]) for r in sorted(old.keys() - new.keys(), key=_ref_key)]
    changed, unchanged = [], 0
    for reference in sorted(old.keys() & new.keys(), key=_ref_key):
        changes = _field_changes(old[reference], new[reference])
        if changes:
            changed.append({**brief(new[reference]), "changes": changes})
        else:
            unchanged += 1
    return {"added": added, "removed": removed, "changed": changed, "unchanged": unchanged}


def describe_baseline(baseline: Baseline) -> dict[str, Any]:
    return {
        "id": baseline.pk,
        "name": baseline.name,
        "taken_at": baseline.taken_at.isoformat(),
        "item_count": baseline.item_count,
    }


def diff_baseline(baseline: Baseline, against: Baseline | None = None) -> dict[str, Any]:
    """Compare ``baseline`` with another baseline, or (``against=None``) with the current
    CMDB over the same scope. Changes read from ``baseline`` to ``against``."""
    if against is None:
        current = snapshot(resolve_scope(baseline.scope or {}))
        target = {"current": True, "item_count": len(current)}
    else:
        current = against.items
        target = describe_baseline(against)
    return {"from": describe_baseline(baseline), "to": target, **diff_items(baseline.items, current)}


def relationship_label(relationship: Relationship, *, inverse: bool = False) -> str:
    kind = RelationshipKind(relationship.kind)
    return RELATIONSHIP_INVERSE_LABELS[kind] if inverse else kind.label
