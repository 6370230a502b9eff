"""Requests for change (clause 9.2) and the approval decisions on them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from sms.core.models import Record, TrackedModel
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition

from ..choices import (
    RISK_QUESTIONS,
    ApprovalRuleKind,
    ChangeState,
    ChangeType,
    Decision,
    Outcome,
    RiskLevel,
    ServiceAction,
    risk_from_answers,
)

S = ChangeState
PLANNED_TYPES = (ChangeType.NORMAL, ChangeType.EMERGENCY)


# --- conditions --------------------------------------------------------------------------------
@condition("Say what the change touches: at least one service or configuration item.", field="services")
def has_scope(change: Change) -> bool:
    return change.pk is not None and (change.services.exists() or change.cis.exists())


@condition("A standard change is made from an approved, active standard change template.", field="template")
def is_standard_from_usable_template(change: Change) -> bool:
    return change.change_type == ChangeType.STANDARD and change.template_id is not None and change.template.is_usable


@condition("Only normal and emergency changes are assessed and approved; a standard change is pre-approved.")
def is_planned_type(change: Change) -> bool:
    return change.change_type in PLANNED_TYPES


@condition("Only an emergency change goes to its approvers without a full assessment.")
def is_emergency(change: Change) -> bool:
    return change.change_type == ChangeType.EMERGENCY


@condition("Write the implementation plan before asking for approval.", field="implementation_plan")
def has_implementation_plan(change: Change) -> bool:
    return bool(change.implementation_plan.strip())


@condition("Write the test plan before asking for approval.", field="test_plan")
def has_test_plan(change: Change) -> bool:
    return bool(change.test_plan.strip())


@condition(
    "Normal and emergency changes need a remediation (back-out) plan before approval: say how the change is "
    "reversed or remedied if it fails.",
    field="remediation_plan",
)
def has_remediation_plan(change: Change) -> bool:
    return bool(change.remediation_plan.strip())


# The assessments recorded before a change goes to its approvers: (field, what it asks).
ASSESSMENTS = (
    ("security_impact", "impact on information security and the security controls (6.6)"),
    ("continuity_impact", "impact on the service continuity and availability plans (6.3)"),
    ("capacity_impact", "impact on capacity (6.5)"),
    ("cost_impact", "cost, and how it is budgeted (6.4)"),
    ("release_impact", "impact on planned releases"),
    ("technical_feasibility", "technical feasibility"),
    ("business_benefit", "business benefit"),
)


def missing_assessments(change: Change) -> list[str]:
    return [name for name, _ in ASSESSMENTS if not (getattr(change, name) or "").strip()]


def _assessments_done(change: Change) -> bool:
    return not missing_assessments(change)


assessments_done = condition(
    "Record the assessments first: information security, continuity and availability, capacity, cost, planned "
    "releases, technical feasibility and business benefit (write 'none' where there is no impact).",
)(_assessments_done)


@condition("Give the planned start and end of the change.", field="planned_start")
def has_window(change: Change) -> bool:
    return change.planned_start is not None and change.planned_end is not None


@condition("The approval rule is not met yet: more approvals are needed.")
def approval_rule_met(change: Change) -> bool:
    from ..services import approval_status

    return approval_status(change).satisfied


@condition("No approver has rejected the change.")
def has_rejection(change: Change) -> bool:
    return change.approvals.filter(decision=Decision.REJECTED).exists()


def cis_not_updated(change: Change) -> list:
    """CIs in the scope of a successfully implemented change whose CMDB record has not
    been updated since implementation started (for controlled types: under this RFC)."""
    if change.outcome != Outcome.SUCCESSFUL or change.implementation_started_at is None:
        return []
    missing = []
    for ci in change.cis.select_related("ci_type"):
        updated = ci.updated_at >= change.implementation_started_at
        if ci.ci_type.under_change_control:
            updated = updated and ci.last_change_reference.upper() == change.reference.upper()
        if not updated:
            missing.append(ci)
    return missing


@condition(
    "Update the configuration items this change touched in the CMDB (under this change's reference) before "
    "closing it as successful.",
    field="cis",
)
def cmdb_updated(change: Change) -> bool:
    return not cis_not_updated(change)


@condition("Record the post-implementation review first: was the change effective?", field="review_notes")
def has_review(change: Change) -> bool:
    return bool(change.review_notes.strip())


def service_design_links(change: Change):
    """Links from this change to the record of the new or changed service that plans it."""
    from django.contrib.contenttypes.models import ContentType

    from sms.core.models import LinkType, RecordLink

    return RecordLink.objects.filter(
        source_type=ContentType.objects.get_for_model(Change), source_id=change.pk, link_type=LinkType.PLANNED_IN
    )


@condition(
    "This change has potential major impact: it goes to its approvers only with the record of the new or changed "
    "service that plans it. Link that record to the change with the link type 'is planned in'.",
)
def major_has_service_record(change: Change) -> bool:
    return not change.is_major or service_design_links(change).exists()


FAILED_OUTCOMES = (Outcome.FAILED, Outcome.BACKED_OUT)


def investigation_actions(change: Change):
    """The agreed actions of a failed change's investigation: improvements (corrective
    actions, clause 10) raised from it."""
    from django.contrib.contenttypes.models import ContentType

    from governance.models import Improvement
    from sms.core.models import LinkType, RecordLink

    ids = RecordLink.objects.filter(
        source_type=ContentType.objects.get_for_model(Improvement),
        link_type=LinkType.RAISED_FROM,
        target_type=ContentType.objects.get_for_model(Change),
        target_id=change.pk,
    ).values("source_id")
    return Improvement.objects.filter(pk__in=ids).select_related("owner").order_by("number")


@condition(
    "A failed change is closed only after its investigation: record what went wrong and at least one agreed action.",
    field="investigation_findings",
)
def investigated(change: Change) -> bool:
    if change.outcome not in FAILED_OUTCOMES:
        return True
    return bool(change.investigation_findings.strip()) and investigation_actions(change).exists()


def no_self_approval(change: Change, user, membership) -> str | None:
    if user.pk in (change.requester_id, change.created_by_id):
        return "You requested this change; someone else must approve or reject it."
    return None


class Change(WorkflowModel, Record):
    """A request for change (clause 9.2): what is to change and why, in which services
    and CIs, how risky, with its plans; assessed, approved under the tenant's rule,
    scheduled, implemented, reviewed and closed. Standard changes come from a
    pre-approved template and skip assessment and approval; emergency changes go to
    their approvers at once and are reviewed afterwards like every other."""

    state = StateField(choices=S.choices, default=S.DRAFT)
    change_type = models.CharField("type", max_length=10, choices=ChangeType.choices, default=ChangeType.NORMAL)
    template = models.ForeignKey(
        "control.StandardChangeTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="changes",
        help_text="For a standard change: the pre-approved template it follows.",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who asks for the change (defaults to whoever records it). The requester never approves it.",
    )
    services = models.ManyToManyField("cmdb.Service", blank=True, related_name="+", help_text="Services it touches.")
    cis = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="+",
        verbose_name="configuration items",
        help_text="Configuration items it changes.",
    )
    service_action = models.CharField(
        "effect on services",
        max_length=10,
        choices=ServiceAction.choices,
        default=ServiceAction.MODIFY,
        help_text="Removing a service or transferring it to another party always has potential major impact.",
    )
    is_major = models.BooleanField(
        "potential major impact",
        default=False,
        editable=False,
        help_text="Worked out from the tenant's change management policy whenever the change is saved.",
    )
    risk_level = models.CharField(
        max_length=10,
        choices=RiskLevel.choices,
        default=RiskLevel.MEDIUM,
        help_text="Decides, with the type, which approval rule applies. Set from the risk questionnaire once "
        "every question is answered.",
    )
    risk_answers = models.JSONField(
        "risk questionnaire",
        default=dict,
        blank=True,
        help_text="Yes/no answers to the risk questions, by key; when all are answered they give the risk level.",
    )
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    implementation_plan = models.TextField(blank=True, help_text="The steps that make the change.")
    test_plan = models.TextField(blank=True, help_text="How the change is tested before and after it goes live.")
    remediation_plan = models.TextField(
        "remediation (back-out) plan",
        blank=True,
        help_text="How the change is reversed or remedied if it fails. Required before approval of normal and "
        "emergency changes.",
    )
    remediation_tested = models.BooleanField(
        "remediation plan tested", default=False, help_text="The back-out has been tried out."
    )
    remediation_test_notes = models.TextField(
        "remediation test notes", blank=True, help_text="When, where and with what result it was tried."
    )
    implementation_result = models.TextField(blank=True, editable=False)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True, editable=False)
    # Assessment (9.2): what the change means for the rest of the service management system.
    security_impact = models.TextField(
        "information security impact", blank=True, help_text="Risks to information security and the controls affected."
    )
    continuity_impact = models.TextField(
        "continuity and availability impact",
        blank=True,
        help_text="Whether the service continuity and availability plans or their tests must change.",
    )
    capacity_impact = models.TextField(blank=True, help_text="Effect on the capacity needed or available.")
    cost_impact = models.TextField("cost", blank=True, help_text="What the change costs and from which budget.")
    release_impact = models.TextField(
        "impact on planned releases", blank=True, help_text="Releases it depends on, delays or belongs to."
    )
    technical_feasibility = models.TextField(blank=True, help_text="Can it be done as planned, with what we have?")
    business_benefit = models.TextField(blank=True, help_text="What the customers or the business gain.")
    investigation_findings = models.TextField(
        blank=True,
        editable=False,
        help_text="For a failed change: what went wrong, why, and what it cost the services. Recorded through "
        "the investigation, with the actions agreed.",
    )
    investigated_at = models.DateTimeField(null=True, blank=True, editable=False)
    investigated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    review_notes = models.TextField(
        "post-implementation review",
        blank=True,
        help_text="Was the change effective, did it meet its objectives, what was learnt. Required before closing.",
    )
    # The approval rule in force when approval was requested (later edits of the tenant's
    # rules do not move the goalposts of a change already with its approvers).
    approval_rule = models.CharField(max_length=10, choices=ApprovalRuleKind.choices, blank=True, editable=False)
    approval_quorum = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approval_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    implementation_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    implementation_ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Record.Meta):
        verbose_name = "request for change"
        verbose_name_plural = "requests for change"
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="control_change_state_idx"),
            models.Index(fields=["tenant", "change_type", "-number"], name="control_change_type_idx"),
            models.Index(fields=["tenant", "requester", "-number"], name="control_change_requester_idx"),
            # The schedule: changes overlapping a window (start before its end, end after its start).
            models.Index(fields=["tenant", "planned_start", "planned_end"], name="control_change_window_idx"),
            search_index("control_change_search_idx", "title", "description"),
        ]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        known = {key for key, _, _ in RISK_QUESTIONS}
        if not isinstance(self.risk_answers, dict):
            errors["risk_answers"] = "Give the answers as an object of question keys and true or false."
        else:
            unknown = sorted(set(self.risk_answers) - known)
            if unknown:
                errors["risk_answers"] = f"Unknown questions: {', '.join(map(str, unknown))}."
            elif any(not isinstance(v, bool) for v in self.risk_answers.values()):
                errors["risk_answers"] = "Answer each question with true or false."
            elif set(self.risk_answers) == known:
                self.risk_level = risk_from_answers(self.risk_answers)
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            errors["planned_end"] = "The planned end must be after the planned start."
        if self.change_type == ChangeType.STANDARD:
            if self.template_id is None:
                errors["template"] = "A standard change is made from a standard change template."
            elif not self.template.is_usable:
                errors["template"] = f"The template {self.template} is not approved or no longer active."
        elif self.template_id is not None:
            errors["template"] = "Only standard changes follow a template."
        if errors:
            raise ValidationError(errors)

    @property
    def is_editable(self) -> bool:
        return self.state in (S.DRAFT, S.SUBMITTED, S.ASSESSMENT)

    # --- workflow ------------------------------------------------------------------------------
    @transition(source=S.DRAFT, target=S.SUBMITTED, label="Submit", capability="change.create", conditions=[has_scope])
    def submit(self, by=None, reason=""):
        self.submitted_at = timezone.now()

    @transition(
        source=S.SUBMITTED,
        target=S.APPROVED,
        label="Accept as standard change",
        capability="change.create",
        # A standard change is pre-approved through its template; the major-impact guard
        # applies where approvers decide (a tenant whose policy makes every change on a
        # critical service "major" still patches it under a standard template).
        conditions=[is_standard_from_usable_template],
    )
    def accept_standard(self, by=None, reason=""):
        self.approved_at = timezone.now()

    @transition(
        source=S.SUBMITTED,
        target=S.ASSESSMENT,
        label="Start assessment",
        capability="change.assess",
        conditions=[is_planned_type],
    )
    def start_assessment(self, by=None, reason=""):
        pass

    @transition(
        source=S.ASSESSMENT,
        target=S.AWAITING_APPROVAL,
        label="Request approval",
        capability="change.assess",
        conditions=[
            is_planned_type,
            has_implementation_plan,
            has_test_plan,
            has_remediation_plan,
            assessments_done,
            major_has_service_record,
        ],
    )
    def request_approval(self, by=None, reason=""):
        from ..services import open_approvals

        open_approvals(self)

    @transition(
        source=S.SUBMITTED,
        target=S.AWAITING_APPROVAL,
        label="Request emergency approval",
        capability="change.create",
        conditions=[
            is_emergency,
            has_implementation_plan,
            has_test_plan,
            has_remediation_plan,
            assessments_done,
            major_has_service_record,
        ],
    )
    def request_emergency_approval(self, by=None, reason=""):
        from ..services import open_approvals

        open_approvals(self)

    # Approval and rejection follow from the approvers' decisions (services.decide): the
    # conditions keep anyone from taking them before the rule says so.
    @transition(
        source=S.AWAITING_APPROVAL,
        target=S.APPROVED,
        label="Approve",
        capability="change.approve",
        conditions=[approval_rule_met, major_has_service_record],
        permitted=no_self_approval,
    )
    def approve(self, by=None, reason=""):
        self.approved_at = timezone.now()

    @transition(
        source=S.AWAITING_APPROVAL,
        target=S.REJECTED,
        label="Reject",
        capability="change.approve",
        conditions=[has_rejection],
        permitted=no_self_approval,
        style="danger",
    )
    def reject(self, by=None, reason=""):
        self.closed_at = timezone.now()

    @transition(source=S.APPROVED, target=S.SCHEDULED, label="Schedule", conditions=[has_window])
    def schedule(self, by=None, reason=""):
        pass

    @transition(source=S.SCHEDULED, target=S.IMPLEMENTING, label="Start implementation")
    def start_implementation(self, by=None, reason=""):
        self.implementation_started_at = timezone.now()

    @transition(source=S.APPROVED, target=S.IMPLEMENTING, label="Implement now (emergency)", conditions=[is_emergency])
    def implement_emergency(self, by=None, reason=""):
        now = timezone.now()
        self.implementation_started_at = now
        if self.planned_start is None:
            self.planned_start = now

    @transition(source=S.IMPLEMENTING, target=S.IMPLEMENTED, label="Implemented", reason_required=True)
    def complete(self, by=None, reason=""):
        self.implementation_ended_at = timezone.now()
        self.implementation_result = reason
        self.outcome = Outcome.SUCCESSFUL

    @transition(source=S.IMPLEMENTING, target=S.FAILED, label="Failed", reason_required=True, style="danger")
    def fail(self, by=None, reason=""):
        self.implementation_ended_at = timezone.now()
        self.implementation_result = reason
        self.outcome = Outcome.FAILED

    @transition(source=S.FAILED, target=S.BACKED_OUT, label="Backed out", reason_required=True)
    def back_out(self, by=None, reason=""):
        self.outcome = Outcome.BACKED_OUT
        self.implementation_result = f"{self.implementation_result}\nBacked out: {reason}".strip()

    @transition(source=[S.IMPLEMENTED, S.BACKED_OUT], target=S.UNDER_REVIEW, label="Start review")
    def start_review(self, by=None, reason=""):
        pass

    # A failed change is either backed out or remedied (fixed forward) before its review.
    @transition(source=S.FAILED, target=S.UNDER_REVIEW, label="Remedied: start review", reason_required=True)
    def remedy(self, by=None, reason=""):
        self.implementation_result = f"{self.implementation_result}\nRemedied: {reason}".strip()

    @transition(
        source=S.UNDER_REVIEW, target=S.CLOSED, label="Close", conditions=[has_review, cmdb_updated, investigated]
    )
    def close(self, by=None, reason=""):
        self.closed_at = timezone.now()

    @transition(
        source=[S.DRAFT, S.SUBMITTED, S.ASSESSMENT, S.AWAITING_APPROVAL, S.APPROVED, S.SCHEDULED],
        target=S.CANCELLED,
        label="Cancel",
        capability="change.update",
        reason_required=True,
        style="danger",
    )
    def cancel(self, by=None, reason=""):
        self.closed_at = timezone.now()


class ChangeApproval(TrackedModel):
    """One approver's place on a request for change: asked when approval is requested,
    then their decision with its rationale. One row per approver and change (a unique
    constraint), so a decision is counted once however often it is sent."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    rationale = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "change approval"
        ordering = ["change_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "change", "approver"], name="control_approval_once_per_approver"),
        ]
        indexes = [models.Index(fields=["tenant", "approver", "decision"], name="control_approval_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.change.reference}: {self.get_decision_display()} ({self.approver})"
