"""Celery tasks of the resolution processes: the planned breach check."""

from __future__ import annotations

from celery import shared_task

from sms.core.tasks import TenantTask
from sms.tenancy.models import Tenant

from .tasks_escalation import check_escalations, evaluate_escalations_for_tenant  # noqa: F401
from .tasks_requests import flag_request_breaches_for_tenant


@shared_task(base=TenantTask, name="processes.resolution.tasks.flag_breaches")
def flag_breaches_for_tenant() -> int:
    """Mark the current tenant's running incidents whose due times have passed."""
    from .services import flag_breaches

    return flag_breaches()


@shared_task(name="processes.resolution.tasks.check_breaches")
def check_breaches() -> int:
    """Each minute (beat): queue the breach checks (incidents, service requests) of every
    active tenant."""
    tenants = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for tenant_id in tenants:
        flag_breaches_for_tenant.delay(tenant_id=tenant_id)
        flag_request_breaches_for_tenant.delay(tenant_id=tenant_id)
    return len(tenants)


@shared_task(base=TenantTask, name="processes.resolution.tasks.propose_problems")
def propose_problems_for_tenant() -> list[str]:
    """Trend check of one tenant (clause 8.2): propose a problem for incidents repeating
    on one CI in one category; returns the references of new or extended problems."""
    from sms.tenancy import context

    from .trends import propose_problems

    return [p.problem.reference for p in propose_problems(by=context.get_current_user())]


@shared_task(name="processes.resolution.tasks.check_trends")
def check_trends() -> int:
    """Hourly (beat): queue the trend check of every active tenant."""
    tenants = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    for tenant_id in tenants:
        propose_problems_for_tenant.delay(tenant_id=tenant_id)
    return len(tenants)
