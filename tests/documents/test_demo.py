from django.core.management import call_command

from documents.models import Document, DocumentVersion
from sms.tenancy import context
from sms.tenancy.models import Tenant

TRANSITION_PLAN = "Service transition plan:"


def test_seed_demo_documents_are_complete_and_idempotent(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    tenant = Tenant.objects.get(slug="northwind")
    with context.tenant_context(tenant):
        # The change demo adds draft transition plans of its major changes (tests/control).
        own = Document.objects.exclude(title__startswith=TRANSITION_PLAN)
        assert own.count() == 5
        types = set(own.values_list("document_type", flat=True))
        assert types == {"policy", "procedure", "sla", "contract"}
        assert DocumentVersion.objects.filter(state="superseded").exists()
        assert DocumentVersion.objects.filter(state="issued").count() == 5
        assert sum(d.review_overdue for d in Document.objects.all()) == 1
        total = Document.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with context.tenant_context(tenant):
        assert Document.objects.count() == total
