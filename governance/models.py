"""Management-system records (clause 4)."""

from __future__ import annotations

from django.db import models

from sms.core.models import Record
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition

from .choices import ImprovementSource, ImprovementState, ImprovementType, Priority, TargetDimension

S = ImprovementState


@condition("Set a priority before deciding on the improvement.", field="priority")
def has_priority(imp: Improvement) -> bool:
    return bool(imp.priority)


@condition("An approved improvement needs an owner, a due date and a target.", field="target")
def is_planned(imp: Improvement) -> bool:
    return bool(imp.owner_id and imp.due_date and imp.target.strip())


@condition("Record the measured result against the target before closing.", field="result")
def is_measured(imp: Improvement) -> bool:
    return bool(imp.result.strip())


class Improvement(WorkflowModel, Record):
    """An opportunity for improvement, corrective or preventive action (clause 4.5.5).

    Recorded, prioritised, decided (approved or rejected) by someone other than the
    person who raised it, planned with a target, carried out, measured and closed.
    """

    state = StateField(choices=S.choices, default=S.PROPOSED)
    improvement_type = models.CharField(
        "type", max_length=20, choices=ImprovementType.choices, default=ImprovementType.IMPROVEMENT
    )
    source = models.CharField(max_length=30, choices=ImprovementSource.choices, default=ImprovementSource.STAFF)
    priority = models.CharField(max_length=1, choices=Priority.choices, blank=True)
    dimension = models.CharField(
        "target dimension", max_length=20, choices=TargetDimension.choices, blank=True,
        help_text="What the improvement is meant to change.",
    )
    target = models.TextField(blank=True, help_text="Measurable target, with the baseline it starts from.")
    due_date = models.DateField(null=True, blank=True)
    decision_rationale = models.TextField(blank=True, editable=False)
    decided_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    result = models.TextField(blank=True, help_text="What was measured after implementation, against the target.")

    class Meta(Record.Meta):
        verbose_name = "improvement"
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="gov_improvement_state_idx"),
            search_index("gov_improvement_search_idx", "title", "description"),
        ]

    @transition(source=S.PROPOSED, target=S.APPROVED, label="Approve", capability="improvement.approve",
                conditions=[has_priority, is_planned], separate_from="created_by", reason_required=True)
    def approve(self, by=None, reason=""):
        self._decide(by, reason)

    @transition(source=S.PROPOSED, target=S.REJECTED, label="Reject", capability="improvement.approve",
                conditions=[has_priority], separate_from="created_by", reason_required=True, style="danger")
    def reject(self, by=None, reason=""):
        self._decide(by, reason)

    @transition(source=S.APPROVED, target=S.IN_PROGRESS, label="Start work")
    def start(self, by=None, reason=""):
        pass

    @transition(source=S.IN_PROGRESS, target=S.IMPLEMENTED, label="Mark implemented")
    def implement(self, by=None, reason=""):
        pass

    @transition(source=S.IMPLEMENTED, target=S.CLOSED, label="Close", conditions=[is_measured])
    def close(self, by=None, reason=""):
        pass

    @transition(source=[S.PROPOSED, S.APPROVED, S.IN_PROGRESS], target=S.CANCELLED, label="Cancel",
                reason_required=True, style="danger")
    def cancel(self, by=None, reason=""):
        pass

    def _decide(self, by, reason: str) -> None:
        from django.utils import timezone

        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_rationale = reason
