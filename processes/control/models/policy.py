"""The tenant's change management policy (clause 9.2): what counts as a change with
potential major impact, what an emergency change is, which standard changes are
pre-approved, and who approves the others under which rule.

Which CI types are under change control is the CMDB's flag on each CI type
(``cmdb.CIType.under_change_control``); the policy page shows and sets it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from sms.cmdb.choices import Criticality
from sms.core.models import TrackedModel
from sms.tenancy.roles import Role

from ..choices import ApprovalRuleKind, ChangeType, RiskLevel

APPROVER_ROLES = [(r.value, r.label) for r in Role if r not in (Role.AUDITOR, Role.AGENT)]


class ChangePolicy(TrackedModel):
    """One per tenant: the agreed definitions that classify requests for change."""

    emergency_definition = models.TextField(
        "definition of an emergency change",
        blank=True,
        help_text="The agreed definition: when a change may skip the normal assessment and be approved by the "
        "emergency approvers (e.g. to restore a service that is down or close an exploited vulnerability). "
        "Emergency changes are always reviewed after implementation.",
    )
    major_impact_criteria = models.TextField(
        "criteria for potential major impact",
        blank=True,
        help_text="In words, what makes a change one with potential major impact on services or customers. "
        "Removing a service and transferring a service to another party always count as major.",
    )
    major_service_criticality = models.CharField(
        "major when touching a service of criticality",
        max_length=1,
        choices=Criticality.choices,
        blank=True,
        help_text="A change whose scope includes a service of this criticality or higher counts as major. "
        "Empty: criticality alone does not make a change major.",
    )
    major_min_services = models.PositiveSmallIntegerField(
        "major when touching this many services",
        null=True,
        blank=True,
        help_text="A change whose scope includes at least this many services counts as major. Empty: no limit.",
    )

    class Meta:
        verbose_name = "change management policy"
        verbose_name_plural = "change management policies"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="control_policy_one_per_tenant")]

    def __str__(self) -> str:
        return "Change management policy"

    def clean(self) -> None:
        if self.major_min_services is not None and self.major_min_services < 1:
            raise ValidationError({"major_min_services": "At least one service, or leave it empty."})


class StandardChangeTemplate(TrackedModel):
    """A standard change: low risk, done often, in a documented way, approved once in
    advance. A request for change made from an approved template skips assessment and
    approval and carries the template's plans."""

    name = models.CharField(max_length=150)
    description = models.TextField(help_text="What the change is and when it may be used as a standard change.")
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW)
    implementation_plan = models.TextField(help_text="The documented steps, copied into each change made from it.")
    test_plan = models.TextField(blank=True, help_text="How the result is checked.")
    remediation_plan = models.TextField(
        "remediation (back-out) plan", help_text="How the change is reversed or remedied if it fails."
    )
    remediation_tested = models.BooleanField(
        "remediation plan tested", default=False, help_text="The back-out has been tried (e.g. in a test environment)."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive templates are kept but not offered.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approval_rationale = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = "standard change template"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("name"),
                name="control_template_name_uniq",
                violation_error_message="A standard change template of this name exists already.",
            )
        ]
        indexes = [models.Index(fields=["tenant", "is_active", "name"], name="control_template_active_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def is_usable(self) -> bool:
        return self.is_active and self.is_approved

    def clean(self) -> None:
        errors = {}
        self.name = (self.name or "").strip()
        if not self.name:
            errors["name"] = "A name is required."
        if not (self.implementation_plan or "").strip():
            errors["implementation_plan"] = "A standard change follows documented steps: write them."
        if not (self.remediation_plan or "").strip():
            errors["remediation_plan"] = "Say how the change is backed out if it fails."
        if errors:
            raise ValidationError(errors)


class ApprovalRule(TrackedModel):
    """Who approves requests for change of one type and risk level, and how many of them
    must agree. The change is approved when the rule is met; a single rejection rejects
    it. Without a rule for its type and risk, any one holder of the change approver
    role decides."""

    change_type = models.CharField(
        max_length=10,
        choices=[c for c in ChangeType.choices if c[0] != ChangeType.STANDARD],
        help_text="Standard changes are pre-approved through their template and need no rule.",
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices)
    rule = models.CharField(
        max_length=10,
        choices=ApprovalRuleKind.choices,
        default=ApprovalRuleKind.ANY,
        help_text="All: every approver must approve. Any: one approval is enough. Quorum: the given number of "
        "approvals is enough. In every case one rejection rejects the change.",
    )
    quorum = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="With a quorum: how many approvals are needed."
    )
    approver_role = models.CharField(
        max_length=30,
        choices=APPROVER_ROLES,
        blank=True,
        help_text="Everyone holding this role in the tenant when approval is requested is asked.",
    )
    approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", help_text="Named people who are asked (as well)."
    )

    class Meta:
        verbose_name = "approval rule"
        ordering = ["change_type", "risk_level", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "change_type", "risk_level"],
                name="control_approvalrule_uniq",
                violation_error_message="There is already a rule for this type and risk level.",
            ),
            models.CheckConstraint(
                condition=~models.Q(rule="quorum") | models.Q(quorum__gte=1),
                name="control_approvalrule_quorum",
                violation_error_message="A quorum rule needs the number of approvals.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_change_type_display()} / {self.get_risk_level_display()}: {self.describe()}"

    def describe(self) -> str:
        if self.rule == ApprovalRuleKind.QUORUM:
            return f"{self.quorum} approvals"
        return self.get_rule_display().lower()

    def clean(self) -> None:
        errors = {}
        if self.rule == ApprovalRuleKind.QUORUM:
            if not self.quorum:
                errors["quorum"] = "Give the number of approvals needed."
        else:
            self.quorum = None
        if self.change_type == ChangeType.STANDARD:
            errors["change_type"] = "Standard changes are approved through their template."
        if errors:
            raise ValidationError(errors)


class BlackoutWindow(TrackedModel):
    """A period in which no change may be deployed (a freeze: year-end closing, a peak
    season, a customer's audit), for every service or only the services named. The
    deployment gate holds deployments inside it; the change page shows the blackouts
    its planned window overlaps."""

    name = models.CharField(max_length=150)
    reason = models.TextField(blank=True, help_text="Why nothing may change then, and who agreed it.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    services = models.ManyToManyField(
        "cmdb.Service", blank=True, related_name="+", help_text="Empty: the blackout applies to every service."
    )

    class Meta:
        verbose_name = "blackout window"
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="control_blackout_ends_after_start",
                violation_error_message="A blackout ends after it starts.",
            )
        ]
        indexes = [models.Index(fields=["tenant", "starts_at", "ends_at"], name="control_blackout_time_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A blackout ends after it starts."})
