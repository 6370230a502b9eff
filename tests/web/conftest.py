import pytest
from django.test import Client

from tests.factories import ImprovementFactory


@pytest.fixture
def web(personas):
    """``web("agent")``: a browser client signed in as acme-<role> (outsiders: globex)."""
    clients: dict[str, Client] = {}

    def get(who: str) -> Client:
        if who not in clients:
            client = Client()
            client.force_login(personas[who])
            clients[who] = client
        return clients[who]

    return get


@pytest.fixture
def improvement(personas, tenant_a, in_tenant):
    """A proposed improvement raised by the agent, owned by the process owner."""
    with in_tenant(tenant_a, personas["agent"]):
        return ImprovementFactory(owner=personas["process_owner"], created_by=personas["agent"])
