"""Trend analysis of incidents (clause 8.2: data and trends on incidents and problems are
analysed to find root causes) and of information security incidents (clause 6.6.3:
types, volumes and impacts), all aggregated in SQL; and the planned check that proposes
a problem when incidents repeat on one CI in one category."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db import connections, transaction
from django.db.models import Avg, BooleanField, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import Trunc
from django.utils import timezone

from sms.tenancy import context

from . import services
from .choices import OPEN_STATES, IncidentState, short_label
from .models import Category, Incident, Problem, ResolutionSettings
from .problem_choices import OPEN_PROBLEM_STATES, ProblemOrigin

PERIODS = ("day", "week", "month")
DEFAULT_DAYS = 90
TOP_ROWS = 20


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date  # inclusive
    period: str

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=_tz())

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=_tz())


def _tz() -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(context.require_tenant().time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def window(start: dt.date | None = None, end: dt.date | None = None, period: str = "week") -> Window:
    """The analysed dates (inclusive, in the tenant's time zone); the last 90 days by default."""
    today = timezone.now().astimezone(_tz()).date()
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValueError("The start of the period is after its end.")
    if period not in PERIODS:
        raise ValueError(f"Period must be one of {', '.join(PERIODS)}.")
    return Window(start, end, period)


def _incidents(w: Window):
    # Cancelled incidents are mostly duplicates; they would count one interruption twice.
    return Incident.objects.filter(created_at__gte=w.since, created_at__lt=w.until).exclude(
        state=IncidentState.CANCELLED
    )


def _counted() -> dict[str, Q]:
    """What each measure besides the total counts."""
    return {
        "open": Q(state__in=OPEN_STATES),
        "breached": Q(response_breached=True) | Q(resolution_breached=True),
        "security": Q(is_security=True),
    }


def _measures() -> dict:
    # Plain counts: no grouping joins a many-valued relation except the CI one, where each
    # (incident, CI) pair is one row anyway.
    return {"total": Count("pk"), **{name: Count("pk", filter=cond) for name, cond in _counted().items()}}


def incident_trends(w: Window, *, top: int = TOP_ROWS) -> dict:
    """Incidents per period, service, CI and category in the window: the window's incidents
    are read once for the totals, periods, services and categories together (grouping
    sets), once more for the CIs (through their link table), and the top rows' names
    come by primary key."""
    qs = _incidents(w)
    grouped = _grouped_measures(qs, w)
    services_top = _contenders(grouped["service"], top)
    names = _service_names([r["key"] for r in services_top])
    per_service = [
        {"id": r["key"], **names.get(r["key"], {"reference": None, "title": None}), **_only_measures(r)}
        for r in services_top
    ]
    per_service.sort(key=lambda r: (-r["total"], r["title"] is None, r["title"] or ""))
    categories_top = _contenders(grouped["category"], top)
    paths = _category_paths([r["key"] for r in categories_top])
    per_category = [
        {"id": r["key"], "path": paths.get(r["key"], (None, None))[0], **_only_measures(r)} for r in categories_top
    ]
    leaf = {pk: name for pk, (_, name) in paths.items()}
    per_category.sort(key=lambda r: (-r["total"], leaf.get(r["id"]) is None, leaf.get(r["id"]) or ""))
    # Grouped on the link table's CI id alone, so that the plan starts from the window's
    # incidents; the top CIs' names come in one more query.
    per_ci = list(
        qs.filter(affected_cis__isnull=False)
        .values("affected_cis")
        .annotate(**_measures())
        .order_by("-total", "affected_cis")[:top]
    )
    ci_names = _ci_names([r["affected_cis"] for r in per_ci])
    return {
        "totals": grouped["totals"],
        "per_period": [
            {"period": r["key"], **_only_measures(r)} for r in sorted(grouped["period"], key=lambda r: r["key"])
        ],
        "per_service": per_service[:top],
        "per_ci": [{"id": (pk := r.pop("affected_cis")), **ci_names.get(pk, {}), **r} for r in per_ci],
        "per_category": per_category[:top],
    }


MEASURES = ("total", *_counted())


def _grouped_measures(qs, w: Window) -> dict:
    """The measures of ``qs`` in total and per period, service and category, from one scan:
    ``{"totals": {...}, "period": [...], "service": [...], "category": [...]}``, each row
    ``{"key": ..., <measures>}``. Django has no grouping sets, so the filtered queryset
    becomes the inner query of one written here; row-level security applies as to any
    statement."""
    tz = _tz()
    # Each measure's condition (the same as ``_measures``) becomes a flag column of the inner query.
    flags = {
        f"counts_{name}": ExpressionWrapper(cond, output_field=BooleanField()) for name, cond in _counted().items()
    }
    inner = qs.annotate(bucket=Trunc("created_at", w.period, tzinfo=tz), **flags).values(
        "bucket", "service_id", "category_id", *flags
    )
    inner_sql, inner_params = inner.query.sql_with_params()
    counts = ", ".join(f"COUNT(*) FILTER (WHERE t.{flag})" for flag in flags)
    sql = f"""
        SELECT GROUPING(t.bucket), GROUPING(t.service_id), GROUPING(t.category_id),
               t.bucket, t.service_id, t.category_id, COUNT(*), {counts}
        FROM ({inner_sql}) t
        GROUP BY GROUPING SETS ((t.bucket), (t.service_id), (t.category_id), ())
    """
    result: dict = {"totals": dict.fromkeys(MEASURES, 0), "period": [], "service": [], "category": []}
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, inner_params)
        for g_bucket, g_service, g_category, bucket, service_id, category_id, *measures in cursor.fetchall():
            row = dict(zip(MEASURES, measures, strict=True))
            if not g_bucket:  # Trunc gives a local wall time; Django makes it aware the same way
                result["period"].append({"key": timezone.make_aware(bucket.replace(tzinfo=None), tz), **row})
            elif not g_service:
                result["service"].append({"key": service_id, **row})
            elif not g_category:
                result["category"].append({"key": category_id, **row})
            else:
                result["totals"] = row
    return result


