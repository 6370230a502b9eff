"""Escalation of incidents (clause 8.1): rules per tenant that act when a share of the
response or resolution target has gone, and the record of each escalation taken."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sms.core.models import TenantModel, TrackedModel
from sms.tenancy.roles import Role

from ..choices import PRIORITY_LEVELS


class EscalationTarget(models.TextChoices):
    RESPONSE = "response", "Response target"
    RESOLUTION = "resolution", "Resolution target"


class EscalationAction(models.TextChoices):
    NOTIFY = "notify", "Notify"
    REASSIGN = "reassign", "Reassign to another group"
    RAISE_PRIORITY = "raise_priority", "Raise the priority"


class NotifyWhom(models.TextChoices):
    ASSIGNMENT_GROUP = "assignment_group", "The assignment group (and the assignee)"
    ROLE = "role", "Every member holding a role"
    CUSTOMER = "customer", "The customer contact (the caller)"


class EscalationRule(TrackedModel):
    """When ``percent`` of an incident's response or resolution target has gone (service
    time of its calendar; 100 is the due time, more is after it), take ``action`` once."""

    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    target = models.CharField(max_length=12, choices=EscalationTarget.choices, default=EscalationTarget.RESOLUTION)
    percent = models.PositiveSmallIntegerField(
        "at % of the target",
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="Share of the target's service time gone; 100 is the due time, 150 half as long again.",
    )
    priorities = ArrayField(
        models.PositiveSmallIntegerField(choices=[(n, f"P{n}") for n in PRIORITY_LEVELS]),
        default=list,
        blank=True,
        help_text="Only incidents of these priorities; none chosen: every priority.",
    )
    action = models.CharField(max_length=20, choices=EscalationAction.choices, default=EscalationAction.NOTIFY)
    notify = models.CharField(
        "notify whom", max_length=20, choices=NotifyWhom.choices, blank=True, help_text="For the notify action."
    )
    role = models.CharField(max_length=32, choices=Role.choices, blank=True, help_text="When notifying a role.")
    reassign_to = models.ForeignKey(
        "parties.Party",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="reassign to group",
        help_text="The internal group that takes the incident over (reassign action); the assignee is cleared.",
    )
    raise_by = models.PositiveSmallIntegerField(
        "raise by (levels)",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(len(PRIORITY_LEVELS) - 1)],
        help_text="Priority levels to raise (raise action); P1 stays P1. Due times stay as agreed at logging.",
    )

    class Meta:
        ordering = ["target", "percent", "name", "id"]
        indexes = [models.Index(fields=["tenant", "is_active", "target", "percent"], name="resolution_escrule_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.action == EscalationAction.NOTIFY:
            if not self.notify:
                errors["notify"] = "Choose whom to notify."
            elif self.notify == NotifyWhom.ROLE and not self.role:
                errors["role"] = "Choose the role to notify."
        if self.action == EscalationAction.REASSIGN:
            if self.reassign_to_id is None:
                errors["reassign_to"] = "Choose the group that takes the incident over."
            elif self.reassign_to.party_type != "internal_group":
                errors["reassign_to"] = f"{self.reassign_to} is not an internal group."
        if any(p not in PRIORITY_LEVELS for p in self.priorities or []):
            errors["priorities"] = "Unknown priority."
        if errors:
            raise ValidationError(errors)

    @property
    def summary(self) -> str:
        what = {
            EscalationAction.NOTIFY: f"notify {self.get_notify_display().lower() if self.notify else '?'}"
            + (f" ({self.get_role_display()})" if self.notify == NotifyWhom.ROLE and self.role else ""),
            EscalationAction.REASSIGN: f"reassign to {self.reassign_to}",
            EscalationAction.RAISE_PRIORITY: f"raise the priority by {self.raise_by}",
        }[self.action]
        scope = ", ".join(f"P{p}" for p in sorted(self.priorities)) or "any priority"
        return f"At {self.percent}% of the {self.get_target_display().lower()} ({scope}): {what}."


class Escalation(TenantModel):
    """One escalation taken on one incident: by a rule (at most once per rule and
    incident) or, when a target is breached, the notice to the customer."""

    incident = models.ForeignKey("resolution.Incident", on_delete=models.CASCADE, related_name="escalations")
    rule = models.ForeignKey(EscalationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(max_length=120, help_text="The rule's name when it acted.")
    target = models.CharField(max_length=12, choices=EscalationTarget.choices)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=[*EscalationAction.choices, ("breach_notice", "Target missed")])
    detail = models.TextField(help_text="What was done: who was told, the new group or priority.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "incident", "rule"], name="resolution_escalation_once_uniq"),
            models.UniqueConstraint(
                fields=["tenant", "incident", "target"],
                condition=models.Q(action="breach_notice"),
                name="resolution_escalation_breach_uniq",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "incident", "-created_at"], name="resolution_escalation_inc_idx")]

    def __str__(self) -> str:
        return f"{self.rule_name}: {self.detail[:60]}"
