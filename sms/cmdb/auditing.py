"""CMDB audits (clause 9.1): scheduling, verification of CIs, improvements raised.

- ``scheduled_audit``: the handler of the ``cmdb_audit`` planned activity; opens the
  occurrence's audit with the automatic checks already run;
- ``rerun_checks``: refresh an audit's automatic results while it is in progress;
- ``verify_ci``: the auditor's verdict on one CI, which also stamps the CI verified;
- ``raise_improvement``: an improvement (a higher layer's record kind, found through
  the registry, never imported) linked to the audit it was raised from.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from sms.core.models import LinkType, PlannedActivity
from sms.core.registry import kinds
from sms.core.services import link_records
from sms.core.workflow import TransitionBlocked, TransitionForbidden, TransitionUnavailable

from .choices import AuditState, VerificationResult
from .models import AuditedCI, CIType, CMDBAudit, ConfigurationItem, Service
from .quality import run_checks, scope_filter

ACTIVITY_KIND = "cmdb_audit"


def _scope_of(activity: PlannedActivity) -> dict:
    """A planned audit of one CI type or one service covers it; otherwise the whole CMDB."""
    subject = activity.subject if activity.subject_type_id else None
    if isinstance(subject, CIType):
        return {"ci_types": [subject.pk]}
    if isinstance(subject, Service):
        return {"services": [subject.pk]}
    return {}


def scheduled_audit(activity: PlannedActivity) -> bool:
    """Planned-activity handler: open this occurrence's CMDB audit, with the automatic
    data-quality checks already run, for an auditor to carry out. Idempotent per
    occurrence. Returns False: the occurrence is done when a person completes the audit."""
    if CMDBAudit.objects.filter(activity=activity, planned_for=activity.next_due).exists():
        return False
    audit = CMDBAudit(
        title=f"{activity.title} ({activity.next_due:%d %b %Y})",
        description=activity.description,
        owner=activity.owner,
        scope=_scope_of(activity),
        planned_for=activity.next_due,
        activity=activity,
    )
    audit.record_checks(run_checks(audit.scope, stale_after_days=audit.stale_after_days))
    audit.save(reason="Opened when the planned CMDB audit fell due; automatic checks run")
    return False


@transaction.atomic
def rerun_checks(audit: CMDBAudit, *, by) -> CMDBAudit:
    audit = CMDBAudit.objects.select_for_update().get(pk=audit.pk)
    if audit.state != AuditState.IN_PROGRESS:
        raise TransitionUnavailable("The checks are re-run only while the audit is in progress.")
    audit.record_checks(run_checks(audit.scope, stale_after_days=audit.stale_after_days))
    audit._history_user = by
    audit.save(reason="Automatic checks run again")
    return audit


def in_scope(audit: CMDBAudit, ci: ConfigurationItem) -> bool:
    return ConfigurationItem.objects.filter(scope_filter(audit.scope), pk=ci.pk).exists()


@transaction.atomic
def verify_ci(audit: CMDBAudit, ci: ConfigurationItem, *, by, result: str, note: str = "") -> AuditedCI:
    """Record that ``by`` checked ``ci``'s record against reality in ``audit``: accurate
    (``ok``) or deficient (with a note saying what is wrong). Verifying again replaces
    the verdict; both stay in the history. The CI is stamped as verified."""
    audit = CMDBAudit.objects.select_for_update().get(pk=audit.pk)
    if audit.state != AuditState.IN_PROGRESS:
        raise TransitionUnavailable("CIs are verified while the audit is in progress: start it first.")
    if by is not None and audit.area_owner_id == by.pk:
        raise TransitionForbidden("Segregation of duties: you own the audited area, so you cannot verify its CIs.")
    result = VerificationResult(result)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if result == VerificationResult.DEFICIENT and not note:
        errors["note"] = ["Say what is wrong with the record."]
    if not in_scope(audit, ci):
        errors["ci"] = [f"{ci.reference} is not in the scope of {audit.reference}."]
    if errors:
        raise TransitionBlocked(" ".join(m for msgs in errors.values() for m in msgs), field_errors=errors)
    row = AuditedCI.objects.filter(audit=audit, ci=ci).first() or AuditedCI(audit=audit, ci=ci)
    row.result, row.note, row.verified_by = result, note, by
    row._history_user = by
    row.save(reason=f"Verified in {audit.reference}")
    ci.last_verified_at = timezone.now()
    ci.last_verified_by = by
    ci._history_user = by
    # Verification is audit evidence, not a configuration change: no RFC is needed.
    ci.save(update_fields=["last_verified_at", "last_verified_by"],
            reason=f"Verified in {audit.reference}: {result.label.lower()}")
    return row


@transaction.atomic
def raise_improvement(audit: CMDBAudit, *, by, title: str, description: str = ""):
    """Raise an improvement from the audit's deficiencies (clause 4.5.5 through 9.1) and
    link it to the audit. The improvement kind belongs to a higher layer: it is found in
    the record-kind registry, so this module does not import it."""
    kind = kinds.find("improvement")
    if kind is None:
        raise LookupError("Improvements are not available in this installation.")
    model = kind.model
    improvement = model(title=title.strip(), description=description.strip(), owner=audit.owner or by)
    field_names = {f.name for f in model._meta.get_fields()}
    if "source" in field_names:
        improvement.source = "audit"
    improvement._history_user = by
    improvement.save(reason=f"Raised from {audit.reference}")
    link_records(
        improvement,
        by=by,
        link_type=LinkType.RAISED_FROM,
        source_type=ContentType.objects.get_for_model(improvement),
        source_id=improvement.pk,
        target_type=ContentType.objects.get_for_model(audit),
        target_id=audit.pk,
        note="Deficiency found in a CMDB audit",
    )
    return improvement