def _contenders(rows: list[dict], top: int) -> list[dict]:
    """The rows that can make the top ``top`` by count: the first ``top`` and any tied with
    the last of them (names decide among those), so that only their names are read."""
    rows = sorted(rows, key=lambda r: -r["total"])
    if len(rows) <= top:
        return rows
    cut = rows[top - 1]["total"]
    return [r for r in rows if r["total"] >= cut]


def _service_names(ids: list) -> dict[int, dict]:
    from sms.cmdb.models import Service

    rows = Service.objects.filter(pk__in=[pk for pk in ids if pk is not None]).values("pk", "reference", "title")
    return {r.pop("pk"): r for r in rows}


def _category_paths(ids: list) -> dict[int, tuple[str, str]]:
    """Each category's path and own name."""
    rows = Category.objects.filter(pk__in=[pk for pk in ids if pk is not None]).values(
        "pk", "name", "parent__name", "parent__parent__name"
    )
    return {
        r["pk"]: (" / ".join(n for n in (r["parent__parent__name"], r["parent__name"], r["name"]) if n), r["name"])
        for r in rows
    }


def _only_measures(row: dict) -> dict:
    return {name: row[name] for name in MEASURES}


def _ci_names(ids: list[int]) -> dict[int, dict]:
    from sms.cmdb.models import ConfigurationItem

    if not ids:
        return {}
    rows = ConfigurationItem.objects.filter(pk__in=ids).values("pk", "reference", "title")
    return {r.pop("pk"): r for r in rows}


def _type_row(row: dict) -> dict:
    mean = _hours(row.pop("mean_resolution"))
    return {"id": row.pop("category_id"), "path": _path(row), **row, "mean_resolution_hours": mean}


def _hours(value: dt.timedelta | None) -> float | None:
    """A mean duration as hours (one decimal); JSON and tables have no durations."""
    return round(value.total_seconds() / 3600, 1) if value is not None else None


def _path(row: dict) -> str | None:
    names = [row.pop("category__parent__parent__name"), row.pop("category__parent__name"), row.pop("category__name")]
    names = [n for n in names if n]
    return " / ".join(names) or None


def security_trends(w: Window) -> dict:
    """Information security incidents (clause 6.6.3): volume per period, types (category),
    impact and priority, how many breached their targets, and the mean time to resolve."""
    qs = _incidents(w).filter(is_security=True)
    to_resolve = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    per_type = (
        qs.values("category_id", "category__name", "category__parent__name", "category__parent__parent__name")
        .annotate(**_measures(), mean_resolution=Avg(to_resolve, filter=Q(resolved_at__isnull=False)))
        .order_by("-total", "category__name")
    )
    per_impact = qs.values("impact").annotate(total=Count("pk")).order_by("impact")
    size = services.scale_size()
    per_priority = qs.values("priority").annotate(total=Count("pk")).order_by("priority")
    per_period = (
        qs.annotate(bucket=Trunc("created_at", w.period, tzinfo=_tz()))
        .values("bucket")
        .annotate(total=Count("pk"))
        .order_by("bucket")
    )
    per_service = qs.values("service__reference", "service__title").annotate(total=Count("pk")).order_by("-total")
    totals = qs.aggregate(
        **_measures(),
        services=Count("service", distinct=True),
        mean_resolution=Avg(to_resolve, filter=Q(resolved_at__isnull=False)),
    )
    totals["mean_resolution_hours"] = _hours(totals.pop("mean_resolution"))
    return {
        "totals": totals,
        "per_type": [_type_row(r) for r in per_type],
        "per_impact": [{**r, "impact_label": short_label(r["impact"], size)} for r in per_impact],
        "per_priority": list(per_priority),
        "per_period": [{"period": r["bucket"], "total": r["total"]} for r in per_period],
        "per_service": [
            {"reference": r["service__reference"], "title": r["service__title"], "total": r["total"]}
            for r in per_service[:TOP_ROWS]
        ],
    }


# --- repeating incidents propose problems -----------------------------------------------------
@dataclass(frozen=True)
class Proposal:
    problem: Problem
    created: bool
    incidents_added: int


