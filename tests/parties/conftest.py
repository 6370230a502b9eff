import pytest

from sms.tenancy import context


@pytest.fixture
def as_admin_parties(personas, tenant_a):
    return lambda: context.tenant_context(tenant_a, personas["admin"])
