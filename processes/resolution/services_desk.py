"""The service desk's working operations (clause 8.1): the console's queues, the priority
preview while an incident is logged, bulk assignment, and the incident's timeline.

Views and the API call these; each queue is a fixed number of queries whatever its size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import connections, transaction
from django.db.models import Q
from django.db.models.functions import Now

from sms.core.workflow import WorkflowError, run_transition

from . import services
from .choices import OPEN_STATES, RUNNING_STATES, IncidentState
from .models import GroupMember, Incident, PriorityLevel

S = IncidentState
QUEUE_ROWS = 10
QUEUE_RELATED = ("assignee", "assignment_group", "service", "caller")
# Reassigning a resolved, closed or cancelled incident makes no sense: reopen it first.
ASSIGNABLE_STATES = OPEN_STATES


# --- the console ----------------------------------------------------------------------------
def queue_filters(user, group_ids: list[int]) -> dict[str, Q]:
    """The console's queues as conditions on ``Incident.objects.with_clock(...)`` (which
    computes ``at_risk`` and ``resolution_overdue`` in SQL from the tenant's at-risk point)."""
    queues = {
        "mine": Q(assignee=user, state__in=OPEN_STATES),
        "groups": Q(assignment_group_id__in=group_ids, state__in=OPEN_STATES) & ~Q(assignee=user),
        "unassigned": Q(assignee__isnull=True, state__in=OPEN_STATES),
        # Running, not late yet, but past the tenant's at-risk point of its target span.
        # (Not late yet is "due from now on", said so that the due-time index can answer it.)
        "breaching": Q(
            state__in=RUNNING_STATES, resolution_breached=False, resolution_due_at__gte=Now(), at_risk=True
        ),
        "major": Q(is_major=True, state__in=OPEN_STATES),
    }
    return queues


QUEUE_ORDER = {
    "mine": ("resolution_due_at", "priority", "number"),
    "groups": ("resolution_due_at", "priority", "number"),
    "unassigned": ("priority", "created_at", "number"),
    "breaching": ("resolution_due_at", "number"),
    "major": ("priority", "-created_at"),
}


@dataclass
class Queue:
    code: str
    rows: list
    total: int


def _member_groups(user) -> list[GroupMember]:
    return list(GroupMember.objects.filter(user=user).select_related("group").order_by("group__name"))


def queue_counts(user, *, group_ids: list[int] | None = None, at_risk_percent: int | None = None) -> dict[str, int]:
    """How many incidents each queue holds: one statement, one count per queue, so that
    each reads its own index (mostly the index alone) instead of every open incident."""
    if at_risk_percent is None:
        at_risk_percent = services.resolution_settings().at_risk_percent
    if group_ids is None:
        group_ids = list(GroupMember.objects.filter(user=user).values_list("group_id", flat=True))
    base = _open_with_clock(at_risk_percent)
    filters = queue_filters(user, group_ids)
    columns, params = [], []
    for code, cond in filters.items():
        try:
            sql, values = base.filter(cond).order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # e.g. "my groups" of a member of none
            columns.append(f'0 AS "{code}"')
            continue
        columns.append(f'(SELECT COUNT(*) FROM ({sql}) "{code}_rows") AS "{code}"')
        params.extend(values)
    with connections[base.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns), params)
        row = cursor.fetchone()
    return dict(zip(filters, row, strict=True))


def _open_with_clock(at_risk_percent: int):
    """Every queue holds open incidents only: saying so lets the indexes narrow the scan,
    where conditions on the computed columns alone made it read every incident the
    tenant ever logged (the console took 703 ms at 1,000,000 incidents)."""
    return Incident.objects.filter(state__in=OPEN_STATES).with_clock(at_risk_percent)


def console(user, *, rows: int = QUEUE_ROWS) -> dict:
    """The member's queues: ``{"groups_of_user": [...], "queues": {code: Queue}}``.

    Queries: settings (1), the member's groups (1), all the queue counts (1), the first
    rows of each non-empty queue (ids only, 1 each), and those rows in full (1): a fixed
    number, whatever the number of incidents. Reading ids first keeps the joins of the
    full rows off every candidate row."""
    pct = services.resolution_settings().at_risk_percent
    memberships = _member_groups(user)
    group_ids = [m.group_id for m in memberships]
    counts = queue_counts(user, group_ids=group_ids, at_risk_percent=pct)
    base = _open_with_clock(pct)
    filters = queue_filters(user, group_ids)
    first_ids = {
        code: list(base.filter(cond).order_by(*QUEUE_ORDER[code]).values_list("pk", flat=True)[:rows])
        for code, cond in filters.items()
        if counts[code]
    }
    wanted = {pk for ids in first_ids.values() for pk in ids}
    found = base.filter(pk__in=wanted).select_related(*QUEUE_RELATED).in_bulk() if wanted else {}
    queues = {
        code: Queue(code, [found[pk] for pk in first_ids.get(code, []) if pk in found], counts[code])
        for code in filters
    }
    return {"groups_of_user": [m.group for m in memberships], "queues": queues}


def console_queue(user, code: str):
    """One queue's full queryset (the console's "show all" pages and the API)."""
    settings_row = services.resolution_settings()
    group_ids = list(GroupMember.objects.filter(user=user).values_list("group_id", flat=True))
    filters = queue_filters(user, group_ids)
    if code not in filters:
        raise KeyError(code)
    return _open_with_clock(settings_row.at_risk_percent).filter(filters[code]).order_by(*QUEUE_ORDER[code], "-pk")


