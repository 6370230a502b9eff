"""Problem management and the known error database (clause 8.2)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sms.core.models import Record, TrackedModel
from sms.core.search import CONFIG, search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition

from ..choices import Impact, Urgency
from ..problem_choices import (
    OPEN_PROBLEM_STATES,
    KnownErrorState,
    ProblemOrigin,
    ProblemState,
    RootCauseRemoved,
)
from .config import LEVEL_CHOICES, middle_level, scale_display

P = ProblemState
K = KnownErrorState

# Record kinds whose records count as a request for change for the guard below. The
# change app registers the kind "change"; this app never imports it (ARCHITECTURE.md).
RFC_KIND_CODES: tuple[str, ...] = ("change",)
KNOWN_ERROR_SEARCH_FIELDS = ("title", "description", "symptoms", "root_cause", "workaround")


@condition("Choose an assignment group or an assignee before starting the investigation.", field="assignee")
def problem_has_assignment(problem: Problem) -> bool:
    return bool(problem.assignee_id or problem.assignment_group_id)


@condition("Record the root cause first.", field="root_cause")
def has_root_cause(problem: Problem) -> bool:
    return bool(problem.root_cause.strip())


@condition("Record the workaround that reduces the impact until the problem is fixed.", field="workaround")
def has_workaround(problem: Problem) -> bool:
    return bool(problem.workaround.strip())


@condition("Write resolution notes first: what removed the cause.", field="resolution_notes")
def problem_has_resolution_notes(problem: Problem) -> bool:
    return bool(problem.resolution_notes.strip())


@condition(
    "The fix needs a change to a CI: link the request for change (its reference, or a link to the change record) "
    "before resolving.",
    field="rfc_reference",
)
def has_rfc_when_needed(problem: Problem) -> bool:
    if not problem.needs_change:
        return True
    return bool(problem.rfc_reference.strip()) or problem.has_linked_rfc()


@condition("Record the problem review first: what was learnt and whether the root cause was removed.")
def has_review(problem: Problem) -> bool:
    return problem.pk is not None and problem.reviews.exists()


class Problem(WorkflowModel, Record):
    """The unknown underlying cause of one or more incidents (clause 8.2): identified,
    recorded, prioritised, classified, investigated to its root cause, worked around,
    resolved (through a request for change when a CI has to change), reviewed and
    closed."""

    state = StateField(choices=P.choices, default=P.NEW)
    origin = models.CharField(max_length=20, choices=ProblemOrigin.choices, default=ProblemOrigin.MANUAL)
    incidents = models.ManyToManyField(
        "resolution.Incident", blank=True, related_name="problems", help_text="Incidents this problem causes."
    )
    services = models.ManyToManyField("cmdb.Service", blank=True, related_name="+", verbose_name="affected services")
    affected_cis = models.ManyToManyField(
        "cmdb.ConfigurationItem", blank=True, related_name="+", verbose_name="affected CIs"
    )
    category = models.ForeignKey(
        "resolution.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="problems"
    )
    impact = models.PositiveSmallIntegerField(
        choices=Impact.choices, default=middle_level, help_text="1 (most) to 3 or 5, as the tenant's scale has it."
    )
    urgency = models.PositiveSmallIntegerField(
        choices=Urgency.choices, default=middle_level, help_text="1 (most) to 3 or 5, as the tenant's scale has it."
    )
    priority = models.PositiveSmallIntegerField(
        choices=LEVEL_CHOICES, editable=False, default=3, help_text="From the tenant's impact x urgency matrix."
    )
    priority_overridden = models.BooleanField(default=False, editable=False)
    priority_override_reason = models.CharField(max_length=500, blank=True, editable=False)
    assignment_group = models.ForeignKey(
        "parties.Party",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"party_type": "internal_group"},
        help_text="The team investigating.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    root_cause = models.TextField(blank=True, help_text="Why the incidents happen, once it is known.")
    workaround = models.TextField(
        blank=True, help_text="How to restore the service or reduce the impact until the cause is removed."
    )
    needs_change = models.BooleanField(
        "resolution needs a change to a CI",
        default=False,
        help_text="Then the problem is resolved through a request for change, which must be linked first.",
    )
    rfc_reference = models.CharField(
        "request for change",
        max_length=60,
        blank=True,
        help_text="Reference of the request for change that removes the cause (e.g. CHG-42), "
        "unless the change record is linked.",
    )
    resolution_notes = models.TextField(blank=True)
    investigation_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    known_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the trend check proposed the problem: the cluster it stands for, so that the
    # same cluster never gets a second proposal while this one is open.
    trend_ci = models.ForeignKey(
        "cmdb.ConfigurationItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    trend_category = models.ForeignKey(
        "resolution.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta(Record.Meta):
        verbose_name = "problem"
        constraints = [
            *Record.Meta.constraints,
            models.UniqueConstraint(
                fields=["tenant", "trend_ci", "trend_category"],
                condition=Q(trend_ci__isnull=False, trend_category__isnull=False, state__in=OPEN_PROBLEM_STATES),
                name="resolution_problem_open_trend_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="resolution_prb_state_idx"),
            models.Index(fields=["tenant", "assignee", "state"], name="resolution_prb_assignee_idx"),
            models.Index(fields=["tenant", "category", "state"], name="resolution_prb_category_idx"),
            search_index("resolution_prb_search_idx", "title", "description"),
        ]

    # Labels of the tenant's 3- or 5-level scale (the columns hold 1 to 5).
    def get_impact_display(self) -> str:
        return scale_display("impact", self.impact)

    def get_urgency_display(self) -> str:
        return scale_display("urgency", self.urgency)

    # --- workflow ---------------------------------------------------------------------------
    @transition(
        source=P.NEW, target=P.UNDER_INVESTIGATION, label="Start investigation", conditions=[problem_has_assignment]
    )
    def investigate(self, by=None, reason=""):
        self.investigation_started_at = timezone.now()

    @transition(
        source=[P.NEW, P.UNDER_INVESTIGATION],
        target=P.KNOWN_ERROR,
        label="Record as known error",
        conditions=[has_root_cause, has_workaround],
        style="secondary",
    )
    def record_known_error(self, by=None, reason=""):
        from ..services_problems import known_error_from_problem

        self.known_error_at = timezone.now()
        if self.investigation_started_at is None:
            self.investigation_started_at = self.known_error_at
        known_error_from_problem(self, by=by)

    @transition(
        source=[P.UNDER_INVESTIGATION, P.KNOWN_ERROR],
        target=P.RESOLVED,
        label="Resolve",
        conditions=[has_root_cause, problem_has_resolution_notes, has_rfc_when_needed],
    )
    def resolve(self, by=None, reason=""):
        self.resolved_at = timezone.now()

    @transition(
        source=P.RESOLVED, target=P.UNDER_INVESTIGATION, label="Reopen", reason_required=True, style="secondary"
    )
    def reopen(self, by=None, reason=""):
        self.resolved_at = None

    @transition(source=P.RESOLVED, target=P.CLOSED, label="Close", conditions=[has_review])
    def close(self, by=None, reason=""):
        from ..services_problems import retire_known_errors_of

        self.closed_at = timezone.now()
        retire_known_errors_of(self, by=by, reason=f"{self.reference} closed: the cause was removed.")

    @transition(
        source=list(OPEN_PROBLEM_STATES), target=P.CANCELLED, label="Cancel", reason_required=True, style="danger"
    )
    def cancel(self, by=None, reason=""):
        self.closed_at = timezone.now()

    # --- request for change -------------------------------------------------------------------
    def has_linked_rfc(self) -> bool:
        """A record of a change kind is linked to this problem, in either direction."""
        from django.contrib.contenttypes.models import ContentType

        from sms.core.models import RecordLink
        from sms.core.registry import kinds

        if self.pk is None:
            return False
        rfc_types = [ContentType.objects.get_for_model(kind.model) for kind in map(kinds.find, RFC_KIND_CODES) if kind]
        if not rfc_types:
            return False
        me = ContentType.objects.get_for_model(self)
        return RecordLink.objects.filter(
            Q(target_type=me, target_id=self.pk, source_type__in=rfc_types)
            | Q(source_type=me, source_id=self.pk, target_type__in=rfc_types)
        ).exists()


class ProblemReview(TrackedModel):
    """The review of a resolved problem (clause 8.2: the effectiveness of problem
    resolution is monitored and reviewed): what was learnt, whether the root cause is
    really gone, and what is done next."""

    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField(default=timezone.localdate)
    participants = models.CharField(max_length=250, blank=True, help_text="Who took part.")
    lessons_learned = models.TextField(
        "what was learnt", help_text="What went well, what did not, what the organisation now knows."
    )
    root_cause_removed = models.CharField(
        "root cause removed", max_length=10, choices=RootCauseRemoved.choices, default=RootCauseRemoved.YES
    )
    recurrence_seen = models.BooleanField(
        "incidents recurred after the fix", default=False, help_text="Tick if related incidents came back."
    )
    actions = models.TextField(
        "follow-up actions", blank=True, help_text="Improvements, further changes or monitoring agreed in the review."
    )

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        indexes = [models.Index(fields=["tenant", "problem", "-reviewed_on"], name="resolution_prbreview_idx")]

    def __str__(self) -> str:
        return f"Review of problem {self.problem_id} on {self.reviewed_on}"


class KnownError(WorkflowModel, Record):
    """An entry of the known error database (clause 8.2): a problem whose root cause is
    known, with the symptoms to recognise it and the workaround that reduces its impact,
    offered to the service desk while incidents are logged. Retired once the cause is
    removed."""

    state = StateField(choices=K.choices, default=K.OPEN)
    problem = models.ForeignKey(
        Problem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="known_errors",
        help_text="The problem it was identified in.",
    )
    symptoms = models.TextField(blank=True, help_text="What users and monitoring see: messages, behaviour.")
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(help_text="Steps the service desk follows to restore the service.")
    services = models.ManyToManyField("cmdb.Service", blank=True, related_name="+", verbose_name="affected services")
    affected_cis = models.ManyToManyField(
        "cmdb.ConfigurationItem", blank=True, related_name="+", verbose_name="affected CIs"
    )
    category = models.ForeignKey(
        "resolution.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="known_errors"
    )
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The same document as the search index, stored: the database's own search ranks
    # with it instead of rebuilding every matching row's vector (global search keeps
    # using the expression index below).
    search_vector = models.GeneratedField(
        expression=SearchVector(*KNOWN_ERROR_SEARCH_FIELDS, config=CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta(Record.Meta):
        verbose_name = "known error"
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="resolution_ke_state_idx"),
            models.Index(fields=["tenant", "category", "state"], name="resolution_ke_category_idx"),
            models.Index(fields=["tenant", "problem"], name="resolution_ke_problem_idx"),
            search_index("resolution_ke_search_idx", *KNOWN_ERROR_SEARCH_FIELDS),
            GinIndex(fields=["search_vector"], name="resolution_ke_vector_idx"),
        ]

    @transition(source=K.OPEN, target=K.RETIRED, label="Retire", reason_required=True, style="secondary")
    def retire(self, by=None, reason=""):
        self.retired_at = timezone.now()

    @transition(source=K.RETIRED, target=K.OPEN, label="Reinstate", reason_required=True, style="secondary")
    def reinstate(self, by=None, reason=""):
        self.retired_at = None
