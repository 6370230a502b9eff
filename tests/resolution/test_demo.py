"""Demo data of incident management: matrix, calendars, categories and incidents in
every state, linked to the demo CMDB and parties; seeded idempotently."""

from django.core.management import call_command

from processes.resolution.models import Category, Incident, ServiceCalendar, ServiceHours
from sms.tenancy import context
from sms.tenancy.models import Tenant


def test_seed_demo_incidents(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = {}
    for tenant in Tenant.objects.filter(slug__in=["northwind", "contoso"]):
        with context.tenant_context(tenant):
            incidents = list(Incident.objects.all())
            assert len(incidents) >= 20
            states = {i.state for i in incidents}
            assert {"new", "assigned", "in_progress", "on_hold", "resolved", "closed", "cancelled"} <= states
            assert all(i.response_due_at and i.resolution_due_at for i in incidents)
            assert any(i.response_breached or i.resolution_breached for i in incidents)
            assert Incident.objects.filter(service__isnull=False, affected_cis__isnull=False).exists()
            assert Incident.objects.filter(caller__isnull=False, is_security=True).exists()
            assert set(ServiceCalendar.objects.values_list("name", flat=True)) >= {"24x7", "Business hours"}
            assert ServiceHours.objects.count() >= 3
            assert Category.objects.filter(parent__isnull=False).count() >= 10
            counts[tenant.slug] = (len(incidents), Category.objects.count(), ServiceCalendar.objects.count())
    assert set(counts) == {"northwind", "contoso"}
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for tenant in Tenant.objects.filter(slug__in=counts):
        with context.tenant_context(tenant):
            assert counts[tenant.slug] == (
                Incident.objects.count(),
                Category.objects.count(),
                ServiceCalendar.objects.count(),
            )