# --- priority preview -----------------------------------------------------------------------
@dataclass
class PriorityPreview:
    level: int
    name: str
    response_minutes: int
    resolution_minutes: int


def priority_preview(impact: int, urgency: int) -> PriorityPreview:
    """What the matrix gives for an impact and urgency, with the level's targets."""
    level = services.computed_priority(impact, urgency)
    row = PriorityLevel.objects.filter(level=level).first()
    if row is None:
        services.ensure_defaults()
        row = PriorityLevel.objects.get(level=level)
    return PriorityPreview(level, row.name, row.response_minutes, row.resolution_minutes)


# --- bulk assignment --------------------------------------------------------------------------
@dataclass
class BulkResult:
    changed: list[Incident] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (reference or id, message)


def bulk_assign(ids, *, by, membership, group=None, assignee=None, reason: str = "") -> BulkResult:
    """Give the incidents ``ids`` to ``group`` and/or ``assignee`` in one operation.

    The caller needs ``incident.update``; each row is checked on its own (it must exist in
    this tenant and be open) and changed in its own savepoint, so one refused row does not
    stop the others; its error is reported by reference. A new incident that gets an
    assignment takes the "assign" transition (its response time stops there), which
    checks the caller's transition permission too."""
    if membership is None or not membership.can("incident.update"):
        raise PermissionDenied("Your role in this tenant does not allow this (incident.update).")
    if group is None and assignee is None:
        raise ValidationError({"assignment_group": "Choose a group, an assignee, or both."})
    if group is not None and (group.party_type != "internal_group" or group.tenant_id != membership.tenant_id):
        raise ValidationError({"assignment_group": f"{group} is not an internal group."})
    if assignee is not None:
        from sms.core.api.serializers import tenant_members

        if not tenant_members().filter(pk=assignee.pk).exists():
            raise ValidationError({"assignee": "The assignee must be a member of this tenant."})
    wanted: list[int] = []
    for raw in ids:
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            continue
        if pk not in wanted:
            wanted.append(pk)
    if not wanted:
        raise ValidationError({"incidents": "Select at least one incident."})
    result = BulkResult()
    found = {i.pk: i for i in Incident.objects.filter(pk__in=wanted)}
    who = " and ".join(str(x) for x in (group, assignee and (assignee.get_full_name() or assignee.username)) if x)
    note = f"Assigned in bulk to {who}" + (f": {reason.strip()}" if reason.strip() else "")
    for pk in wanted:
        incident = found.get(pk)
        if incident is None:
            result.errors.append((f"#{pk}", "No such incident in this tenant."))
            continue
        if incident.state not in ASSIGNABLE_STATES:
            result.errors.append(
                (incident.reference, f"It is {incident.get_state_display().lower()}; reopen it before reassigning.")
            )
            continue
        try:
            with transaction.atomic():
                locked = Incident.objects.select_for_update().get(pk=pk)
                if locked.state not in ASSIGNABLE_STATES:
                    raise WorkflowError(f"It became {locked.get_state_display().lower()} meanwhile.")
                if group is not None:
                    locked.assignment_group = group
                if assignee is not None:
                    locked.assignee = assignee
                locked._history_user = by
                locked.save(reason=note)
                if locked.state == S.NEW:
                    locked = run_transition(locked, "assign", by=by, reason=note)
        except WorkflowError as exc:
            result.errors.append((incident.reference, exc.message))
        else:
            result.changed.append(locked)
    return result


# --- timeline ---------------------------------------------------------------------------------
@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str  # "journal", "state", "escalation", "logged"
    title: str
    body: str = ""
    who: object = None
    note: str = ""  # the journal entry's visibility, the escalation rule's name


def _escalations(incident) -> list[TimelineEntry]:
    from .models import Escalation

    return [
        TimelineEntry(e.created_at, "escalation", f"Escalated: {e.get_action_display()}", e.detail, None, e.rule_name)
        for e in Escalation.objects.filter(incident=incident).order_by("-created_at")[:200]
    ]


def timeline(incident, *, limit: int = 200) -> list[TimelineEntry]:
    """Journal entries, state changes (from the history) and escalations, newest first.

    Queries: journal (1), history (1), escalations (1)."""
    from django.contrib.contenttypes.models import ContentType

    from sms.core.models import JournalEntry

    entries: list[TimelineEntry] = []
    ct = ContentType.objects.get_for_model(incident)
    for entry in (
        JournalEntry.objects.filter(content_type=ct, object_id=incident.pk)
        .select_related("author")
        .order_by("-created_at")[:limit]
    ):
        entries.append(
            TimelineEntry(
                entry.created_at,
                "journal",
                "Public update" if entry.visibility == "public" else "Internal note",
                entry.body,
                entry.author,
                entry.visibility,
            )
        )
    labels = dict(S.choices)
    rows = list(incident.history.select_related("history_user").order_by("history_date", "history_id"))
    previous = None
    for row in rows:
        if row.history_type == "+":
            entries.append(TimelineEntry(row.history_date, "logged", "Logged", "", row.history_user))
        elif previous is not None and row.state != previous:
            reason = row.history_change_reason or ""
            entries.append(
                TimelineEntry(
                    row.history_date,
                    "state",
                    f"{labels.get(previous, previous)} → {labels.get(row.state, row.state)}",
                    reason,
                    row.history_user,
                )
            )
        previous = row.state
    entries += _escalations(incident)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
