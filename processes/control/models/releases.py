"""Release and deployment management (clause 9.3): the release policy agreed per tenant
or per service, releases through their build, test, approval and deployment, and the
acceptance criteria each release is verified against."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sms.core.models import Record, TrackedModel
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition

from ..release_choices import (
    RELEASE_DEPLOYMENT_STATES,
    CriterionResult,
    DeploymentMethod,
    ReleaseOutcome,
    ReleaseState,
    ReleaseType,
)

R = ReleaseState
DEFAULT_INCIDENT_WINDOW_DAYS = 14


def _all_types() -> list[str]:
    return list(ReleaseType.values)


class ReleasePolicy(TrackedModel):
    """The release policy agreed with the customer: which types of release are made and
    how often, and what counts as an emergency release. One tenant-wide policy (no
    service) and, where a service needs its own, one per service."""

    service = models.ForeignKey(
        "cmdb.Service",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: the tenant-wide policy, for every service without one of its own.",
    )
    release_types = ArrayField(
        models.CharField(max_length=10, choices=ReleaseType.choices),
        default=_all_types,
        help_text="The types of release agreed for these services; a release of another type is refused.",
    )
    frequency = models.TextField(
        "frequency of releases",
        help_text="How often releases of each type are made, e.g. 'minor releases every second Tuesday, "
        "major releases once a quarter'.",
    )
    emergency_definition = models.TextField(
        "definition of an emergency release",
        blank=True,
        help_text="The agreed definition: when a release may go out outside the agreed frequency. An emergency "
        "release goes with an emergency request for change.",
    )
    incident_window_days = models.PositiveSmallIntegerField(
        "incident period after deployment (days)",
        default=DEFAULT_INCIDENT_WINDOW_DAYS,
        help_text="For how many days after deployment incidents on the release's CIs (or linked to it) are "
        "counted against the release.",
    )
    agreed_with = models.CharField(
        max_length=250, blank=True, help_text="With whom the policy was agreed (customer, service owner) and when."
    )

    class Meta:
        verbose_name = "release policy"
        verbose_name_plural = "release policies"
        ordering = ["service_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(service__isnull=True),
                name="control_releasepolicy_one_default",
                violation_error_message="There is already a tenant-wide release policy.",
            ),
            models.UniqueConstraint(
                fields=["tenant", "service"],
                name="control_releasepolicy_one_per_service",
                violation_error_message="This service already has its own release policy.",
            ),
            models.CheckConstraint(
                condition=Q(incident_window_days__gte=1) & Q(incident_window_days__lte=365),
                name="control_releasepolicy_window",
                violation_error_message="The incident period is between 1 and 365 days.",
            ),
        ]

    def __str__(self) -> str:
        return f"Release policy for {self.service}" if self.service_id else "Tenant-wide release policy"

    def clean(self) -> None:
        errors = {}
        if not (self.frequency or "").strip():
            errors["frequency"] = "Say how often releases are made."
        types = list(self.release_types or [])
        if not types:
            errors["release_types"] = "Agree at least one type of release."
        elif set(types) - set(ReleaseType.values):
            errors["release_types"] = f"Types are {', '.join(ReleaseType.values)}."
        else:
            self.release_types = [t for t in ReleaseType.values if t in types]
        if ReleaseType.EMERGENCY in types and not (self.emergency_definition or "").strip():
            errors["emergency_definition"] = "Emergency releases are agreed: write their definition."
        if self.incident_window_days is not None and not 1 <= self.incident_window_days <= 365:
            errors["incident_window_days"] = "Between 1 and 365 days."
        if errors:
            raise ValidationError(errors)


# --- conditions --------------------------------------------------------------------------------
@condition("Say what the release deploys into: at least one service or configuration item.", field="cis")
def has_scope(release: Release) -> bool:
    return release.pk is not None and (release.services.exists() or release.cis.exists())


@condition("Name the acceptance test environment the release is built and tested in.", field="test_environment")
def has_test_environment(release: Release) -> bool:
    return bool(release.test_environment.strip())


@condition("Agree the acceptance criteria of the release first (at least one).", field="criteria")
def has_criteria(release: Release) -> bool:
    return release.pk is not None and release.criteria.exists()


@condition(
    "Every acceptance criterion must be tested and passed in the acceptance test environment; a failed or "
    "untested criterion holds the release.",
    field="criteria",
)
def criteria_passed(release: Release) -> bool:
    if release.pk is None:
        return False
    results = set(release.criteria.values_list("result", flat=True))
    return bool(results) and results == {CriterionResult.PASSED}


@condition("Write the rollback plan: how the deployment is reversed or remedied if it fails.", field="rollback_plan")
def has_rollback_plan(release: Release) -> bool:
    return bool(release.rollback_plan.strip())


@condition("Give the planned deployment date.", field="planned_start")
def has_deployment_date(release: Release) -> bool:
    return release.planned_start is not None


@condition(
    "An emergency release goes with an emergency request for change: link one to the release.", field="changes"
)
def emergency_has_emergency_change(release: Release) -> bool:
    if release.release_type != ReleaseType.EMERGENCY:
        return True
    return release.pk is not None and release.changes.filter(change_type="emergency").exists()


# A request for change in one of these states allows its deployment (or has been deployed).
DEPLOYABLE_CHANGE_STATES = ("approved", "scheduled", "implementing", "implemented", "under_review", "closed")


@condition(
    "Every request for change the release implements must be approved before deployment starts.", field="changes"
)
def changes_approved(release: Release) -> bool:
    return release.pk is None or not release.changes.exclude(state__in=DEPLOYABLE_CHANGE_STATES).exists()


@condition("Deployment cannot go on without the configuration baseline taken when it started.", field="baseline")
def has_baseline(release: Release) -> bool:
    return release.baseline_id is not None


@condition(
    "Record the analysis of the release first: was it a success, what did it do to the customers, what is "
    "learnt.",
    field="review_notes",
)
def has_review(release: Release) -> bool:
    return bool(release.review_notes.strip())


def no_self_approval(release: Release, user, membership) -> str | None:
    if user.pk in (release.release_manager_id, release.created_by_id):
        return "You manage or recorded this release; someone else must approve it."
    return None


class Release(WorkflowModel, Record):
    """A release (clause 9.3): new or changed services and components deployed together
    into the live environment. Planned with its requests for change and the known
    errors and problems it closes, built and tested in a named acceptance test
    environment against criteria agreed in advance, approved by someone other than its
    manager, deployed with a configuration baseline of what it touches taken first, and
    analysed afterwards with the incidents that followed it."""

    state = StateField(choices=R.choices, default=R.PLANNED)
    release_type = models.CharField(
        "type", max_length=10, choices=ReleaseType.choices, default=ReleaseType.MINOR,
        help_text="Must be a type the release policy of its services allows.",
    )
    release_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who plans and runs the release (defaults to whoever records it). Never its approver.",
    )
    services = models.ManyToManyField(
        "cmdb.Service", blank=True, related_name="+", help_text="Services the release deploys into."
    )
    cis = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="+",
        verbose_name="configuration items",
        help_text="Configuration items it deploys or changes; their baseline is taken when deployment starts.",
    )
    changes = models.ManyToManyField(
        "control.Change",
        blank=True,
        related_name="releases",
        verbose_name="requests for change",
        help_text="The requests for change the release implements.",
    )
    # Direct relations (not generic links) so that the release can be filtered and its
    # closed records moved on in a fixed number of queries; the resolution app does not
    # import this one, so there is no cycle.
    problems = models.ManyToManyField(
        "resolution.Problem", blank=True, related_name="+", help_text="Problems whose cause the release removes."
    )
    known_errors = models.ManyToManyField(
        "resolution.KnownError", blank=True, related_name="+", help_text="Known errors the release fixes."
    )
    planned_start = models.DateTimeField(
        "planned deployment start", null=True, blank=True, help_text="When deployment into live is planned to start."
    )
    planned_end = models.DateTimeField("planned deployment end", null=True, blank=True)
    deliverables = models.TextField(
        blank=True, help_text="What is delivered: packages, versions, documents, training, configuration."
    )
    deployment_method = models.CharField(
        max_length=12, choices=DeploymentMethod.choices, default=DeploymentMethod.BIG_BANG
    )
    deployment_plan = models.TextField(
        blank=True, help_text="The steps of the deployment, and how the integrity of what is live is kept."
    )
    test_environment = models.CharField(
        "acceptance test environment",
        max_length=150,
        blank=True,
        help_text="The controlled environment the release is built and tested in, e.g. 'UAT-2'.",
    )
    rollback_plan = models.TextField(
        blank=True, help_text="How the deployment is reversed or remedied if it fails. Required before approval."
    )
    rollback_tested = models.BooleanField("rollback plan tested", default=False)
    rollback_test_notes = models.TextField(blank=True, help_text="When, where and with what result it was tried.")
    baseline = models.ForeignKey(
        "cmdb.Baseline",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text="Taken automatically of the release's CIs when deployment starts.",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    deployment_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    deployment_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    outcome = models.CharField(max_length=12, choices=ReleaseOutcome.choices, blank=True, editable=False)
    deployment_result = models.TextField(blank=True, editable=False)
    follow_up = models.TextField(
        "records moved on", blank=True, editable=False,
        help_text="What happened to the linked known errors and problems when the release was deployed.",
    )
    incident_window_days = models.PositiveSmallIntegerField(
        "incident period (days)",
        null=True,
        blank=True,
        editable=False,
        help_text="Fixed from the release policy when deployment ends.",
    )
    incident_period_end = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Incidents created from the start of deployment until then count against the release.",
    )
    review_notes = models.TextField(
        "success or failure analysis",
        blank=True,
        help_text="Was the release a success, what was its impact on the customers, what is learnt and improved. "
        "Required before closing.",
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Record.Meta):
        verbose_name = "release"
        constraints = [
            *Record.Meta.constraints,
            models.CheckConstraint(
                condition=~Q(state__in=[str(s) for s in RELEASE_DEPLOYMENT_STATES]) | Q(baseline__isnull=False),
                name="control_release_deploys_with_baseline",
                violation_error_message="A release is deployed only with a configuration baseline.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="control_release_state_idx"),
            models.Index(fields=["tenant", "planned_start"], name="control_release_start_idx"),
            models.Index(fields=["tenant", "release_manager", "-number"], name="control_release_manager_idx"),
            search_index("control_release_search_idx", "title", "description"),
        ]

    def clean(self) -> None:
        errors = {}
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            errors["planned_end"] = "The planned end must be after the planned start."
        if errors:
            raise ValidationError(errors)

    @property
    def is_editable(self) -> bool:
        return self.state in (R.PLANNED, R.IN_BUILD, R.IN_TEST)

    # --- workflow ------------------------------------------------------------------------------
    @transition(source=R.PLANNED, target=R.IN_BUILD, label="Start build", conditions=[has_scope])
    def start_build(self, by=None, reason=""):
        from ..services_releases import check_release_type

        check_release_type(self)

    @transition(
        source=R.IN_BUILD,
        target=R.IN_TEST,
        label="Hand over to acceptance test",
        conditions=[has_test_environment, has_criteria],
    )
    def start_test(self, by=None, reason=""):
        pass

    @transition(
        source=R.IN_TEST,
        target=R.IN_BUILD,
        label="Back to build",
        reason_required=True,
        style="secondary",
    )
    def back_to_build(self, by=None, reason=""):
        pass

    @transition(
        source=R.IN_TEST,
        target=R.AWAITING_APPROVAL,
        label="Request approval",
        conditions=[criteria_passed, has_rollback_plan, has_deployment_date, emergency_has_emergency_change],
    )
    def request_approval(self, by=None, reason=""):
        from ..services_releases import check_release_type

        check_release_type(self)

    @transition(
        source=R.AWAITING_APPROVAL,
        target=R.APPROVED,
        label="Approve",
        capability="release.approve",
        conditions=[criteria_passed, has_rollback_plan],
        permitted=no_self_approval,
    )
    def approve(self, by=None, reason=""):
        self.approved_by = by
        self.approved_at = timezone.now()

    @transition(
        source=R.AWAITING_APPROVAL,
        target=R.IN_TEST,
        label="Send back to test",
        capability="release.approve",
        reason_required=True,
        permitted=no_self_approval,
        style="secondary",
    )
    def send_back(self, by=None, reason=""):
        pass

    @transition(
        source=R.APPROVED,
        target=R.DEPLOYING,
        label="Start deployment",
        conditions=[has_scope, criteria_passed, changes_approved],
    )
    def start_deployment(self, by=None, reason=""):
        from ..services_releases import take_release_baseline

        self.deployment_started_at = timezone.now()
        self.baseline = take_release_baseline(self, by=by)

    @transition(
        source=R.DEPLOYING, target=R.DEPLOYED, label="Deployed", reason_required=True, conditions=[has_baseline]
    )
    def complete_deployment(self, by=None, reason=""):
        from ..services_releases import end_deployment, move_on_fixed_records

        end_deployment(self, ReleaseOutcome.SUCCESSFUL, reason)
        self.follow_up = "\n".join(move_on_fixed_records(self, by=by))

    @transition(
        source=R.DEPLOYING,
        target=R.FAILED,
        label="Deployment failed",
        reason_required=True,
        conditions=[has_baseline],
        style="danger",
    )
    def fail(self, by=None, reason=""):
        from ..services_releases import end_deployment

        end_deployment(self, ReleaseOutcome.FAILED, reason)

    @transition(source=R.FAILED, target=R.ROLLED_BACK, label="Rolled back", reason_required=True)
    def roll_back(self, by=None, reason=""):
        self.outcome = ReleaseOutcome.ROLLED_BACK
        self.deployment_result = f"{self.deployment_result}\nRolled back: {reason}".strip()

    @transition(source=[R.DEPLOYED, R.FAILED, R.ROLLED_BACK], target=R.UNDER_REVIEW, label="Start review")
    def start_review(self, by=None, reason=""):
        pass

    @transition(source=R.UNDER_REVIEW, target=R.CLOSED, label="Close", conditions=[has_review])
    def close(self, by=None, reason=""):
        self.closed_at = timezone.now()

    @transition(
        source=[R.PLANNED, R.IN_BUILD, R.IN_TEST, R.AWAITING_APPROVAL, R.APPROVED],
        target=R.CANCELLED,
        label="Cancel",
        capability="release.update",
        reason_required=True,
        style="danger",
    )
    def cancel(self, by=None, reason=""):
        self.closed_at = timezone.now()


class AcceptanceCriterion(TrackedModel):
    """One acceptance criterion of a release, agreed with the customer and interested
    parties before testing, and the result of testing the release against it in the
    named acceptance test environment."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the list.")
    description = models.TextField(help_text="What must be true for the release to be accepted.")
    agreed_with = models.CharField(
        max_length=250, blank=True, help_text="Who agreed this criterion (customer, service owner, operations)."
    )
    result = models.CharField(max_length=10, choices=CriterionResult.choices, default=CriterionResult.UNTESTED)
    result_notes = models.TextField("test evidence", blank=True, help_text="What was tested, how, what was seen.")
    environment = models.CharField(
        "tested in", max_length=150, blank=True, help_text="The acceptance test environment of the test."
    )
    tested_at = models.DateTimeField(null=True, blank=True)
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "acceptance criterion"
        verbose_name_plural = "acceptance criteria"
        ordering = ["release_id", "position", "id"]
        indexes = [models.Index(fields=["tenant", "release", "position"], name="control_criterion_release_idx")]

    def __str__(self) -> str:
        return self.description[:80]

    def clean(self) -> None:
        if not (self.description or "").strip():
            raise ValidationError({"description": "Say what must be true for the release to be accepted."})
