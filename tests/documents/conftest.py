import pytest

from sms.tenancy import context
from tests.factories import DocumentFactory, DocumentVersionFactory, issued_version


@pytest.fixture
def document(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["process_owner"]):
        return DocumentFactory(title="Change management procedure", owner=personas["process_owner"])


@pytest.fixture
def draft(personas, tenant_a, document):
    """A draft written by the administrator (who may draft but not approve)."""
    with context.tenant_context(tenant_a, personas["admin"]):
        return DocumentVersionFactory(document=document, created_by=personas["admin"])


@pytest.fixture
def issue(personas, tenant_a):
    """``issue(document)``: a new version of it, authored by the agent, taken to issued."""

    def make(document, **kwargs):
        with context.tenant_context(tenant_a, personas["process_owner"]):
            return issued_version(personas, document=document, **kwargs)

    return make
