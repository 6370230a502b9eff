"""Major incidents (clause 8.1): the tenant's definition, declaration (by its rule or by
hand, with a reason), the major incident manager, and the review before closure.

Top management is told through the outbox when a major incident is declared (here) and
when it is resolved (``notifications.on_transition``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sms.core.api.serializers import tenant_members
from sms.tenancy import context

from . import config_cache, notifications
from .choices import OPEN_STATES
from .models import Incident, MajorIncidentDefinition, MajorIncidentReview
from .services_escalation import note

DEFAULT_DEFINITION = (
    "A major incident is an incident with a high impact on the business of one or more customers, "
    "or one that threatens it: a critical service unavailable for many users, a suspected breach of "
    "information security, or any incident that top management must know about at once."
)


def definition() -> MajorIncidentDefinition:
    """The tenant's definition, created with sensible defaults on first use."""
    row = MajorIncidentDefinition.objects.first()
    if row is None:
        row, _ = MajorIncidentDefinition.objects.get_or_create(
            tenant_id=context.require_tenant().pk, defaults={"definition": DEFAULT_DEFINITION}
        )
    return row


def rule_filter(rule: MajorIncidentDefinition) -> Q:
    """The automatic rule as a query on incidents."""
    q = Q(priority__lte=rule.max_priority)
    if rule.service_criticality:
        q &= Q(service__criticality__lte=rule.service_criticality)
    return q


def matches_rule(incident: Incident, rule: MajorIncidentDefinition | None = None) -> bool:
    rule = rule or definition()
    if not rule.auto_declare or incident.priority > rule.max_priority:
        return False
    if rule.service_criticality:
        return incident.service is not None and incident.service.criticality <= rule.service_criticality
    return True


@transaction.atomic
def declare_major(incident: Incident, *, by, reason: str, automatic: bool = False) -> Incident:
    """Declare ``incident`` a major incident; top management is informed. Idempotent: an
    incident declared already stays as it was declared."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for declaring it a major incident."})
    incident = (
        Incident.objects.select_for_update(of=("self",)).select_related("service", "major_manager").get(pk=incident.pk)
    )
    if incident.is_major:
        return incident
    if incident.state not in OPEN_STATES:
        raise ValidationError(
            {"reason": f"A {incident.get_state_display().lower()} incident cannot be declared a major incident."}
        )
    incident.is_major = True
    incident.major_declared_at = timezone.now()
    incident.major_declared_by = by
    incident.major_reason = reason[:500]
    incident._history_user = by
    how = "automatically" if automatic else "by hand"
    incident.save(
        update_fields=["is_major", "major_declared_at", "major_declared_by", "major_reason"],
        reason=f"Declared a major incident ({how}): {reason}"[:100],
    )
    note(incident, f"Declared a major incident ({how}): {reason}")
    notifications.notify_top_management(incident, "declared", f"Why: {reason}")
    return incident


def auto_declare(incident: Incident, *, by=None) -> bool:
    """Declare ``incident`` major if it matches the tenant's rule; True when it did. The
    given instance gets the declaration fields too."""
    if incident.is_major or incident.state not in OPEN_STATES:
        return False
    rule = config_cache.current().rule() or definition()  # cached per tenant; see config_cache
    if not matches_rule(incident, rule):
        return False
    declared = declare_major(
        incident, by=by, reason=f"It matches the major incident definition: {rule.rule_text}", automatic=True
    )
    for name in ("is_major", "major_declared_at", "major_declared_by_id", "major_reason"):
        setattr(incident, name, getattr(declared, name))
    return True


def sweep_auto_declare(*, limit: int = 200) -> int:
    """Declare every open incident of the tenant that matches the rule (the planned check
    catches incidents logged or re-prioritised by any path)."""
    rule = definition()
    if not rule.auto_declare:
        return 0
    pks = list(
        Incident.objects.filter(is_major=False, state__in=OPEN_STATES)
        .filter(rule_filter(rule))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    n = 0
    for incident in Incident.objects.filter(pk__in=pks).select_related("service"):
        n += auto_declare(incident)
    return n


@transaction.atomic
def designate_manager(incident: Incident, *, manager, by) -> Incident:
    if manager is not None and not tenant_members().filter(pk=manager.pk).exists():
        raise ValidationError({"major_manager": f"{manager} is not a member of this tenant."})
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.is_major:
        raise ValidationError({"major_manager": "Only a major incident has a major incident manager."})
    incident.major_manager = manager
    incident._history_user = by
    name = (manager.get_full_name() or manager.username) if manager is not None else "nobody"
    incident.save(update_fields=["major_manager"], reason=f"Major incident manager: {name}")
    return incident


def review_for(incident: Incident) -> MajorIncidentReview | None:
    return MajorIncidentReview.objects.filter(incident=incident).first()
