"""Operations of incident management (clause 8.1): default set-up, priority from impact
and urgency, due times in the service's calendar, pauses, and breach flags.

The due-time logic lives here (not in the model or the views) so that service requests,
escalation rules and major incidents can reuse it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sms.tenancy import context

from . import config_cache
from . import working_time as wt
from .choices import DEFAULT_LEVELS, DEFAULT_MATRIX, RUNNING_STATES, IncidentState, default_matrix
from .clocks import Clock
from .models import Incident, PriorityLevel, PriorityMatrixCell, ResolutionSettings, ServiceCalendar

S = IncidentState


# --- set-up ---------------------------------------------------------------------------------
def ensure_defaults() -> ResolutionSettings:
    """Give the current tenant a default matrix, targets and settings if it has none.

    Idempotent and concurrency-safe (unique constraints plus ``get_or_create``)."""
    settings_row = ResolutionSettings.objects.first()
    if settings_row is not None and PriorityMatrixCell.objects.count() == settings_row.matrix_size**2:
        return settings_row
    with transaction.atomic():
        existing_levels = set(PriorityLevel.objects.values_list("level", flat=True))
        for level, (name, response, resolution) in DEFAULT_LEVELS.items():
            if level not in existing_levels:
                PriorityLevel(level=level, name=name, response_minutes=response, resolution_minutes=resolution).save(
                    reason="Default priority scheme"
                )
        settings_row, _ = ResolutionSettings.objects.get_or_create(tenant_id=context.require_tenant().pk)
        cells = set(PriorityMatrixCell.objects.values_list("impact", "urgency"))
        for (impact, urgency), level in default_matrix(settings_row.matrix_size).items():
            if (impact, urgency) not in cells:
                PriorityMatrixCell(impact=impact, urgency=urgency, priority=level).save(
                    reason="Default priority matrix"
                )
    return settings_row


def resolution_settings() -> ResolutionSettings:
    return ResolutionSettings.objects.select_related("default_calendar").first() or ensure_defaults()


def matrix() -> dict[tuple[int, int], int]:
    cells = dict(config_cache.current().matrix)  # cached per tenant; see config_cache
    if len(cells) < len(DEFAULT_MATRIX):
        ensure_defaults()
        cells = dict(((c.impact, c.urgency), c.priority) for c in PriorityMatrixCell.objects.all())
    return cells


def computed_priority(impact: int, urgency: int) -> int:
    """The matrix's priority; a level off the tenant's 3- or 5-level scale is a
    ``ValidationError`` naming the field."""
    cells = matrix()
    try:
        return cells[(int(impact), int(urgency))]
    except KeyError:
        raise ValidationError(scale_errors(impact, urgency, _size_of(cells))) from None


def _size_of(cells: dict[tuple[int, int], int]) -> int:
    return max(impact for impact, _ in cells)


def scale_size() -> int:
    """3 or 5: how many impact and urgency levels the tenant's matrix has."""
    return _size_of(matrix())


def scale_errors(impact, urgency, size: int) -> dict[str, str]:
    errors = {
        name: f"{name.title()} {value} is not on this organisation's {size}-level scale: choose 1 to {size}."
        for name, value in (("impact", impact), ("urgency", urgency))
        if int(value) not in range(1, size + 1)
    }
    return errors or {"impact": "The priority matrix has no cell for this impact and urgency."}


def targets(level: int) -> tuple[int, int]:
    """(response, resolution) target minutes of a priority level."""
    found = config_cache.current().targets.get(int(level))  # cached per tenant; see config_cache
    if found is not None:
        return found
    ensure_defaults()
    row = PriorityLevel.objects.get(level=level)
    return row.response_minutes, row.resolution_minutes


# --- priority -------------------------------------------------------------------------------
def apply_priority(incident: Incident, *, priority: int | None = None, reason: str = "") -> None:
    """Set the incident's priority from its impact and urgency, or override it.

    An override (a priority other than the matrix's) needs a reason, kept on the record
    and in its history. Without an explicit priority an earlier override stays, unless
    the impact or urgency changed the computed value; then the matrix decides again.
    """
    computed = computed_priority(incident.impact, incident.urgency)
    reason = (reason or "").strip()
    if priority is not None and int(priority) != computed:
        if not reason:
            raise ValidationError({"priority_override_reason": "Give the reason for overriding the computed priority."})
        incident.priority, incident.priority_overridden, incident.priority_override_reason = int(priority), True, reason
        incident._change_reason = f"Priority overridden to P{priority}: {reason}"
    elif priority is not None or not incident.priority_overridden or _matrix_inputs_changed(incident):
        incident.priority, incident.priority_overridden, incident.priority_override_reason = computed, False, ""


