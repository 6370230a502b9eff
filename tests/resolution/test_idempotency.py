"""Idempotent incident creation from monitoring tools: ``Idempotency-Key`` on POST."""

import threading
import time

import pytest
from django.db import connections

from processes.resolution import services
from processes.resolution.models import Incident
from sms.core.models import IdempotencyKey
from sms.tenancy import context
from tests.conftest import token_client

INCIDENTS = "/api/v1/incidents/"
ALERT = {"title": "Disk full on db-01", "impact": 1, "urgency": 2, "channel": "monitoring"}


def count(tenant, **filters) -> int:
    with context.tenant_context(tenant):
        return Incident.objects.filter(**filters).count()


@pytest.mark.django_db
def test_retry_with_the_same_key_returns_the_first_answer(api, tenant_a):
    client = api("agent")
    first = client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-4711")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-4711")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert count(tenant_a, title=ALERT["title"]) == 1
    # Without a key (or with another one) every POST is a new incident.
    assert client.post(INCIDENTS, ALERT, format="json").status_code == 201
    assert client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-4712").status_code == 201
    assert count(tenant_a, title=ALERT["title"]) == 3
    with context.tenant_context(tenant_a):
        stored = IdempotencyKey.objects.get(key="alert-4711")
    assert stored.object_id == first.json()["id"] and stored.scope == "resolution.incident"


@pytest.mark.django_db(transaction=True)  # each request its own transaction, as in production
def test_a_key_costs_two_statements_and_no_savepoint(api, tenant_a):
    """Claiming the key is one INSERT ... ON CONFLICT DO NOTHING, storing the answer one
    UPDATE; a failure rolls the whole request back, so no savepoint is needed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api("agent")
    client.post(INCIDENTS, ALERT, format="json")  # creates the set-up
    client.post(INCIDENTS, ALERT, format="json")  # caches it
    with CaptureQueriesContext(connection) as plain:
        client.post(INCIDENTS, ALERT, format="json")
    with CaptureQueriesContext(connection) as keyed:
        assert client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    statements = [q["sql"] for q in keyed.captured_queries]
    assert len(statements) == len(plain.captured_queries) + 2
    assert not [sql for sql in statements if "SAVEPOINT" in sql]
    assert any("ON CONFLICT" in sql and "core_idempotencykey" in sql for sql in statements)


@pytest.mark.django_db
def test_same_key_with_another_body_or_caller_is_refused(api, tenant_a, personas):
    client = api("agent")
    assert client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    other = client.post(INCIDENTS, {**ALERT, "urgency": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 422
    assert "already used for a different request" in other.json()["detail"]
    # Another member of the same tenant sending the same key and body.
    assert api("process_owner").post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code == 422
    assert count(tenant_a) == 1


@pytest.mark.django_db
def test_keys_are_per_tenant(api, tenant_a, tenant_b):
    assert api("agent").post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    theirs = api("outsider").post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert count(tenant_a) == 1 and count(tenant_b) == 1


@pytest.mark.django_db
def test_a_failed_request_does_not_use_up_the_key(api, tenant_a):
    client = api("agent")
    bad = client.post(INCIDENTS, {**ALERT, "impact": 9}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert bad.status_code == 400 and "impact" in bad.json()
    good = client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert good.status_code == 201 and "Idempotent-Replayed" not in good
    # A caller without the capability gets 403, and the key stays free.
    assert api("auditor").post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="k3").status_code == 403
    with context.tenant_context(tenant_a):
        assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"k2"}


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "  ", "x" * 256, "schlüssel"])
def test_malformed_keys_are_400(api, key):
    resp = api("agent").post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert resp.status_code == 400 and "Idempotency-Key" in resp.json()


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_exactly_one_incident(personas, tenant_a, monkeypatch):
    """Two connections POST the same key at the same moment; the creation is slowed down
    so that the second request's claim arrives while the first is still open."""
    slow_schedule = services.schedule

    def schedule(incident, **kwargs):
        time.sleep(0.5)
        return slow_schedule(incident, **kwargs)

    monkeypatch.setattr(services, "schedule", schedule)
    clients = [token_client(personas["agent"], tenant_a) for _ in range(2)]
    barrier = threading.Barrier(2)
    responses = [None, None]

    def post(n):
        try:
            barrier.wait()
            responses[n] = clients[n].post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(r is not None for r in responses)
    assert [r.status_code for r in responses] == [201, 201]
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert count(tenant_a, title=ALERT["title"]) == 1
