"""Demo data of service requests: a catalogue on the demo services and three dozen
requests over the last 90 days in every state, played through the real services."""

import datetime as dt

from django.core.management import call_command
from django.utils import timezone

from processes.resolution.models import CatalogueItem, FulfilmentTask, RequestDecision, ServiceRequest
from sms.tenancy import context
from sms.tenancy.models import Tenant


def test_seed_demo_requests(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = {}
    for tenant in Tenant.objects.filter(slug__in=["northwind", "contoso"]):
        with context.tenant_context(tenant):
            names = set(CatalogueItem.objects.values_list("name", flat=True))
            assert {"New laptop", "Access to a shared mailbox", "Password reset", "Software installation"} <= names
            reqs = list(ServiceRequest.objects.select_related("catalogue_item"))
            assert len(reqs) >= 30
            states = {r.state for r in reqs}
            assert {
                "awaiting_approval",
                "approved",
                "rejected",
                "in_fulfilment",
                "fulfilled",
                "closed",
                "cancelled",
            } <= states
            oldest = min(r.created_at for r in reqs)
            assert timezone.now() - dt.timedelta(days=91) < oldest < timezone.now() - dt.timedelta(days=60)
            assert all(r.response_due_at and r.fulfilment_due_at for r in reqs)
            assert any(r.response_breached or r.fulfilment_breached for r in reqs)
            # Decisions by someone other than the requester or submitter, with a rationale.
            for d in RequestDecision.objects.select_related("request"):
                assert d.decided_by_id not in (d.request.requester_id, d.request.created_by_id)
                assert d.rationale and d.decided_at >= d.request.created_at
            # Fulfilled and closed requests have no open task.
            assert not FulfilmentTask.objects.filter(request__state__in=["fulfilled", "closed"], state="open").exists()
            assert not ServiceRequest.objects.filter(needs_approval=False, decisions__isnull=False).exists()
            counts[tenant.slug] = (len(reqs), CatalogueItem.objects.count())
    assert set(counts) == {"northwind", "contoso"}
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for tenant in Tenant.objects.filter(slug__in=counts):
        with context.tenant_context(tenant):
            assert counts[tenant.slug] == (ServiceRequest.objects.count(), CatalogueItem.objects.count())
