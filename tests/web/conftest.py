import pytest

from tests.factories import ImprovementFactory


@pytest.fixture
def improvement(personas, tenant_a, in_tenant):
    """A proposed improvement raised by the agent, owned by the process owner."""
    with in_tenant(tenant_a, personas["agent"]):
        return ImprovementFactory(owner=personas["process_owner"], created_by=personas["agent"])