def _matrix_inputs_changed(incident: Incident) -> bool:
    if incident.pk is None:
        return True
    before = Incident.objects.filter(pk=incident.pk).values("impact", "urgency").first()
    return before is None or (before["impact"], before["urgency"]) != (incident.impact, incident.urgency)


# --- clocks ---------------------------------------------------------------------------------
def calendar_for(incident: Incident) -> wt.WorkingCalendar:
    """The service's calendar, else the tenant's default, else 24x7 in the tenant's zone."""
    setup = config_cache.current()  # cached per tenant; see config_cache
    found = setup.service_calendars.get(incident.service_id) if incident.service_id else None
    if found is None:
        found = setup.default_calendar
    if found is None and not setup.has_settings:  # first use: the settings row is created
        calendar: ServiceCalendar | None = resolution_settings().default_calendar
        found = calendar.working_calendar() if calendar is not None else None
    if found is None:
        return wt.WorkingCalendar.twenty_four_seven(context.require_tenant().time_zone or "UTC")
    return found


def opened_at(incident: Incident) -> dt.datetime:
    return incident.created_at or timezone.now()


# The response and resolution clocks; the arithmetic is shared with service requests.
INCIDENT_CLOCK = Clock(
    running_states=RUNNING_STATES,
    open_states=(*RUNNING_STATES, S.ON_HOLD),
    done_due="resolution_due_at",
    done_at="resolved_at",
    done_breached="resolution_breached",
)


def schedule(incident: Incident, *, calendar: wt.WorkingCalendar | None = None) -> None:
    """(Re)compute the due times from the priority's targets, the calendar and pauses."""
    cal = calendar or calendar_for(incident)
    response, resolution = targets(incident.priority)
    INCIDENT_CLOCK.schedule(incident, cal, opened_at(incident), response, resolution)
    refresh_breaches(incident)


def end_pause(incident: Incident, *, now: dt.datetime | None = None) -> None:
    """Close the running pause: its working minutes push the resolution due time out."""
    if incident.paused_since is not None:
        cal = calendar_for(incident)
        INCIDENT_CLOCK.close_pause(incident, cal, now or timezone.now())
        schedule(incident, calendar=cal)


def refresh_breaches(incident: Incident, *, now: dt.datetime | None = None) -> bool:
    """Set the breach flags from the due times; a breach is never unset. Returns True when
    a flag changed."""
    return INCIDENT_CLOCK.refresh_breaches(incident, now or timezone.now())


def remaining_minutes(incident: Incident, *, now: dt.datetime | None = None) -> int | None:
    """Working minutes left to the resolution target (negative when late); frozen on hold."""
    return INCIDENT_CLOCK.remaining_minutes(incident, lambda: calendar_for(incident), now or timezone.now())


def reopen_deadline(incident: Incident) -> dt.datetime | None:
    if incident.resolved_at is None:
        return None
    return incident.resolved_at + dt.timedelta(days=resolution_settings().reopen_days)


def reschedule_incidents(incidents: Iterable[Incident], reason: str) -> int:
    """After a target or calendar change: recompute the due times of open incidents."""
    n = 0
    for incident in incidents:
        schedule(incident)
        incident.save(reason=reason)
        n += 1
    return n


def flag_breaches(limit: int = 500) -> int:
    """The planned check (Celery beat, each minute): mark running incidents of the current
    tenant whose due time has passed. Claims rows with SKIP LOCKED so that parallel
    workers never write the same incident twice; saves through ``save()`` for history."""
    from django.db.models import Q

    now = timezone.now()
    flagged = 0
    with transaction.atomic():
        due = (
            Incident.objects.filter(state__in=RUNNING_STATES)
            .filter(
                Q(response_breached=False, responded_at__isnull=True, response_due_at__lt=now)
                | Q(resolution_breached=False, resolution_due_at__lt=now)
            )
            .select_for_update(skip_locked=True)
            .order_by("resolution_due_at")[:limit]
        )
        for incident in due:
            before = (incident.response_breached, incident.resolution_breached)
            if refresh_breaches(incident, now=now):
                which = [
                    n
                    for n, f in (("response", incident.response_breached), ("resolution", incident.resolution_breached))
                    if f
                ]
                incident.save(
                    update_fields=["response_breached", "resolution_breached"],
                    reason=f"Target breached: {' and '.join(which)}",
                )
                # The target can no longer be met: tell the customer and interested parties.
                from .services_escalation import inform_target_missed

                if incident.response_breached and not before[0]:
                    inform_target_missed(incident, "response")
                if incident.resolution_breached and not before[1]:
                    inform_target_missed(incident, "resolution")
                flagged += 1
    return flagged
