"""The demo CMDB: realistic, valid against its own type definitions, seeded idempotently."""

from __future__ import annotations

from django.core.management import call_command

from sms.cmdb.models import Baseline, CIType, ConfigurationItem, Relationship, Service
from sms.cmdb.services import diff_baseline, impact
from sms.parties.models import Party
from sms.tenancy import context
from sms.tenancy.models import Tenant


def test_seed_demo_builds_a_valid_cmdb_and_is_idempotent(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = {}
    for tenant in Tenant.objects.filter(slug__in=["northwind", "contoso"]):
        with context.tenant_context(tenant):
            cis = list(ConfigurationItem.objects.select_related("ci_type"))
            assert len(cis) >= 100
            for ci in cis:
                ci.clean()  # every CI obeys its type's definition
            counts[tenant.slug] = (len(cis), Relationship.objects.count(), Party.objects.count())
            assert CIType.objects.count() >= 9
            assert Service.objects.filter(state="live").count() >= 5
            shop = Service.objects.get(title="Web shop")
            assert shop.customers.filter(name="Harbour Retail Group").exists()
            assert len(impact(shop, "up").nodes) > 20
            before = Baseline.objects.get(name__startswith="Web shop before")
            changed = diff_baseline(before)["changed"]
            assert any(c["title"] == "Web shop storefront" for c in changed)
    assert set(counts) == {"northwind", "contoso"}
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for tenant in Tenant.objects.filter(slug__in=counts):
        with context.tenant_context(tenant):
            assert counts[tenant.slug] == (
                ConfigurationItem.objects.count(),
                Relationship.objects.count(),
                Party.objects.count(),
            )


def test_demo_has_a_completed_cmdb_audit_and_a_planned_one(db):
    from sms.cmdb.models import CMDBAudit
    from sms.core.models import PlannedActivity

    for _ in range(2):  # idempotent
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for tenant in Tenant.objects.filter(slug__in=["northwind", "contoso"]):
        with context.tenant_context(tenant):
            audit = CMDBAudit.objects.get()
            assert audit.state == "completed" and audit.deficiencies and audit.actions_taken
            assert audit.verifications.filter(result="deficient").count() == 1
            assert audit.auditor_id != audit.area_owner_id
            assert PlannedActivity.objects.filter(kind="cmdb_audit", is_active=True).count() == 1
