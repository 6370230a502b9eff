"""Incidents (clause 8.1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Func, Q, Value, When
from django.db.models.functions import Now
from django.utils import timezone

from sms.core.models import Record
from sms.core.models.base import TenantManager, TenantQuerySet
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition

from ..choices import OPEN_STATES, RUNNING_STATES, Channel, Impact, IncidentState, ResolutionCode, Urgency
from .config import LEVEL_CHOICES, middle_level, scale_display
from .major import MajorIncidentFields, has_major_manager, has_major_review

S = IncidentState


@condition("Choose an assignment group or an assignee first.", field="assignee")
def has_assignment(inc: Incident) -> bool:
    return bool(inc.assignee_id or inc.assignment_group_id)


@condition("Give a resolution code before resolving.", field="resolution_code")
def has_resolution_code(inc: Incident) -> bool:
    return bool(inc.resolution_code)


@condition("Write resolution notes before resolving: what was done to restore the service.", field="resolution_notes")
def has_resolution_notes(inc: Incident) -> bool:
    return bool(inc.resolution_notes.strip())


@condition("The reopen window has passed: log a new incident and link it to this one.")
def within_reopen_window(inc: Incident) -> bool:
    from ..services import reopen_deadline

    deadline = reopen_deadline(inc)
    return deadline is not None and timezone.now() <= deadline


class IncidentQuerySet(TenantQuerySet):
    def with_clock(self, at_risk_percent: int = 75):
        """Computed on read, in SQL: whether a running incident is past its due times now
        (``response_overdue``, ``resolution_overdue``), the wall-clock minutes left to its
        resolution due time (``resolution_left_minutes``, negative when late, null when the
        clock is not running) and whether more than ``at_risk_percent`` of the span from
        logging to the due time has gone (``at_risk``)."""
        now = Now()
        running = Q(state__in=RUNNING_STATES)
        left = ExpressionWrapper(F("resolution_due_at") - now, output_field=models.DurationField())
        span = ExpressionWrapper(F("resolution_due_at") - F("created_at"), output_field=models.DurationField())
        risk_from = ExpressionWrapper(
            F("resolution_due_at") - span * Value((100 - at_risk_percent) / 100.0), output_field=models.DateTimeField()
        )
        return self.annotate(risk_from=risk_from).annotate(
            response_overdue=ExpressionWrapper(
                running & Q(responded_at__isnull=True, response_due_at__lt=now), output_field=models.BooleanField()
            ),
            resolution_overdue=ExpressionWrapper(
                running & Q(resolution_due_at__lt=now), output_field=models.BooleanField()
            ),
            resolution_left_minutes=Case(
                When(
                    running & Q(resolution_due_at__isnull=False),
                    then=Func(left, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / 60)::integer"),
                ),
                default=None,
                output_field=models.IntegerField(),
            ),
            at_risk=ExpressionWrapper(
                running & Q(resolution_due_at__isnull=False) & Q(risk_from__lte=now), output_field=models.BooleanField()
            ),
        )


class IncidentManager(TenantManager.from_queryset(IncidentQuerySet)):
    pass


class Incident(WorkflowModel, MajorIncidentFields, Record):
    """An unplanned interruption or reduction in quality of a service (clause 8.1):
    recorded, prioritised from impact and urgency, classified, updated, escalated,
    resolved and closed, with response and resolution targets that run in the service's
    hours and pause while the incident waits for the customer or a supplier."""

    state = StateField(choices=S.choices, default=S.NEW)
    caller = models.ForeignKey(
        "parties.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who reported it.",
    )
    customer = models.ForeignKey(
        "parties.Party",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"party_type": "customer"},
    )
    service = models.ForeignKey("cmdb.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    affected_cis = models.ManyToManyField(
        "cmdb.ConfigurationItem", blank=True, related_name="+", verbose_name="affected CIs"
    )
    category = models.ForeignKey(
        "resolution.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    impact = models.PositiveSmallIntegerField(
        choices=Impact.choices, default=middle_level, help_text="1 (most) to 3 or 5, as the tenant's scale has it."
    )
    urgency = models.PositiveSmallIntegerField(
        choices=Urgency.choices, default=middle_level, help_text="1 (most) to 3 or 5, as the tenant's scale has it."
    )
    priority = models.PositiveSmallIntegerField(choices=LEVEL_CHOICES, editable=False, default=3)
    priority_overridden = models.BooleanField(default=False, editable=False)
    priority_override_reason = models.CharField(max_length=500, blank=True, editable=False)
    assignment_group = models.ForeignKey(
        "parties.Party",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"party_type": "internal_group"},
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.PHONE)
    is_security = models.BooleanField(
        "information security incident",
        default=False,
        help_text="Handled also under the information security procedures (clause 6.6.3).",
    )
    resolution_code = models.CharField(max_length=30, choices=ResolutionCode.choices, blank=True)
    resolution_notes = models.TextField(blank=True)

    # Clocks (see services.py): due times in UTC, computed from the priority's targets in
    # the service's calendar; paused working minutes push the resolution due time out.
    responded_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_since = models.DateTimeField(null=True, blank=True, editable=False)
    paused_minutes = models.PositiveIntegerField(default=0, editable=False)
    response_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    response_breached = models.BooleanField(default=False, editable=False)
    resolution_breached = models.BooleanField(default=False, editable=False)

    objects = IncidentManager()

    class Meta(Record.Meta):
        verbose_name = "incident"
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="resolution_inc_state_idx"),
            # The service desk's queues: mine, my group's, sorted by due time.
            models.Index(fields=["tenant", "assignee", "state"], name="resolution_inc_assignee_idx"),
            models.Index(fields=["tenant", "assignment_group", "state"], name="resolution_inc_group_idx"),
            # A service's incidents in a state, soonest due first (the list filtered by
            # service and status, sorted by due time, reads it in order and stops at the page).
            models.Index(fields=["tenant", "service", "state", "resolution_due_at"], name="resolution_inc_svc_due_idx"),
            # The breach check claims running incidents whose due time has passed.
            models.Index(fields=["tenant", "state", "resolution_due_at"], name="resolution_inc_due_idx"),
            search_index("resolution_inc_search_idx", "title", "description"),
            # Trend analysis (clause 8.2) and the trend check read a window of logging dates.
            models.Index(fields=["tenant", "created_at"], name="resolution_inc_created_idx"),
            # Major incidents (few): the console's and the managers' list.
            models.Index(
                fields=["tenant", "state", "-number"], condition=Q(is_major=True), name="resolution_inc_major_idx"
            ),
            # Security incidents (few) by logging date: the 6.6.3 analysis reads a window of
            # them without reading every incident of the window.
            models.Index(
                fields=["tenant", "created_at"], condition=Q(is_security=True), name="resolution_inc_security_idx"
            ),
            # The console's queues hold open incidents only, each read in its own order and
            # only as far as its first rows: "my work" by due time, "unassigned" by priority
            # and age, "breaching soon" from now on by due time.
            models.Index(
                fields=["tenant", "assignee", "resolution_due_at"],
                condition=Q(state__in=OPEN_STATES),
                name="resolution_inc_open_mine_idx",
            ),
            models.Index(
                fields=["tenant", "priority", "created_at"],
                condition=Q(state__in=OPEN_STATES, assignee__isnull=True),
                name="resolution_inc_unassigned_idx",
            ),
            models.Index(
                fields=["tenant", "resolution_due_at"],
                include=["created_at"],
                condition=Q(state__in=RUNNING_STATES, resolution_breached=False),
                name="resolution_inc_running_due_idx",
            ),
        ]

    # Labels of the tenant's 3- or 5-level scale (the columns hold 1 to 5).
    def get_impact_display(self) -> str:
        return scale_display("impact", self.impact)

    def get_urgency_display(self) -> str:
        return scale_display("urgency", self.urgency)

    # --- workflow ---------------------------------------------------------------------------

    @transition(source=S.NEW, target=S.ASSIGNED, label="Assign", conditions=[has_assignment, has_major_manager])
    def assign(self, by=None, reason=""):
        self._responded()

    @transition(source=[S.NEW, S.ASSIGNED], target=S.IN_PROGRESS, label="Start work", conditions=[has_major_manager])
    def start(self, by=None, reason=""):
        if self.assignee_id is None and by is not None:
            self.assignee = by
        self._responded()

    @transition(source=S.IN_PROGRESS, target=S.ON_HOLD, label="Put on hold", reason_required=True, style="secondary")
    def hold(self, by=None, reason=""):
        self.paused_since = timezone.now()

    @transition(source=S.ON_HOLD, target=S.IN_PROGRESS, label="Resume work")
    def resume(self, by=None, reason=""):
        from ..services import end_pause

        end_pause(self)

    @transition(
        source=[S.ASSIGNED, S.IN_PROGRESS],
        target=S.RESOLVED,
        label="Resolve",
        conditions=[has_resolution_code, has_resolution_notes],
    )
    def resolve(self, by=None, reason=""):
        from ..services import refresh_breaches

        self._responded()
        self.resolved_at = timezone.now()
        refresh_breaches(self)

    @transition(
        source=S.RESOLVED,
        target=S.IN_PROGRESS,
        label="Reopen",
        reason_required=True,
        conditions=[within_reopen_window],
        style="secondary",
    )
    def reopen(self, by=None, reason=""):
        from ..services import end_pause

        # The time spent resolved does not count against the resolution target.
        self.paused_since = self.resolved_at
        self.resolved_at = None
        self.closed_at = None
        end_pause(self)

    @transition(source=S.RESOLVED, target=S.CLOSED, label="Close", conditions=[has_major_review])
    def close(self, by=None, reason=""):
        self.closed_at = timezone.now()

    @transition(
        source=[S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD],
        target=S.CANCELLED,
        label="Cancel",
        reason_required=True,
        style="danger",
        conditions=[has_major_manager],
    )
    def cancel(self, by=None, reason=""):
        self.closed_at = timezone.now()

    def _responded(self) -> None:
        if self.responded_at is None:
            from ..services import refresh_breaches

            self.responded_at = timezone.now()
            refresh_breaches(self)
