"""Demo data of escalation and major incidents: rules per tenant, a closed major incident
with its review, and outbox messages sent and held; seeded idempotently."""

from django.core.management import call_command

from processes.resolution.demo_escalation import MAJOR_TITLE
from processes.resolution.models import EscalationRule, Incident, MajorIncidentReview
from sms.core.models import OutboundMessage
from sms.tenancy import context
from sms.tenancy.models import Tenant


def test_seed_demo_escalation(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = {}
    for tenant in Tenant.objects.filter(slug__in=["northwind", "contoso"]):
        with context.tenant_context(tenant):
            assert {"notify", "raise_priority", "reassign"} <= set(
                EscalationRule.objects.values_list("action", flat=True)
            )
            major = Incident.objects.get(title=MAJOR_TITLE)
            assert major.is_major and major.state == "closed" and major.major_manager_id
            assert MajorIncidentReview.objects.get(incident=major).is_complete
            statuses = set(OutboundMessage.objects.values_list("status", flat=True))
            assert {"sent", "held"} <= statuses and "queued" not in statuses  # the seed mails nobody
            assert OutboundMessage.objects.filter(topic="major_incident", status="sent").count() >= 2
            counts[tenant.slug] = (EscalationRule.objects.count(), OutboundMessage.objects.count())
    assert set(counts) == {"northwind", "contoso"}
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for tenant in Tenant.objects.filter(slug__in=counts):
        with context.tenant_context(tenant):
            assert counts[tenant.slug] == (EscalationRule.objects.count(), OutboundMessage.objects.count())
