"""References are allocated atomically per tenant and kind: no gaps, no duplicates."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from governance.models import Improvement
from sms.tenancy import context
from tests.factories import ImprovementFactory


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_creations_get_fifty_consecutive_references(personas, tenant_a):
    user = personas["agent"]

    def create(i):
        with context.tenant_context(tenant_a, user), transaction.atomic():
            return ImprovementFactory(title=f"Concurrent {i}").reference

    refs = _in_threads(50, create)
    assert len(set(refs)) == 50
    assert sorted(int(r.split("-")[1]) for r in refs) == list(range(1, 51))


@pytest.mark.django_db(transaction=True)
def test_rolled_back_creation_gives_its_number_back(personas, tenant_a):
    with context.tenant_context(tenant_a, personas["agent"]):
        with pytest.raises(RuntimeError), transaction.atomic():
            ImprovementFactory()
            raise RuntimeError("abandon")
        assert ImprovementFactory().reference == "IMP-1"


def test_numbering_is_per_tenant(personas, tenant_a, tenant_b):
    with context.tenant_context(tenant_a, personas["agent"]):
        assert [ImprovementFactory().reference for _ in range(2)] == ["IMP-1", "IMP-2"]
    with context.tenant_context(tenant_b, personas["outsider"]):
        assert ImprovementFactory().reference == "IMP-1"
        assert Improvement.objects.count() == 1