def _unlinked(qs):
    linked = Problem.incidents.through.objects.filter(incident_id=OuterRef("pk"))
    return qs.filter(~Exists(linked))


def repeating_clusters(*, count: int, days: int, now: dt.datetime | None = None) -> list[tuple[int, int, int]]:
    """(CI id, category id, incidents) for every CI and category with at least ``count``
    incidents in the last ``days`` days that no problem covers yet; one grouped query."""
    now = now or timezone.now()
    tenant_id = context.require_tenant().pk
    through = Incident.affected_cis.through
    linked = Problem.incidents.through.objects.filter(incident_id=OuterRef("incident_id"))
    rows = (
        through.objects.filter(
            incident__tenant_id=tenant_id,
            incident__created_at__gte=now - dt.timedelta(days=days),
            incident__category__isnull=False,
        )
        .exclude(incident__state=IncidentState.CANCELLED)
        .filter(~Exists(linked))
        .values("configurationitem_id", "incident__category_id")
        .annotate(n=Count("incident_id", distinct=True))
        .filter(n__gte=count)
        .order_by("-n", "configurationitem_id", "incident__category_id")
    )
    return [(r["configurationitem_id"], r["incident__category_id"], r["n"]) for r in rows]


def propose_problems(*, by=None, now: dt.datetime | None = None) -> list[Proposal]:
    """The planned check: for each repeating cluster, propose one problem in state new,
    linked to the cluster's incidents; while that problem is open, later repeats of the
    same CI and category (any number) are added to it instead of proposing another. An
    incident covered by a problem never counts again. A tenant runs one check at a time
    (its settings row is the lock)."""
    from sms.cmdb.models import ConfigurationItem

    now = now or timezone.now()
    result: list[Proposal] = []
    settings_row = services.ensure_defaults()
    with transaction.atomic():
        ResolutionSettings.objects.select_for_update().filter(pk=settings_row.pk).first()
        settings_row.refresh_from_db()
        since = now - dt.timedelta(days=settings_row.repeat_days)
        size = services.scale_size()
        open_trend = {
            (p.trend_ci_id, p.trend_category_id): p
            for p in Problem.objects.filter(
                state__in=OPEN_PROBLEM_STATES, trend_ci__isnull=False, trend_category__isnull=False
            )
        }
        pairs = [
            (ci, cat)
            for ci, cat, _n in repeating_clusters(
                count=settings_row.repeat_count, days=settings_row.repeat_days, now=now
            )
        ]
        # Repeats of a cluster whose proposed problem is still open join it, however few.
        pairs += [pair for pair in open_trend if pair not in pairs]
        for ci_id, category_id in pairs:
            incidents = list(
                _unlinked(Incident.objects.filter(affected_cis=ci_id, category_id=category_id, created_at__gte=since))
                .exclude(state=IncidentState.CANCELLED)
                .order_by("created_at", "pk")
            )
            if not incidents:
                continue
            problem = open_trend.get((ci_id, category_id))
            if problem is not None:
                problem.incidents.add(*incidents)
                _journal(problem, by, f"The trend check added {_refs(incidents)}: the same CI and category again.")
                result.append(Proposal(problem, False, len(incidents)))
                continue
            if len(incidents) < settings_row.repeat_count:
                continue
            ci = ConfigurationItem.objects.get(pk=ci_id)
            category = Category.objects.select_related("parent__parent").get(pk=category_id)
            problem = Problem(
                title=f"Repeating incidents: {category.path} on {ci.title}"[:250],
                description=(
                    f"{len(incidents)} incidents on {ci.reference} {ci.title} in category {category.path} within "
                    f"{settings_row.repeat_days} days: {_refs(incidents)}. Proposed by the trend check; "
                    "investigate the underlying cause."
                ),
                origin=ProblemOrigin.TREND,
                category=category,
                # The most severe levels, within the scale (incidents may keep a former one).
                impact=min(size, *(i.impact for i in incidents)),
                urgency=min(size, *(i.urgency for i in incidents)),
                trend_ci_id=ci_id,
                trend_category_id=category_id,
            )
            from .services_problems import apply_problem_priority

            apply_problem_priority(problem)
            problem._history_user = by
            problem.save(reason="Proposed by the trend check (repeating incidents)")
            problem.incidents.set(incidents)
            problem.affected_cis.set([ci_id])
            problem.services.set({i.service_id for i in incidents if i.service_id})
            result.append(Proposal(problem, True, len(incidents)))
    return result


def _refs(incidents) -> str:
    return ", ".join(i.reference for i in incidents)


def _journal(problem: Problem, by, body: str) -> None:
    from sms.core.services import add_journal_entry

    if by is not None:
        add_journal_entry(problem, by=by, body=body)
    else:
        from sms.core.models import JournalEntry

        JournalEntry.objects.create(body=body, author=None, **_on(problem))


def _on(record) -> dict:
    from django.contrib.contenttypes.models import ContentType

    return {"content_type": ContentType.objects.get_for_model(record), "object_id": record.pk}
