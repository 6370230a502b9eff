"""Celery tasks of the resolution processes: the planned breach check."""

from __future__ import annotations

from celery import shared_task

from sms.core.tasks import TenantTask
from sms.tenancy.models import Tenant


@shared_task(base=TenantTask, name="processes.resolution.tasks.flag_breaches")
def flag_breaches_for_tenant() -> int:
    """Mark the current tenant's running incidents whose due times have passed."""
    from .services import flag_breaches

    return flag_breaches()


@shared_task(name="processes.resolution.tasks.check_breaches")
def check_breaches() -> int:
    """Each minute (beat): queue the breach check of every active tenant."""
    tenants = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for tenant_id in tenants:
        flag_breaches_for_tenant.delay(tenant_id=tenant_id)
    return len(tenants)
