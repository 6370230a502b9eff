"""The demo that ``seed_demo`` builds, checked area by area on one seeding.

Seeding the whole demo takes about 20 s, so the module seeds it once, in a transaction
of its own that is rolled back when the module ends; each test runs in a savepoint inside
it. ``test_seeding_again_changes_nothing`` seeds a second time and compares the counts of
every area.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction

from processes.resolution import services_escalation
from processes.resolution.demo_escalation import MAJOR_TITLE
from processes.resolution.models import (
    Category,
    Escalation,
    EscalationRule,
    Incident,
    KnownError,
    MajorIncidentReview,
    Problem,
    ServiceCalendar,
    ServiceHours,
)
from sms.cmdb.models import Baseline, CIType, CMDBAudit, ConfigurationItem, Relationship, Service
from sms.cmdb.services import diff_baseline, impact
from sms.core.models import OutboundMessage, PlannedActivity, RecordLink
from sms.parties.models import Party
from sms.tenancy import context
from sms.tenancy.models import Tenant

DEMO_TENANTS = ("northwind", "contoso")


def _seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        _seed()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def tenants(demo, db):
    found = list(Tenant.objects.filter(slug__in=DEMO_TENANTS))
    assert {t.slug for t in found} == set(DEMO_TENANTS)
    return found


def _counts() -> dict[str, tuple]:
    counts = {}
    for tenant in Tenant.objects.filter(slug__in=DEMO_TENANTS):
        with context.tenant_context(tenant):
            counts[tenant.slug] = (
                ConfigurationItem.objects.count(),
                Relationship.objects.count(),
                Party.objects.count(),
                CMDBAudit.objects.count(),
                Incident.objects.count(),
                Category.objects.count(),
                ServiceCalendar.objects.count(),
                EscalationRule.objects.count(),
                OutboundMessage.objects.count(),
                Problem.objects.count(),
                KnownError.objects.count(),
                PlannedActivity.objects.count(),
            )
    return counts


def test_seeding_again_changes_nothing(tenants):
    before = _counts()
    _seed()
    assert _counts() == before


# --- CMDB ------------------------------------------------------------------------------------
def test_cmdb_is_realistic_and_valid_against_its_types(tenants):
    for tenant in tenants:
        with context.tenant_context(tenant):
            cis = list(ConfigurationItem.objects.select_related("ci_type"))
            assert len(cis) >= 100
            for ci in cis:
                ci.clean()  # every CI obeys its type's definition
            assert CIType.objects.count() >= 9
            assert Service.objects.filter(state="live").count() >= 5
            shop = Service.objects.get(title="Web shop")
            assert shop.customers.filter(name="Harbour Retail Group").exists()
            assert len(impact(shop, "up").nodes) > 20
            before = Baseline.objects.get(name__startswith="Web shop before")
            changed = diff_baseline(before)["changed"]
            assert any(c["title"] == "Web shop storefront" for c in changed)


def test_cmdb_has_a_completed_audit_and_a_planned_one(tenants):
    for tenant in tenants:
        with context.tenant_context(tenant):
            audit = CMDBAudit.objects.get()
            assert audit.state == "completed" and audit.deficiencies and audit.actions_taken
            assert audit.verifications.filter(result="deficient").count() == 1
            assert audit.auditor_id != audit.area_owner_id
            assert PlannedActivity.objects.filter(kind="cmdb_audit", is_active=True).count() == 1


# --- resolution --------------------------------------------------------------------------------
def test_incidents_in_every_state_with_their_set_up(tenants):
    for tenant in tenants:
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


def test_escalation_rules_and_a_reviewed_major_incident(tenants):
    for tenant in tenants:
        with context.tenant_context(tenant):
            assert {"notify", "raise_priority", "reassign"} <= set(
                EscalationRule.objects.values_list("action", flat=True)
            )
            major = Incident.objects.get(title=MAJOR_TITLE)
            assert major.is_major and major.state == "closed" and major.major_manager_id
            assert MajorIncidentReview.objects.get(incident=major).is_complete
            # The rules have acted on the demo's history; nothing is left for the first
            # planned check after start-up (as of the seeding) to mail.
            assert Escalation.objects.filter(rule__action="notify").exists()
            assert services_escalation.evaluate(now=major.created_at) == 0
            statuses = set(OutboundMessage.objects.values_list("status", flat=True))
            assert {"sent", "held"} <= statuses and "queued" not in statuses  # the seed mails nobody
            assert OutboundMessage.objects.filter(topic="major_incident", status="sent").count() >= 2


def test_problems_and_known_errors(tenants):
    for tenant in tenants:
        with context.tenant_context(tenant):
            problems = list(Problem.objects.prefetch_related("incidents", "reviews"))
            assert len(problems) >= 4
            assert {"new", "under_investigation", "known_error", "closed"} <= {p.state for p in problems}
            assert all(p.incidents.all() for p in problems)
            closed = next(p for p in problems if p.state == "closed")
            assert closed.needs_change and closed.rfc_reference and closed.reviews.all()
            assert KnownError.objects.filter(problem=closed, state="retired").exists()
            open_kes = KnownError.objects.filter(state="open")
            assert open_kes.count() >= 4 and all(ke.workaround for ke in open_kes)
            assert RecordLink.objects.filter(
                source_type=ContentType.objects.get_for_model(Incident),
                target_type=ContentType.objects.get_for_model(KnownError),
            ).exists()

