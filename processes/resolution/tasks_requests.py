"""Celery task of service request fulfilment: the planned breach check of one tenant,
queued each minute by ``tasks.check_breaches`` alongside the incidents' check."""

from __future__ import annotations

from celery import shared_task

from sms.core.tasks import TenantTask


@shared_task(base=TenantTask, name="processes.resolution.tasks.flag_request_breaches")
def flag_request_breaches_for_tenant() -> int:
    """Mark the current tenant's running service requests whose due times have passed."""
    from .services_requests import flag_breaches

    return flag_breaches()
