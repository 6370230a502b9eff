"""Retention rules, legal holds, disposal runs and tombstones (clause 4.3.3)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import capfirst

from sms.core.models import Record, TenantModel, TrackedModel
from sms.core.registry import kinds
from sms.core.workflow import StateField, WorkflowModel, transition

from .choices import DisposalState, ItemOutcome, RetentionAction

S = DisposalState


def _validate_kind(code: str, *, needs_closure: bool) -> None:
    kind = kinds.find(code)
    if kind is None:
        raise ValidationError({"record_kind": f"Unknown kind of record {code!r}."})
    if needs_closure and not kind.closed_states:
        raise ValidationError(
            {"record_kind": f"{capfirst(kind.label_plural)} have no closed state, so no retention period can run."}
        )


class RetentionRule(TrackedModel):
    """How long the records of one kind are kept after they are closed, and what then
    happens to them (clause 4.3.3: records are kept, protected and disposed of under
    control)."""

    record_kind = models.CharField(max_length=32, help_text="Kind of record the rule applies to.")
    retain_months = models.PositiveSmallIntegerField(
        "keep for (months)",
        validators=[MinValueValidator(1), MaxValueValidator(1200)],
        help_text="Counted from the record's closure (its last change once closed).",
    )
    action = models.CharField(max_length=10, choices=RetentionAction.choices, default=RetentionAction.ARCHIVE)
    rationale = models.TextField(blank=True, help_text="The legal, contractual or business reason for the period.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["record_kind"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "record_kind"], name="retention_rule_tenant_kind_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.record_kind}: {self.retain_months} months, then {self.get_action_display().lower()}"

    def clean(self):
        _validate_kind(self.record_kind, needs_closure=True)

    @property
    def kind(self):
        return kinds.find(self.record_kind)


class LegalHold(TrackedModel):
    """A record that must not be disposed of whatever its retention rule says
    (litigation, investigation, audit in progress)."""

    record_kind = models.CharField(max_length=32)
    object_id = models.PositiveBigIntegerField()
    reference = models.CharField(max_length=32, help_text="The record's reference when the hold was placed.")
    reason = models.TextField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "record_kind", "object_id"],
                condition=models.Q(released_at__isnull=True),
                name="retention_hold_one_active_uniq",
                violation_error_message="This record is already on hold.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "released_at", "-created_at"], name="retention_hold_list_idx")]

    def __str__(self) -> str:
        return f"Hold on {self.reference}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class DisposalRun(WorkflowModel, Record):
    """A list of records whose retention has ended, proposed, approved by someone other
    than the proposer, then executed. Nothing is disposed of outside an approved run."""

    state = StateField(choices=S.choices, default=S.PROPOSED)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    executed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Record.Meta):
        verbose_name = "disposal run"
        indexes = [models.Index(fields=["tenant", "state", "-number"], name="retention_run_state_idx")]

    @transition(
        source=S.PROPOSED,
        target=S.APPROVED,
        label="Approve disposal",
        capability="disposal.approve",
        separate_from="created_by",
        reason_required=True,
    )
    def approve(self, by=None, reason=""):
        from django.utils import timezone

        self.approved_by = by
        self.approved_at = timezone.now()

    @transition(source=S.APPROVED, target=S.EXECUTED, label="Execute", capability="disposal.execute")
    def execute(self, by=None, reason=""):
        from . import services

        services.execute_run(self, by=by)

    @transition(
        source=[S.PROPOSED, S.APPROVED], target=S.CANCELLED, label="Cancel", reason_required=True, style="danger"
    )
    def cancel(self, by=None, reason=""):
        pass


class DisposalItem(TenantModel):
    """One record in a disposal run, with what became of it."""

    run = models.ForeignKey(DisposalRun, on_delete=models.CASCADE, related_name="items")
    record_kind = models.CharField(max_length=32)
    object_id = models.PositiveBigIntegerField()
    reference = models.CharField(max_length=32)
    title = models.CharField(max_length=250, blank=True, help_text="Cleared when the record is disposed of.")
    closed_at = models.DateTimeField()
    rule = models.ForeignKey(RetentionRule, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=ItemOutcome.choices, default=ItemOutcome.PENDING)
    note = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["record_kind", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "run", "record_kind", "object_id"], name="retention_item_run_record_uniq"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "record_kind", "object_id"], name="retention_item_record_idx")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_outcome_display()})"


class Tombstone(TenantModel):
    """What is left of a disposed or archived record: evidence that the disposal
    happened, under which rule and approval, and by whom. Never changed."""

    record_kind = models.CharField(max_length=32)
    reference = models.CharField(max_length=32)
    record_created_at = models.DateTimeField()
    closed_at = models.DateTimeField()
    action = models.CharField(max_length=10, choices=RetentionAction.choices)
    rule_summary = models.CharField(max_length=250)
    run = models.ForeignKey(DisposalRun, on_delete=models.PROTECT, related_name="tombstones")
    executed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    executed_at = models.DateTimeField()
    archive_file = models.FileField(max_length=255, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-executed_at"], name="retention_tombstone_list_idx")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_action_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("A tombstone is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A tombstone is never deleted.")
