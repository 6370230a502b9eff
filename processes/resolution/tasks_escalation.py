"""Celery tasks of escalation and major incidents (imported by ``tasks``)."""

from __future__ import annotations

from celery import shared_task

from sms.core.tasks import TenantTask
from sms.tenancy.models import Tenant


@shared_task(base=TenantTask, name="processes.resolution.tasks.evaluate_escalations")
def evaluate_escalations_for_tenant() -> dict[str, int]:
    """One tenant: declare incidents that match the major incident definition, then take
    the escalations whose time has come."""
    from .services_escalation import evaluate
    from .services_major import sweep_auto_declare

    return {"declared": sweep_auto_declare(), "escalated": evaluate()}


@shared_task(name="processes.resolution.tasks.check_escalations")
def check_escalations() -> int:
    """Each minute (beat): queue the escalation check of every active tenant."""
    tenants = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for tenant_id in tenants:
        evaluate_escalations_for_tenant.delay(tenant_id=tenant_id)
    return len(tenants)
