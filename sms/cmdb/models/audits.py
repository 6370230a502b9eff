"""CMDB audits (clause 9.1: the records in the CMDB are audited at planned intervals;
deficiencies found lead to action, and the actions taken are reported)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sms.core.models import Record, TrackedModel
from sms.core.search import search_index
from sms.core.workflow import StateField, WorkflowModel, condition, transition

from ..choices import AuditState, VerificationResult

S = AuditState
DEFAULT_STALE_DAYS = 365


@condition("Name the auditor before the audit starts.", field="auditor")
def has_auditor(audit: CMDBAudit) -> bool:
    return audit.auditor_id is not None


@condition(
    "The auditor owns most of the CIs in the audit's scope: an auditor may not audit their own area.",
    field="auditor",
)
def auditor_is_independent(audit: CMDBAudit) -> bool:
    from ..quality import area_owner_id

    return audit.auditor_id is None or audit.auditor_id != area_owner_id(audit.scope)


@condition("Run the automatic checks before completing the audit.", field="results")
def has_results(audit: CMDBAudit) -> bool:
    return bool(audit.results)


@condition(
    "Some CIs were found deficient: describe the deficiencies and the actions taken before completing.",
    field="actions_taken",
)
def deficiencies_reported(audit: CMDBAudit) -> bool:
    if not audit.verifications.filter(result=VerificationResult.DEFICIENT).exists():
        return True
    return bool(audit.deficiencies.strip() and audit.actions_taken.strip())


class CMDBAudit(WorkflowModel, Record):
    """An audit of the records held in the CMDB (clause 9.1).

    Its scope is a set of CI types and/or services, or the whole CMDB when neither is
    given. Starting the audit runs the automatic data-quality checks and keeps their
    results as a snapshot; the auditor then verifies CIs against reality one by one
    (``AuditedCI``), records the deficiencies found and the actions taken, and may raise
    an improvement linked to the audit. Completing it marks the planned activity that
    scheduled it as done.

    Segregation of duties: the member who owns the most CIs in scope (the owner of the
    audited area) can be neither the auditor nor the person who starts or completes it.
    """

    state = StateField(choices=S.choices, default=S.PLANNED)
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who performs the audit; must not own the audited area.",
    )
    area_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name="owner of the audited area",
        help_text="The member owning the most CIs in scope, worked out when the audit is planned and started.",
    )
    scope = models.JSONField(
        default=dict, blank=True,
        help_text='{"ci_types": [ids], "services": [ids]}; empty means the whole CMDB.',
    )
    stale_after_days = models.PositiveSmallIntegerField(
        "not verified for (days)", default=DEFAULT_STALE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="A CI whose record nobody has verified for this long is reported as stale.",
    )
    planned_for = models.DateField(null=True, blank=True)
    activity = models.ForeignKey(
        "core.PlannedActivity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, help_text="The planned activity this audit is an occurrence of.",
    )
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    results = models.JSONField(default=dict, blank=True, editable=False, help_text="Automatic checks, as run.")
    deficiencies = models.TextField(blank=True, help_text="What was found wrong in the CMDB.")
    actions_taken = models.TextField(blank=True, help_text="What was done about it (9.1: report the actions).")
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Record.Meta):
        verbose_name = "CMDB audit"
        indexes = [
            models.Index(fields=["tenant", "state", "-number"], name="cmdb_audit_state_idx"),
            models.Index(fields=["tenant", "auditor", "-number"], name="cmdb_audit_auditor_idx"),
            search_index("cmdb_audit_search_idx", "title", "description"),
        ]

    def save(self, *args, **kwargs):
        if self.state == S.PLANNED:
            from ..quality import area_owner_id

            self.area_owner_id = area_owner_id(self.scope)
        super().save(*args, **kwargs)

    @transition(source=S.PLANNED, target=S.IN_PROGRESS, label="Start the audit",
                conditions=[has_auditor, auditor_is_independent], separate_from="area_owner")
    def start(self, by=None, reason=""):
        from ..quality import area_owner_id, run_checks

        self.area_owner_id = area_owner_id(self.scope)
        self.record_checks(run_checks(self.scope, stale_after_days=self.stale_after_days))

    @transition(source=S.IN_PROGRESS, target=S.COMPLETED, label="Complete the audit",
                conditions=[has_results, auditor_is_independent, deficiencies_reported], separate_from="area_owner")
    def complete(self, by=None, reason=""):
        from django.utils import timezone

        self.completed_at = timezone.now()
        if self.activity_id is not None:
            self.activity._history_user = by
            self.activity.complete(reason=f"{self.reference} completed")

    @transition(source=[S.PLANNED, S.IN_PROGRESS], target=S.CANCELLED, label="Cancel",
                reason_required=True, style="danger")
    def cancel(self, by=None, reason=""):
        pass

    def record_checks(self, results: dict) -> None:
        from django.utils import timezone

        self.results = results
        self.checked_at = timezone.now()


class AuditedCI(TrackedModel):
    """One CI checked by the auditor during a CMDB audit, with the result (clause 9.1).

    Recording a verification also stamps the CI as verified (``last_verified_at``), so
    the next audit's staleness check starts from it.
    """

    audit = models.ForeignKey(CMDBAudit, on_delete=models.CASCADE, related_name="verifications")
    ci = models.ForeignKey("cmdb.ConfigurationItem", on_delete=models.CASCADE, related_name="audit_verifications")
    result = models.CharField(max_length=10, choices=VerificationResult.choices)
    note = models.TextField(blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    verified_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "audited CI"
        ordering = ["audit_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "audit", "ci"], name="cmdb_auditedci_uniq",
                violation_error_message="This CI has already been verified in this audit.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "ci"], name="cmdb_auditedci_ci_idx")]

    def __str__(self) -> str:
        return f"{self.ci.reference}: {self.get_result_display()}"
