from django.core.management import call_command

from documents.models import Document, DocumentVersion
from sms.tenancy import context
from sms.tenancy.models import Tenant


def test_seed_demo_documents_are_complete_and_idempotent(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    tenant = Tenant.objects.get(slug="northwind")
    with context.tenant_context(tenant):
        assert Document.objects.count() == 5
        types = set(Document.objects.values_list("document_type", flat=True))
        assert types == {"policy", "procedure", "sla", "contract"}
        assert DocumentVersion.objects.filter(state="superseded").exists()
        assert DocumentVersion.objects.filter(state="issued").count() == 5
        assert sum(d.review_overdue for d in Document.objects.all()) == 1
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with context.tenant_context(tenant):
        assert Document.objects.count() == 5
