"""Idempotency keys expire: the hourly purge deletes old keys tenant by tenant, in
batches, as the application's database role (row-level security on); a request whose key
has expired is a new request."""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from processes.resolution.models import Incident
from sms.core.models import IdempotencyKey
from sms.core.tasks import purge_expired_idempotency_keys, purge_idempotency_keys
from sms.tenancy import context

pytestmark = pytest.mark.django_db
INCIDENTS = "/api/v1/incidents/"
ALERT = {"title": "Disk full on db-01", "impact": 1, "urgency": 2, "channel": "monitoring"}


def make_keys(tenant, user, names, age_hours):
    with context.tenant_context(tenant, user):
        for name in names:
            IdempotencyKey.objects.create(scope="resolution.incident", key=name, fingerprint="f" * 64, status_code=201)
        IdempotencyKey.objects.filter(key__in=names).update(created_at=timezone.now() - dt.timedelta(hours=age_hours))


def keys(tenant) -> set[str]:
    with context.tenant_context(tenant):
        return set(IdempotencyKey.objects.values_list("key", flat=True))


def age_all(tenant, hours):
    with context.tenant_context(tenant):
        IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=hours))


def test_purge_deletes_old_keys_of_every_tenant_in_batches(personas, tenant_a, tenant_b, settings):
    settings.SMS_IDEMPOTENCY_TTL_HOURS = 24
    make_keys(tenant_a, personas["agent"], [f"old-a-{n}" for n in range(5)], age_hours=25)
    make_keys(tenant_a, personas["agent"], ["fresh-a"], age_hours=23)
    make_keys(tenant_b, personas["outsider"], ["old-b"], age_hours=48)
    make_keys(tenant_b, personas["outsider"], ["fresh-b"], age_hours=1)
    assert purge_idempotency_keys(batch_size=2) == 6
    assert keys(tenant_a) == {"fresh-a"} and keys(tenant_b) == {"fresh-b"}
    assert purge_idempotency_keys() == 0  # nothing left to do


def test_ttl_comes_from_the_setting(personas, tenant_a, settings):
    make_keys(tenant_a, personas["agent"], ["three-hours"], age_hours=3)
    settings.SMS_IDEMPOTENCY_TTL_HOURS = 4
    assert purge_expired_idempotency_keys() == 0
    settings.SMS_IDEMPOTENCY_TTL_HOURS = 2
    assert purge_expired_idempotency_keys() == 1
    assert keys(tenant_a) == set()


def test_purge_is_on_the_beat_schedule():
    entries = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("purge_idempotency_keys")]
    assert len(entries) == 1 and entries[0]["task"] == purge_expired_idempotency_keys.name
    assert django_settings.SMS_IDEMPOTENCY_TTL_HOURS == 24


def test_a_replay_after_the_purge_is_a_new_request(api, tenant_a):
    client = api("agent")
    first = client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-1")
    assert first.status_code == 201
    age_all(tenant_a, 25)
    assert purge_idempotency_keys() == 1
    again = client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-1")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    # The key now stands for the new request.
    replay = client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-1")
    assert replay["Idempotent-Replayed"] == "true" and replay.json()["id"] == again.json()["id"]
    with context.tenant_context(tenant_a):
        assert Incident.objects.filter(title=ALERT["title"]).count() == 2


def test_an_expired_key_not_yet_purged_is_new_too(api, tenant_a):
    """Expiry does not wait for the purge: a key past its time to live no longer replays,
    whatever body it came with."""
    client = api("agent")
    first = client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-2")
    age_all(tenant_a, 25)
    other_body = {**ALERT, "urgency": 1}
    again = client.post(INCIDENTS, other_body, format="json", HTTP_IDEMPOTENCY_KEY="alert-2")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    with context.tenant_context(tenant_a):
        stored = IdempotencyKey.objects.get(key="alert-2")
        assert stored.object_id == again.json()["id"]
        assert stored.created_at > timezone.now() - dt.timedelta(minutes=5)
    # Within its time to live the key still refuses another body.
    assert client.post(INCIDENTS, ALERT, format="json", HTTP_IDEMPOTENCY_KEY="alert-2").status_code == 422
