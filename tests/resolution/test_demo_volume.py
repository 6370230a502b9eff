"""Demo data volume: a few hundred incidents over 90 days, spread and partly breached,
written in bulk with their history; idempotent."""

import datetime as dt
import time

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from processes.resolution import services_desk
from processes.resolution.demo import seed_demo
from processes.resolution.demo_volume import VOLUME, seed_incident_volume
from processes.resolution.models import GroupMember, Incident
from sms.cmdb.models import ServiceComponent
from sms.tenancy import context
from tests.factories import ConfigurationItemFactory, ContactFactory, PartyFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_volume(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["admin"]):
        for n in range(3):
            service = ServiceFactory(title=f"Service {n}")
            for _ in range(3):
                ServiceComponent.objects.create(service=service, ci=ConfigurationItemFactory())
        ContactFactory(party=PartyFactory(party_type="customer"))
        PartyFactory(party_type="internal_group", name="Service desk")
        seed_demo(tenant_a, personas)
        before = Incident.objects.count()
        started = time.perf_counter()
        seed_incident_volume(tenant_a, personas)
        took = time.perf_counter() - started
        qs = Incident.objects.all()
        assert qs.count() == before + VOLUME
        oldest = timezone.now() - qs.order_by("created_at").first().created_at
        assert dt.timedelta(days=60) < oldest <= dt.timedelta(days=90)
        spread = qs.aggregate(
            services=Count("service", distinct=True),
            categories=Count("category", distinct=True),
            breached=Count("pk", filter=Q(resolution_breached=True) | Q(response_breached=True)),
            closed=Count("pk", filter=Q(state="closed")),
            open=Count("pk", filter=Q(state__in=("new", "assigned", "in_progress", "on_hold"))),
            with_cis=Count("pk", filter=Q(affected_cis__isnull=False), distinct=True),
        )
        assert spread["services"] == 3 and spread["categories"] >= 10
        assert 0.05 * VOLUME < spread["breached"] < 0.6 * VOLUME
        assert spread["closed"] > VOLUME / 2 and spread["open"] >= 10 and spread["with_cis"] > VOLUME / 2
        refs = list(qs.values_list("number", flat=True))
        assert len(refs) == len(set(refs)) and max(refs) == len(refs)  # numbers continue, no gaps
        # Each incident has its history: logged, and (unless new) its current state.
        sample = qs.exclude(state="new").order_by("-number").first()
        kinds = [e.kind for e in services_desk.timeline(sample)]
        assert kinds[-1] == "logged" and "state" in kinds
        assert GroupMember.objects.filter(user=personas["agent"]).exists()
        seed_incident_volume(tenant_a, personas)  # idempotent
        assert Incident.objects.count() == before + VOLUME
    assert took < 15, took
